#!/usr/bin/env bash
# Side-by-side benchmark: hermes-gateway next to nginx and the Portkey gateway, all in front of
# the same fake upstream, on loopback. See README.md. The one command, from the repo root:
#
#   bench/peers/run.sh
#
# Knobs (environment): BENCH_ROUNDS (3), BENCH_DURATION (seconds per wrk run, 4),
# BENCH_SESSIONS (pre-seeded sessions per hermes-continued run, 3000), BENCH_STARTS (start-up
# samples per target, 3), BENCH_TTFC_ROUNDS (50), BENCH_NO_BUILD=1 (use the existing release
# binary), BENCH_KEEP=1 (keep the temp dir with logs), BENCH_BIN=PATH (use this hermes-gateway,
# no build), BENCH_BASELINE_BIN=PATH (also measure an older hermes-gateway: targets
# hermes-new@baseline and hermes-continued@baseline on a second gateway with the same config),
# BENCH_BASELINE_LABEL (free text naming that build in the report, e.g. its git commit).
#
#   bench/peers/run.sh --quick   one round, 3 s per case, c=1 and c=32 plain JSON, no tmpfs
#                                gateway and no first-token test (about a minute); prints the
#                                table (results/quick.md) and the guard's verdict: exit 1 when
#                                hermes' CPU per turn over nginx's is more than twice the ratio
#                                committed in bench/peers/baseline.json (CI runs this).
set -euo pipefail

QUICK=0
case ${1:-} in
  --quick) QUICK=1 ;;
  "") ;;
  -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
  *) echo "run.sh: unknown argument $1 (only --quick)" >&2; exit 2 ;;
