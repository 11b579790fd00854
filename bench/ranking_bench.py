"""The ranking of a large round on a real database: 10,000 entries x 5 submitted reviews x 8
criteria (five categories of 2,000 entries, 20 jurors per category). Prints the figures; asserts
nothing; not part of the test suite.

    .venv/bin/python bench/ranking_bench.py                      # SQLite (temp file)
    .venv/bin/python bench/ranking_bench.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres  # throw-away DB

Measured: (a) merely loading the rows (``load_round``, without and with the criterion scores),
(b) the pure aggregation + ranking + agreement (``rank_round``, per method, without and with
the bootstrap), each beside the same work done by the reference functions of
``awards.judging`` (the pure-Python definition the fast path is tested against), (c) the
service end to end (``round_ranking``), the ranking page, the exports (the scores files
streamed: also the time to their first bytes, and the XLSX's peak Python memory) and one
entry's explanation through the client, each with the ranking cache stale, then (d) served
from the ranking cache;
with the number of SQL statements, the ratios to (a) and the machine's load average. Each line
gives the wall time and this process's CPU time (which leaves out PostgreSQL's own work, but
stays meaningful on a busy machine, where the wall time mostly measures waiting)."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from awards.auth.models import User
from awards.auth.services import hash_password
from awards.calls.models import Call, Category, Programme
from awards.db import get_db, utcnow
from awards.enums import (
    AggregationMethod,
    AssignmentStatus,
    CallStatus,
    JurorStatus,
    NominationStatus,
    NominatorKind,
    ReviewStatus,
    RoundStatus,
)
from awards.judging import Review as JReview
from awards.judging import aggregate, agreement_report, rank_entries
from awards.jury.models import (
    Assignment,
    Criterion,
    JuryMember,
    Panel,
    Review,
    Round,
    RoundEntry,
    Rubric,
    Score,
)
from awards.nominations.models import Nomination
from awards.ranking import cache as ranking_cache
from awards.ranking import services
from bench.common import StatementCounter as Counter
from bench.common import bench_app, engine_of, insert_rows, throwaway_database

ENTRIES, REVIEWS, CRITERIA, CATEGORIES, JURORS_PER_CATEGORY = 10_000, 5, 8, 5, 20
PASSWORD = "bench-password-123"


def build(session) -> int:
    now = utcnow()
    programme = Programme(slug="bench", name_en="Bench")
    call = Call(programme=programme, slug="bench-2026", reference_prefix="BEN", year=2026,
                title_en="Bench", opens_at=now.replace(year=now.year - 1), closes_at=now,
                status=CallStatus.JUDGING, aggregation_method=AggregationMethod.ZSCORE)
    call.categories = [Category(code=f"c{i}", name_en=f"Category {i}", position=i,
                                winners_count=3) for i in range(CATEGORIES)]
    session.add(call)
    session.flush()
    cats = [c.id for c in call.categories]
    rubric = Rubric(call_id=call.id, name="Bench rubric")
    rubric.criteria = [Criterion(key=f"k{i}", title_en=f"K{i}", min_score=0, max_score=10,
                                 step=0.5, weight=1 + i % 3, position=i)
                       for i in range(CRITERIA)]
    session.add(rubric)
    admin = User(email="admin@bench.local", password_hash=hash_password(PASSWORD),
                 full_name="Admin", is_admin=True, email_verified_at=now)
    applicant = User(email="applicant@bench.local", password_hash="x", email_verified_at=now)
    session.add_all([admin, applicant])
    session.flush()
    jurors = CATEGORIES * JURORS_PER_CATEGORY
    insert_rows(session, User, [
        {"email": f"juror{j}@bench.local", "password_hash": "x", "full_name": f"Juror {j}",
         "email_verified_at": now} for j in range(jurors)])
    juror_ids = [u.id for u in session.query(User).filter(User.email.like("juror%"))
                 .order_by(User.id)]
    panel = Panel(call_id=call.id, name="Bench panel")
    session.add(panel)
    session.flush()
    insert_rows(session, JuryMember, [
        {"panel_id": panel.id, "user_id": uid, "email": f"juror{j}@bench.local",
         "status": JurorStatus.ACTIVE, "accepted_at": now} for j, uid in enumerate(juror_ids)])
    rnd = Round(call_id=call.id, position=1, name_en="Bench round", panel_id=panel.id,
                rubric_id=rubric.id, status=RoundStatus.CLOSED, reviews_per_entry=REVIEWS)
    session.add(rnd)
    session.flush()
    insert_rows(session, Nomination, [
        {"id": i + 1, "call_id": call.id, "category_id": cats[i % CATEGORIES],
         "applicant_id": applicant.id, "nominator_kind": NominatorKind.SELF,
         "status": NominationStatus.ELIGIBLE, "reference": f"BEN-2026-{i + 1:05d}",
         "nominee_name": f"Nominee {i}", "submitted_at": now, "version_id": 1}
        for i in range(ENTRIES)])
    insert_rows(session, RoundEntry, [{"round_id": rnd.id, "nomination_id": i + 1}
                                  for i in range(ENTRIES)])
    weights = [c.weight for c in rubric.criteria]
    criterion_ids = [c.id for c in rubric.criteria]
    assignments, reviews, scores = [], [], []
    for i in range(ENTRIES):
        category = i % CATEGORIES
        for k in range(REVIEWS):
            juror = juror_ids[category * JURORS_PER_CATEGORY
                              + (i // CATEGORIES + k * 3) % JURORS_PER_CATEGORY]
            aid = len(assignments) + 1
            assignments.append({"id": aid, "round_id": rnd.id, "nomination_id": i + 1,
                                "juror_id": juror, "status": AssignmentStatus.ACTIVE,
                                "assigned_at": now, "recusal_reason": ""})
            values = [((i * 31 + k * 17 + c * 7) % 21) / 2 for c in range(CRITERIA)]
            reviews.append({"id": aid, "assignment_id": aid, "status": ReviewStatus.SUBMITTED,
                            "overall_comment": "", "private_note": "", "submitted_at": now,
                            "updated_at": now, "imported": False, "version_id": 1,
                            "total": sum(w * v for w, v in zip(weights, values, strict=True))})
            scores.extend({"review_id": aid, "criterion_id": cid, "value": v, "comment": ""}
                          for cid, v in zip(criterion_ids, values, strict=True))
    insert_rows(session, Assignment, assignments)
    insert_rows(session, Review, reviews)
    insert_rows(session, Score, scores)
    return rnd.id


def reference_rank_round(data, method) -> None:
    """What ``rank_round`` computed before the fast path: the reference functions of
    ``awards.judging`` on each category's reviews (for the ratio, side by side)."""
    for category in data.categories:
        entry_ids = [e.id for e in data.entries_of(category.id)]
        wanted = set(entry_ids)
        reviews = [JReview(r.entry_id, r.juror_id, r.total, r.submitted)
                   for r in data.reviews if r.entry_id in wanted]
        aggregation = aggregate(reviews, method, entries=entry_ids,
                                required_reviews=data.round.reviews_per_entry,
                                trim=data.call.trim_k)
        rank_entries(aggregation, tie_breaks=services.tie_breaks_of(data.call))
        agreement_report([r for r in reviews if r.submitted and r.total is not None])


