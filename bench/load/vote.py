"""The public vote under a campaign's load: at least 50,000 votes from concurrent clients
against gunicorn + PostgreSQL, through the real vote endpoint, with the rate limits counted in
Redis as a site with several workers keeps them.

    .venv/bin/python -m bench.load.vote [--votes 50000] [--workers 4] [--concurrency 24] ...
    .venv/bin/python -m bench.load.vote --baseline GIT_REF [--rounds 2]   # side by side

1. A throw-away database ``awards_bench_…`` with a call in its public vote: 15 categories
   of 12 candidates (174 passed screening in the real 2025 edition) and ``votes /
   votes-per-voter`` voters who have already verified their e-mail address.
2. gunicorn (sync workers) behind what looks like one reverse proxy (``AWARDS_PROXY_COUNT=1``):
   each voter's address comes in ``X-Forwarded-For``, spread over ``--networks`` /24 networks,
   as a campaign's voters are. Burst detection is on. The rate limits per address and network
   are on, their counters in Redis at ``--rate-limits`` (``redis://127.0.0.1:6379/0`` unless
   told otherwise; ``off`` measures without them).
3. Each voter's browser holds the session the site gives after verification (``voter_id``,
   signed with the site's key), opens a candidate's page once for the form's CSRF token, then
   votes in ``--votes-per-voter`` categories (``Accept: application/json``). ``--duplicates``
   of the votes are sent twice: half as a double click (both requests in flight at once), half
   as a retry after the answer.
4. Checks: stored votes == votes acknowledged as "cast", exactly, and on the same (voter,
   category) pairs; every repeat answered "unchanged"; no voter has two votes in a category.
   Exits 1 on any error or mismatch.

With ``--baseline``, the same benchmark of an earlier version of the code (a temporary git
worktree) alternates with the current one, and the runs are compared with the CPU their
processes spent per vote."""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import sys
import threading
import time
from collections import Counter
from datetime import timedelta

from flask import Flask
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.load import report
from bench.load.driver import Group, run_phase
from bench.load.harness import DEFAULT_SERVER, gunicorn, load_note, throwaway_database
from bench.load.seed import add_accounts, add_call, add_entries

TARGET_SECONDS = 120
DOMAINS = ("mail.kz", "gmail.com", "yandex.kz", "inbox.ru", "outlook.com", "bk.ru")


def build(session: Session, *, categories: int, per_category: int, voters: int) -> dict:
    from awards.calls.models import Category, Programme
    from awards.db import utcnow
    from awards.enums import CallStatus, NominationStatus, StageKind
    from awards.nominations.models import Nomination
    from awards.public_stage.models import PublicStage, StageEntry, Voter

    now = utcnow()
    programme = Programme(slug="nvn", name_en="National Volunteer Network",
                          name_ru="Национальная волонтёрская сеть")
    session.add(programme)
    call = add_call(session, programme, slug="voy-2026", prefix="VOY", year=2026,
                    status=CallStatus.PUBLIC_STAGE, opens=now - timedelta(days=60),
                    closes=now - timedelta(days=15))
    call.has_public_stage = True
    # add_call gives five categories; a real edition has fifteen.
    for i in range(len(call.categories), categories):
        call.categories.append(Category(code=f"c{i + 1}", name_en=f"Category {i + 1}",
                                        name_ru=f"Номинация {i + 1}", position=i + 1))
    del call.categories[categories:]
    for f in call.fields:
        f.is_public = f.key in ("title", "activity", "region")
    session.flush()
    applicants = add_accounts(session, "applicant", 50, "!", now)
    ids = add_entries(session, call, count=categories * per_category,
                      status=NominationStatus.ELIGIBLE, applicant_ids=applicants, now=now)
    stage = PublicStage(call_id=call.id, kind=StageKind.VOTE, opens_at=now - timedelta(days=1),
                        closes_at=now + timedelta(days=9), advance_per_category=10)
    session.add(stage)
    session.flush()
    candidates = session.execute(select(Nomination.id, Nomination.category_id,
                                        Nomination.reference)
                                 .where(Nomination.id.in_(ids))).all()
    session.execute(insert(StageEntry), [
        {"stage_id": stage.id, "nomination_id": n, "category_id": c} for n, c, _r in candidates])
    rows = [{"email": f"voter{i}@{DOMAINS[i % len(DOMAINS)]}",
             "email_domain": DOMAINS[i % len(DOMAINS)], "verified_at": now, "language": "ru",
             "created_ip": ""} for i in range(voters)]
    for start in range(0, len(rows), 10_000):
        session.execute(insert(Voter), rows[start:start + 10_000])
    voter_ids = list(session.scalars(select(Voter.id).order_by(Voter.id)))
    by_category: dict[int, list[tuple[int, str]]] = {}
    for n, c, ref in candidates:
        by_category.setdefault(c, []).append((n, ref))
    return {"slug": call.slug, "stage_id": stage.id, "voter_ids": voter_ids,
            "by_category": by_category}


