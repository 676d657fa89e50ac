#!/usr/bin/env bash
# Does a turn cost more as its session grows? CPU per turn of hermes-gateway at turn 1, 50 and
# 200 of a session, on SQLite and on PostgreSQL (a private server from scripts/pg-test-server.sh).
#
#   bench/peers/long_sessions.sh [HERMES_GATEWAY_BIN]     (default: build/release's)
#
# Turn 1 is a new session per request. Turn N continues sessions seeded with 2N-2 stored
# messages (system, N-2 user/assistant pairs, a user message: one request each), continued
# round-robin by wrk at c=8 for BENCH_DURATION (3) seconds, so each session moves on a few turns
# at most. CPU per turn is the gateway's utime+stime over the wrk run / its requests (what the
# history must cost whatever the gateway does: sending ~40 bytes per message upstream and
# reading them back into the request). Prints a Markdown table. Needs wrk and node
# (bench/peers/setup.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
BIN=$(realpath "${1:-$repo/build/release/src/daemon/hermes-gateway}")
[[ -x $BIN ]] || { echo "long_sessions.sh: no executable $BIN" >&2; exit 2; }
DURATION=${BENCH_DURATION:-3}
[[ $DURATION =~ ^[0-9]+$ ]] && ((DURATION >= 1 && DURATION <= 30)) || { echo "BENCH_DURATION: 1..30" >&2; exit 2; }
SESSIONS=${BENCH_SESSIONS:-100}
[[ $SESSIONS =~ ^[0-9]+$ ]] && ((SESSIONS >= 8 && SESSIONS <= 2000)) || { echo "BENCH_SESSIONS: 8..2000" >&2; exit 2; }
CLK_TCK=$(getconf CLK_TCK)
unset NOTIFY_SOCKET
WORK=$(mktemp -d /tmp/hermes-long.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -f $WORK/pg/url ]] && "$repo/scripts/pg-test-server.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_ok() { local i; for ((i = 0; i < 200; i++)); do curl -sf "$1" >/dev/null && return 0; sleep 0.05; done; return 1; }
ticks() { sed -E 's/^.*\) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

UP=$(free_port)
node "$here/upstream.mjs" --port "$UP" >"$WORK/upstream.log" 2>&1 &
PIDS+=($!)
wait_ok "http://127.0.0.1:$UP/health" || { echo "upstream did not start" >&2; exit 1; }

# measure BACKEND: prints one table row per turn number
measure() {
  local backend=$1 home="$WORK/home-$1" port db="" gw turn file t0 t1 res
  mkdir -p "$home/run"
  chmod 700 "$home/run"
  port=$(free_port)
  if [[ $backend == postgres ]]; then
    "$repo/scripts/pg-test-server.sh" start "$WORK/pg" >/dev/null
    db="database: {backend: postgres, url: '$("$repo/scripts/pg-test-server.sh" url "$WORK/pg")'}"
  fi
  cat >"$home/config.yaml" <<YAML
model: {provider: primary, default: demo-model}
providers: {primary: {base_url: 'http://127.0.0.1:$UP/v1', api_keys: [k1]}}
gateway:
  api_server: {host: 127.0.0.1, port: $port}
$db
YAML
  HERMES_HOME=$home XDG_RUNTIME_DIR=$home/run "$BIN" >"$WORK/gw-$backend.log" 2>&1 &
  gw=$!
  PIDS+=("$gw")
  wait_ok "http://127.0.0.1:$port/health" || { tail "$WORK/gw-$backend.log" >&2; exit 1; }
  for turn in 1 50 200; do
    file=""
    if ((turn > 1)); then
      file="$WORK/sessions-$backend-$turn"
      node "$here/seed.mjs" --url "http://127.0.0.1:$port" --count "$SESSIONS" --out "$file" \
        --concurrency 8 --messages $((2 * turn - 2)) 2>>"$WORK/seed.log" >/dev/null
    fi
    t0=$(ticks "$gw")
    res=$(BENCH_THREADS=1 BENCH_SESSIONS="$file" wrk -t1 -c8 -d"${DURATION}s" -s "$here/chat.lua" \
      "http://127.0.0.1:$port" 2>&1 | grep '^BENCH_RESULT ' | sed 's/^BENCH_RESULT //')
    t1=$(ticks "$gw")
    node -e '
      const [backend, turn, ticks, clk, res] = process.argv.slice(1);
      const r = JSON.parse(res);
      const cpu = (Number(ticks) * 1e6) / Number(clk) / r.requests;
      const bad = r.non2xx + r.bad_body;
      console.log(`| ${backend} | ${turn} | ${Math.round(r.rps)} | ${(r.p50_us / 1000).toFixed(2)} | ` +
        `${(r.p99_us / 1000).toFixed(2)} | ${Math.round(cpu)} | ${bad} |`);
    ' "$backend" "$turn" $((t1 - t0)) "$CLK_TCK" "$res"
  done
  kill "$gw"
  wait "$gw" 2>/dev/null || true
}

echo "| backend | turn | RPS (c=8) | p50 ms | p99 ms | CPU µs/turn | errors |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
measure sqlite
measure postgres
