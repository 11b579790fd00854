"""Public pages at national scale: anonymous reads and results day, through gunicorn alone and
through the documented nginx configuration.

    .venv/bin/python -m bench.load.public [--connections 64] [--duration 10] ...

1. Creates ``awards_bench_<pid>`` on the PostgreSQL server and seeds it (``seed.py``): an open
   call of 5,000 entries, last year's call with 5,000 entries and published results, and two
   calls whose winners are decided but not published (one results day each).
2. Starts gunicorn (4 sync workers, production settings, the page cache in Redis when Redis
   answers on 127.0.0.1:6379) and reads each public page with wrk (64 connections, anonymous),
   with the bare endpoint of ``bench/load/wsgi.py`` before and after as the ceiling.
3. Results day: the results of a decided call are scheduled for a whole second a few seconds
   ahead (through the results service, as the administrator's button does), while 64
   connections keep reading the call's results page, the home page and the results archive.
   Every answer is checked by the client: none before the instant shows the winners, every one
   asked after it does; and the throughput per second is compared with the steady state.
4. Starts nginx in front of the same gunicorn (``bench/load/nginx.py``, the configuration of
   ``deploy/nginx/``) and does 2 and 3 again through it.

Exits 1 if a page answers an error, or the embargo is broken either way."""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bench.load import nginx as nginx_harness
from bench.load import wrk
from bench.load.client import Browser
from bench.load.harness import DEFAULT_SERVER, gunicorn, load_note, throwaway_database

REDIS_DEFAULT = "redis://127.0.0.1:6379/14"
# (path, label) of the pages read; filled with the seeded slugs.
PAGES = [("/", "/"), ("/calls/", "/calls/"), ("/calls/{open}", "/calls/<open call, 5,000>"),
         ("/calls/{published}", "/calls/<published call, 5,000>"),
         ("/results/{published}", "/results/<published call>"), ("/results/", "/results/")]
WINNERS_MARK = 'class="winner-name"'
# The Flask endpoint of each page, for the check against the site's own metrics.
ENDPOINTS = {"/": "main.index", "/calls/": "calls.index", "/calls/{open}": "calls.show",
             "/calls/{published}": "calls.show", "/results/{published}": "results.show",
             "/results/": "results.archive"}
METRICS_TOKEN = "bench-metrics-token"


# ---- the site ---------------------------------------------------------------------------------


@dataclass
class Site:
    url: str
    slugs: dict[str, str]
    admin_id: int
    # results-day call slug -> winners' nomination ids
    days: dict[str, list[int]] = field(default_factory=dict)


def seed_site(url: str, entries: int) -> Site:
    from awards.enums import CallStatus
    from awards.migrate import upgrade
    from awards.ranking.models import Decision
    from bench.load import seed

    upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session:
        world = seed.build(session, entries=entries, jurors=3, applicants=0,
                           published_entries=entries)
        from awards.calls.models import Programme

        programme = session.get(Programme, world.programme_id)
        days = {}
        for n, slug in enumerate(("voy-day-one", "voy-day-two")):
            call = seed.decided_call(session, programme, world.admin_id, world.crowd,
                                     seed.utcnow(), slug=slug, year=2020 + n, entries=entries,
                                     status=CallStatus.DELIBERATION)
            days[slug] = list(session.scalars(select(Decision.nomination_id)
                                              .where(Decision.call_id == call.id)))
        session.commit()
    engine.dispose()
    return Site(url, {"open": world.open_slug, "published": "voy-2024"}, world.admin_id, days)


def site_app(url: str, settings: dict[str, str], secret_key: str):
    """The site in this process, configured as the served one (same database, same cache), so
    that what the services do here is seen there (a publication bumps the cache's version)."""
    from awards import create_app

    config = {"ENV": "production", "SECRET_KEY": secret_key, "DATABASE_URL": url,
              "INSTANCE_PATH": tempfile.mkdtemp(prefix="awards-bench-app-"),
              "RATELIMIT_ENABLED": False}
    config.update({k.removeprefix("AWARDS_"): v for k, v in settings.items()})
    return create_app(config)


