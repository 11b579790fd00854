"""The server side of the load benchmarks: a throw-away PostgreSQL database and gunicorn.

The site runs exactly as deployed (``AWARDS_ENV=production``, settings from ``AWARDS_*``),
except that the rate limits are switched off with ``AWARDS_RATELIMIT_ENABLED=false``: every
simulated person comes from 127.0.0.1, and the per-address login limit (10 a minute) would
otherwise turn the benchmark into a test of the limiter."""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# The throw-away database of a run, as every benchmark makes it.
from bench.common import DEFAULT_SERVER as DEFAULT_SERVER
from bench.common import throwaway_database as throwaway_database

ROOT = Path(__file__).resolve().parent.parent.parent


def load_note() -> str:
    """The machine's load average: on a shared machine, other work changes the figures, and
    this says how much of it there was."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} CPUs"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    host: str
    port: int
    workers: int
    worker_class: str
    process: subprocess.Popen
    log_path: Path
    # The site's secret key, for benchmarks that sign a session as the site would.
    secret_key: str

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def site_environment(database_url: str, instance: Path, port: int,
                     secret_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWARDS_")}
    env.update({
        "AWARDS_ENV": "production",
        "AWARDS_SECRET_KEY": secret_key,
        "AWARDS_DATABASE_URL": database_url,
        "AWARDS_INSTANCE_PATH": str(instance),
        "AWARDS_UPLOAD_FOLDER": str(instance / "uploads"),
        "AWARDS_BASE_URL": f"http://127.0.0.1:{port}",
        "AWARDS_RATELIMIT_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
    })
    return env


@contextlib.contextmanager
def gunicorn(database_url: str, *, workers: int, worker_class: str = "sync",
             threads: int = 1, settings: dict[str, str] | None = None) -> Iterator[Server]:
    """gunicorn serving the site (plus the bare endpoint of ``bench.load.wsgi``) on a free
    loopback port; stopped, and its temporary instance folder removed, on the way out.
    ``settings`` are further ``AWARDS_*`` variables."""
    instance = Path(tempfile.mkdtemp(prefix="awards-load-"))
    port = free_port()
    log_path = instance / "gunicorn.log"
    command = [
        str(Path(sys.executable).with_name("gunicorn")), "bench.load.wsgi:app",
        "--chdir", str(ROOT), "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--worker-class", worker_class, "--threads", str(threads),
        "--backlog", "2048", "--timeout", "120", "--graceful-timeout", "5",
        "--error-logfile", str(log_path), "--log-level", "warning",
    ]
    secret_key = secrets.token_hex(32)
    env = site_environment(database_url, instance, port, secret_key)
    env.update(settings or {})
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=ROOT)
    server = Server("127.0.0.1", port, workers, worker_class, process, log_path, secret_key)
    try:
        wait_healthy(server)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(instance, ignore_errors=True)


def wait_healthy(server: Server, timeout: float = 60) -> None:
    """Until every worker could answer: /healthz reaches the database through the app."""
    deadline = time.monotonic() + timeout
    healthy = 0
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.process.returncode}):\n"
                               + server.log_tail())
        try:
            conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
            conn.request("GET", "/healthz")
            status = conn.getresponse().status
            conn.close()
        except OSError:
            status = 0
        healthy = healthy + 1 if status == 200 else 0
        if healthy >= server.workers * 2:
            return
        time.sleep(0.05 if status == 200 else 0.2)
    raise RuntimeError("gunicorn did not become healthy:\n" + server.log_tail())
