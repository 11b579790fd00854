#!/usr/bin/env bash
# The public vote under load: 50,000 votes with the rate limits counted in Redis (see
# scripts/bench-load.sh for the setup). Needs Redis on 127.0.0.1:6379, or --rate-limits off.
#
#   scripts/bench-vote.sh                                  # the current code
#   scripts/bench-vote.sh --baseline <commit> --rounds 2   # side by side with an earlier one
#   BENCH_MODULE=bench.load.vote_cpu scripts/bench-vote.sh --baseline <commit>
#                                                          # CPU per request, in process
BENCH_MODULE=${BENCH_MODULE:-bench.load.vote} exec "$(dirname "$0")/bench-load.sh" "$@"
