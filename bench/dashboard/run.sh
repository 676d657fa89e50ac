#!/usr/bin/env bash
# What an open dashboard costs the turns: the gateway's CPU per turn (wrk, 32 connections,
# bench/peers/chat.lua against bench/peers/upstream.mjs) with no dashboard open and with it
# open BENCH_TABS times in headless Chromium (each a visible window: every one polls /ui/api
# every 2 s; a tab hidden behind another would not), alternated
# BENCH_ROUNDS times; and the gateway's idle CPU with the tabs open. From the repo root:
#
#   bench/dashboard/run.sh
#
# Knobs: BENCH_BIN (hermes-gateway, default build/bench/src/daemon/hermes-gateway),
# BENCH_TABS (10), BENCH_DURATION (seconds per wrk run, 8), BENCH_ROUNDS (2), BENCH_PIN (1:
# the gateway alone on CPU 0, the upstream, wrk and Chromium on the others, so what Chromium
# draws does not slow the gateway's core and only the page's requests are measured; 0: all
# share every core).
# Needs wrk, node, chromium and tests/node's puppeteer-core (scripts/setup.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
BIN=${BENCH_BIN:-$repo/build/bench/src/daemon/hermes-gateway}
TABS=${BENCH_TABS:-10}
DURATION=${BENCH_DURATION:-8}
ROUNDS=${BENCH_ROUNDS:-2}
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
PIN=${BENCH_PIN:-1}
gw_cpus=() others=()
if [[ $PIN == 1 ]] && (($(nproc) >= 2)); then
  gw_cpus=(taskset -c 0)
  others=(taskset -c "1-$(($(nproc) - 1))")
fi
[[ -x $BIN ]] || { echo "run.sh: $BIN is not built (cmake --build --preset bench)" >&2; exit 2; }
[[ -n $CHROMIUM ]] || { echo "run.sh: chromium is missing (scripts/setup.sh installs it)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "run.sh: wrk is missing (bench/peers/setup.sh installs it)" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
wait_for() {  # wait_for URL: polls it (10 s at most) until it answers 2xx
  local i
  for ((i = 0; i < 200; i++)); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.05
  done
  echo "run.sh: $1 did not answer" >&2
  exit 1
}
cpu_ticks() { sed -E 's/^.*\) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
CLK_TCK=$(getconf CLK_TCK)

read -r P_UP P_GW <<<"$(node -e '
  const net = require("net");
  Promise.all([0, 1].map(() => new Promise((ok) => { const s = net.createServer();
    s.listen(0, "127.0.0.1", () => ok(s)); }))).then((servers) => {
    console.log(servers.map((s) => s.address().port).join(" "));
    servers.forEach((s) => s.close()); });')"
"${others[@]}" node "$here/../peers/upstream.mjs" --port "$P_UP" >"$work/upstream.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$P_UP/health"
mkdir -p "$work/home" && mkdir -m 0700 "$work/home/run"
cat >"$work/home/config.yaml" <<YAML
model: {provider: primary, default: demo-model}
providers: {primary: {base_url: 'http://127.0.0.1:$P_UP/v1', api_keys: [k1]}}
pricing: {demo-model: {input: 1.0, output: 2.0}}
gateway:
  api_server: {host: 127.0.0.1, port: $P_GW, key: sk-bench}
YAML
HERMES_HOME="$work/home" XDG_RUNTIME_DIR="$work/home/run" "${gw_cpus[@]}" "$BIN" >"$work/gateway.log" 2>&1 &
GW=$!
pids+=("$GW")
wait_for "http://127.0.0.1:$P_GW/health"

turns() {  # turns LABEL: one wrk run; prints "LABEL rps cpu_us_per_turn"
  local c0 c1 out requests
  c0=$(cpu_ticks "$GW")
  out=$(BENCH_THREADS=2 "${others[@]}" wrk -t2 -c32 -d"${DURATION}s" --timeout 5s -s "$here/../peers/chat.lua" \
    "http://127.0.0.1:$P_GW" 2>&1)
  c1=$(cpu_ticks "$GW")
  requests=$(grep -o '"requests":[0-9]*' <<<"$out" | head -n 1 | cut -d: -f2)
  [[ -n $requests && $requests -gt 0 ]] || { echo "run.sh: wrk gave no result: $out" >&2; exit 1; }
  awk -v l="$1" -v r="$requests" -v d="$DURATION" -v t=$((c1 - c0)) -v hz="$CLK_TCK" \
    'BEGIN { printf "%s %.0f %.1f\n", l, r / d, t / hz * 1e6 / r }'
}
idle() {  # idle LABEL: the gateway's CPU over DURATION seconds without turns, in ms per second
  local c0 c1
  c0=$(cpu_ticks "$GW")
  sleep "$DURATION"  # the measuring window, not a wait for anything
  c1=$(cpu_ticks "$GW")
  awk -v l="$1" -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v d="$DURATION" \
    'BEGIN { printf "%s %.2f\n", l, t / hz * 1000 / d }'
}

results=()
for ((r = 1; r <= ROUNDS; r++)); do
  log "round $r: turns with no dashboard open"
  results+=("$(turns none)")
  log "round $r: opening the dashboard in $TABS tabs"
  coproc TABS_PROC { exec "${others[@]}" node "$here/tabs.mjs" "http://127.0.0.1:$P_GW" sk-bench "$TABS" "$CHROMIUM"; }
  tabs_pid=$TABS_PROC_PID
  pids+=("$tabs_pid")
  read -r -t 60 ready <&"${TABS_PROC[0]}" || true
  [[ ${ready:-} == ready ]] || { echo "run.sh: the tabs did not render" >&2; exit 1; }
  results+=("$(idle idle-tabs)")
  log "round $r: turns with $TABS tabs open"
  results+=("$(turns tabs)")
  kill "$tabs_pid"
  wait "$tabs_pid" 2>/dev/null || true
  kill -0 "$tabs_pid" 2>/dev/null && { echo "run.sh: the tabs did not close" >&2; exit 1; }
  results+=("$(idle idle-none)")
done

echo "| round | dashboard | turns/s | gateway CPU µs/turn |"
echo "|---:|---|---:|---:|"
r=0
for line in "${results[@]}"; do
  read -r label a b <<<"$line"
  case $label in
    none) r=$((r + 1)); echo "| $r | none open | $a | $b |" ;;
    tabs) echo "| $r | $TABS tabs open | $a | $b |" ;;
  esac
done
echo
echo "| gateway idle CPU | ms per second |"
echo "|---|---:|"
for line in "${results[@]}"; do
  read -r label a _ <<<"$line"
  case $label in
    idle-tabs) echo "| $TABS tabs open, no turns | $a |" ;;
    idle-none) echo "| none open, no turns | $a |" ;;
  esac
done
