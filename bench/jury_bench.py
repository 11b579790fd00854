"""A juror's pages with 250 assignments beside a public page, in process, in the same run.
Prints the figures; asserts nothing; not part of the test suite.

    .venv/bin/python bench/jury_bench.py                      # SQLite (temp file)
    .venv/bin/python bench/jury_bench.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres  # throw-away DB

The site of the load benchmark (``bench/load/seed.py``): an open call holding 5,000 entries,
last year's call in judging with 5,000 entries, 60 jurors and three reviews per entry, so each
juror has 250 assignments. The juror measured has submitted 100 of them and keeps 25 drafts.

Measured, median microseconds per request over ``--rounds`` rounds of ``--requests`` each, the
pages taking turns so that drift hits them alike: a bare Flask endpoint (the ceiling), the
public pages built on every request (``AWARDS_CACHE_URL=null://``: the cost of a public page,
not of a cache hit) and the juror's dashboard, score sheet (a draft) and "next unscored entry",
each with its number of SQL statements. The goal: a juror's page at most 3x a public page."""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from sqlalchemy import event, insert, select

from awards.db import get_db, utcnow
from awards.enums import ReviewStatus
from awards.jury.models import Criterion, Review, Score
from bench.common import bench_app, throwaway_database
from bench.load import seed

ENTRIES, JURORS = 5000, 60
SUBMITTED, DRAFTS = 100, 25
JUROR = "juror0@bench.local"


def add_reviews(session, assignment_ids: list[int]) -> int:
    """The juror's reviews: the first ``SUBMITTED`` submitted, the next ``DRAFTS`` drafts
    with two criteria scored. Returns a draft's assignment id."""
    now = utcnow()
    criteria = list(session.scalars(select(Criterion).order_by(Criterion.position)))
    rows = [{"assignment_id": a, "status": ReviewStatus.SUBMITTED if i < SUBMITTED
             else ReviewStatus.DRAFT, "overall_comment": "", "private_note": "",
             "total": 30.0 if i < SUBMITTED else None, "submitted_at": now if i < SUBMITTED
             else None, "updated_at": now, "imported": False, "version_id": 1}
            for i, a in enumerate(assignment_ids[:SUBMITTED + DRAFTS])]
    session.execute(insert(Review), rows)
    reviews = session.execute(select(Review.id, Review.status)
                              .where(Review.assignment_id.in_(assignment_ids))).all()
    session.execute(insert(Score), [
        {"review_id": rid, "criterion_id": c.id, "value": 5.0, "comment": ""}
        for rid, status in reviews
        for c in (criteria if status == ReviewStatus.SUBMITTED else criteria[:2])])
    return assignment_ids[SUBMITTED + DRAFTS // 2]


def login(client, email: str) -> None:
    page = client.get("/account/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/account/login", data={"email": email, "password": seed.PASSWORD,
                                                   "csrf_token": csrf})
    assert response.status_code == 302, response.status_code


def timed(client, url: str, n: int, status: int) -> float:
    """Microseconds per request."""
    started = time.perf_counter()
    for _ in range(n):
        response = client.get(url)
        assert response.status_code == status, (url, response.status_code)
        response.close()
    return (time.perf_counter() - started) / n * 1e6


def statements(app, client, url: str) -> int:
    engine = app.extensions["awards_db"]["engine"]
    seen = []

    def note(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", note)
    try:
        client.get(url).close()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return len(seen)


def run(url: str, requests: int, rounds: int) -> None:
    app = bench_app(url, TESTING=False)
    started = time.perf_counter()
    with app.app_context():
        session = get_db()
        world = seed.build(session, entries=ENTRIES, jurors=JURORS, applicants=1)
        mine = world.jurors[JUROR]
        draft = add_reviews(session, mine)
        session.commit()
    print(f"database: {app.extensions['awards_db']['engine'].dialect.name}; {ENTRIES} entries "
          f"in judging, {JURORS} jurors, {len(mine)} assignments for the juror measured "
          f"({SUBMITTED} submitted, {DRAFTS} drafts); arranged in "
          f"{time.perf_counter() - started:.1f} s")

    bare = Flask("bare")
    bare.get("/")(lambda: "ok")
    anonymous = app.test_client()
    juror = app.test_client()
    for client in (anonymous, juror):
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    login(juror, JUROR)
    pages = [  # (label, client, url, status)
        ("bare Flask endpoint", bare.test_client(), "/", 200),
        ("public: home `/`", anonymous, "/", 200),
        (f"public: open call `/calls/{world.open_slug}`", anonymous,
         f"/calls/{world.open_slug}", 200),
        ("juror: dashboard `/jury/` (250 rows)", juror, "/jury/", 200),
        ("juror: score sheet (a draft)", juror, f"/jury/assignments/{draft}", 200),
        ("juror: next unscored entry `/jury/next`", juror, "/jury/next", 302),
    ]
    for _label, client, page, status in pages:  # warm: templates compiled, statements cached
        timed(client, page, 3, status)
    counts = {label: statements(app, client, page) for label, client, page, _s in pages[1:]}

    samples: dict[str, list[float]] = {label: [] for label, *_rest in pages}
    for _ in range(rounds):
        for label, client, page, status in pages:
            samples[label].append(timed(client, page, requests, status))
    median = {label: statistics.median(values) for label, values in samples.items()}
    public = median[pages[2][0]]
    print(f"{requests} requests x {rounds} rounds; median µs per request")
    print("| page | µs | × bare | × the public call page | SQL statements |")
    print("|---|---:|---:|---:|---:|")
    for label, *_rest in pages:
        us = median[label]
        print(f"| {label} | {us:,.0f} | {us / median[pages[0][0]]:.1f} | {us / public:.2f} | "
              f"{counts.get(label, '—')} |")
    app.extensions["awards_db"]["engine"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL server URL (a throw-away database is created on it); "
                             "default: a temporary SQLite file")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with throwaway_database(args.database_url) as url:
        run(url, args.requests, args.rounds)


if __name__ == "__main__":
    main()
