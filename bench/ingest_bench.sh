#!/usr/bin/env bash
# Ingest throughput and memory. `tanpuhui gen` writes about a million provider records for Guangdong's
# cities; `tanpuhui ingest` loads them durably into a fresh SQLite file and, when TPH_BENCH_PG_URL
# names a PostgreSQL server (./dev bench starts one), into a fresh database there. Prints records/s
# (setup excluded) and the ingest process's peak resident memory for each. Then (unless
# TPH_BENCH_ROLLUP_COST=0) it ingests the same records again into a fresh database with the
# analytics rollups off (`tanpuhui ingest --without-rollups`, for benchmarking only) and prints what
# keeping them costs ingest (the target is at most 10% of the throughput).
#
#   bash bench/ingest_bench.sh            (after ./dev bench has built build-release/)
#
# Environment: TPH_BIN (default build-release/tanpuhui), TPH_BENCH_RESIDENTS (default 20000),
# TPH_BENCH_DAYS (default 34), TPH_BENCH_BATCH (records per transaction, default 5000),
# TPH_BENCH_PG_URL (postgresql://USER@HOST:PORT/DB of a server to use).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN=${TPH_BIN:-$ROOT/build-release/tanpuhui}
RESIDENTS=${TPH_BENCH_RESIDENTS:-20000}
DAYS=${TPH_BENCH_DAYS:-34}
BATCH=${TPH_BENCH_BATCH:-5000}
TARGET_SQLITE=100000
TARGET_PG=50000
TARGET_RSS_KB=$((1024 * 1024))

die() { printf 'ingest_bench: %s\n' "$*" >&2; exit 1; }
[[ -x $BIN ]] || die "no $BIN; build it first (./dev bench)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is not installed (Debian package time)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tph-ingest-bench.XXXXXX")
PG_DB=
cleanup() {
  if [[ -n $PG_DB ]]; then psql -q "${TPH_BENCH_PG_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1 || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

"$BIN" gen --residents "$RESIDENTS" --days "$DAYS" --seed 20261128 --out "$TMP/data" >/dev/null
records=$(cat "$TMP"/data/*.ndjson | wc -l)
printf 'generated %s records for %s residents over %s days\n\n' "$records" "$RESIDENTS" "$DAYS"
printf '%-12s %12s %12s %12s %10s  %s\n' backend records credited records/s "peak RSS" verdict

failed=0
declare -A RATES
rollup_cost() {  # rollup_cost BACKEND RATE_WITH RATE_WITHOUT
  python3 - "$@" <<'PY'
import sys
name, with_r, without = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
cost = 100.0 * (1 - with_r / without) if without else 0.0
print(f"rollup maintenance costs {name} ingest {cost:.1f}% of its throughput "
      f"({with_r:.0f} records/s with rollups, {without:.0f} without; target at most 10%)")
PY
}
run() {  # run NAME URL TARGET [DURABLE_URL [EXTRA_INGEST_FLAG]]
  local name=$1 url=$2 target=$3 durable=${4:-$2} extra=${5:-} out="$TMP/$1.json" timing="$TMP/$1.time"
  "$BIN" migrate --db "$url" --data-dir "$ROOT/data" >/dev/null
  # Providers, residents and bindings first (not timed), then the records, durably.
  "$BIN" ingest --db "$url" --data-dir "$ROOT/data" --setup "$TMP/data/setup.json" >/dev/null
  /usr/bin/time -f '%M' -o "$timing" "$BIN" ingest --db "$durable" --data-dir "$ROOT/data" \
    --batch-size "$BATCH" --json $extra "$TMP"/data/*.ndjson >"$out"
  local rate credited rss verdict=PASS
  rate=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["records_per_second"]))' "$out")
  credited=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["credited"])' "$out")
  rss=$(tail -n 1 "$timing")
  RATES[$name]=$rate
  if ((rate < target || rss > TARGET_RSS_KB)); then verdict="FAIL (target >= $target records/s, RSS < 1 GiB)"; failed=1; fi
  printf '%-12s %12s %12s %12s %8s MB  %s\n' "$name" "$records" "$credited" "$rate" $((rss / 1024)) "$verdict"
}

run sqlite "sqlite:$TMP/bench.db" "$TARGET_SQLITE" "sqlite:$TMP/bench.db?synchronous=full"
if [[ ${TPH_BENCH_ROLLUP_COST:-1} == 1 ]]; then
  run sqlite-norollup "sqlite:$TMP/bench-norollup.db" "$TARGET_SQLITE" \
    "sqlite:$TMP/bench-norollup.db?synchronous=full" --without-rollups
  rollup_cost SQLite "${RATES[sqlite]}" "${RATES[sqlite-norollup]}"
fi
if [[ -n ${TPH_BENCH_PG_URL:-} ]]; then
  PG_DB=tph_ingest_bench_$$
  psql -q "${TPH_BENCH_PG_URL%/*}/postgres" -c "CREATE DATABASE $PG_DB" >/dev/null
  run postgresql "${TPH_BENCH_PG_URL%/*}/$PG_DB" "$TARGET_PG"
  if [[ ${TPH_BENCH_ROLLUP_COST:-1} == 1 ]]; then
    psql -q "${TPH_BENCH_PG_URL%/*}/postgres" -c "CREATE DATABASE ${PG_DB}_nr" >/dev/null
    run postgresql-norollup "${TPH_BENCH_PG_URL%/*}/${PG_DB}_nr" "$TARGET_PG" "" --without-rollups
    rollup_cost PostgreSQL "${RATES[postgresql]}" "${RATES[postgresql-norollup]}"
    psql -q "${TPH_BENCH_PG_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS ${PG_DB}_nr" >/dev/null 2>&1 || true
  fi
else
  printf '%-12s skipped: set TPH_BENCH_PG_URL (./dev bench does)\n' postgresql
fi
exit "$failed"
