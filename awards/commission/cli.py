"""``flask awards commission tally ROUND [--file ballots.json]``: count a commission round from
its published ballot list, so anyone holding the list can check the outcome."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from awards.boundary import WHOLE_NUMBER
from awards.db import get_db
from awards.judging.commission import ApprovalCount

commission_cli = AppGroup("commission", help="The commission's secret ballot.")


@commission_cli.command("tally")
@click.argument("round_id", type=WHOLE_NUMBER)
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False),
              help="A ballot list downloaded from the round (ballots.json); without it, the "
                   "list is read from the database.")
def tally(round_id: int, path: str | None) -> None:
    """Recompute the count of ROUND from its ballot list."""
    from awards.commission import services
    from awards.commission.wording import share_number
    from awards.jury.models import Round

    if path:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if data.get("round") != round_id:
            raise click.ClickException(f"the file is the ballot list of round {data.get('round')}")
    else:
        round_ = get_db().get(Round, round_id)
        if round_ is None or not services.is_commission_round(round_):
            raise click.ClickException(f"no commission round {round_id}")
        if round_.status != "closed":
            raise click.ClickException("the ballot is not closed: nothing is counted before")
        data = services.ballot_list(get_db(), round_)
    count = services.count_list(data)
    refs = {e["id"]: e["reference"] or str(e["id"]) for e in data["entries"]}
    q = count.quorum
    click.echo(f"round {round_id}: {data['method']}, {len(data['ballots'])} ballots")
    click.echo(f"quorum {'met' if q.met else 'not met'}: {q.ballots} of {q.members} "
               f"({'at least' if q.inclusive else 'more than'} {share_number(q.required)}"
               f" = {q.needed})")
    if isinstance(count, ApprovalCount):
        for e in count.entries:
            click.echo(f"{refs[e.entry_id]}\tyes {e.yes}\tno {e.no}\tabstain {e.abstain}\t"
                       f"{e.outcome.value}")
    else:
        for c in count.categories:
            elected = ", ".join(refs[n] for n in c.elected) or "-"
            tied = ", ".join(refs[n] for n in c.tied)
            click.echo(f"category {c.category_id} ({c.method}, {c.seats} seat(s), "
                       f"{c.ballots} ballots): elected {elected}"
                       + (f"; tied {tied}" if tied else ""))
