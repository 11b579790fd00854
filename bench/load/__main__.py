"""Load benchmark of the site under gunicorn on PostgreSQL (issue 9).

    .venv/bin/python -m bench.load [--duration 15] [--workers 4] [--concurrency 16] ...

1. Creates ``awards_bench_<pid>`` on the PostgreSQL server, migrates it and seeds a realistic
   site (see ``bench/load/seed.py``: 5,000 entries in the open call, 5,000 in judging, 60
   jurors with 250 assignments each, 40 applicants who log in).
2. Starts gunicorn (sync workers) on a free loopback port, waits for ``/healthz``.
3. Drives it from client processes, one phase after the other: the bare endpoint (ceiling),
   ``/healthz``, anonymous reads, logins (argon2), applicants submitting nominations with a
   PDF, jurors saving and submitting scores, all three at once, the bare endpoint again.
4. Checks that every acknowledged submission and review is in the database exactly, prints
   the tables, stops gunicorn and drops the database. Exits 1 on any error or mismatch."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bench.load import report
from bench.load.driver import Group, PhaseResult, run_phase
from bench.load.harness import DEFAULT_SERVER, gunicorn, load_note, throwaway_database


def _world_for_clients(world) -> dict:
    return {"open_slug": world.open_slug, "category_codes": world.category_codes,
            "criteria": world.criteria, "password": world.password,
            "read_paths": world.read_paths}


def _rows(result: PhaseResult, scenario: str) -> tuple[report.Row, list[report.Row]]:
    steps = [(step, values) for (s, step), values in result.latencies.items() if s == scenario]
    errors = {step: n for (s, step), n in result.errors.items() if s == scenario}
    wall = result.walls.get(scenario, result.wall)
    every = [v for _step, values in steps for v in values]
    total = report.row(scenario, every, sum(errors.values()), wall, result.ops.get(scenario, 0))
    by_step = [report.row(step, values, errors.get(step, 0), wall) for step, values in steps]
    for step in errors.keys() - {s for s, _v in steps}:
        by_step.append(report.row(step, [], errors[step], wall))
    return total, by_step


def check_database(url: str, world, submitted: list[int], references: list[tuple[int, str]],
                   drafts: list[int], reviews: list[tuple[int, dict[int, float]]]) -> list[str]:
    """Compare what the site acknowledged with what it stored; return the mismatches."""
    from awards.auth.models import User
    from awards.enums import NominationStatus, ReviewStatus
    from awards.jury.models import Review, Score
    from awards.mail import OutgoingMail
    from awards.nominations.models import Attachment, Nomination

    problems: list[str] = []
    engine = create_engine(url)
    with Session(engine) as s:
        applicant_ids = select(User.id).where(User.email.like("applicant%@bench.local"))
        stored = dict(s.execute(
            select(Nomination.id, Nomination.reference)
            .where(Nomination.applicant_id.in_(applicant_ids),
                   Nomination.status == NominationStatus.SUBMITTED)).all())
        if set(stored) != set(submitted) or len(submitted) != len(set(submitted)):
            problems.append(f"submissions: {len(submitted)} acknowledged, {len(stored)} stored, "
                            f"{len(set(stored) ^ set(submitted))} differ")
        wrong_refs = [(n, ref) for n, ref in references if stored.get(n) != ref]
        if wrong_refs:
            problems.append(f"references: {len(wrong_refs)} differ, e.g. {wrong_refs[:3]}")
        expected_refs = {f"{world.open_prefix}-2026-{world.entries + i:05d}"
                         for i in range(1, len(stored) + 1)}
        if set(stored.values()) != expected_refs:
            problems.append("references are not consecutive after the seeded ones")
        files = s.scalar(select(func.count(Attachment.id))
                         .where(Attachment.nomination_id.in_(list(stored) or [0])))
        if files != len(stored):
            problems.append(f"attachments: {files} for {len(stored)} submissions")
        mails = s.scalar(select(func.count(OutgoingMail.id))
                         .where(OutgoingMail.to_address.like("applicant%@bench.local")))
        if mails != len(stored):
            problems.append(f"confirmation e-mails queued: {mails} for {len(stored)} submissions")

        rows = s.execute(select(Review.assignment_id, Review.status, Review.id)).all()
        status = {a: st for a, st, _id in rows}
        submitted_reviews = {a for a, st in status.items() if st == ReviewStatus.SUBMITTED}
        acked = {a for a, _scores in reviews}
        if submitted_reviews != acked or len(acked) != len(reviews):
            problems.append(f"reviews: {len(reviews)} submissions acknowledged, "
                            f"{len(submitted_reviews)} stored as submitted")
        missing_drafts = set(drafts) - set(status)
        if missing_drafts:
            problems.append(f"drafts: {len(missing_drafts)} acknowledged but not stored")
        review_of = {a: rid for a, _st, rid in rows}
        values: dict[int, dict[int, float]] = {}
        for review_id, criterion_id, value in s.execute(
                select(Score.review_id, Score.criterion_id, Score.value)):
            values.setdefault(review_id, {})[criterion_id] = value
        wrong = [a for a, sent in reviews if values.get(review_of.get(a)) != sent]
        if wrong:
            problems.append(f"scores: {len(wrong)} reviews stored other values than sent")
    engine.dispose()
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_SERVER,
                        help="PostgreSQL server (a throw-away database is created on it)")
    parser.add_argument("--entries", type=int, default=5000, help="entries per call")
    parser.add_argument("--jurors", type=int, default=60)
    parser.add_argument("--applicants", type=int, default=40)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="client threads per scenario")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--duration", type=float, default=15, help="seconds per phase")
    parser.add_argument("--skip-mixed", action="store_true", help="no phase with all at once")
    args = parser.parse_args()

    from awards.migrate import upgrade
    from bench.load import seed

    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, gunicorn "
          f"{args.workers} x {args.worker_class}, {args.client_processes} client processes x "
          f"{args.concurrency} threads, {args.duration:g} s per phase; {load_note()}")
    problems: list[str] = []
    with throwaway_database(args.database_url) as url:
        started = time.perf_counter()
        upgrade(url)
        engine = create_engine(url)
        with Session(engine) as session:
            world = seed.build(session, entries=args.entries, jurors=args.jurors,
                               applicants=args.applicants)
            session.commit()
        engine.dispose()
        print(f"migrated and seeded in {time.perf_counter() - started:.1f} s: "
              f"{args.entries:,} + {args.entries:,} entries, {args.jurors} jurors x "
              f"{len(next(iter(world.jurors.values())))} assignments, "
              f"{args.applicants} applicants")
        labels = {"/": "/", "/calls/": "/calls/",
                  f"/calls/{world.open_slug}": "/calls/<open call>",
                  f"/calls/{world.judging_slug}": "/calls/<call in judging>",
                  "/results/voy-2024": "/results/<published call>", "/results/": "/results/"}
        world.read_paths = [(p, labels.get(p, p)) for p in world.read_paths]
        client_world = _world_for_clients(world)
        applicants = [{"email": e} for e in world.applicants]
        jurors = [{"email": e, "assignments": a} for e, a in world.jurors.items()]

        with gunicorn(url, workers=args.workers, worker_class=args.worker_class,
                      threads=args.threads) as server:
            def phase(groups, duration=args.duration) -> PhaseResult:
                result = run_phase(server.host, server.port, groups, world=client_world,
                                   processes=args.client_processes, duration=duration)
                for sample in result.error_samples[:5]:
                    print("    error:", sample)
                return result

            c = args.concurrency
            results: dict[str, PhaseResult] = {}
            plan = [
                ("bare", [Group("bare", [], c)]),
                ("healthz", [Group("healthz", [], c)]),
                ("read", [Group("read", [], c)]),
                ("login", [Group("login", applicants + jurors, c)]),
                ("submit", [Group("submit", applicants, c)]),
                ("score", [Group("score", jurors, c)]),
            ]
            if not args.skip_mixed:
                plan.append(("mixed", [Group("read", [], max(1, c // 2)),
                                       Group("submit", applicants, max(1, c // 4)),
                                       Group("score", jurors, max(1, c // 4))]))
            plan.append(("bare again", [Group("bare", [], c)]))
            for name, groups in plan:
                print(f"  phase {name} ...", flush=True)
                results[name] = phase(groups, None if name == "login" else args.duration)
            server_log = server.log_tail(10)

        submitted, references, drafts, reviews = [], [], [], []
        for result in results.values():
            submitted += result.acks.get("nomination", [])
            references += result.acks.get("reference", [])
            drafts += result.acks.get("draft", [])
            reviews += result.acks.get("review", [])
        problems += check_database(url, world, submitted, references, drafts, reviews)

    ceiling, _ = _rows(results["bare"], "bare")
    again, _ = _rows(results["bare again"], "bare")
    rows, details = [ceiling], []
    for name, scenario in (("healthz", "healthz"), ("read", "read"), ("login", "login"),
                           ("submit", "submit"), ("score", "score")):
        total, steps = _rows(results[name], scenario)
        rows.append(total)
        details.append((scenario, steps))
    ops = {"login": "logins", "submit": "submissions", "score": "reviews"}
    print("\n### Each scenario alone\n")
    print(report.scenario_table([*rows, again], ceiling, ops))
    if "mixed" in results:
        mixed = [_rows(results["mixed"], s)[0] for s in ("read", "submit", "score")]
        print("\n### All three at once\n")
        print(report.scenario_table(mixed, ceiling, ops))
    for scenario, steps in details:
        if len(steps) > 1:
            print(f"\n### Steps of {scenario}\n")
            print(report.step_table(steps))
    errors = sum(sum(r.errors.values()) for r in results.values())
    print(f"\nat the end: {load_note()}")
    total_reviews = len(reviews)
    print(f"\nacknowledged: {len(submitted):,} submissions ({len(references):,} references "
          f"read back), {total_reviews:,} reviews submitted, {len(drafts):,} drafts saved")
    if not submitted and args.applicants:
        problems.append("no submission was acknowledged")
    print(f"errors: {errors}")
    if errors:
        problems.append(f"{errors} request errors")
    if problems:
        print("\nFAILED checks:\n  " + "\n  ".join(problems))
        if server_log:
            print("gunicorn log (tail):\n" + server_log)
        return 1
    print("database check: every acknowledged submission, reference, attachment, e-mail, "
          "review and score is stored, and nothing else")
    return 0


if __name__ == "__main__":
    sys.exit(main())
