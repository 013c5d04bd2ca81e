#!/usr/bin/env bash
# Verifier benchmark (BENCHMARKS.md, "Student sync verifier"): one pass over 1,000 devices ×
# 2,000 students on a throwaway PostgreSQL 15 cluster, timed, and its SQL statements counted by
# PostgreSQL (log_statement = all between two markers in the server log).
#
#   benches/sync/verifier.sh                      # 1000 devices; 2000 and 500 students
#   BENCH_DEVICES=200 BENCH_STUDENTS=2000 benches/sync/verifier.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
eval "$(scripts/test-postgres.sh start)"
export IRONCLOCK_BENCH_PG_LOG="${PGTEST_DIR:-/tmp/ironclock-pg}/server.log"
cargo bench --bench verifier
