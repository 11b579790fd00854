"""``flask awards ranking ...`` and ``flask awards scores import ...``."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from flask_babel import force_locale

from awards.boundary import WHOLE_NUMBER, whole_number
from awards.enums import AggregationMethod

scores_cli = AppGroup("scores", help="Jury scores: import paper ballots.")


def _find_call(session, ref: str):
    from sqlalchemy import select

    from awards.calls.models import Call

    call = session.scalar(select(Call).where(Call.slug == ref))
    if call is None and (number := whole_number(ref)) is not None:
        call = session.get(Call, number)
    if call is None:
        raise click.BadParameter(f"no call with slug or id {ref!r}", param_hint="CALL")
    return call


def _find_round(session, call, round_id: int | None):
    from awards.jury.models import Round
    from awards.jury.setup import first_round

    if round_id is None:
        rnd = first_round(session, call)
        if rnd is None:
            raise click.UsageError(f"call {call.slug} has no rounds")
        return rnd
    rnd = session.get(Round, round_id)
    if rnd is None or rnd.call_id != call.id:
        raise click.BadParameter(f"call {call.slug} has no round {round_id}",
                                 param_hint="--round")
    return rnd


@scores_cli.command("import")
@click.argument("call_ref", metavar="CALL")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--round", "round_id", type=WHOLE_NUMBER, default=None,
              help="Round id (default: the call's first round).")
def scores_import(call_ref: str, file: Path, round_id: int | None) -> None:
    """Import paper-ballot scores from a CSV file (entry,juror,criterion,score) into a round.

    The whole file is checked first; nothing is written unless every line is valid (exit 1)."""
    from awards.db import get_db
    from awards.ranking.importer import import_scores

    session = get_db()
    call = _find_call(session, call_ref)
    rnd = _find_round(session, call, round_id)
    # Messages for the terminal: English, and no request to choose a language from.
    with force_locale("en"):
        result = import_scores(session=session, actor=None, round=rnd,
                               content=file.read_bytes(), filename=file.name)
        errors = [(e.line, str(e.message)) for e in result.errors]
    if not result.ok:
        session.rollback()
        for line, message in errors:
            where = f"line {line}" if line else "file"
            click.echo(f"{file.name}: {where}: {message}", err=True)
        click.echo("nothing imported", err=True)
        sys.exit(1)
    session.commit()
    s = result.summary()
    click.echo(f"imported {s['lines']} lines: {s['reviews_created']} reviews created, "
               f"{s['reviews_updated']} updated, {s['assignments_created']} assignments created, "
               f"{s['assignments_reactivated']} reactivated")


@click.command("ranking")
@click.argument("call_ref", metavar="CALL")
@click.option("--round", "round_id", type=WHOLE_NUMBER, default=None,
              help="Round id (default: the call's first round).")
@click.option("--category", "category_code", default=None, help="Only this category (code).")
@click.option("--method", type=click.Choice([m.value for m in AggregationMethod]),
              default=None, help="Aggregation method (default: the call's).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("--stability/--no-stability", default=False, show_default=True,
              help="Add the bootstrap top-N probabilities (slower).")
@with_appcontext
def ranking_cli(call_ref: str, round_id: int | None, category_code: str | None,
                method: str | None, fmt: str, stability: bool) -> None:
    """Print the ranking of a round to stdout, as CSV or JSON."""
    from awards.db import get_db
    from awards.ranking import exports, services

    session = get_db()
    call = _find_call(session, call_ref)
    rnd = _find_round(session, call, round_id)
    category_id = None
    if category_code is not None:
        category = next((c for c in call.categories if c.code == category_code), None)
        if category is None:
            raise click.BadParameter(f"call {call.slug} has no category {category_code!r}",
                                     param_hint="--category")
        category_id = category.id
    ranking = services.round_ranking(
        session=session, round=rnd, method=AggregationMethod(method) if method else None,
        category_id=category_id, stability=stability)
    if fmt == "csv":
        header, rows = exports.ranking_table(ranking, exports.authors_by_entry(session, ranking))
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([exports.safe_cell(v) for v in row] for row in rows)
        return
    out = {"call": call.slug, "round": rnd.id, "method": ranking.method.value,
           "tie_breaks": list(ranking.tie_breaks), "categories": []}
    for cat in ranking.categories:
        out["categories"].append({
            "code": cat.category.code,
            "entries": [{
                "rank": row.ranked.rank, "label": row.ranked.label,
                "tied": row.ranked.tied, "score_tied": row.ranked.score_tied,
                "entry": row.entry.label, "nominee": row.entry.nominee_name,
                "score": row.ranked.score, "reviews": row.result.review_count,
                "complete": row.result.complete,
                "top_n_probability": row.stability.probability if row.stability else None,
            } for row in cat.rows],
        })
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))
