#!/usr/bin/env bash
# Lint (ruff), then the whole test suite, twice: on SQLite, then on PostgreSQL.
#
#   scripts/test.sh [pytest arguments...]      (usually through `make test`)
#
# Expects the virtualenv with the test extras (make test installs it). Makes sure Debian's
# Chromium is present for the browser tests, that axe-core is installed for the accessibility
# tests (npm ci, from package-lock.json) and that a PostgreSQL server answers on 127.0.0.1:5432
# (trust authentication, user postgres), starting the local cluster if needed, and Redis on
# 127.0.0.1:6379 for the rate-limit tests (started if installed but down).
# Without any PostgreSQL installed the PostgreSQL pass is skipped with a warning, except when
# CI=true, where that is a failure.
#
# Environment:
#   AWARDS_TEST_DATABASE_URL  PostgreSQL server for the second pass
#                             (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres;
#                             the tests create and drop their own databases on it)
#   AWARDS_TEST_REDIS_URL     Redis for the rate-limit tests (default redis://127.0.0.1:6379/15)
#   TEST_WORKERS              pytest-xdist workers per pass (default 2; 0 runs serially)
set -euo pipefail

cd "$(dirname "$0")/.."

BIN=${VENV:-.venv}/bin
PG_HOST=127.0.0.1
PG_PORT=5432
PG_URL=${AWARDS_TEST_DATABASE_URL:-postgresql+psycopg://postgres@$PG_HOST:$PG_PORT/postgres}
WORKERS=${TEST_WORKERS:-2}
CI=${CI:-}

say() { printf '\n==> %s\n' "$*"; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo > /dev/null; then
        sudo -n "$@"
    else
        return 1
    fi
}

# ---- Chromium (Debian's package; the tests never download a browser) ------------------------

ensure_chromium() {
    if command -v chromium > /dev/null; then
        return
    fi
    say "installing Debian's chromium for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    if ! as_root apt-get install -y --no-install-recommends chromium; then
        as_root apt-get update \
            && as_root apt-get install -y --no-install-recommends chromium \
            || die "could not install chromium (apt-get install chromium, as root)"
    fi
}

# ---- nginx (Debian's package; the reverse-proxy tests run the documented configuration) ------

ensure_nginx() {
    if command -v nginx > /dev/null || [ -x /usr/sbin/nginx ]; then
        return
    fi
    say "installing Debian's nginx-light for the reverse-proxy tests"
    export DEBIAN_FRONTEND=noninteractive
    if ! as_root apt-get install -y --no-install-recommends nginx-light; then
        as_root apt-get update \
            && as_root apt-get install -y --no-install-recommends nginx-light \
            || die "could not install nginx-light (apt-get install nginx-light, as root)"
    fi
}

# ---- axe-core (accessibility checks; pinned in package-lock.json, from the npm registry) -----

ensure_axe() {
    local axe=node_modules/axe-core/axe.min.js
    if [ -f "$axe" ] && [ "$axe" -nt package-lock.json ]; then
        return
    fi
    if ! command -v npm > /dev/null; then
        if [ "$CI" = true ]; then
            die "npm is missing: the accessibility tests need axe-core (apt-get install npm)"
        fi
        printf '\nWARNING: npm is missing, so axe-core is not installed: the accessibility tests will be skipped.\n' >&2
        return
    fi
    say "installing axe-core for the accessibility tests (npm ci)"
    npm ci --no-audit --no-fund || die "npm ci failed"
    touch "$axe"
}

# ---- PostgreSQL ----------------------------------------------------------------------------

postgres_installed() {
    command -v pg_ctlcluster > /dev/null && [ -d /etc/postgresql ] \
        && [ -n "$(ls -A /etc/postgresql 2> /dev/null)" ]
}

start_postgres() {
    local version started=1
    for version in $(ls /etc/postgresql); do
        [ -d "/etc/postgresql/$version/main" ] || continue
        say "starting PostgreSQL $version (cluster main)"
        # Older postgresql-common has no --skip-systemctl-redirect; without root, try as is.
        if as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start \
            || as_root pg_ctlcluster "$version" main start \
            || pg_ctlcluster "$version" main start; then
            started=0
        fi
    done
    return $started
}

wait_for_postgres() {
    local i
    for i in $(seq 1 30); do
        pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && return 0
        sleep 1
    done
    return 1
}

# Returns 0 when the PostgreSQL pass can run, 1 when it has to be skipped (no server installed).
ensure_postgres() {
    if [ -n "${AWARDS_TEST_DATABASE_URL:-}" ]; then
        return 0  # an explicitly chosen server: the tests will say if it is unreachable
    fi
    if command -v pg_isready > /dev/null && pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
        return 0
    fi
    if ! postgres_installed; then
        return 1
    fi
    start_postgres || true
    wait_for_postgres \
        || die "PostgreSQL is installed but does not answer on $PG_HOST:$PG_PORT (see /var/log/postgresql/)"
}

# The rate-limit tests that count in Redis need a server on 127.0.0.1:6379; start the local
# one if it is installed but down. Without Redis those tests skip (and fail under CI=true).
ensure_redis() {
    command -v redis-cli > /dev/null || return 0
    redis-cli -h 127.0.0.1 -p 6379 ping > /dev/null 2>&1 && return 0
    command -v redis-server > /dev/null || return 0
    say "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        > /dev/null 2>&1 || true
    for i in $(seq 1 10); do
        redis-cli -h 127.0.0.1 -p 6379 ping > /dev/null 2>&1 && return 0
        sleep 1
    done
    echo "WARNING: Redis did not start; the tests that count in Redis will skip" >&2
}

# ---- the passes ----------------------------------------------------------------------------

pytest_args=()
if [ "$WORKERS" != 0 ]; then
    pytest_args+=(-n "$WORKERS")
fi

declare -A results durations

run_pass() {
    local name=$1; shift
    local started=$SECONDS code=0
    say "test pass: $name"
    env "$@" "$BIN/python" -m pytest "${pytest_args[@]}" "${extra_args[@]}" || code=$?
    durations[$name]=$((SECONDS - started))
    case $code in
        0) results[$name]="passed" ;;
        5) results[$name]="FAILED (no tests ran)" ;;
        *) results[$name]="FAILED (pytest exit $code)" ;;
    esac
    [ "$code" -eq 0 ]
}

