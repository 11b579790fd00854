"""What the Prometheus metrics cost a request: the same app with and without
``METRICS_TOKEN``, side by side in one run, called in-process as gunicorn calls it (WSGI), on a
SQLite database; once with the values in memory (one process) and once in files
(``PROMETHEUS_MULTIPROC_DIR``, as with several gunicorn workers).

    .venv/bin/python bench/metrics_bench.py [--requests 3000]"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHS = ("/__bare", "/healthz", "/calls/")


def measure(requests: int, rounds: int) -> dict[tuple[str, bool], float]:
    sys.path.insert(0, str(ROOT))
    from flask import Flask

    from awards import create_app
    from awards.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="awards-metrics-bench-"))
    url = f"sqlite:///{folder / 'awards.db'}"
    upgrade(url)
    apps = {}
    for on in (False, True):
        app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": url,
                          "INSTANCE_PATH": str(folder / f"instance-{on}"),
                          "RATELIMIT_ENABLED": False, "CACHE_URL": "null://",
                          "METRICS_TOKEN": "bench" if on else ""})
        bare = Flask("bare")
        bare.add_url_rule("/__bare", "bare", lambda: "ok")
        if on:
            from awards.metrics import Metrics, _Middleware

            # The bare endpoint with the middleware alone: its own cost, nothing else.
            bare.wsgi_app = _Middleware(bare.wsgi_app, Metrics())
        apps[on] = (app, bare)

    def environ(path: str) -> dict:
        return {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
                "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
                "HTTP_HOST": "127.0.0.1:8000", "HTTP_ACCEPT_LANGUAGE": "en",
                "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
                "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False}

    def start_response(status, headers, exc_info=None):
        return None

    def run(target, path: str, n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            body = target(environ(path), start_response)
            b"".join(body)
            getattr(body, "close", lambda: None)()
        return (time.perf_counter() - started) / n

    samples: dict[tuple[str, bool], list[float]] = {}
    for path in PATHS:
        for on in (False, True):
            app, bare = apps[on]
            run(bare if path == "/__bare" else app, path, 50)  # warm up
    for _ in range(rounds):
        for path in PATHS:
            for on in (False, True):  # side by side, alternating
                app, bare = apps[on]
                target = bare if path == "/__bare" else app
                samples.setdefault((path, on), []).append(run(target, path, requests // rounds))
    return {key: statistics.median(values) for key, values in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="per path and setting")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--child", choices=("memory", "files"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        for (path, on), seconds in measure(args.requests, args.rounds).items():
            print(f"{path}\t{int(on)}\t{seconds:.9f}")
        return 0
    results = {}
    for mode in ("memory", "files"):
        env = dict(os.environ)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if mode == "files":
            env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="awards-prom-")
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--requests",
                              str(args.requests), "--rounds", str(args.rounds)],
                             env=env, capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            path, on, seconds = line.split("\t")
            results[(mode, path, on == "1")] = float(seconds)
    load = os.getloadavg()
    print(f"median of {args.rounds} rounds, {args.requests} requests per path and setting; "
          f"load average {load[0]:.1f} on {os.cpu_count()} CPUs\n")
    print("| request | values kept | metrics off µs | metrics on µs | added µs | on ÷ off |")
    print("|---|---|---:|---:|---:|---:|")
    for mode in ("memory", "files"):
        for path in PATHS:
            off, on = results[(mode, path, False)], results[(mode, path, True)]
            label = "bare Flask app + middleware" if path == "/__bare" else path
            print(f"| {label} | {'in memory' if mode == 'memory' else 'in files (gunicorn)'} | "
                  f"{off * 1e6:,.0f} | {on * 1e6:,.0f} | {(on - off) * 1e6:,.1f} | "
                  f"{on / off:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
