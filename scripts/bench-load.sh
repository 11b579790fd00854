#!/usr/bin/env bash
# Load benchmarks against gunicorn + PostgreSQL on loopback (results in bench/RESULTS.md).
#
#   scripts/bench-load.sh [all|public|site] [options]
#       public  the public pages (bench.load.public): anonymous reads with wrk at 64
#               connections beside the bare endpoint, a results day checked against its
#               embargo instant, and both again through nginx (deploy/nginx/)
#       site    reads, submissions, scores and the bare ceiling (bench.load)
#       all     both, one after the other (the default; options then go to both, so use only
#               those they share: --database-url, --entries, --workers, --duration)
#   scripts/bench-vote.sh [options]          50,000 public votes
#
# Options go to the benchmark (--help lists them). Needs the virtualenv (make run or make test
# creates it) and a PostgreSQL server on 127.0.0.1:5432 with trust authentication for the
# user postgres; the benchmark creates its own database there and drops it at the end. The
# public pages need wrk and nginx (Debian's packages; installed here with apt-get when
# missing and run as root) and use Redis on 127.0.0.1:6379 for the page cache when it answers.
#
# Environment:
#   BENCH_DATABASE_URL  PostgreSQL server to use
#                       (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
set -euo pipefail

cd "$(dirname "$0")/.."

BIN=${VENV:-.venv}/bin
URL=${BENCH_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}

die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

[ -x "$BIN/python" ] || die "no virtualenv at ${BIN%/bin}; run make run first"
if command -v pg_isready > /dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432 \
        && [ -z "${BENCH_DATABASE_URL:-}" ]; then
    die "PostgreSQL does not answer on 127.0.0.1:5432 (make test starts the local cluster)"
fi

# bench-vote.sh (and anyone naming a module) runs that module alone.
if [ -n "${BENCH_MODULE:-}" ]; then
    exec "$BIN/python" -m "$BENCH_MODULE" --database-url "$URL" "$@"
fi

suite=all
case "${1:-}" in
    all|public|site) suite=$1; shift ;;
esac

# wrk drives the reads; nginx is the proxy under test. Debian's packages, never a download.
ensure_tool() {  # command package
    command -v "$1" > /dev/null || [ -x "/usr/sbin/$1" ] && return
    if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null; then
        echo "installing Debian's $2 for the benchmark"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y --no-install-recommends "$2" > /dev/null \
            || { apt-get update > /dev/null && apt-get install -y --no-install-recommends "$2" > /dev/null; } \
            || die "could not install $2 (apt-get install $2, as root)"
    else
        die "$1 is missing: apt-get install $2 (as root)"
    fi
}

status=0
if [ "$suite" != site ]; then
    ensure_tool wrk wrk
    ensure_tool nginx nginx-light
    "$BIN/python" -m bench.load.public --database-url "$URL" "$@" || status=1
fi
if [ "$suite" != public ]; then
    "$BIN/python" -m bench.load --database-url "$URL" "$@" || status=1
fi
exit $status
