"""CPU time of the public vote in process, one request at a time: the vote (POST, JSON, a
first vote in the category) and the candidate's page a voter opens before voting, through
the whole WSGI application as gunicorn calls it (proxy, session, locale, hooks, headers), on
PostgreSQL, with the rate limits counted in Redis unless ``--rate-limits off``.

    .venv/bin/python -m bench.load.vote_cpu [--votes 3000] [--baseline GIT_REF --rounds 2]

The load benchmark (``bench.load.vote``) measures the whole system, whose rate follows the
other work of a shared machine; this one measures the server's own work per request, in CPU
seconds of this process (database and Redis excluded), as the best and the median of batches,
which other work disturbs much less. With ``--baseline``, the same measurement of an earlier
version, alternating with the current one."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BATCH = 150
CSRF = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
RESULT = re.compile(r"^RESULT vote ([\d.]+) ([\d.]+) page ([\d.]+) ([\d.]+) calls ([\d.]+)$",
                    re.M)


def measure(args) -> int:
    import cProfile
    import pstats

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session
    from werkzeug.test import EnvironBuilder

    from bench.load.harness import throwaway_database
    from bench.load.vote import ballots, build

    with throwaway_database(args.database_url) as url:
        from awards.migrate import upgrade

        upgrade(url)
        engine = create_engine(url)
        with Session(engine) as session:
            world = build(session, categories=15, per_category=12,
                          voters=args.votes // 4 + BATCH)
            session.commit()
        engine.dispose()
        secret = "bench-" + "k" * 58
        instance = Path(tempfile.mkdtemp(prefix="awards-vote-cpu-"))
        os.environ.update({
            "AWARDS_ENV": "production", "AWARDS_SECRET_KEY": secret,
            "AWARDS_DATABASE_URL": url, "AWARDS_INSTANCE_PATH": str(instance),
            "AWARDS_UPLOAD_FOLDER": str(instance / "uploads"), "AWARDS_PROXY_COUNT": "1",
            "AWARDS_RATELIMIT_ENABLED": "false" if args.rate_limits == "off" else "true",
            "AWARDS_RATELIMIT_STORAGE_URI": args.rate_limits,
            "AWARDS_RATELIMIT_KEY_PREFIX": f"bench-vote-cpu-{os.getpid()}"})
        from awards import create_app

        app = create_app()
        voters = ballots(world, votes_per_voter=4, duplicates=0, networks=4096,
                         secret_key=secret)
        headers: list = []

        def call(environ):
            environ = dict(environ)
            done = {}

            def start_response(status, response_headers, exc_info=None):
                done["status"] = status
                headers[:] = response_headers

            body = b"".join(app(environ, start_response))
            return done["status"], body

        pages, posts = [], []
        for voter in voters:
            base = {"HTTP_COOKIE": "session=" + voter["cookies"]["session"],
                    "HTTP_X_FORWARDED_FOR": voter["headers"]["X-Forwarded-For"],
                    "HTTP_ACCEPT_LANGUAGE": "ru-RU,ru;q=0.9", "REMOTE_ADDR": "127.0.0.1"}
            page = EnvironBuilder(path=f"/public/{world['slug']}/{voter['votes'][0][0]}",
                                  environ_base=base).get_environ()
            status, body = call(page)
            assert status.startswith("200"), status
            pages.append(page)
            for name, value in headers:  # the page gives the form's CSRF secret
                if name.lower() == "set-cookie" and value.startswith("session="):
                    base["HTTP_COOKIE"] = value.split(";")[0]
            token = CSRF.search(body).group(1).decode()
            for reference, _category, _repeat in voter["votes"]:
                posts.append(EnvironBuilder(
                    method="POST", path=f"/public/{world['slug']}/{reference}/vote",
                    data=f"csrf_token={token}",
                    content_type="application/x-www-form-urlencoded",
                    headers={"Accept": "application/json"}, environ_base=base))
        for builder in posts[:BATCH]:  # warm up: statements prepared, caches filled
            status, body = call(builder.get_environ())
            assert b'"cast"' in body, body
        environs = [b.get_environ() for b in posts[BATCH:args.votes + BATCH]]

        def batches(items):
            times = []
            for start in range(0, len(items) - BATCH + 1, BATCH):
                began = time.process_time()
                for environ in items[start:start + BATCH]:
                    status, body = call(environ)
                times.append((time.process_time() - began) / BATCH * 1000)
                assert status[:3] == "200" and (b'"cast"' in body or b"<html" in body), body
            return times

        votes = batches(environs)
        page_times = batches(pages[:len(environs) // 4])
        # Python calls per vote: a count that other work on the machine does not change.
        extra = [b.get_environ() for b in posts[args.votes + BATCH:args.votes + 2 * BATCH]]
        profiler = cProfile.Profile()
        profiler.enable()
        for environ in extra:
            call(environ)
        profiler.disable()
        calls = sum(v[1] for v in pstats.Stats(profiler).stats.values()) / max(1, len(extra))
        app.extensions["awards_db"]["engine"].dispose()
        if args.rate_limits.startswith("redis"):
            from bench.load.vote import drop_counters

            drop_counters(args.rate_limits, f"bench-vote-cpu-{os.getpid()}")
        shutil.rmtree(instance, ignore_errors=True)
    print(f"votes: {len(environs):,} in {len(votes)} batches of {BATCH}; candidate pages: "
          f"{len(page_times) * BATCH:,}")
    print(f"RESULT vote {min(votes):.3f} {statistics.median(votes):.3f} page "
          f"{min(page_times):.3f} {statistics.median(page_times):.3f} calls {calls:.0f}")
    return 0


def compare(args, forwarded: list[str]) -> int:
    from bench.load.baseline import ROOT, checkout, describe, run_in
    from bench.load.harness import load_note

    print(f"baseline: {describe(args.baseline)}\ncurrent:  {describe('HEAD')}\n")
    rows = []
    with checkout(args.baseline) as base:
        trees = {"baseline": base, "current": ROOT}
        for i in range(args.rounds):
            for label in (("baseline", "current") if i % 2 == 0 else ("current", "baseline")):
                print(f"--- round {i + 1}, {label} ({time.strftime('%H:%M:%S')}; "
                      f"{load_note()})", flush=True)
                done = run_in(trees[label], [str(Path(__file__).resolve()), *forwarded])
                found = RESULT.search(done.stdout)
                if done.returncode or found is None:
                    print(f"{label} failed")
                    return 1
                rows.append((label, *map(float, found.groups())))
    print("\n| version | vote: best / median ms CPU | candidate page: best / median ms CPU "
          "| Python calls per vote |")
    print("|---|---:|---:|---:|")
    for label in ("baseline", "current"):
        mine = [r for r in rows if r[0] == label]
        best = min(r[1] for r in mine), statistics.median(r[2] for r in mine)
        page = min(r[3] for r in mine), statistics.median(r[4] for r in mine)
        print(f"| {label} | {best[0]:.2f} / {best[1]:.2f} | {page[0]:.2f} / {page[1]:.2f} | "
              f"{statistics.median(r[5] for r in mine):,.0f} |")
    return 0


def main() -> int:
    from bench.load.harness import DEFAULT_SERVER

    parser = argparse.ArgumentParser(prog="python -m bench.load.vote_cpu",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_SERVER)
    parser.add_argument("--votes", type=int, default=3000, help="votes measured")
    parser.add_argument("--rate-limits", default="redis://127.0.0.1:6379/0",
                        help="the limits' storage (AWARDS_RATELIMIT_STORAGE_URI), or off")
    parser.add_argument("--baseline", metavar="GIT_REF",
                        help="also measure this earlier version, alternating with the current")
    parser.add_argument("--rounds", type=int, default=2, help="with --baseline: runs of each")
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
        return compare(args, forwarded)
    return measure(args)


if __name__ == "__main__":
    sys.exit(main())