def ballots(world: dict, *, votes_per_voter: int, duplicates: float, networks: int,
            secret_key: str, seed: int = 1) -> list[dict]:
    """Each voter: signed session cookie, client address, and what they vote for."""
    rnd = random.Random(seed)
    signer = Flask(__name__)
    signer.secret_key = secret_key
    serializer = signer.session_interface.get_signing_serializer(signer)
    categories = sorted(world["by_category"])
    voters = []
    for i, voter_id in enumerate(world["voter_ids"]):
        votes = []
        for category_id in rnd.sample(categories, votes_per_voter):
            _nomination, reference = rnd.choice(world["by_category"][category_id])
            repeat = ""
            if rnd.random() < duplicates:
                repeat = "double" if rnd.random() < 0.5 else "retry"
            votes.append((reference, category_id, repeat))
        network = i % networks
        address = f"10.{network // 256 % 256}.{network % 256}.{1 + i // networks % 254}"
        cookie = serializer.dumps({"voter_id": voter_id, "_permanent": True})
        voters.append({"voter_id": voter_id, "votes": votes, "cookies": {"session": cookie},
                       "headers": {"X-Forwarded-For": address}})
    return voters


def report_progress(url: str, stage_id: int, stop: threading.Event, every: float = 15) -> None:
    """Votes stored so far, every ``every`` seconds: on a shared machine the rate follows the
    other work, and the overall average alone would hide it."""
    from awards.public_stage.models import PublicVote

    engine = create_engine(url)
    started, last = time.monotonic(), 0
    while not stop.wait(every):
        with engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(PublicVote)
                                 .where(PublicVote.stage_id == stage_id)).scalar_one()
        print(f"    {time.monotonic() - started:4.0f} s: {count:,} votes stored, "
              f"{(count - last) / every:,.0f}/s over the last {every:g} s; {load_note()}",
              flush=True)
        last = count
    engine.dispose()


