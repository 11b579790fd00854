"""Load benchmarks: the real site under gunicorn on PostgreSQL, driven over loopback by client
processes (stdlib threads and http.client).

    .venv/bin/python -m bench.load.public     # public pages with wrk, results day, via nginx
    .venv/bin/python -m bench.load            # reads, submissions, scores + the bare ceiling
    .venv/bin/python -m bench.load.vote       # 50,000 public votes

See ``bench/RESULTS.md`` for the figures and ``--help`` for the knobs."""