esac
if ((QUICK)); then  # the knobs still win when set
  : "${BENCH_ROUNDS:=1}" "${BENCH_DURATION:=3}" "${BENCH_SESSIONS:=500}" "${BENCH_STARTS:=1}"
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-4}
SESSIONS=${BENCH_SESSIONS:-3000}
STARTS=${BENCH_STARTS:-3}
TTFC_ROUNDS=${BENCH_TTFC_ROUNDS:-50}
TTFC_DELAY_MS=20
for v in ROUNDS DURATION SESSIONS STARTS TTFC_ROUNDS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: $v must be a number" >&2; exit 2; }
done
# Keep every loop bounded, whatever the knobs say.
((ROUNDS >= 1 && ROUNDS <= 10)) || { echo "run.sh: BENCH_ROUNDS must be 1..10" >&2; exit 2; }
((DURATION >= 1 && DURATION <= 30)) || { echo "run.sh: BENCH_DURATION must be 1..30" >&2; exit 2; }
((SESSIONS >= 64 && SESSIONS <= 10000)) || { echo "run.sh: BENCH_SESSIONS must be 64..10000" >&2; exit 2; }
((STARTS >= 1 && STARTS <= 10)) || { echo "run.sh: BENCH_STARTS must be 1..10" >&2; exit 2; }
((TTFC_ROUNDS >= 1 && TTFC_ROUNDS <= 500)) || { echo "run.sh: BENCH_TTFC_ROUNDS must be 1..500" >&2; exit 2; }
exe_path() {  # exe_path KNOB: the knob's value as an absolute path to an executable file, or exit
  local v=${!1}
  [[ -f $v && -x $v ]] || { echo "run.sh: $1=$v is not an executable file" >&2; exit 2; }
  realpath -- "$v"
}
BIN_GIVEN=""     # BENCH_BIN: the hermes-gateway under test, instead of building one
if [[ -n ${BENCH_BIN:-} ]]; then BIN_GIVEN=$(exe_path BENCH_BIN) || exit 2; fi
BASELINE_BIN=""  # BENCH_BASELINE_BIN: an older hermes-gateway measured next to it
if [[ -n ${BENCH_BASELINE_BIN:-} ]]; then BASELINE_BIN=$(exe_path BENCH_BASELINE_BIN) || exit 2; fi
BASELINE_LABEL=${BENCH_BASELINE_LABEL:-}
((${#BASELINE_LABEL} <= 200)) || { echo "run.sh: BENCH_BASELINE_LABEL must be at most 200 characters" >&2; exit 2; }

run_started=$(date +%s)
unset NOTIFY_SOCKET  # hermes-gateway would talk to systemd through it
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- processes we start, and how they are stopped -------------------------------------------
WORK=""
SHM_DIR=""
LAUNCHERS=()    # launch.mjs pids (our children); each one owns one target's process group
TARGET_PGIDS=() # the targets' process groups, for a last SIGKILL

stop_launchers() {  # stop_launchers PID...: SIGTERM, wait at most 6 s, then SIGKILL the groups
  local p i alive
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for ((i = 0; i < 60; i++)); do
    alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for p in "$@"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ((${#LAUNCHERS[@]})); then stop_launchers "${LAUNCHERS[@]}"; fi
  local g
  for g in "${TARGET_PGIDS[@]}"; do  # a group left behind (its launcher died): leader still ours?
    [[ -r /proc/$g/stat ]] && [[ $(sed -E 's/^.*\) //' "/proc/$g/stat" | awk '{print $3}') == "$g" ]] &&
      kill -KILL -- "-$g" 2>/dev/null || true
  done
  [[ -n $SHM_DIR && -d $SHM_DIR ]] && rm -rf "$SHM_DIR"  # tmpfs: never kept
  if [[ -n $WORK && -d $WORK ]]; then
    if [[ ${BENCH_KEEP:-0} == 1 || $rc != 0 ]]; then log "logs kept in $WORK"; else rm -rf "$WORK"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# --- 1. install ------------------------------------------------------------------------------
log "setup (wrk, nginx-light, npm ci)"
"$here/setup.sh"
PORTKEY_ENTRY="$here/node_modules/@portkey-ai/gateway/build/start-server.js"
NGINX=/usr/sbin/nginx

# --- 2. build --------------------------------------------------------------------------------
WORK="$(mktemp -d /tmp/hermes-peers.XXXXXX)"
PRESET=release
((QUICK)) && PRESET=bench  # -O2 like release, no debug info: the same code, built faster (CI)
if [[ ${BENCH_NO_BUILD:-0} != 1 && -z $BIN_GIVEN ]]; then
  log "building the $PRESET hermes-gateway (nice -n 10)"
  if ! (cd "$repo" && nice -n 10 cmake --preset $PRESET >/dev/null &&
        nice -n 10 cmake --build --preset $PRESET --target hermes-gateway) >"$WORK/build.log" 2>&1; then
    tail -n 40 "$WORK/build.log" >&2
    die "$PRESET build failed (log: $WORK/build.log)"
  fi
fi
if [[ -n $BIN_GIVEN ]]; then
  HERMES_BIN=$BIN_GIVEN
else
  HERMES_BIN="$(cd "$repo" && find build/$PRESET -name hermes-gateway -type f -perm -u+x | head -n 1)"
  [[ -n $HERMES_BIN ]] || die "no hermes-gateway under build/$PRESET"
  HERMES_BIN="$repo/$HERMES_BIN"
fi
# What was built: HEAD now (src/ may move on while the run goes).
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=false
git -C "$repo" diff --quiet HEAD -- src 2>/dev/null || dirty=true

# --- helpers ---------------------------------------------------------------------------------
free_ports() {  # free_ports N: N distinct free loopback ports
  node -e '
    const net = require("net"); const n = Number(process.argv[1]); const servers = [];
    (async () => {
      for (let i = 0; i < n; i++) servers.push(await new Promise((ok) => {
        const s = net.createServer(); s.listen(0, "127.0.0.1", () => ok(s)); }));
      console.log(servers.map((s) => s.address().port).join(" "));
      servers.forEach((s) => s.close());
    })();' "$1"
}

START_SEQ=0
STARTED_PID=""; STARTED_MS=""; STARTED_LAUNCHER=""
# start_target NAME POLL_URL CMD ARGS...: launches, waits (at most 30 s) until serving
start_target() {
  local name=$1 poll=$2 i
  shift 2
  START_SEQ=$((START_SEQ + 1))
  local ready="$WORK/$name.ready.$START_SEQ"
  node "$here/launch.mjs" --ready "$ready" --log "$WORK/$name.log" --poll "$poll" --timeout-ms 20000 -- "$@" &
  STARTED_LAUNCHER=$!
  LAUNCHERS+=("$STARTED_LAUNCHER")
  for ((i = 0; i < 600; i++)); do
    [[ -s $ready ]] && break
    sleep 0.05
  done
  [[ -s $ready ]] || die "$name: no answer from launch.mjs"
  if grep -q '"error"' "$ready"; then
    log "$name: $(cat "$ready")"
    tail -n 20 "$WORK/$name.log" >&2 || true
    die "$name did not start"
  fi
  STARTED_PID=$(sed -E 's/.*"pid":([0-9]+).*/\1/' "$ready")
  STARTED_MS=$(sed -E 's/.*"serving_ms":([0-9.]+).*/\1/' "$ready")
  TARGET_PGIDS+=("$STARTED_PID")
}

stop_target() {  # stop_target LAUNCHER_PID
  local l=$1 keep=() p
  stop_launchers "$l"
  for p in "${LAUNCHERS[@]}"; do [[ $p == "$l" ]] || keep+=("$p"); done
  LAUNCHERS=("${keep[@]}")
}

with_children() {  # with_children PID: the pid and its direct children (nginx workers)
  echo "$1"
  pgrep -P "$1" 2>/dev/null || true
}

cpu_ticks() {  # cpu_ticks PID: utime+stime of the process and its direct children, in ticks
  local total=0 p t
  for p in $(with_children "$1"); do
    # fields after "(comm)": state is 1st, utime 12th, stime 13th
    t=$(sed -E 's/^.*\) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

rss_kb() {  # rss_kb PID: VmRSS of the process and its direct children, summed
  local total=0 p r
  for p in $(with_children "$1"); do
    r=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || r=0
    total=$((total + ${r:-0}))
  done
  echo "$total"
}

CLK_TCK=$(getconf CLK_TCK)
render_nginx_conf() {  # render_nginx_conf DIR PORT UPSTREAM_PORT
  mkdir -p "$1"
  sed -e "s|@PREFIX@|$1|g" -e "s|@PORT@|$2|g" -e "s|@UPSTREAM_PORT@|$3|g" \
    "$here/nginx.conf.in" >"$1/nginx.conf"
}
make_hermes_home() {  # make_hermes_home DIR GATEWAY_PORT UPSTREAM_PORT
  mkdir -p "$1"
  mkdir -m 0700 "$1/run"
  cat >"$1/config.yaml" <<EOF
model: {provider: primary, default: demo-model}
providers: {primary: {base_url: 'http://127.0.0.1:$3/v1', api_keys: [k1]}}
gateway:
  api_server: {host: 127.0.0.1, port: $2}
EOF
}

STARTUP_FILE="$WORK/startup.jsonl"
note_start() { echo "{\"process\":\"$1\",\"serving_ms\":$2}" >>"$STARTUP_FILE"; }

launch_upstream() {  # PORT
  start_target upstream "http://127.0.0.1:$1/health" node "$here/upstream.mjs" --port "$1"
  note_start upstream "$STARTED_MS"
}
launch_nginx() {  # PORT UPSTREAM_PORT
  local dir="$WORK/nginx.$START_SEQ"
  render_nginx_conf "$dir" "$1" "$2"
  start_target nginx "http://127.0.0.1:$1/health" "$NGINX" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;'
  note_start nginx "$STARTED_MS"
}
launch_portkey() {  # PORT
  start_target portkey "http://127.0.0.1:$1/" node --import "$here/loopback.mjs" "$PORTKEY_ENTRY" "--port=$1" --headless
  note_start portkey "$STARTED_MS"
}
launch_hermes() {  # PORT UPSTREAM_PORT [NAME BASE_DIR BIN]: NAME hermes (state under $WORK), hermes-shm
  local name=${3:-hermes} base=${4:-$WORK} bin=${5:-$HERMES_BIN}  # or hermes-baseline (BASELINE_BIN)
  local home="$base/hermes-home.$START_SEQ"
  make_hermes_home "$home" "$1" "$2"
  HERMES_HOME="$home" XDG_RUNTIME_DIR="$home/run" \
    start_target "$name" "http://127.0.0.1:$1/health" "$bin"
  note_start "$name" "$STARTED_MS"
}
launch_baseline() {  # PORT UPSTREAM_PORT: the BENCH_BASELINE_BIN gateway, state on disk under $WORK/baseline
  mkdir -p "$WORK/baseline"
  launch_hermes "$1" "$2" hermes-baseline "$WORK/baseline" "$BASELINE_BIN"
}

# --- 3a. start-up samples, then the instances under test ---------------------------------------
log "start-up: $STARTS samples per process (exec -> first 2xx, polled every 1 ms)"
nports=$((4 * STARTS + 5))
[[ -n $BASELINE_BIN ]] && nports=$((5 * STARTS + 5))
read -r -a ports <<<"$(free_ports "$nports")"
((${#ports[@]} == nports)) || die "could not find free ports"
pi=0
next_port() { NEXT_PORT=${ports[$pi]}; pi=$((pi + 1)); }

next_port; P_UP=$NEXT_PORT
launch_upstream "$P_UP"
UP_PID=$STARTED_PID
for ((s = 1; s < STARTS; s++)); do
  next_port; launch_upstream "$NEXT_PORT"; stop_target "$STARTED_LAUNCHER"
  next_port; launch_nginx "$NEXT_PORT" "$P_UP"; stop_target "$STARTED_LAUNCHER"
  next_port; launch_portkey "$NEXT_PORT"; stop_target "$STARTED_LAUNCHER"
  next_port; launch_hermes "$NEXT_PORT" "$P_UP"; stop_target "$STARTED_LAUNCHER"
  if [[ -n $BASELINE_BIN ]]; then next_port; launch_baseline "$NEXT_PORT" "$P_UP"; stop_target "$STARTED_LAUNCHER"; fi
done
next_port; P_NGX=$NEXT_PORT; launch_nginx "$P_NGX" "$P_UP"; NGX_PID=$STARTED_PID
next_port; P_PK=$NEXT_PORT; launch_portkey "$P_PK"; PK_PID=$STARTED_PID
next_port; P_HM=$NEXT_PORT; launch_hermes "$P_HM" "$P_UP"; HM_PID=$STARTED_PID
# A second gateway whose state (SQLite) lives on tmpfs: the same turns without the disk.
SHM_PID=""; P_SHM=""
if ((QUICK)); then
  :  # quick: the disk gateway only
elif [[ -d /dev/shm && -w /dev/shm ]] && [[ $(stat -f -c %T /dev/shm) == tmpfs ]]; then
  SHM_DIR="$(mktemp -d /dev/shm/hermes-peers.XXXXXX)"
  next_port; P_SHM=$NEXT_PORT; launch_hermes "$P_SHM" "$P_UP" hermes-shm "$SHM_DIR"; SHM_PID=$STARTED_PID
else
  log "no writable tmpfs at /dev/shm: hermes-new-shm is left out"
fi
# BENCH_BASELINE_BIN: the older build, same config, its own HERMES_HOME and port, state on disk.
BASE_PID=""; P_BASE=""
if [[ -n $BASELINE_BIN ]]; then
  next_port; P_BASE=$NEXT_PORT; launch_baseline "$P_BASE" "$P_UP"; BASE_PID=$STARTED_PID
fi
log "serving: upstream :$P_UP (pid $UP_PID), nginx :$P_NGX ($NGX_PID), portkey :$P_PK ($PK_PID), hermes :$P_HM ($HM_PID), hermes-shm :${P_SHM:--} (${SHM_PID:--})$([[ -n $BASE_PID ]] && echo ", hermes-baseline :$P_BASE ($BASE_PID)")"

PORTKEY_HEADERS="x-portkey-provider: openai|x-portkey-custom-host: http://127.0.0.1:$P_UP/v1"
declare -A PORT=([direct]=$P_UP [nginx]=$P_NGX [portkey]=$P_PK [hermes-new]=$P_HM [hermes-continued]=$P_HM [hermes-new-shm]=$P_SHM)
declare -A PID=([direct]=$UP_PID [nginx]=$NGX_PID [portkey]=$PK_PID [hermes-new]=$HM_PID [hermes-continued]=$HM_PID [hermes-new-shm]=$SHM_PID)
declare -A HDRS=([direct]="" [nginx]="" [portkey]="$PORTKEY_HEADERS" [hermes-new]="" [hermes-continued]="" [hermes-new-shm]="")
TARGETS=(direct nginx portkey hermes-new hermes-continued)
[[ -n $SHM_PID ]] && TARGETS+=(hermes-new-shm)
if [[ -n $BASE_PID ]]; then
  PORT[hermes-new@baseline]=$P_BASE; PORT[hermes-continued@baseline]=$P_BASE
  PID[hermes-new@baseline]=$BASE_PID; PID[hermes-continued@baseline]=$BASE_PID
  HDRS[hermes-new@baseline]=""; HDRS[hermes-continued@baseline]=""
  # each right after its counterpart, so the pair runs back to back in every rotation
  TARGETS=(direct nginx portkey hermes-new hermes-new@baseline hermes-continued hermes-continued@baseline)
  [[ -n $SHM_PID ]] && TARGETS+=(hermes-new-shm)
fi
declare -A PROC_PID=([upstream]=$UP_PID [nginx]=$NGX_PID [portkey]=$PK_PID [hermes]=$HM_PID [hermes-shm]=$SHM_PID [hermes-baseline]=$BASE_PID)
PROC_NAMES=(upstream nginx portkey hermes hermes-shm hermes-baseline)
is_continued() { [[ $1 == hermes-continued || $1 == hermes-continued@baseline ]]; }

sleep 0.5  # let start-up work settle before the idle RSS
PROCS_FILE="$WORK/procs.jsonl"
for name in "${PROC_NAMES[@]}"; do
  p=${PROC_PID[$name]}
  [[ -n $p ]] || continue
  echo "{\"process\":\"$name\",\"rss_idle_kb\":$(rss_kb "$p"),\"nprocs\":$(with_children "$p" | wc -l)}" >>"$PROCS_FILE"
done

# --- 3b. preflight: every target answers correctly, plain and streamed ------------------------
seed_sessions() {  # seed_sessions COUNT FILE [PORT]: on the main gateway, or the one on PORT
  node "$here/seed.mjs" --url "http://127.0.0.1:${3:-$P_HM}" --count "$1" --out "$2" --concurrency 8 2>>"$WORK/seed.log"
}
preflight_sessions() {  # preflight_sessions TARGET: the file of sessions seeded for its preflight
  if [[ $1 == *@baseline ]]; then echo "$WORK/preflight-baseline.sessions"; else echo "$WORK/preflight.sessions"; fi
}
preflight() {  # preflight TARGET STREAM
  local t=$1 stream=$2 args=() h code expect
  args=(-sS --max-time 5 -o "$WORK/preflight.body" -w '%{http_code}' -H 'Content-Type: application/json'
        -H 'Authorization: Bearer sk-bench')
  if [[ -n ${HDRS[$t]} ]]; then
    IFS='|' read -r -a hs <<<"${HDRS[$t]}"
    for h in "${hs[@]}"; do args+=(-H "$h"); done
  fi
  if is_continued "$t"; then
    if [[ ! -s $(preflight_sessions "$t") ]]; then
      echo "{\"target\":\"$t\",\"stream\":$stream,\"ok\":false,\"detail\":\"no sessions could be seeded (see seed.log)\"}" >>"$WORK/preflight.jsonl"
      return 1
    fi
    args+=(-H "X-Hermes-Session-Id: $(head -n 1 "$(preflight_sessions "$t")")")
  fi
  [[ $stream == 1 ]] && expect='[DONE]' || expect='bench upstream.'
  code=$(curl "${args[@]}" -d "{\"model\":\"demo-model\",\"messages\":[{\"role\":\"user\",\"content\":\"preflight\"}],\"stream\":$([[ $stream == 1 ]] && echo true || echo false)}" \
    "http://127.0.0.1:${PORT[$t]}/v1/chat/completions" 2>&1) || true
  if [[ $code != 200 ]] || ! grep -qF -- "$expect" "$WORK/preflight.body"; then
    echo "{\"target\":\"$t\",\"stream\":$stream,\"ok\":false,\"detail\":$(node -e 'console.log(JSON.stringify(process.argv[1]))' "HTTP $code: $(head -c 300 "$WORK/preflight.body" 2>/dev/null)")}" >>"$WORK/preflight.jsonl"
    return 1
  fi
  echo "{\"target\":\"$t\",\"stream\":$stream,\"ok\":true}" >>"$WORK/preflight.jsonl"
}
log "preflight"
seed_sessions 4 "$WORK/preflight.sessions" || die "could not seed hermes sessions (see $WORK/seed.log)"
if [[ -n $BASE_PID ]]; then  # no sessions on the baseline: its preflight for continued fails below
  seed_sessions 4 "$(preflight_sessions hermes-continued@baseline)" "$P_BASE" ||
    log "could not seed sessions on the baseline gateway (see $WORK/seed.log)"
fi
declare -A OK
for t in "${TARGETS[@]}"; do
  OK[$t]=1
  preflight "$t" 0 || { OK[$t]=0; log "preflight failed: $t plain"; }
  preflight "$t" 1 || { OK[$t]=0; log "preflight failed: $t streamed"; }
done

# --- 3c. rounds: every case, every target, alternating ----------------------------------------
CASES=("c1-plain 1 1 0" "c1-stream 1 1 1" "c32-plain 32 2 0" "c32-stream 32 2 1")
((QUICK)) && CASES=("c1-plain 1 1 0" "c32-plain 32 2 0")
RUNS_FILE="$WORK/runs.jsonl"
: >"$RUNS_FILE"
run_wrk() {  # run_wrk ROUND CASE TARGET CONNS THREADS STREAM
  local r=$1 cname=$2 t=$3 c=$4 th=$5 stream=$6 sessions="" out line c0 c1 u0 u1
  local p
  for p in "${PID[$t]}" "$UP_PID"; do  # a target or the upstream gone: stop here, not 60 bad runs later
    kill -0 "$p" 2>/dev/null || die "$t: process $p is gone (logs in $WORK)"
  done
  if [[ $t == hermes-continued ]]; then
    sessions="$WORK/sessions.$r.$cname.txt"
    seed_sessions "$SESSIONS" "$sessions" || { log "seeding failed for $cname round $r"; return 0; }
  elif [[ $t == hermes-continued@baseline ]]; then
    sessions="$WORK/sessions.$r.$cname.baseline.txt"
    seed_sessions "$SESSIONS" "$sessions" "$P_BASE" || { log "seeding failed for $t $cname round $r"; return 0; }
  fi
  c0=$(cpu_ticks "${PID[$t]}"); u0=$(cpu_ticks "$UP_PID")
  out=$(BENCH_STREAM=$stream BENCH_THREADS=$th BENCH_HEADERS="${HDRS[$t]}" BENCH_SESSIONS="$sessions" \
    timeout --foreground $((DURATION + 30)) wrk -t"$th" -c"$c" -d"${DURATION}s" --timeout 5s -s "$here/chat.lua" \
    "http://127.0.0.1:${PORT[$t]}" 2>&1) || true
  c1=$(cpu_ticks "${PID[$t]}"); u1=$(cpu_ticks "$UP_PID")
  line=$(grep '^BENCH_RESULT ' <<<"$out" | head -n 1 | sed 's/^BENCH_RESULT //') || true
  if [[ -z $line ]]; then
    log "wrk gave no result for $t $cname: $(head -c 300 <<<"$out")"
    line='null'
  fi
  echo "{\"round\":$r,\"case\":\"$cname\",\"target\":\"$t\",\"conns\":$c,\"threads\":$th,\"stream\":$stream,\"cpu_ticks\":$((c1 - c0)),\"upstream_ticks\":$((u1 - u0)),\"sessions\":$([[ -n $sessions ]] && echo "$SESSIONS" || echo 0),\"wrk\":$line}" >>"$RUNS_FILE"
}

load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= ROUNDS; r++)); do
  for spec in "${CASES[@]}"; do
    read -r cname c th stream <<<"$spec"
    n=${#TARGETS[@]}
    for ((k = 0; k < n; k++)); do
      t=${TARGETS[$(((k + r - 1) % n))]}  # the order rotates each round
      [[ ${OK[$t]} == 1 ]] || continue
      log "round $r/$ROUNDS $cname $t"
      run_wrk "$r" "$cname" "$t" "$c" "$th" "$stream"
    done
  done
done
for name in "${PROC_NAMES[@]}"; do
  p=${PROC_PID[$name]}
  [[ -n $p ]] || continue
  echo "{\"process\":\"$name\",\"rss_after_kb\":$(rss_kb "$p")}" >>"$PROCS_FILE"
done

# --- 3d. streamed first-token pass-through -----------------------------------------------------
if ((QUICK)); then
  log "quick: no first-token test"
else
log "first-token pass-through: $TTFC_ROUNDS rounds, first chunk then ${TTFC_DELAY_MS} ms"
ttfc_targets=$(node -e '
  const [up, ngx, pk, hm, base] = process.argv.slice(1);
  const path = "/v1/chat/completions";
  console.log(JSON.stringify([
    { name: "direct", url: `http://127.0.0.1:${up}${path}` },
    { name: "nginx", url: `http://127.0.0.1:${ngx}${path}` },
    { name: "portkey", url: `http://127.0.0.1:${pk}${path}`,
      headers: { "x-portkey-provider": "openai", "x-portkey-custom-host": `http://127.0.0.1:${up}/v1` } },
    { name: "hermes-new", url: `http://127.0.0.1:${hm}${path}` },
    ...(base ? [{ name: "hermes-new@baseline", url: `http://127.0.0.1:${base}${path}` }] : []),
  ]));' "$P_UP" "$P_NGX" "$P_PK" "$P_HM" "$P_BASE")
timeout 300 node "$here/ttfc.mjs" --targets "$ttfc_targets" --rounds "$TTFC_ROUNDS" \
  --delay-ms "$TTFC_DELAY_MS" --out "$WORK/ttfc.json" || log "ttfc.mjs failed"
fi

# --- stop everything, then the report -----------------------------------------------------------
stop_launchers "${LAUNCHERS[@]}"
LAUNCHERS=()
grep -E 'error|warn|emerg|crit|alert' "$WORK"/nginx.*/error.log 2>/dev/null | head -n 5 >"$WORK/nginx-errors.txt" || true
cat "$WORK/hermes.log" "$WORK/hermes-shm.log" 2>/dev/null | grep -vE '^<6>' | head -n 20 >"$WORK/hermes-errors.txt" || true
if [[ -n $BASELINE_BIN ]]; then
  grep -vE '^<6>' "$WORK/hermes-baseline.log" 2>/dev/null | head -n 20 >"$WORK/hermes-baseline-errors.txt" || true
fi

run_seconds=$(($(date +%s) - run_started))
node -e '
  const fs = require("fs"); const [file, ...kv] = process.argv.slice(1); const meta = {};
  for (let i = 0; i < kv.length; i += 2) meta[kv[i]] = kv[i + 1];
  fs.writeFileSync(file, JSON.stringify(meta, null, 2) + "\n");' "$WORK/meta.json" \
  date "$(date -u '+%Y-%m-%d %H:%M UTC')" commit "$commit" src_dirty "$dirty" \
  cores "$(nproc)" cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
  load_at_start "$load_at_start" rounds "$ROUNDS" duration_s "$DURATION" sessions "$SESSIONS" \
  starts "$STARTS" ttfc_rounds "$TTFC_ROUNDS" ttfc_delay_ms "$TTFC_DELAY_MS" clk_tck "$CLK_TCK" \
  run_seconds "$run_seconds" quick "$QUICK" \
  wrk "$(wrk --version 2>&1 | head -n 1 | awk '{print $2}')" \
  nginx "$("$NGINX" -v 2>&1 | sed 's|.*nginx/||')" node "$(node --version)" \
  portkey "$(node -p "require('$here/node_modules/@portkey-ai/gateway/package.json').version")" \
  hono_node_server "$(node -p "require('$here/node_modules/@hono/node-server/package.json').version")" \
  hermes "$("$HERMES_BIN" --version 2>&1 | head -n 1)" \
  ${BIN_GIVEN:+hermes_bin "$BIN_GIVEN"} \
  ${BASELINE_BIN:+hermes_baseline "$("$BASELINE_BIN" --version 2>&1 | head -n 1)"} \
  ${BASELINE_BIN:+hermes_baseline_bin "$BASELINE_BIN"} \
  ${BASELINE_BIN:+hermes_baseline_label "$BASELINE_LABEL"}

mkdir -p "$here/results"
if ((QUICK)); then
  node "$here/report.mjs" --work "$WORK" --md "$here/results/quick.md" --json "$WORK/quick.json"
  cat "$here/results/quick.md"
  log "done in ${run_seconds}s: bench/peers/results/quick.md"
  node "$here/guard.mjs" --work "$WORK" --baseline "$here/baseline.json"
else
  node "$here/report.mjs" --work "$WORK" --md "$here/results/latest.md" --json "$here/results/latest.json"
  cat "$here/results/latest.md"
  log "done in ${run_seconds}s: bench/peers/results/latest.md"
fi