def check(url: str, world: dict, outcomes: list[tuple[int, int, str]], voters: list[dict]
          ) -> tuple[list[str], dict]:
    from awards.public_stage.models import PublicVote

    stage_id = world["stage_id"]
    problems = []
    cast = [(v, c) for v, c, outcome in outcomes if outcome == "cast"]
    by_pair = Counter((v, c) for v, c, _o in outcomes)
    repeats_sent = sum(1 for n in by_pair.values() if n > 1)
    engine = create_engine(url)
    with Session(engine) as s:
        stored = s.execute(select(PublicVote.voter_id, PublicVote.category_id,
                                  PublicVote.nomination_id)
                           .where(PublicVote.stage_id == stage_id)).all()
        twice = s.scalar(select(func.count()).select_from(
            select(PublicVote.voter_id).where(PublicVote.stage_id == stage_id)
            .group_by(PublicVote.voter_id, PublicVote.category_id)
            .having(func.count() > 1).subquery()))
        flagged = s.scalar(select(func.count()).where(PublicVote.stage_id == stage_id,
                                                      PublicVote.flagged.is_(True)))
    engine.dispose()
    stored_pairs = {(v, c) for v, c, _n in stored}
    if len(stored) != len(cast):
        problems.append(f"stored {len(stored):,} votes, acknowledged {len(cast):,} as cast")
    if stored_pairs != set(cast) or len(set(cast)) != len(cast):
        problems.append(f"(voter, category) pairs differ: {len(stored_pairs ^ set(cast))}")
    if twice:
        problems.append(f"{twice} voters have two votes in a category")
    unchanged = sum(1 for _v, _c, o in outcomes if o == "unchanged")
    if unchanged != len(outcomes) - len(cast):
        problems.append("a repeated vote was answered other than 'unchanged'")
    nomination_of = {ref: n for pairs in world["by_category"].values() for n, ref in pairs}
    chosen = {(v["voter_id"], c): nomination_of[ref] for v in voters for ref, c, _r in v["votes"]}
    wrong = sum(1 for v, c, n in stored if chosen.get((v, c)) != n)
    if wrong:
        problems.append(f"{wrong} stored votes are for another candidate than the one chosen")
    facts = {"stored": len(stored), "cast": len(cast), "unchanged": unchanged,
             "pairs_repeated": repeats_sent, "twice": twice or 0, "flagged": flagged or 0,
             "chosen": len(chosen)}
    return problems, facts


def drop_counters(url: str, prefix: str) -> int:
    """Remove this run's rate-limit counters from Redis; how many there were."""
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"*{prefix}*", count=10_000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start:start + 1000])
    client.close()
    return len(keys)


SUMMARY = re.compile(r"([\d,]+) votes cast in ([\d.]+) s: ([\d,]+) votes/s")
VOTE_ROW = re.compile(r"^\| vote requests \(POST, repeats included\) \|.*\| ([\d.,]+) \| "
                      r"([\d.,]+) \|$", re.M)


KINDS = ("gunicorn", "postgres", "client", "redis")


