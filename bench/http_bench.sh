#!/usr/bin/env bash
# HTTP throughput of `tanpuhui serve` (release build) against nginx serving a static file of the
# same size as the /healthz response: nginx is the ceiling for this machine, and the target is
# that tanpuhui reaches at least half of it. Everything runs on 127.0.0.1, 10 s of load per URL.
#
#   bash bench/http_bench.sh      (after ./dev bench has built build-release/)
#
# Environment: TPH_BIN (default build-release/tanpuhui), TPH_DEMO_PASSWORD (the demo resident's
# password, default Tanpuhui-demo-2026).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN=${TPH_BIN:-$ROOT/build-release/tanpuhui}
PASSWORD=${TPH_DEMO_PASSWORD:-Tanpuhui-demo-2026}
TARGET=0.5
WRK_ARGS=(-t2 -c64 -d10s --latency)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

die() { printf 'http_bench: %s\n' "$*" >&2; exit 1; }

[[ -x $BIN ]] || die "no $BIN; build it first (./dev bench)"
command -v wrk >/dev/null || die "wrk is not installed"
command -v curl >/dev/null || die "curl is not installed"
[[ -x $NGINX ]] || die "nginx is not installed"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tph-bench.XXXXXX")
SERVER_PID=
NGINX_PID=

# shellcheck disable=SC2317  # stop and cleanup run from the EXIT trap
stop() {  # stop PID: TERM, then wait for it to go
  if [[ -z $1 ]] || ! kill -0 "$1" 2>/dev/null; then return 0; fi
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}
# shellcheck disable=SC2317
cleanup() {
  stop "$SERVER_PID"
  stop "$NGINX_PID"
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {  # free_port [EXCEPT]
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    [[ $port != "${1:-}" ]] && ! port_in_use "$port" && break
  done
  echo "$port"
}

# wait_http URL PID LOG: until URL answers, or fail with the log if PID exits first.
wait_http() {
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; die "server exited before answering $1"; }
    sleep 0.1
  done
  cat "$3" >&2
  die "no answer from $1 within 10 s"
}

# ---------------------------------------------------------------------------- tanpuhui

DB="sqlite:$TMP/b.db"
if ! { "$BIN" migrate --db "$DB" && "$BIN" demo --db "$DB"; } >"$TMP/setup.log" 2>&1; then
  cat "$TMP/setup.log" >&2
  die "could not create the demo database"
fi

TPH_PORT=$(free_port)
TPH_URL="http://127.0.0.1:$TPH_PORT"
"$BIN" serve --db "$DB" --listen "127.0.0.1:$TPH_PORT" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
wait_http "$TPH_URL/healthz" "$SERVER_PID" "$TMP/server.log"

password_json=${PASSWORD//\\/\\\\}
password_json=${password_json//\"/\\\"}
login=$(curl -fsS -X POST -H 'Content-Type: application/json' \
  --data "{\"username\":\"resident\",\"password\":\"$password_json\"}" \
  "$TPH_URL/api/v1/auth/login") || die "login as the demo resident failed"
TOKEN=$(sed -n 's/.*"token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' <<<"$login")
[[ -n $TOKEN ]] || die "no token in the login response: $login"
curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$TPH_URL/api/v1/me" ||
  die "GET /api/v1/me with the resident's token failed"

# ------------------------------------------------------------------------------- nginx

# The static file is the /healthz body itself, so both answer with the same number of bytes.
mkdir -p "$TMP/www" "$TMP/nginx"
curl -fsS -o "$TMP/www/healthz" "$TPH_URL/healthz"
BODY_BYTES=$(stat -c %s "$TMP/www/healthz")
chmod 755 "$TMP" "$TMP/www"  # nginx workers may run as an unprivileged user
chmod 644 "$TMP/www/healthz"

NGINX_PORT=$(free_port "$TPH_PORT")
NGINX_URL="http://127.0.0.1:$NGINX_PORT"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  types {}
  default_type application/json;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $TMP/nginx/client_body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $TMP/www;
  }
}
EOF
"$NGINX" -e "$TMP/nginx/error.log" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' \
  >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
wait_http "$NGINX_URL/healthz" "$NGINX_PID" "$TMP/nginx/error.log"

# ---------------------------------------------------------------------------------- load

declare -A RPS=()
BAD=0
printf '\n%-28s %12s %10s %10s  %s\n' "target" "req/s" "avg" "p99" "errors"

# bench NAME URL [wrk args...]: 10 s of wrk; records req/s in RPS[NAME].
bench() {
  local name=$1 url=$2 out
  shift 2
  out=$(wrk "${WRK_ARGS[@]}" "$@" "$url")
  local rps avg p99 non2xx sockerr
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  avg=$(awk '$1 == "Latency" {print $2; exit}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
  sockerr=$(sed -n 's/^ *Socket errors: *//p' <<<"$out")
  local errors=${non2xx:+non-2xx $non2xx}${sockerr:+${non2xx:+, }socket errors $sockerr}
  printf '%-28s %12s %10s %10s  %s\n' "$name" "${rps:-?}" "${avg:-?}" "${p99:-?}" "${errors:-none}"
  # Error responses are cheap and would flatter the figure: such a run does not count.
  if [[ -z $rps || -n $non2xx ]]; then
    BAD=1
    rps=0
  fi
  RPS[$name]=$rps
}

bench "nginx static ($BODY_BYTES B)" "$NGINX_URL/healthz"
bench "tanpuhui GET /healthz" "$TPH_URL/healthz"
bench "tanpuhui GET /api/v1/me" "$TPH_URL/api/v1/me" -H "Authorization: Bearer $TOKEN"

# ------------------------------------------------------------------------------ verdict

echo
base=${RPS["nginx static ($BODY_BYTES B)"]}
FAILED=$BAD
for name in "tanpuhui GET /healthz" "tanpuhui GET /api/v1/me"; do
  verdict=$(awk -v a="${RPS[$name]}" -v b="$base" -v t="$TARGET" 'BEGIN {
    r = (b > 0) ? a / b : 0
    printf "%.2f %s", r, (r >= t) ? "PASS" : "FAIL" }')
  printf 'tanpuhui/nginx %-20s %s  (target >= %s)\n' "${name#tanpuhui }" "$verdict" "$TARGET"
  [[ $verdict == *PASS ]] || FAILED=1
done
((BAD == 0)) || echo "some runs had errors (see above); they count as 0 req/s"
exit "$FAILED"
