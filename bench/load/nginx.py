"""Real nginx in front of the benchmark's gunicorn, with the documented configuration
(``deploy/nginx/``): the site's server block as it is, and the http level (micro-cache, rate
limits, upstream) with only the upstream address and the cache folder changed. It runs under
a prefix of its own in a temporary folder, on a free loopback port, without root, and is
stopped (and the folder removed) on the way out."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.load.harness import ROOT, free_port

DEPLOY = ROOT / "deploy" / "nginx"
UPSTREAM = "server 127.0.0.1:8000;"
CACHE_FOLDER = "/var/cache/nginx/awards"


def binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)


def without_server_blocks(text: str) -> str:
    """The http-level part of ``awards.conf``: everything but its ``server { … }`` blocks
    (the bench listens on plain HTTP on loopback; the site's own block is included instead)."""
    out, depth, skipping, i = [], 0, False, 0
    pattern = re.compile(r"^\s*server\s*\{", re.M)
    while i < len(text):
        if not skipping:
            match = pattern.search(text, i)
            if match is None:
                out.append(text[i:])
                break
            out.append(text[i:match.start()])
            skipping, depth, i = True, 1, match.end()
            continue
        char = text[i]
        if char == "#":
            i = text.find("\n", i) + 1 or len(text)
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        i += 1
        if depth == 0:
            skipping = False
    return "".join(out)


def http_level(upstream_port: int, cache: Path) -> str:
    text = (DEPLOY / "awards.conf").read_text()
    for old in (UPSTREAM, CACHE_FOLDER):
        if text.count(old) != 1:
            raise RuntimeError(f"deploy/nginx/awards.conf no longer has {old!r} once: "
                               "update bench/load/nginx.py with it")
    text = text.replace(UPSTREAM, f"server 127.0.0.1:{upstream_port};")
    text = text.replace(CACHE_FOLDER, str(cache))
    return without_server_blocks(text)


@dataclass
class Nginx:
    host: str
    port: int
    prefix: Path
    process: subprocess.Popen

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    def cache_statuses(self) -> Counter:
        """How the micro-cache answered since the last call (HIT, MISS, EXPIRED, BYPASS, -),
        read from the access log, which is then emptied."""
        time.sleep(1.2)  # the log is buffered with flush=1s
        text = self.access_log.read_text(errors="replace")
        with open(self.access_log, "r+") as log:
            log.truncate(0)
        return Counter(line.split(" ", 1)[0] for line in text.splitlines() if line)

    def error_tail(self, lines: int = 20) -> str:
        path = self.prefix / "error.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def config(prefix: Path, port: int, upstream_port: int) -> str:
    # As root, nginx would hand its workers to "nobody", who cannot use this private folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(f"    {kind}_temp_path {prefix / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""# Written by bench/load/nginx.py for one benchmark run.
{user}worker_processes 1;
daemon off;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{
    worker_connections 4096;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format cache '$upstream_cache_status $status $request_time';
    access_log {prefix / "access.log"} cache buffer=256k flush=1s;
{temp}
    include {prefix / "awards-http.conf"};
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        server_name bench;
        include {prefix / "awards-site.conf"};
    }}
}}
"""


@contextlib.contextmanager
def nginx(upstream_port: int) -> Iterator[Nginx]:
    executable = binary()
    if executable is None:
        raise RuntimeError("nginx is not installed (Debian: apt-get install nginx-light)")
    prefix = Path(tempfile.mkdtemp(prefix="awards-nginx-"))
    port = free_port()
    (prefix / "awards-http.conf").write_text(http_level(upstream_port, prefix / "cache"))
    shutil.copy(DEPLOY / "awards-site.conf", prefix / "awards-site.conf")
    (prefix / "nginx.conf").write_text(config(prefix, port, upstream_port))
    command = [executable, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
               "-e", str(prefix / "error.log")]
    checked = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True)
    if checked.returncode != 0:
        raise RuntimeError("nginx -t refused the configuration:\n" + checked.stderr)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Nginx("127.0.0.1", port, prefix, process)
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise RuntimeError("nginx exited:\n" + server.error_tail())
            try:
                conn = http.client.HTTPConnection(server.host, port, timeout=5)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not answer:\n" + server.error_tail()) from None
                time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGQUIT)  # graceful: finish the requests in flight
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(prefix, ignore_errors=True)
