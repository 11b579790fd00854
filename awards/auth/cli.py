"""``flask awards users ...``: an administrator locks or unlocks an account."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from awards.auth import services
from awards.db import get_db

users_cli = AppGroup("users", help="Accounts: lock and unlock.")


def _user(email: str):
    user = services.find_user(get_db(), email)
    if user is None or user.deleted_at is not None:
        raise click.BadParameter("no account has this e-mail address", param_hint="EMAIL")
    return user


@users_cli.command("lock")
@click.argument("email")
def lock(email: str) -> None:
    """Lock the account: its sessions, "remember me" cookies and API tokens end at once."""
    db = get_db()
    changed = services.set_active(session=db, user=_user(email), active=False, actor=None)
    db.commit()
    click.echo("locked" if changed else "already locked")


@users_cli.command("unlock")
@click.argument("email")
def unlock(email: str) -> None:
    """Let the account log in again (with a new login: ended sessions stay ended)."""
    db = get_db()
    changed = services.set_active(session=db, user=_user(email), active=True, actor=None)
    db.commit()
    click.echo("unlocked" if changed else "not locked")
