"""The anonymous public pages in process, with and without the page cache, beside a bare Flask
endpoint through the same WSGI client in the same run. Prints the figures; asserts nothing; not
part of the test suite.

    .venv/bin/python bench/page_cache_bench.py                    # SQLite (temp file)
    .venv/bin/python bench/page_cache_bench.py --database-url postgresql+psycopg://...  # empty DB
    .venv/bin/python bench/page_cache_bench.py --redis redis://127.0.0.1:6379/14

The demo data is loaded (``flask awards seed``); each page is requested ``--requests`` times
per configuration, the configurations taking turns in rounds so that drift hits them alike.
"no cache": ``AWARDS_CACHE_URL=null://`` (the page is built on every request, HTTP headers
included); "memory": Flask-Caching's SimpleCache (one process); "redis": the same entries in
Redis, one round trip per page (version and entry in one MGET). Each cache is measured with
hits answered by the front (``awards/cache_front.py``, before Flask) and "hits in Flask"
(``CACHE_FRONT = False``: the decorator answers them inside the application)."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask

from awards import create_app
from awards.db import get_db, utcnow
from awards.demo import seed_demo
from awards.migrate import upgrade


def _pages(app) -> list[str]:
    from sqlalchemy import select

    from awards.calls.models import Call
    from awards.results.services import visible_calls

    with app.app_context():
        db = get_db()
        call = db.scalar(select(Call.slug).order_by(Call.id))
        published = visible_calls(db, utcnow())
        pages = ["/", "/calls/", f"/calls/{call}", "/results/", "/news/"]
        if published:
            pages.append(f"/results/{published[0][0].slug}")
        return pages


def _time(client, url: str, n: int) -> float:
    """Microseconds per request."""
    started = time.perf_counter()
    for _ in range(n):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        response.close()
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis", default="")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="awards-page-cache-"))
    url = args.database_url or f"sqlite:///{folder / 'awards.db'}"
    upgrade(url)
    base = {"ENV": "testing", "INSTANCE_PATH": str(folder / "instance"), "DATABASE_URL": url,
            "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False}
    configs = {"no cache": {"CACHE_URL": "null://"},
               "memory, hits in Flask": {"CACHE_URL": "simple://", "CACHE_FRONT": False},
               "memory": {"CACHE_URL": "simple://"}}
    if args.redis:
        for name, front in (("redis, hits in Flask", False), ("redis", True)):
            configs[name] = {"CACHE_URL": args.redis, "CACHE_FRONT": front,
                             "CACHE_KEY_PREFIX": f"awards-bench-{uuid.uuid4().hex}:"}
    apps = {name: create_app({**base, **extra}) for name, extra in configs.items()}
    first = next(iter(apps.values()))
    with first.app_context():
        seed_demo(get_db())
        get_db().commit()
    pages = _pages(first)

    bare = Flask("bare")
    bare.get("/")(lambda: "ok")
    clients = {"bare": bare.test_client()}
    for name, app in apps.items():
        clients[name] = app.test_client()
        clients[name].environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
        for page in pages:  # warm: templates compiled, entries stored
            clients[name].get(page).close()

    samples: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        samples.setdefault(("bare", "/"), []).append(_time(clients["bare"], "/", args.requests))
        for page in pages:
            for name in apps:
                samples.setdefault((name, page), []).append(
                    _time(clients[name], page, args.requests))

    bare_us = statistics.median(samples[("bare", "/")])
    print(f"database: {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}; "
          f"{args.requests} requests x {args.rounds} rounds; median µs per request "
          f"(× the bare endpoint, {bare_us:.0f} µs)")
    names = list(apps)
    print(f"| page | {' | '.join(names)} |")
    print("|---|" + "---:|" * len(names))
    for page in pages:
        cells = []
        for name in names:
            us = statistics.median(samples[(name, page)])
            cells.append(f"{us:,.0f} ({us / bare_us:.1f}×)")
        print(f"| `{page}` | {' | '.join(cells)} |")
    for app in apps.values():
        app.extensions["awards_db"]["engine"].dispose()


if __name__ == "__main__":
    main()
