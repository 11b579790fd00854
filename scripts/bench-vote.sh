#!/usr/bin/env bash
# The public vote under load: 50,000 votes (see scripts/bench-load.sh for the setup).
BENCH_MODULE=bench.load.vote exec "$(dirname "$0")/bench-load.sh" "$@"
