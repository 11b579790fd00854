"""gunicorn settings for the site behind nginx (``deploy/nginx/``):

    gunicorn -c deploy/gunicorn.conf.py app:app

Anything here can be overridden on the command line (``--workers 8``) or in
``GUNICORN_CMD_ARGS``. With ``PROMETHEUS_MULTIPROC_DIR`` set (see the README's metrics
section), the workers' metric files there are removed at each start, and a worker that exits
is marked dead so that its gauges stop counting; its counters stay in the totals."""

from __future__ import annotations

import os
from pathlib import Path

# nginx reaches gunicorn on loopback; AWARDS_PROXY_COUNT=1 tells the site to trust one proxy.
# For Prometheus on another host, bind the internal address too: AWARDS_BIND=10.0.0.5:8000.
bind = os.environ.get("AWARDS_BIND", "127.0.0.1:8000")
# Sync workers, about two per core: a page is CPU work in Python and a short database query;
# nginx buffers slow clients, so a sync worker is never held by one.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "sync"
# Exports and the ranking of a large call take seconds; nothing should take two minutes.
timeout = 120
graceful_timeout = 30
backlog = 2048


def _metrics_folder() -> Path | None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(folder) if folder else None


def on_starting(server) -> None:
    """Counts start from zero with the server: the files of the last run's workers go."""
    folder = _metrics_folder()
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob("*.db"):
        leftover.unlink()


def child_exit(server, worker) -> None:
    if _metrics_folder() is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
