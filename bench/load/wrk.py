"""Anonymous reads driven by wrk (Debian's package): a C client that keeps N connections busy
from one thread, so that on a small machine the client takes little of the CPU the server
needs. One URL per run; its output is parsed into a ``report.Row``-like result."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass
class WrkResult:
    label: str
    requests: int
    seconds: float
    rate: float
    p50: float
    p99: float
    non_2xx_3xx: int
    socket_errors: int
    output: str
    # Through nginx: how its micro-cache answered (HIT, MISS, ...), from its access log.
    cache: dict | None = None

    @property
    def errors(self) -> int:
        return self.non_2xx_3xx + self.socket_errors


def binary() -> str | None:
    return shutil.which("wrk")


def _duration(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse(label: str, output: str) -> WrkResult:
    def find(pattern: str, default: str | None = None) -> str:
        match = re.search(pattern, output, re.M)
        if match is None:
            if default is not None:
                return default
            raise ValueError(f"wrk output without {pattern!r}:\n{output}")
        return match.group(1)

    requests = int(find(r"^\s*(\d+) requests in"))
    seconds = _duration(find(r"requests in ([\d.]+\w+),"))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    return WrkResult(
        label=label, requests=requests, seconds=seconds,
        rate=float(find(r"^Requests/sec:\s+([\d.]+)")),
        p50=_duration(find(r"^\s+50%\s+(\S+)")), p99=_duration(find(r"^\s+99%\s+(\S+)")),
        non_2xx_3xx=int(find(r"Non-2xx or 3xx responses: (\d+)", "0")),
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        output=output)


def run(label: str, url: str, *, connections: int, duration: float, threads: int = 1,
        language: str = "en", timeout: float = 10) -> WrkResult:
    """wrk against one URL; anonymous (no cookie is ever sent back), in ``language``."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--latency",
               f"--timeout={timeout:g}s", "-H", f"Accept-Language: {language}", url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}")
    return parse(label, done.stdout)
