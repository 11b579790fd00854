"""CPU seconds of the processes of one benchmark run, by kind (gunicorn, the load client,
the run's PostgreSQL backends, Redis), read from ``/proc`` while it runs: on a shared machine
the elapsed time follows the other work, the CPU each request cost much less so.

    meter = CpuMeter(root_pid)          # the benchmark's process; its descendants are its own
    meter.database = "awards_bench_1a2b3c4d"   # once known: that database's backends
    meter.start(); ...; meter.stop()
    meter.seconds    # {"gunicorn": 61.2, "client": 5.0, "postgres": 12.4, ...}

A process is read every ``every`` seconds and counted with the last value read, so one that
ends between two readings loses at most that interval (workers and clients live for the
whole run). Linux only."""

from __future__ import annotations

import os
import threading
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _read(pid: str) -> tuple[str, int, float] | None:
    """(command line, parent pid, CPU seconds of the process itself)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace")
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return command, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


class CpuMeter(threading.Thread):
    def __init__(self, root_pid: int, *, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.root = root_pid
        self.every = every
        self.database: str | None = None
        self._seen: dict[str, tuple[str, float]] = {}
        self._first: dict[str, float] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        self.read()
        while not self._halt.wait(self.every):
            self.read()

    def read(self) -> None:
        table = {pid: found for pid in os.listdir("/proc") if pid.isdigit()
                 and (found := _read(pid)) is not None}
        ours = {str(self.root)}
        grew = True
        while grew:  # descendants of the run's process
            grew = False
            for pid, (_command, parent, _cpu) in table.items():
                if pid not in ours and str(parent) in ours:
                    ours.add(pid)
                    grew = True
        for pid, (command, _parent, cpu) in table.items():
            kind = None
            if pid in ours:
                kind = ("gunicorn" if "gunicorn" in command
                        else "client" if "multiprocessing" in command else "benchmark")
            elif self.database and command.startswith("postgres: ") and (
                    f" {self.database} " in command):
                kind = "postgres"
            elif "redis-server" in command:
                kind = "redis"
            if kind is not None:
                self._seen[pid] = (kind, cpu)
                # Redis was there before the run: only what it spent since counts.
                self._first.setdefault(pid, cpu if kind == "redis" else 0.0)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    @property
    def seconds(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for pid, (kind, cpu) in self._seen.items():
            totals[kind] = totals.get(kind, 0.0) + cpu - self._first.get(pid, 0.0)
        return totals
