"""Close due public stages and advance the entries from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

public_stage_cli = AppGroup(
    "public-stage",
    help="Close due public stages and advance the entries from the command line.")


@public_stage_cli.command("close-due")
def close_due() -> None:
    """Close every stage whose closing time has passed and add the advancing entries to the
    first jury round. Safe to run from cron as often as wanted: closed stages are skipped, and
    entries still missing from a round created after the close are added."""
    from awards.db import get_db, utcnow
    from awards.public_stage import services

    db = get_db()
    closed = waiting = added = 0
    for stage in services.due_stages(db, utcnow()):
        try:
            added += services.close_stage(session=db, actor=None, stage=stage)
        except services.NeedsChoice:
            db.rollback()
            waiting += 1
            click.echo(f"stage {stage.id}: entries are tied at the cut; an administrator "
                       "must choose before it closes")
            continue
        db.commit()
        closed += 1
    for stage in services.closed_stages(db):
        added += services.advance_to_first_round(session=db, actor=None, stage=stage)
        db.commit()
    click.echo(f"closed {closed} stage(s), {waiting} waiting for a choice, "
               f"{added} entr{'y' if added == 1 else 'ies'} added to first rounds")