extra_args=("$@")
[ -x "$BIN/python" ] || die "no virtualenv at ${BIN%/bin}: run 'make test'"

# Lint first: a finding fails the run before any test starts.
say "lint: ruff check"
[ -x "$BIN/ruff" ] || die "ruff is missing from the virtualenv: run 'make test' (it installs the test extras)"
"$BIN/ruff" check app.py awards tests bench scripts migrations || die "ruff found problems (make lint shows them)"

ensure_chromium
ensure_nginx
ensure_axe
ensure_redis
mkdir -p test-artifacts

status=0
run_pass SQLite -u AWARDS_TEST_DATABASE_URL || status=1

if ensure_postgres; then
    # Throw-away databases need no durable commits: skip the WAL flush on every commit.
    run_pass PostgreSQL AWARDS_TEST_DATABASE_URL="$PG_URL" \
        PGOPTIONS="${PGOPTIONS:-} -c synchronous_commit=off" || status=1
else
    results[PostgreSQL]="NOT RUN (no PostgreSQL installed)"
    durations[PostgreSQL]=0
    if [ "$CI" = true ]; then
        status=1
        results[PostgreSQL]="FAILED (no PostgreSQL installed; CI needs it)"
    fi
fi

say "summary"
for name in SQLite PostgreSQL; do
    printf '    %-11s %-48s %5ss\n' "$name" "${results[$name]}" "${durations[$name]}"
done

if [ "${results[PostgreSQL]}" = "NOT RUN (no PostgreSQL installed)" ]; then
    cat >&2 <<'EOF'

    ************************************************************************************
    *  WARNING: the PostgreSQL pass did NOT run: no PostgreSQL server is installed.    *
    *  Production runs on PostgreSQL; tests marked postgres_only were never run.       *
    *  Install it (Debian: apt-get install postgresql, trust auth for 127.0.0.1)       *
    *  or point AWARDS_TEST_DATABASE_URL at a server. CI fails in this situation.      *
    ************************************************************************************

EOF
fi

exit $status
