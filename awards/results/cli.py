"""Publish due results and check certificates from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from awards.boundary import whole_number
from awards.calls.models import Call
from awards.db import get_db, utcnow

results_cli = AppGroup(
    "results", help="Publish due results and check certificates from the command line.")


def _call(session, ref: str) -> Call:
    call = session.scalar(select(Call).where(Call.slug == ref))
    if call is None and (number := whole_number(ref)) is not None:
        call = session.get(Call, number)
    if call is None:
        raise click.BadParameter(f"no call with slug or id {ref!r}", param_hint="CALL")
    return call


@results_cli.command("status")
@click.argument("call_ref", metavar="CALL")
def status(call_ref: str) -> None:
    """List the versions of CALL's results: status, publication time, winners, certificates."""
    from awards.results import services

    session = get_db()
    call = _call(session, call_ref)
    now = utcnow()
    publications = services.publications_of(session, call)
    click.echo(f"{call.slug}: call status {call.status}")
    if not publications:
        click.echo("no results published or scheduled")
        return
    current = services.current_publication(session, call, now)
    for p in publications:
        if not p.is_visible_at(now):
            state = "scheduled"
        elif current is not None and p.id == current.id:
            state = "current"
        else:
            state = "superseded"
        winners = len(services.snapshot_winners(p.snapshot))
        valid = sum(1 for c in p.certificates if c.revoked_at is None or c.revoked_at > now)
        click.echo(f"v{p.version}\t{state}\t{p.scheduled_for.isoformat()}\t"
                   f"winners={winners}\tcertificates={len(p.certificates)} (valid {valid})")


@results_cli.command("publish-due")
def publish_due() -> None:
    """Record as published the versions whose time has come, and move their calls on (safe to
    run from cron). The same as ``flask awards lifecycle sync-due`` for results only.

    Scheduled results become visible at their time without this command; it keeps the stored
    statuses and the call's phase truthful."""
    from awards.results import services

    session = get_db()
    due = services.settle_due(session=session)  # moves the calls through the lifecycle
    session.commit()
    for p in due:
        click.echo(f"published {p.call.slug} v{p.version}")
    click.echo(f"versions recorded as published: {len(due)}")
