"""``flask awards ...`` commands."""

from __future__ import annotations

import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup

from awards.db import get_db

awards_cli = AppGroup("awards", help="Awards service commands.")


@awards_cli.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from awards.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    from awards.migrate import downgrade

    downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@awards_cli.command("seed")
def seed() -> None:
    """Load the demo data once (safe to run again)."""
    from awards.demo import seed_demo

    created = seed_demo(get_db())
    get_db().commit()
    click.echo("demo data loaded" if created else "demo data already present")


@awards_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", default="")
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create an administrator account (or promote an existing one)."""
    from awards.auth.services import create_administrator

    user = create_administrator(session=get_db(), email=email, password=password, full_name=name)
    get_db().commit()
    click.echo(f"administrator {user.email}")


@awards_cli.group("audit")
def audit_group() -> None:
    """Audit log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the hash chain of the audit log; exit 1 if any record was altered or removed."""
    from awards.audit import verify_chain

    result = verify_chain(get_db())
    if result.ok:
        click.echo(f"audit log intact: {result.checked} records")
        return
    click.echo(
        f"audit log BROKEN at record {result.broken_at}: {result.reason} "
        f"({result.checked} records verified before it)",
        err=True,
    )
    sys.exit(1)


@awards_cli.group("mail")
def mail_group() -> None:
    """Outgoing e-mail."""


@mail_group.command("send")
@click.option("--watch", is_flag=True, help="Keep running and deliver new mail as it arrives.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between polls.")
def mail_send(watch: bool, interval: float) -> None:
    """Deliver queued e-mail over SMTP; failed messages stay queued and are retried."""
    from awards.mail import send_pending

    total_sent = total_failed = 0
    while True:
        sent, failed = send_pending(get_db())
        total_sent, total_failed = total_sent + sent, total_failed + failed
        if watch:
            if sent or failed:
                click.echo(f"sent {sent}, failed {failed}")
            if not sent:
                time.sleep(interval)
        elif not (sent or failed):
            click.echo(f"sent {total_sent}, failed {total_failed}")
            if total_failed:
                sys.exit(1)
            return