def report(label: str, c: Counter, base: float | None = None) -> None:
    ratio = f"  x{c.elapsed / base:5.1f}" if base else ""
    print(f"  {label:<52} {c.elapsed * 1000:9.1f} ms {c.cpu * 1000:9.1f} ms cpu "
          f"{c.n:4d} statements{ratio}")


def run(url: str) -> None:
    # The ranking cache on, in this process's memory (Redis in production); the service lines
    # (b, c) do not use it, the pages are measured with a stale cache (c) and again (d).
    app = bench_app(url, CACHE_URL="simple://")
    engine = engine_of(app)
    print(f"database: {engine.dialect.name}; {ENTRIES} entries x {REVIEWS} reviews x "
          f"{CRITERIA} criteria, {CATEGORIES} categories; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with app.app_context():
        session = get_db()
        started = time.perf_counter()
        round_id = build(session)
        session.commit()
        print(f"  {'(arranging the data)':<52} {(time.perf_counter() - started) * 1000:9.1f} ms")

    with app.app_context():
        session = get_db()
        rnd = session.get(Round, round_id)
        _ = rnd.call, rnd.rubric
        with Counter(engine) as load:
            data = services.load_round(session, rnd)
        report("(a) load the rows (entries, reviews, jurors)", load)
        base = load.elapsed
        session.expunge_all()
        rnd = session.get(Round, round_id)
        _ = rnd.call, rnd.rubric
        with Counter(engine) as c:
            services.load_round(session, rnd, with_scores=True)
        report("(a') load the rows with the 400,000 scores", c, base)
        for method in AggregationMethod:
            with Counter(engine) as c:
                services.rank_round(data, method=method, stability=False)
            report(f"(b) aggregate + rank + agreement: {method.value}", c, base)
            with Counter(engine) as c:
                reference_rank_round(data, method)
            report("    ... by the reference functions (pure Python)", c, base)
        with Counter(engine) as c:
            services.rank_round(data, method=AggregationMethod.ZSCORE, stability=True)
        report("(b) the same, zscore, with the bootstrap (top 3)", c, base)
        session.expunge_all()
        rnd = session.get(Round, round_id)
        with Counter(engine) as c:
            services.round_ranking(session=session, round=rnd)
        report("(c) service end to end: round_ranking (zscore)", c, base)

    def stale() -> None:
        """A commit that changes the ranking's inputs: the next view computes it afresh."""
        with app.app_context():
            ranking_cache.inputs_changed({"reviews"})

    def streamed(url: str, label: str) -> None:
        with Counter(engine) as c:
            response = client.get(url, buffered=False)
            pieces = iter(response.response)
            size = len(next(pieces))
            first = time.perf_counter() - c.started
            size += sum(len(piece) for piece in pieces)
            response.close()
        report(f"{label} ({response.status_code}, {size // 1024} KiB)", c, base)
        print(f"  {'    ... its first bytes after':<52} {first * 1000:9.1f} ms")

    client = app.test_client()
    login = client.get("/account/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    client.post("/account/login", data={"email": "admin@bench.local", "password": PASSWORD,
                                        "csrf_token": csrf})
    page_url = f"/admin/ranking/rounds/{round_id}"
    stale()
    with Counter(engine) as c:
        page = client.get(page_url)
    report(f"(c) page: GET ranking ({page.status_code}, {len(page.data) // 1024} KiB)", c, base)
    with Counter(engine) as c:
        page = client.get(page_url)
    report(f"(d) page again, ranking from the cache ({page.status_code})", c, base)
    stale()
    with Counter(engine) as c:
        page = client.get(f"{page_url}?method=mean&compare=zscore")
    report(f"(c) page: GET ranking, mean vs zscore ({page.status_code})", c, base)
    with Counter(engine) as c:
        page = client.get(f"{page_url}?method=mean&compare=zscore")
    report(f"(d) the same again, from the cache ({page.status_code})", c, base)
    stale()
    with Counter(engine) as c:
        export = client.get(f"{page_url}/export.csv?what=ranking")
    report(f"(c) export: ranking CSV ({export.status_code})", c, base)
    with Counter(engine) as c:
        export = client.get(f"{page_url}/export.csv?what=ranking")
    report(f"(d) ranking CSV again, from the cache ({export.status_code})", c, base)
    with Counter(engine) as c:
        export = client.get(f"{page_url}/export.xlsx?what=ranking")
    report(f"(d) ranking XLSX, from the cache ({export.status_code})", c, base)
    streamed(f"{page_url}/export.csv?what=scores", "(c) export: scores CSV")
    streamed(f"{page_url}/export.xlsx?what=scores", "(c) export: scores XLSX")
    tracemalloc.start()
    response = client.get(f"{page_url}/export.xlsx?what=scores", buffered=False)
    size = sum(len(piece) for piece in response.response)
    response.close()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"  {'    ... Python memory at its peak (tracemalloc)':<52} {peak / 2**20:9.1f} MiB "
          f"for a file of {size / 2**20:.1f} MiB")
    stale()
    with Counter(engine) as c:
        page = client.get(f"{page_url}/entries/1")
    report(f"(c) page: GET one entry's explanation ({page.status_code})", c, base)
    with Counter(engine) as c:
        page = client.get(f"{page_url}/entries/6")
    report(f"(d) another entry of its category, from the cache ({page.status_code})", c, base)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL server URL (a throw-away database is created on it); "
                             "default: a temporary SQLite file")
    args = parser.parse_args()
    with throwaway_database(args.database_url) as url:
        run(url)


if __name__ == "__main__":
    main()