def publish_later(app, slug: str, admin_id: int) -> int:
    """Publish the call's results for an hour ahead as the administrator's button does
    (certificates, the outcome e-mails held until then); the publication's id."""
    from awards.auth.models import User
    from awards.calls.models import Call
    from awards.db import get_db, utcnow
    from awards.results import services

    with app.app_context():
        db = get_db()
        call = db.scalar(select(Call).where(Call.slug == slug))
        publication = services.publish(session=db, actor=db.get(User, admin_id), call=call,
                                       scheduled_for=utcnow() + timedelta(hours=1), token=None)
        db.commit()
        return publication.id


def move_to(app, publication_id: int, admin_id: int, instant: datetime) -> None:
    """Move the scheduled version to ``instant`` (the reschedule form's service)."""
    from awards.auth.models import User
    from awards.db import get_db
    from awards.results import services
    from awards.results.models import Publication

    with app.app_context():
        db = get_db()
        services.reschedule(session=db, actor=db.get(User, admin_id),
                            publication=db.get(Publication, publication_id),
                            scheduled_for=instant, token=None)
        db.commit()


# ---- reads with wrk ---------------------------------------------------------------------------


def read_pages(host: str, port: int, pages: list[tuple[str, str]], *, connections: int,
               duration: float, proxy: nginx_harness.Nginx | None = None) -> list:
    """The bare endpoint, each page, the bare endpoint again; each warmed by one request."""
    base = f"http://{host}:{port}"
    rows = []
    plan = [("/__bare", "bare"), *pages, ("/__bare", "bare, again")]
    for path, label in plan:
        warm = Browser(host, port)
        warm.get(path)
        warm.close()
        if proxy is not None:
            proxy.cache_statuses()  # forget the warm-up
        print(f"    {label} ...", flush=True)
        result = wrk.run(label, base + path, connections=connections, duration=duration)
        result.cache = proxy.cache_statuses() if proxy is not None else None
        rows.append(result)
    return rows


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def reads_table(rows: list, ceiling: float, beside: dict[str, float] | None = None) -> str:
    head = "| page | requests | errors | req/s | p50 ms | p99 ms | req/s ÷ bare |"
    line = "|---|---:|---:|---:|---:|---:|---:|"
    if beside is not None:
        head += " ÷ gunicorn alone | micro-cache hits |"
        line += "---:|---:|"
    out = [head, line]
    for r in rows:
        text = (f"| {r.label} | {r.requests:,} | {r.errors} | {r.rate:,.0f} | {ms(r.p50)} | "
                f"{ms(r.p99)} | {r.rate / ceiling:.2f} |")
        if beside is not None:
            alone = beside.get(r.label)
            total = sum(r.cache.values()) if r.cache else 0
            hits = f"{r.cache.get('HIT', 0) / total:.1%}" if total else "—"
            text += f" {r.rate / alone:.2f} |" if alone else " — |"
            text += f" {hits} |"
        out.append(text)
    return "\n".join(out)


