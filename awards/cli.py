"""``flask awards ...`` commands."""

from __future__ import annotations

import signal
import sys
import threading

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
    if revision == "head":
        from awards.audit import seal

        session = get_db()
        sealed = seal(session)
        session.commit()
        if sealed is not None:
            click.echo(f"audit log: records 1 to {sealed.id - 1} sealed by the keyed cut-over "
                       f"record {sealed.id}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    from awards.migrate import downgrade

    downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@awards_cli.command("seed")
def seed() -> None:
    """Load the demo data once (safe to run again), built around AWARDS_DEMO_NOW if set."""
    from awards.demo import demo_now, seed_demo

    try:
        now = demo_now()
    except ValueError as exc:  # a mistyped AWARDS_DEMO_NOW: say so, no traceback
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    created = seed_demo(get_db(), now=now)
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
@click.option(
    "--against", "--expect", "against", metavar="ID:HASH", multiple=True,
    help="A published head (results page, /audit/heads.atom) or one printed by an earlier run; "
    "fails if that record is gone or changed, which catches records cut off the end of the "
    "chain. May be given more than once.",
)
def audit_verify(against: tuple[str, ...]) -> None:
    """Check the keyed hash chain of the audit log; exit 1 if any record was altered or
    removed."""
    from awards.audit import hash_of, verify_chain
    from awards.boundary import MAX_BIG_ID, whole_number

    heads = []
    for value in against:
        head_id, _, head_hash = value.strip().partition(":")
        number = whole_number(head_id, maximum=MAX_BIG_ID)
        if number is None or not head_hash.strip():
            raise click.BadParameter(
                f"{value!r}: use ID:HASH as published, the ID in the digits 0-9",
                param_hint="--against")
        heads.append((number, head_hash.strip().lower()))
    result = verify_chain(get_db())
    if not result.ok:
        click.echo(
            f"audit log BROKEN at record {result.broken_at}: {result.reason} "
            f"({result.checked} records verified before it)",
            err=True,
        )
        sys.exit(1)
    for head_id, head_hash in heads:
        actual = hash_of(get_db(), head_id)
        if actual != head_hash:
            click.echo(
                f"audit log BROKEN at record {head_id}: "
                + ("it is missing" if actual is None
                   else "its hash differs from the one published"),
                err=True,
            )
            sys.exit(1)
    click.echo(f"audit log intact: {result.checked} records")
    if result.legacy:
        click.echo(f"records 1 to {result.legacy} were written before keyed hashes and are "
                   "checked as plain SHA-256; the keyed cut-over record seals them")
    for head_id, head_hash in heads:
        click.echo(f"published head {head_id}:{head_hash} found")
    if result.head_id is not None:
        click.echo(f"head {result.head_id}:{result.head_hash}")


@audit_group.command("seal")
def audit_seal() -> None:
    """After an upgrade from unkeyed hashes: append the keyed cut-over record now (otherwise
    the first audited action does)."""
    from awards.audit import seal

    session = get_db()
    sealed = seal(session)
    session.commit()
    if sealed is None:
        click.echo("nothing to seal: the audit log has no unkeyed records at its end")
    else:
        click.echo(f"sealed records 1 to {sealed.id - 1} with the keyed cut-over record "
                   f"{sealed.id}")


@awards_cli.group("storage")
def storage_group() -> None:
    """Uploaded files."""


REASONS = {
    "temporary": "an upload that never finished",
    "unreferenced": "no row refers to it",
    "restore": "left by an interrupted restore: check it by hand, never removed here",
}


@storage_group.command("sweep")
@click.option("--delete", is_flag=True, help="Remove the orphans listed (default: only list).")
@click.option("--older-than", "older_than", type=click.FloatRange(min=0), default=24.0,
              show_default=True, metavar="HOURS",
              help="Only files last changed more than this many hours ago.")
def storage_sweep(delete: bool, older_than: float) -> None:
    """List the files in the upload folder that no row refers to, and uploads that never
    finished; with --delete, remove them."""
    from datetime import timedelta

    from awards.i18n import format_size
    from awards.storage import sweep

    report = sweep(get_db(), older_than=timedelta(hours=older_than), delete=delete)
    for orphan in report.orphans:
        click.echo(f"{orphan.path}\t{format_size(orphan.size)}\t"
                   f"{orphan.modified:%Y-%m-%d %H:%M} UTC\t{REASONS[orphan.reason]}")
    count = len(report.orphans)
    label = "orphan" if count == 1 else "orphans"
    summary = f"{count} {label} older than {older_than:g} hours ({format_size(report.size)})"
    if delete:
        kept = count - len(report.removed)
        click.echo(f"{summary}: removed {len(report.removed)}"
                   + (f", kept {kept} left by an interrupted restore" if kept else ""))
    elif count:
        click.echo(f"{summary}: dry run, nothing removed; run with --delete to remove them")
    else:
        click.echo(f"{summary}: nothing to remove")
    if report.kept_recent:
        click.echo(f"{report.kept_recent} newer files with no row left alone (an upload may "
                   "be in progress)")


@awards_cli.group("lifecycle")
def lifecycle_group() -> None:
    """The phases of calls."""


@lifecycle_group.command("sync-due")
def lifecycle_sync_due() -> None:
    """Take the moves whose time has come (safe to run from cron, and twice at once): calls
    past their deadline close, scheduled results whose time came are recorded as published."""
    from awards import lifecycle
    from awards.db import utcnow
    from awards.results import services as results

    session = get_db()
    due = results.settle_due(session=session)
    moved = lifecycle.sync_due(session, utcnow())
    session.commit()
    for publication in due:
        click.echo(f"published {publication.call.slug} v{publication.version}")
    for call in moved:
        click.echo(f"{call.slug}: now {call.status.value}")
    click.echo(f"versions recorded as published: {len(due)}; calls moved: {len(moved)}")


@lifecycle_group.command("status")
@click.argument("call_ref", metavar="CALL")
def lifecycle_status(call_ref: str) -> None:
    """Where CALL stands and the moves open to it, with what blocks each."""
    from awards import lifecycle
    from awards.db import utcnow
    from awards.results.cli import _call

    session = get_db()
    call = _call(session, call_ref)
    click.echo(f"{call.slug}: {call.status.value}")
    for move in lifecycle.available(session, call, utcnow()):
        state = "ready" if move.ok else "blocked: " + "; ".join(str(r) for r in move.blockers)
        click.echo(f"  {move.action} -> {move.target.value}\t{state}")


@awards_cli.group("mail")
def mail_group() -> None:
    """Outgoing e-mail."""


@mail_group.command("send")
@click.option("--watch", is_flag=True, help="Keep running and deliver new mail as it arrives.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between polls.")
def mail_send(watch: bool, interval: float) -> None:
    """Deliver queued e-mail over SMTP; failed messages stay queued and are retried.

    Without --watch: one pass over the messages due now; exit 1 if any of them failed."""
    from awards import mail

    if not watch:
        result = mail.send_pending(get_db())
        click.echo(f"sent {result.sent}, failed {result.failed}")
        if result.failed:
            sys.exit(1)
        return

    stopping = threading.Event()
    restore = {}
    if threading.current_thread() is threading.main_thread():
        # Finish the message in hand on SIGTERM/Ctrl-C instead of leaving it claimed until
        # its lease runs out.
        for signum in (signal.SIGTERM, signal.SIGINT):
            restore[signum] = signal.signal(signum, lambda *_: stopping.set())
    try:
        mail.watch(
            current_app.extensions["awards_db"]["session_factory"],
            interval=interval,
            stop=stopping.is_set,
            config=current_app.config,
            on_result=lambda r: click.echo(f"sent {r.sent}, failed {r.failed}"),
        )
    finally:
        for signum, handler in restore.items():
            signal.signal(signum, handler)


def _register_feature_commands() -> None:
    from awards.auth.cli import users_cli

    awards_cli.add_command(users_cli)
    from awards.jury.cli import jury_cli

    awards_cli.add_command(jury_cli)
    from awards.ranking.cli import ranking_cli, scores_cli

    awards_cli.add_command(ranking_cli)
    awards_cli.add_command(scores_cli)
    from awards.results.cli import results_cli

    awards_cli.add_command(results_cli)
    from awards.public_stage.cli import public_stage_cli

    awards_cli.add_command(public_stage_cli)
    from awards.commission.cli import commission_cli

    awards_cli.add_command(commission_cli)
    from awards import backup_cli

    for command in backup_cli.commands:
        awards_cli.add_command(command)
    from awards.cache import cache_cli

    awards_cli.add_command(cache_cli)


_register_feature_commands()
