#!/usr/bin/env bash
# Load benchmarks against gunicorn + PostgreSQL on loopback (results in bench/RESULTS.md).
#
#   scripts/bench-load.sh [options]          reads, submissions, scores and the bare ceiling
#   scripts/bench-vote.sh [options]          50,000 public votes
#
# Options go to the benchmark (--help lists them). Needs the virtualenv (make run or make test
# creates it) and a PostgreSQL server on 127.0.0.1:5432 with trust authentication for the
# user postgres; the benchmark creates its own database there and drops it at the end.
#
# Environment:
#   BENCH_DATABASE_URL  PostgreSQL server to use
#                       (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
set -euo pipefail

cd "$(dirname "$0")/.."

BIN=${VENV:-.venv}/bin
URL=${BENCH_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}
MODULE=${BENCH_MODULE:-bench.load}

[ -x "$BIN/python" ] || { echo "ERROR: no virtualenv at ${BIN%/bin}; run make run first" >&2; exit 1; }
if command -v pg_isready > /dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432 \
        && [ -z "${BENCH_DATABASE_URL:-}" ]; then
    echo "ERROR: PostgreSQL does not answer on 127.0.0.1:5432 (make test starts the local cluster)" >&2
    exit 1
fi
exec "$BIN/python" -m "$MODULE" --database-url "$URL" "$@"