def scrape(host: str, port: int) -> dict[tuple[str, frozenset], float]:
    """The site's /metrics (all workers together), as {(sample, labels): value}."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    request = urllib.request.Request(f"http://{host}:{port}/metrics",
                                     headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def metrics_table(rows: list, pages: list[tuple[str, str, str]], before: dict,
                  after: dict, connections: int) -> tuple[str, list[str]]:
    """What the site counted (its Prometheus metrics, summed over the workers) beside what wrk
    was answered: each page's requests, and the page cache's hits and misses."""
    def count(samples, endpoint):
        return sum(v for (name, labels), v in samples.items()
                   if name == "awards_request_duration_seconds_count"
                   and dict(labels).get("endpoint") == endpoint
                   and dict(labels).get("status") == "200")

    answered: dict[str, int] = {}
    for r, (_path, _label, endpoint) in zip(rows[1:-1], pages, strict=True):
        answered[endpoint] = answered.get(endpoint, 0) + r.requests + 1  # + its warm-up
    out = ["| endpoint | requests counted by the site | answered to wrk (+ warm-up) | "
           "difference |", "|---|---:|---:|---:|"]
    problems = []
    for endpoint, n in answered.items():
        counted = int(count(after, endpoint) - count(before, endpoint))
        out.append(f"| `{endpoint}` | {counted:,} | {n:,} | {counted - n:+,} |")
        # wrk stops counting with up to one request per connection still in flight.
        runs = sum(1 for _p, _l, e in pages if e == endpoint)
        if not n <= counted <= n + connections * runs:
            problems.append(f"metrics: {endpoint} counted {counted:,}, answered {n:,}")
    hits = sum(v for (name, _l), v in after.items() if name == "awards_cache_hits_total")
    misses = sum(v for (name, _l), v in after.items() if name == "awards_cache_misses_total")
    hits -= sum(v for (name, _l), v in before.items() if name == "awards_cache_hits_total")
    misses -= sum(v for (name, _l), v in before.items() if name == "awards_cache_misses_total")
    if hits + misses:
        out.append(f"\npage cache: {hits:,.0f} hits, {misses:,.0f} misses "
                   f"({hits / (hits + misses):.2%} hits)")
    return "\n".join(out), problems


# ---- results day ------------------------------------------------------------------------------


def _day_thread(host, port, paths, marks, offset, start_at, stop_at, out) -> None:
    browser = Browser(host, port, timeout=30)
    i = offset
    while time.time() < start_at:
        time.sleep(0.001)
    while (sent := time.time()) < stop_at:
        which = i % len(paths)
        i += 1
        browser.cookies.clear()  # anonymous visitors, as wrk's
        try:
            response = browser.get(paths[which])
        except OSError:
            browser.close()
            out.append((sent, time.time(), which, -1, False))
            continue
        mark = marks[which]
        out.append((sent, time.time(), which, response.status,
                    bool(mark) and mark in response.body))
    browser.close()


def _day_process(host, port, paths, marks, threads, first, start_at, stop_at, queue) -> None:
    out: list = []
    workers = [threading.Thread(target=_day_thread,
                                args=(host, port, paths, marks, first + t, start_at, stop_at,
                                      out)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    queue.put(out)


@dataclass
class Day:
    label: str
    instant: float
    answers: list
    paths: list[str]
    lead: float
    scheduling_seconds: float
    problems: list[str] = field(default_factory=list)

    def per_second(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for _sent, received, _w, _status, _shows in self.answers:
            second = math.floor(received - self.instant)
            counts[second] = counts.get(second, 0) + 1
        return counts


def results_day(label: str, host: str, port: int, app, site: Site, slug: str, *,
                connections: int, processes: int, lead: float, after: float) -> Day:
    paths = [f"/results/{slug}", "/", "/results/"]
    marks = [WINNERS_MARK, "", f'href="/results/{slug}"']
    # A whole second, as the administrator's form gives (minutes), far enough ahead for the
    # scheduling and the client processes to start.
    spawn = 2.0 + 0.3 * processes
    started = time.perf_counter()
    publication_id = publish_later(app, slug, site.admin_id)
    instant = math.ceil(time.time() + 3 + spawn + lead)
    move_to(app, publication_id, site.admin_id, datetime.fromtimestamp(instant, UTC))
    took = time.perf_counter() - started
    start_at, stop_at = instant - lead, instant + after
    if time.time() + spawn > start_at:
        raise RuntimeError("moving the publication took too long: no time left before the "
                           "load starts")
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    share = [connections // processes + (1 if p < connections % processes else 0)
             for p in range(processes)]
    procs = [ctx.Process(target=_day_process,
                         args=(host, port, paths, marks, n, sum(share[:p]), start_at, stop_at,
                               queue)) for p, n in enumerate(share) if n]
    for p in procs:
        p.start()
    answers = [a for _ in procs for a in queue.get()]
    for p in procs:
        p.join()
    day = Day(label, instant, answers, paths, lead, took)
    check_day(day)
    return day


def check_day(day: Day) -> None:
    expected = {0: {200, 404}, 1: {200}, 2: {200}}
    errors = [a for a in day.answers if a[3] not in expected[a[2]]]
    early = [a for a in day.answers if a[1] < day.instant and (a[4] or (a[2] == 0 and a[3] == 200))]
    late = [a for a in day.answers
            if a[0] >= day.instant and a[2] in (0, 2) and not a[4]]
    if errors:
        sample = ", ".join(f"{day.paths[w]} {s}" for _t0, _t1, w, s, _m in errors[:5])
        day.problems.append(f"{day.label}: {len(errors)} errors ({sample})")
    if early:
        day.problems.append(f"{day.label}: {len(early)} answers showed the winners before "
                            f"the instant")
    if late:
        day.problems.append(f"{day.label}: {len(late)} answers asked after the instant did "
                            f"not show the winners")
    steady, worst, _ = day_rates(day)
    if steady and worst < 0.8 * steady:
        day.problems.append(f"{day.label}: throughput fell to {worst / steady:.0%} of the "
                            f"steady state around the instant (goal: within 20%)")


def day_rates(day: Day) -> tuple[float, float, list[tuple[int, int]]]:
    """(steady req/s before the instant, the lowest second from 2 s before to 5 s after it,
    the seconds around the instant)."""
    counts = day.per_second()
    before = [counts.get(s, 0) for s in range(-int(day.lead) + 2, -2)]
    steady = statistics.median(before) if before else 0.0
    around = [(s, counts.get(s, 0)) for s in range(-3, 6)]
    worst = min(n for s, n in around if -2 <= s <= 5)
    return steady, worst, around


def steady_noise(day: Day) -> float:
    """The lowest second of the steady state itself, as a share of its median: how far a
    second falls with nothing happening (on a shared machine, often below 0.8)."""
    counts = day.per_second()
    before = [counts.get(s, 0) for s in range(-int(day.lead) + 2, -2)]
    steady = statistics.median(before) if before else 0.0
    return min(before) / steady if steady else 0.0


def day_table(days: list[Day]) -> str:
    out = ["| through | answers | errors | shown early | not shown when due | answers across "
           "the instant | steady req/s | lowest second, −2 s…+5 s | ÷ steady | lowest steady "
           "second ÷ steady |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for day in days:
        steady, worst, _ = day_rates(day)
        expected = {0: {200, 404}, 1: {200}, 2: {200}}
        errors = sum(1 for a in day.answers if a[3] not in expected[a[2]])
        early = sum(1 for a in day.answers
                    if a[1] < day.instant and (a[4] or (a[2] == 0 and a[3] == 200)))
        late = sum(1 for a in day.answers if a[0] >= day.instant and a[2] in (0, 2) and not a[4])
        straddle = sum(1 for a in day.answers if a[0] < day.instant <= a[1])
        out.append(f"| {day.label} | {len(day.answers):,} | {errors} | {early} | {late} | "
                   f"{straddle} | {steady:,.0f} | {worst:,} | {worst / steady:.2f} | "
                   f"{steady_noise(day):.2f} |"
                   if steady else f"| {day.label} | {len(day.answers):,} | {errors} | {early} | "
                   f"{late} | {straddle} | — | — | — | — |")
    return "\n".join(out)


def seconds_table(days: list[Day]) -> str:
    seconds = range(-3, 6)
    out = ["| through | " + " | ".join(f"{s:+d} s" for s in seconds) + " |",
           "|---|" + "---:|" * len(seconds)]
    for day in days:
        counts = day.per_second()
        out.append(f"| {day.label} | " + " | ".join(f"{counts.get(s, 0):,}" for s in seconds)
                   + " |")
    return "\n".join(out)


# ---- the run ----------------------------------------------------------------------------------


def redis_answers(url: str) -> bool:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


def drop_cache_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start:start + 1000])


def front_side_by_side(args, settings: dict[str, str], cache_url: str) -> int:
    """The reads through gunicorn alone with the page cache's front off, then on (each its own
    gunicorn on the same database and cache), ``--rounds`` times; ratios to each run's own
    bare endpoint."""
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, gunicorn "
          f"{args.workers} sync workers, wrk 1 thread x {args.connections} connections, "
          f"{args.duration:g} s per page, page cache: {cache_url}; front off then on; "
          f"{load_note()}")
    problems: list[str] = []
    tables: list[str] = []
    with throwaway_database(args.database_url) as url:
        started = time.perf_counter()
        site = seed_site(url, args.entries)
        print(f"migrated and seeded in {time.perf_counter() - started:.1f} s")
        pages = [(path.format(**site.slugs), label) for path, label in PAGES]
        endpoints = [(p, label, ENDPOINTS[path]) for (p, label), (path, _l)
                     in zip(pages, PAGES, strict=True)]
        for round_ in range(1, args.rounds + 1):
            for front in ("off", "on"):
                folder = settings["PROMETHEUS_MULTIPROC_DIR"]
                shutil.rmtree(folder, ignore_errors=True)
                os.makedirs(folder)
                with gunicorn(url, workers=args.workers,
                              settings={**settings, "AWARDS_CACHE_FRONT": front}) as server:
                    note = load_note()
                    print(f"  round {round_}, front {front} ({note}):", flush=True)
                    before = scrape(server.host, server.port)
                    rows = read_pages(server.host, server.port, pages,
                                      connections=args.connections, duration=args.duration)
                    ceiling = statistics.mean(r.rate for r in (rows[0], rows[-1]))
                    counted, found = metrics_table(rows, endpoints, before,
                                                   scrape(server.host, server.port),
                                                   args.connections)
                    problems += found
                    problems += [f"{r.label}: {r.errors} errors" for r in rows if r.errors]
                    table = (f"\n### Round {round_}, front {front} (start: {note}; end: "
                             f"{load_note()})\n\n{reads_table(rows, ceiling)}\n\n{counted}")
                    print(table, flush=True)
                    tables.append(table)
    print("\n".join(tables))
    if problems:
        print("\nFAILED checks:\n  " + "\n  ".join(problems))
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load.public",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_SERVER,
                        help="PostgreSQL server (a throw-away database is created on it)")
    parser.add_argument("--entries", type=int, default=5000, help="entries per call")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=10, help="seconds per page")
    parser.add_argument("--client-processes", type=int, default=2,
                        help="processes of the results-day client (wrk uses one thread)")
    parser.add_argument("--lead", type=float, default=15,
                        help="results day: seconds of load before the instant")
    parser.add_argument("--after", type=float, default=15,
                        help="results day: seconds of load after the instant")
    parser.add_argument("--cache-url", default=None,
                        help=f"page cache (default {REDIS_DEFAULT} if Redis answers; "
                             "'none' for no cache)")
    parser.add_argument("--no-nginx", action="store_true", help="gunicorn alone")
    parser.add_argument("--results-day-only", action="store_true",
                        help="skip the reads (wrk): only the two results days")
    parser.add_argument("--front", choices=("on", "off", "both"), default="on",
                        help="the page cache's front (awards/cache_front.py): cached pages "
                             "answered before Flask (on), by Flask (off), or both side by side "
                             "(both: the reads only, gunicorn alone, one gunicorn each, "
                             "alternating off/on --rounds times)")
    parser.add_argument("--rounds", type=int, default=1, help="with --front both")
    args = parser.parse_args()

    if wrk.binary() is None:
        print("ERROR: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    use_nginx = not args.no_nginx
    if use_nginx and nginx_harness.binary() is None:
        print("ERROR: nginx is not installed (Debian: apt-get install nginx-light); "
              "or run with --no-nginx", file=sys.stderr)
        return 2
    cache_url = args.cache_url
    if cache_url is None:
        cache_url = REDIS_DEFAULT if redis_answers(REDIS_DEFAULT) else "none"
    prefix = f"awards-bench-{os.getpid()}:"
    metrics_folder = tempfile.mkdtemp(prefix="awards-bench-metrics-")
    # As in production: the metrics on, counted across the workers (deploy/gunicorn.conf.py).
    settings = {"AWARDS_CACHE_URL": "null://" if cache_url == "none" else cache_url,
                "AWARDS_CACHE_KEY_PREFIX": prefix, "AWARDS_METRICS_TOKEN": METRICS_TOKEN,
                "PROMETHEUS_MULTIPROC_DIR": metrics_folder,
                "AWARDS_CACHE_FRONT": "false" if args.front == "off" else "true"}
    if args.front == "both":
        try:
            return front_side_by_side(args, settings, cache_url)
        finally:
            if cache_url != "none":
                drop_cache_keys(cache_url, prefix)
            shutil.rmtree(metrics_folder, ignore_errors=True)

    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, gunicorn "
          f"{args.workers} sync workers, wrk 1 thread x {args.connections} connections, "
          f"{args.duration:g} s per page, page cache: {cache_url}; {load_note()}")
    problems: list[str] = []
    days: list[Day] = []
    try:
        with throwaway_database(args.database_url) as url:
            started = time.perf_counter()
            site = seed_site(url, args.entries)
            print(f"migrated and seeded in {time.perf_counter() - started:.1f} s")
            pages = [(path.format(**site.slugs), label) for path, label in PAGES]
            endpoints = [(p, label, ENDPOINTS[path]) for (p, label), (path, _l)
                         in zip(pages, PAGES, strict=True)]
            slugs = iter(site.days)
            with gunicorn(url, workers=args.workers, settings=settings) as server:
                app = site_app(url, settings, server.secret_key)
                print("  gunicorn alone:", flush=True)
                alone, proxied, counted = [], [], ""
                if not args.results_day_only:
                    before = scrape(server.host, server.port)
                    alone = read_pages(server.host, server.port, pages,
                                       connections=args.connections, duration=args.duration)
                    ceiling = statistics.mean(r.rate for r in (alone[0], alone[-1]))
                    print(reads_table(alone, ceiling), flush=True)
                    counted, found = metrics_table(alone, endpoints, before,
                                                   scrape(server.host, server.port),
                                                   args.connections)
                    problems += found
                print("  results day, gunicorn alone ...", flush=True)
                days.append(results_day("gunicorn alone", server.host, server.port, app, site,
                                        next(slugs), connections=args.connections,
                                        processes=args.client_processes, lead=args.lead,
                                        after=args.after))
                if use_nginx:
                    with nginx_harness.nginx(server.port) as proxy:
                        print("  through nginx:", flush=True)
                        if not args.results_day_only:
                            proxied = read_pages(proxy.host, proxy.port, pages,
                                                 connections=args.connections,
                                                 duration=args.duration, proxy=proxy)
                            print(reads_table(proxied, ceiling,
                                              {r.label: r.rate for r in alone}), flush=True)
                        print("  results day, through nginx ...", flush=True)
                        days.append(results_day("nginx + gunicorn", proxy.host, proxy.port,
                                                app, site, next(slugs),
                                                connections=args.connections,
                                                processes=args.client_processes,
                                                lead=args.lead, after=args.after))
                        nginx_errors = proxy.error_tail()
                app.extensions["awards_db"]["engine"].dispose()
                server_log = server.log_tail(10)
    finally:
        if cache_url != "none":
            drop_cache_keys(cache_url, prefix)
        shutil.rmtree(metrics_folder, ignore_errors=True)

    if alone:
        print(f"\n### Anonymous reads, gunicorn alone ({args.connections} connections)\n")
        print(reads_table(alone, ceiling))
        for r in alone[1:-1]:
            if r.rate < 0.5 * ceiling or r.p99 >= 0.1:
                print(f"  below the goal (≥ 0.5 of bare, p99 < 100 ms): {r.label}")
    if counted:
        print("\n### What the site's metrics counted (/metrics, 4 workers together)\n")
        print(counted)
    if proxied:
        print(f"\n### The same through nginx ({args.connections} connections; ratios to "
              "gunicorn alone's bare endpoint)\n")
        print(reads_table(proxied, ceiling, {r.label: r.rate for r in alone}))
    print("\n### Results day\n")
    for day in days:
        print(f"{day.label}: results at {datetime.fromtimestamp(day.instant, UTC):%H:%M:%S} "
              f"UTC, published (for later, then moved to the instant) through the service in "
              f"{day.scheduling_seconds:.1f} s")
    print()
    print(day_table(days))
    print("\nAnswers per second around the instant:\n")
    print(seconds_table(days))
    print(f"\nat the end: {load_note()}")

    for r in alone + proxied:
        if r.errors:
            problems.append(f"{r.label}: {r.errors} errors ({r.non_2xx_3xx} not 2xx/3xx, "
                            f"{r.socket_errors} socket)")
    for day in days:
        problems += day.problems
    if problems:
        print("\nFAILED checks:\n  " + "\n  ".join(problems))
        if server_log:
            print("gunicorn log (tail):\n" + server_log)
        if use_nginx and nginx_errors:
            print("nginx error log (tail):\n" + nginx_errors)
        return 1
    print("\nchecks: no errors; no answer showed the winners before the instant, every answer "
          "asked after it did; throughput within 20% of the steady state across the instant")
    return 0


if __name__ == "__main__":
    sys.exit(main())
