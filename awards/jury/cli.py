"""``flask awards jury ...`` commands."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

from awards.boundary import WHOLE_NUMBER

jury_cli = AppGroup("jury", help="Jury rounds: reminders and assignment.")

DEFAULT_WINDOW_HOURS = 48.0


@jury_cli.command("remind")
@click.option("--round", "round_id", type=WHOLE_NUMBER, default=None,
              help="Only this round (then any closing time, unless --due-within-hours is given).")
@click.option("--due-within-hours", type=click.FloatRange(min=0), default=None,
              help=f"Rounds closing within this many hours (default {DEFAULT_WINDOW_HOURS:g}).")
def remind(round_id: int | None, due_within_hours: float | None) -> None:
    """Remind jurors with reviews still to submit, for a scheduled job (cron).

    Open rounds closing soon; each juror at most once a day (per round, in the call's time
    zone), so running the job more often than daily does no harm."""
    from awards.db import get_db, utcnow
    from awards.jury import setup

    session = get_db()
    now = utcnow()
    if due_within_hours is None and round_id is None:
        due_within_hours = DEFAULT_WINDOW_HOURS
    within = timedelta(hours=due_within_hours) if due_within_hours is not None else None
    rounds = setup.rounds_to_remind(session=session, now=now, round_id=round_id, within=within)
    if not rounds:
        click.echo("no open round closes within the window")
        return
    total = 0
    for rnd in rounds:
        result = setup.remind_jurors(session=session, actor=None, round=rnd, now=now,
                                     once_per_day=True)
        session.commit()
        total += len(result.sent)
        click.echo(f"round {rnd.id}: {len(result.sent)} reminded, "
                   f"{result.skipped} already reminded today")
    click.echo(f"{total} reminders queued")