def compare(ref: str, rounds: int, forwarded: list[str]) -> int:
    """The benchmark of ``ref`` and of the current code, one after the other, ``rounds``
    times (ABBA order, so a machine that slows down during the run does not favour either),
    each run in a process of its own with its own database, its own migrations and seed and
    its own gunicorn; then the figures side by side, with the CPU each run's processes spent
    per vote (``bench.load.cpu``), which the machine's other work changes much less than the
    elapsed time."""
    from bench.load.baseline import ROOT, checkout, describe, run_in
    from bench.load.cpu import CpuMeter

    print(f"baseline: {describe(ref)}\ncurrent:  {describe('HEAD')}"
          f"{' (with changes not committed)' if _dirty(ROOT) else ''}\n")
    runs = []
    failed = False
    with checkout(ref) as base:
        trees = {"baseline": base, "current": ROOT}
        for i in range(rounds):
            for label in (("baseline", "current") if i % 2 == 0 else ("current", "baseline")):
                started = time.strftime("%H:%M:%S")
                print(f"--- round {i + 1}, {label} ({started}; {load_note()})", flush=True)
                meters: list = []

                def follow(process, meters=meters):
                    meter = CpuMeter(process.pid)
                    # An earlier version names its database after its process.
                    meter.database = f"awards_bench_{process.pid}"
                    meter.start()
                    meters.append(meter)

                def named(line, meters=meters):
                    if line.startswith("database: ") and meters:
                        meters[0].database = line.split()[1]

                done = run_in(trees[label], ["-m", "bench.load.vote", *forwarded],
                              on_start=follow, on_line=named)
                meters[0].stop()
                failed |= done.returncode != 0
                runs.append({"round": i + 1, "label": label, "started": started,
                             "summary": SUMMARY.search(done.stdout),
                             "row": VOTE_ROW.search(done.stdout), "load": load_note(),
                             "cpu": meters[0].seconds})
    print("\n| round | version | started | elapsed | votes/s | ratio to the baseline of the "
          "round | vote p50 / p99 ms | CPU ms per vote: gunicorn / PostgreSQL / client / "
          "Redis / all | load average after |")
    print("|---:|---|---|---:|---:|---:|---:|---:|---|")
    for run in runs:
        summary = run["summary"]
        if summary is None:
            print(f"| {run['round']} | {run['label']} | {run['started']} | failed | | | | | "
                  f"{run['load']} |")
            continue
        base_run = next((r for r in runs if r["round"] == run["round"]
                         and r["label"] == "baseline" and r["summary"] is not None), None)
        ratio = "" if base_run is None else \
            f"{_number(summary[3]) / _number(base_run['summary'][3]):.2f}"
        latency = f"{run['row'][1]} / {run['row'][2]}" if run["row"] else ""
        votes = _number(summary[1])
        cpu = [run["cpu"].get(kind, 0.0) * 1000 / votes for kind in KINDS]
        print(f"| {run['round']} | {run['label']} | {run['started']} | {summary[2]} s | "
              f"{summary[3]} | {ratio} | {latency} | "
              f"{' / '.join(f'{ms:.2f}' for ms in cpu)} / {sum(cpu):.2f} | "
              f"{run['load'].removeprefix('load average ')} |")
    return 1 if failed else 0


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _dirty(root) -> bool:
    import subprocess

    return bool(subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--",
                                "awards", "bench", "templates"], capture_output=True,
                               text=True).stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load.vote",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", metavar="GIT_REF",
                        help="also run the benchmark on this earlier version of the code, "
                             "alternating with the current one, and compare")
    parser.add_argument("--rounds", type=int, default=1,
                        help="with --baseline: how many runs of each version")
    parser.add_argument("--database-url", default=DEFAULT_SERVER)
    parser.add_argument("--votes", type=int, default=50_000, help="distinct votes to cast")
    parser.add_argument("--votes-per-voter", type=int, default=4,
                        help="categories each voter votes in")
    parser.add_argument("--categories", type=int, default=15)
    parser.add_argument("--per-category", type=int, default=12, help="candidates per category")
    parser.add_argument("--duplicates", type=float, default=0.05,
                        help="share of votes sent twice (double click or retry)")
    parser.add_argument("--networks", type=int, default=4096,
                        help="distinct /24 networks the voters come from")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--concurrency", type=int, default=24, help="client threads in all")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--rate-limits", default="redis://127.0.0.1:6379/0",
                        help="the rate limits' storage as AWARDS_RATELIMIT_STORAGE_URI "
                             "(default redis://127.0.0.1:6379/0), or off")
    args = parser.parse_args()
    if args.baseline:
        forwarded, skip = [], False
        for arg in sys.argv[1:]:
            if skip:
                skip = False
            elif arg in ("--baseline", "--rounds"):
                skip = True
            elif not arg.startswith(("--baseline=", "--rounds=")):
                forwarded.append(arg)
        return compare(args.baseline, args.rounds, forwarded)

    from awards.migrate import upgrade

    if args.rate_limits.startswith("redis"):
        import redis

        try:
            redis.Redis.from_url(args.rate_limits).ping()
        except redis.RedisError as exc:
            print(f"ERROR: Redis does not answer at {args.rate_limits} ({exc}); start it, or "
                  f"measure without the rate limits: --rate-limits off", file=sys.stderr)
            return 2
    voters_count = -(-args.votes // args.votes_per_voter)
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, gunicorn "
          f"{args.workers} x {args.worker_class}, {args.client_processes} client processes, "
          f"{args.concurrency} client threads in all, rate limits: {args.rate_limits}; "
          f"{load_note()}")
    with throwaway_database(args.database_url) as url:
        print(f"database: {make_url(url).database}", flush=True)
        started = time.perf_counter()
        upgrade(url)
        engine = create_engine(url)
        with Session(engine) as session:
            world = build(session, categories=args.categories, per_category=args.per_category,
                          voters=voters_count)
            session.commit()
        engine.dispose()
        print(f"migrated and seeded in {time.perf_counter() - started:.1f} s: "
              f"{args.categories} categories x {args.per_category} candidates, "
              f"{voters_count:,} verified voters x {args.votes_per_voter} votes, "
              f"{args.networks:,} networks")
        settings = {"AWARDS_PROXY_COUNT": "1"}
        prefix = f"bench-vote-{os.getpid()}"
        if args.rate_limits != "off":
            # Counters of this run only (removed at the end), so runs do not add up.
            settings.update({"AWARDS_RATELIMIT_ENABLED": "true",
                             "AWARDS_RATELIMIT_STORAGE_URI": args.rate_limits,
                             "AWARDS_RATELIMIT_KEY_PREFIX": prefix})
        with gunicorn(url, workers=args.workers, worker_class=args.worker_class,
                      threads=args.threads, settings=settings) as server:
            voters = ballots(world, votes_per_voter=args.votes_per_voter,
                             duplicates=args.duplicates, networks=args.networks,
                             secret_key=server.secret_key)
            print("  voting ...", flush=True)
            stop = threading.Event()
            watcher = threading.Thread(target=report_progress,
                                       args=(url, world["stage_id"], stop), daemon=True)
            watcher.start()
            result = run_phase(server.host, server.port,
                               [Group("vote", voters, args.concurrency)],
                               world={"vote_slug": world["slug"]},
                               processes=args.client_processes, duration=None)
            stop.set()
            watcher.join()
            for sample in result.error_samples[:5]:
                print("    error:", sample)
            log = server.log_tail(10)
        problems, facts = check(url, world, result.acks.get("vote", []), voters)
        if args.rate_limits.startswith("redis"):
            facts["counters"] = drop_counters(args.rate_limits, prefix)

    latencies = result.latencies
    post = [v for (s, step), values in latencies.items() if step.startswith("POST")
            for v in values]
    pages = latencies.get(("vote", "GET candidate page"), [])
    errors = sum(result.errors.values())
    wall = result.wall
    votes_row = report.row("vote requests (POST, repeats included)", post,
                           sum(n for (s, step), n in result.errors.items()
                               if step.startswith("POST")), wall)
    pages_row = report.row("candidate page (GET, once per voter)", pages,
                           result.errors.get(("vote", "GET candidate page"), 0), wall)
    print("\n| | requests | errors | per second | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in (votes_row, pages_row):
        print(f"| {r.label} | {r.requests:,} | {r.errors} | {r.rate:,.0f} | "
              f"{report.ms(r.p50)} | {report.ms(r.p99)} |")
    steps = [report.row(step, values, result.errors.get(("vote", step), 0), wall)
             for (_s, step), values in sorted(latencies.items())]
    print("\n" + report.step_table(steps))
    cast_rate = facts["cast"] / wall if wall else 0
    print(f"\n{facts['cast']:,} votes cast in {wall:.1f} s: {cast_rate:,.0f} votes/s "
          f"(target: {args.votes:,} in under {TARGET_SECONDS} s: "
          f"{'met' if wall < TARGET_SECONDS and facts['cast'] >= args.votes else 'NOT met'})")
    print(f"stored {facts['stored']:,} = acknowledged {facts['cast']:,}; "
          f"{facts['pairs_repeated']:,} votes sent twice, every repeat answered 'unchanged' "
          f"({facts['unchanged']:,}); voters with two votes in a category: {facts['twice']}; "
          f"votes flagged by burst detection: {facts['flagged']:,}")
    if "counters" in facts:
        print(f"rate-limit counters in Redis: {facts['counters']:,} (removed)")
    print(f"errors: {errors}; at the end: {load_note()}")
    if errors:
        problems.append(f"{errors} request errors")
    if facts["cast"] < args.votes:
        problems.append(f"only {facts['cast']:,} of {args.votes:,} votes cast")
    if problems:
        print("\nFAILED checks:\n  " + "\n  ".join(problems))
        if log:
            print("gunicorn log (tail):\n" + log)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
