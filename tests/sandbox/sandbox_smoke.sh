#!/usr/bin/env bash
# Attacks a built hermes-sandbox and checks that it holds, printing PASS/FAIL per case and
# exiting 1 on any FAIL. LIMIT lines show known gaps; they never fail the run.
#
#   tests/sandbox/sandbox_smoke.sh path/to/hermes-sandbox
#
# As root it runs every case three ways: as root without --run-as (the sandbox drops every
# capability, but root owns the host's secrets, so Landlock alone guards them), with --run-as
# 65534:65534 (what the gateway does as root), and launched as uid 65534 through setpriv (the
# unprivileged path: --network none falls back to a user namespace). As another user it runs
# them once, as that user.

# The single-quoted scripts are for the sandboxed shell to expand, not this one.
# shellcheck disable=SC2016
set -u

if [[ $# -ne 1 || ! -x $1 ]]; then
  echo "usage: $0 path/to/hermes-sandbox" >&2
  exit 2
fi
BIN=$(realpath "$1")
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3 || true)
[[ -n $PY ]] || { echo "FAIL  python3 is required (scripts/setup.sh installs it)"; exit 1; }
NOBODY=65534

T=$(mktemp -d /tmp/hermes-sandbox-smoke.XXXXXX)
HOME_DIR=$T/home
WS=$HOME_DIR/workspace
TMPD=$T/tmp-private
HOST_PIDS=()
failures=0

cleanup() {
  for pid in "${HOST_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  # Only a broken sandbox lets the mount case mount anything.
  if [[ $EUID -eq 0 ]]; then while umount -q "$WS/m" 2>/dev/null; do :; done; fi
  rm -rf "$T" "/tmp/$(basename "$T")-x"
}
trap cleanup EXIT

pass() { echo "PASS  $*"; }
fail() {
  echo "FAIL  $*"
  failures=$((failures + 1))
}
skip() { echo "SKIP  $*"; }
limit() { echo "LIMIT $*"; }

# A fake hermes home around the workspace. The secrets are world-readable on purpose, so only
# the sandbox stands between them and the command.
setup_home() {
  mkdir -p "$WS" "$TMPD"
  echo 'api_key: sk-smoke-config-secret' >"$HOME_DIR/config.yaml"
  echo 'OPENAI_API_KEY=sk-smoke-env-secret' >"$HOME_DIR/.env"
  head -c 4096 /dev/urandom >"$HOME_DIR/state.db"
  chmod 644 "$HOME_DIR/config.yaml" "$HOME_DIR/.env" "$HOME_DIR/state.db"
  chmod 755 "$T" "$HOME_DIR"
  if [[ $EUID -eq 0 ]]; then
    chown -R "$NOBODY:$NOBODY" "$WS" "$TMPD"
    # Root mode runs without capabilities, so it needs the mode bits too.
    chmod 777 "$WS" "$TMPD"
  fi
}

# sandbox_argv MODE: sets ARGV to a command line that runs BIN the way the gateway does.
sandbox_argv() {
  local -a launcher=() extra=()
  case $1 in
    run-as) extra=(--run-as "$NOBODY:$NOBODY") ;;
    nobody) launcher=(setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups) ;;
  esac
  ARGV=(env -i PATH=/usr/bin:/bin HOME="$WS" LANG=C.UTF-8 TERM=dumb "${launcher[@]}"
    "$BIN" --workspace "$WS" --tmp "$TMPD" "${extra[@]}")
}

# sandbox MODE [sandbox options] -- PROGRAM ARGS
sandbox() {
  sandbox_argv "$1"
  shift
  "${ARGV[@]}" "$@"
}

# host_as MODE: sets AS to a prefix that runs a host process with the sandboxed command's uid.
host_as() {
  AS=(env)
  if [[ $1 != root && $EUID -eq 0 ]]; then
    AS=(setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups)
  fi
}

# expect NAME MODE WANT [sandbox options] -- PROGRAM ARGS: passes when a line of the output is
# exactly WANT. Attacks print what happened, so a sandbox failure can never pass as a denial.
expect() {
  local name=$1 mode=$2 want=$3
  shift 3
  local out rc
  out=$(sandbox "$mode" "$@" 2>&1)
  rc=$?
  if grep -qxF -- "$want" <<<"$out"; then
    pass "[$mode] $name"
  else
    fail "[$mode] $name: wanted '$want', rc=$rc, got: $(head -c 400 <<<"$out" | tr '\n' '|')"
  fi
}

# run_bash NAME MODE WANT [sandbox options] -- SCRIPT [ARGS]: expect with `bash -c SCRIPT`.
run_bash() {
  local name=$1 mode=$2 want=$3
  shift 3
  local -a opts=()
  while [[ $1 != -- ]]; do
    opts+=("$1")
    shift
  done
  shift
  local script=$1
  shift
  expect "$name" "$mode" "$want" "${opts[@]}" -- bash -c "$script" bash "$@"
}

check_files() {
  local mode=$1
  for secret in config.yaml .env state.db; do
    run_bash "read ../$secret" "$mode" DENIED -- "cat ../$secret && echo LEAKED || echo DENIED"
  done
  run_bash "list the hermes home" "$mode" DENIED -- 'ls .. && echo LEAKED || echo DENIED'
  run_bash "read /etc/shadow" "$mode" DENIED -- 'cat /etc/shadow && echo LEAKED || echo DENIED'
  # Names under /etc stay listable (the /etc rule's READ_DIR reaches down); contents do not.
  if [[ -d /etc/ssh ]]; then
    run_bash "read files in /etc/ssh" "$mode" DENIED -- \
      'n=0; for f in /etc/ssh/*; do [[ -f $f ]] && cat "$f" >/dev/null && n=1; done; ((n)) && echo LEAKED || echo DENIED'
  fi
  run_bash "read /etc/os-release" "$mode" READ -- 'grep -q "^ID=" /etc/os-release && echo READ'
  run_bash "write /tmp" "$mode" DENIED -- 'echo x >"$1" && echo WROTE || echo DENIED' \
    "/tmp/$(basename "$T")-x"
  run_bash "write the workspace" "$mode" WROTE -- 'echo x >"$PWD/x" && cat x >/dev/null && rm x && echo WROTE'
  run_bash "write the tmp dir" "$mode" WROTE -- 'echo y >"$1/y" && rm "$1/y" && echo WROTE' "$TMPD"
  for dir in /root /home /var /sys /run; do
    run_bash "list $dir" "$mode" DENIED -- "ls $dir && echo LEAKED || echo DENIED"
  done
  run_bash "write /proc/sys" "$mode" DENIED -- \
    'v=$(cat /proc/sys/kernel/hostname); echo "$v" >/proc/sys/kernel/hostname && echo WROTE || echo DENIED'
  run_bash "write /dev/null" "$mode" OK -- 'echo hi >/dev/null && head -c 4 /dev/urandom >/dev/null && echo OK'
}

check_programs() {
  local mode=$1 uid=$NOBODY
  [[ $mode == root || $EUID -ne 0 ]] && uid=$EUID
  expect "/usr/bin/id runs" "$mode" "$uid" -- /usr/bin/id -u
  run_bash "pipelines and background jobs" "$mode" b -- 'sleep 0.2 & wait $! && echo a | tr a b'
  run_bash "timeout --foreground" "$mode" rc=124 -- 'timeout --foreground 0.5 sleep 5; echo rc=$?'
  # The output pipes are this script's, as they are the gateway's. Not in nobody mode: there
  # they are root's while the sandbox is not, which no real gateway setup produces.
  if [[ $mode != nobody ]]; then
    run_bash "reopen stdio pipes" "$mode" STDIO_OK -- \
      'echo x >/dev/stderr && echo x | tee /dev/stdout >/dev/null && echo STDIO_OK'
  fi
}

check_namespaces() {
  local mode=$1
  run_bash "unshare -r" "$mode" DENIED -- 'unshare -r true && echo ESCAPED || echo DENIED'
  run_bash "unshare -n" "$mode" DENIED -- 'unshare -n true && echo ESCAPED || echo DENIED'
  run_bash "mount tmpfs" "$mode" DENIED -- 'mkdir -p m && mount -t tmpfs x m && echo MOUNTED || echo DENIED'
  run_bash "setsid" "$mode" STAYED -- 'setsid -w true && echo LEFT || echo STAYED'
}

check_syscalls() {
  local mode=$1
  [[ -n $PY ]] || return 0
  expect "denied syscalls" "$mode" ALL_DENIED -- python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(512)
cases = {  # name: (want errno, syscall number and args on x86_64)
    "ptrace": (1, 101, 0, 0, 0, 0), "process_vm_readv": (1, 310, os.getpid(), 0, 0, 0, 0, 0),
    "io_uring_setup": (1, 425, 1, buf), "bpf": (1, 321, 0, buf, 16),
    "keyctl": (1, 250, 0, 0), "perf_event_open": (1, 298, buf, 0, -1, -1, 0),
    "userfaultfd": (1, 323, 0), "clone3": (38, 435, buf, 1),
    "clone(CLONE_NEWUSER)": (1, 56, 0x10010000, 0, 0, 0, 0),
    "personality(ADDR_NO_RANDOMIZE)": (1, 135, 0x0040000),
    "personality(PER_LINUX32)": (1, 135, 8), "setsid": (1, 112),
    "setpgid(0,0)": (1, 109, 0, 0), "ioctl(TIOCSTI)": (1, 16, -1, 0x5412, buf),
    "ioctl(TIOCSTI, high bits)": (1, 16, -1, 0x100005412, buf),
    "open_by_handle_at": (1, 304, -100, buf, 0), "setns": (1, 308, 0, 0),
}
bad = []
for name, (want, *call) in cases.items():
    r = libc.syscall(*[ctypes.c_long(a) if isinstance(a, int) else a for a in call])
    if r != -1 or ctypes.get_errno() != want:
        bad.append(f"{name}: {r} {os.strerror(ctypes.get_errno())}")
if libc.syscall(135, ctypes.c_long(0xffffffff)) == -1: bad.append("personality query refused")
print("\n".join(bad) or "ALL_DENIED")'
  run_bash "x32 syscall is killed" "$mode" rc=159 -- \
    'python3 -c "import ctypes; ctypes.CDLL(None).syscall(0x40000000 | 39)"; echo rc=$?'
  local int80='import mmap, ctypes
m = mmap.mmap(-1, 4096, prot=7); m.write(b"\xb8\x14\x00\x00\x00\xcd\x80\xc3")
ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))()'
  if bash -c '"$@"; exit $?' bash "$PY" -c "$int80" >/dev/null 2>&1; then
    run_bash "i386 int 0x80 is killed" "$mode" rc=159 -- 'python3 -c "$1"; echo rc=$?' "$int80"
  else
    skip "[$mode] i386 int 0x80: this kernel has no 32-bit syscall entry"
  fi
}

# A host process of the sandboxed command's uid, with a secret in its environment: the command
# must neither signal it nor read its /proc entries. Same uid, so only Landlock stops it.
check_host_process() {
  local mode=$1
  host_as "$mode"
  "${AS[@]}" env HERMES_SMOKE_SECRET=smoke-environ-secret sleep 300 &
  local pid=$!
  HOST_PIDS+=("$pid")
  sleep 0.1
  run_bash "read a host process's environ" "$mode" DENIED -- \
    'tr "\0" "\n" <"/proc/$1/environ" | grep -q smoke-environ && echo LEAKED || echo DENIED' "$pid"
  run_bash "kill a host process" "$mode" DENIED -- 'kill -TERM "$1" && echo KILLED || echo DENIED' "$pid"
  if kill -0 "$pid" 2>/dev/null; then
    pass "[$mode] host process survived"
  else
    fail "[$mode] host process was killed"
  fi
  kill "$pid" 2>/dev/null
}

# A host listener on an abstract unix socket, like systemd's notify socket.
check_abstract_socket() {
  local mode=$1 name="hermes-smoke-$RANDOM$RANDOM"
  [[ -n $PY ]] || return 0
  host_as "$mode"
  "${AS[@]}" "$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind("\0" + sys.argv[1]); s.listen(); time.sleep(300)' "$name" &
  HOST_PIDS+=($!)
  sleep 0.3
  local connect='import socket, sys
try:
    s = socket.socket(socket.AF_UNIX)
    s.connect("\0" + sys.argv[1]); print("CONNECTED")
except OSError as e:
    print("DENIED")'
  if [[ $("$PY" -c "$connect" "$name") != CONNECTED ]]; then
    fail "[$mode] abstract socket: the host cannot reach its own listener"
    return
  fi
  expect "reach a host abstract socket" "$mode" DENIED -- python3 -c "$connect" "$name"
  kill "${HOST_PIDS[-1]}" 2>/dev/null
}

# Pathname unix sockets: Landlock (ABI <= 7) does not mediate connect(), so a host socket whose
# file permissions allow it is reachable. Shown, not failed.
show_pathname_socket() {
  local mode=$1 path="$T/host.sock"
  [[ -n $PY && $mode == "${modes[0]}" ]] || return 0
  "$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); time.sleep(300)' "$path" &
  HOST_PIDS+=($!)
  sleep 0.3
  local out
  out=$(sandbox "$mode" -- python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); print("CONNECTED")
except OSError as e:
    print("DENIED", e)' "$path" 2>&1)
  limit "[$mode] connect to a host pathname unix socket outside the workspace: $out"
  kill "${HOST_PIDS[-1]}" 2>/dev/null
}

check_network() {
  local mode=$1
  [[ -n $PY ]] || return 0
  "$PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
while True: s.accept()[0].close()' >"$T/port" &
  HOST_PIDS+=($!)
  local port="" tries=0
  while [[ -z $port && $tries -lt 50 ]]; do
    sleep 0.1
    port=$(cat "$T/port")
    tries=$((tries + 1))
  done
  local dial='exec 3<>"/dev/tcp/127.0.0.1/$1" && echo CONNECTED || echo REFUSED'
  run_bash "host loopback, --network all" "$mode" CONNECTED -- "$dial" "$port"
  run_bash "host loopback, --network none" "$mode" REFUSED --network none -- "$dial" "$port"
  expect "own loopback, --network none" "$mode" LO_OK --network none -- python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
socket.create_connection(s.getsockname()).close(); print("LO_OK")'
  kill "${HOST_PIDS[-1]}" 2>/dev/null
}

check_limits() {
  local mode=$1
  if [[ -n $PY ]]; then
    run_bash "10 GiB allocation, --memory-mb 1024" "$mode" MEMORY_LIMITED --memory-mb 1024 -- \
      'python3 -c "b = bytearray(10 * 1024**3)" 2>&1 | grep -q MemoryError && echo MEMORY_LIMITED'
  fi
  run_bash "2 MB file, --file-size-mb 1" "$mode" CAPPED --file-size-mb 1 -- \
    'head -c 2000000 /dev/zero >big; rc=$?; [[ $rc -ne 0 && $(stat -c %s big) -le 1048576 ]] && echo CAPPED; rm big'
  local rc
  sandbox_argv "$mode"
  "${ARGV[@]}" --check
  rc=$?
  if [[ $rc -eq 0 ]]; then pass "[$mode] --check"; else fail "[$mode] --check exited $rc"; fi
}

# The fork bomb gets its own process group, runs into --processes for a while, then has its
# group killed, as the gateway does on timeout. Nothing may outlive that: setsid and setpgid
# are denied. Root is exempt from RLIMIT_NPROC, hence not in root mode.
check_fork_bomb() {
  local mode=$1 uid=$NOBODY
  [[ $mode == root ]] && return 0
  [[ $EUID -ne 0 ]] && uid=$EUID
  local before peak=0 count left
  before=$(pgrep -c -u "$uid")
  sandbox_argv "$mode"
  setsid "${ARGV[@]}" --processes 64 -- bash -c ':(){ :|:& };:' >/dev/null 2>&1 &
  local group=$!
  for _ in $(seq 20); do
    sleep 0.25
    count=$(pgrep -c -u "$uid")
    ((count > peak)) && peak=$count
  done
  kill -KILL -- "-$group" 2>/dev/null
  for _ in $(seq 50); do
    left=$(pgrep -c -u "$uid")
    ((left <= before)) && break
    sleep 0.1
  done
  if ((peak <= 64 + before && left <= before)) && bash -c 'true'; then
    pass "[$mode] fork bomb, --processes 64: peaked at $peak processes, none left after the group kill"
  else
    fail "[$mode] fork bomb: peaked at $peak processes, $left of uid $uid left (was $before)"
  fi
}

check_usage() {
  local rc
  "$BIN" --workspace "$WS" >/dev/null 2>&1
  rc=$?
  if [[ $rc -eq 2 ]]; then pass "bad usage exits 2"; else fail "bad usage exited $rc"; fi
  "$BIN" --workspace /nonexistent --tmp "$TMPD" -- true 2>"$T/err"
  rc=$?
  if [[ $rc -eq 126 ]] && grep -q '^hermes-sandbox: ' "$T/err"; then
    pass "could not confine exits 126"
  else
    fail "could not confine exited $rc: $(cat "$T/err")"
  fi
  "$BIN" --workspace "$WS" --tmp "$TMPD" -- no-such-program-xyz 2>/dev/null
  rc=$?
  if [[ $rc -eq 127 ]]; then
    pass "missing program exits 127"
  else
    fail "missing program exited $rc"
  fi
}

show_timeout_caveat() {
  local out
  out=$(sandbox "${modes[0]}" -- bash -c 'timeout 0.5 sleep 5; echo "after timeout rc=$?"' 2>&1 </dev/null)
  [[ $out == *"after timeout"* ]] || limit "plain 'timeout' (no --foreground) kills the whole command: setpgid is denied, so it signals the gateway's group"
}

setup_home
if [[ $EUID -eq 0 ]]; then modes=(root run-as nobody); else modes=(self); fi
check_usage
for mode in "${modes[@]}"; do
  check_files "$mode"
  check_programs "$mode"
  check_namespaces "$mode"
  check_syscalls "$mode"
  check_host_process "$mode"
  check_abstract_socket "$mode"
  show_pathname_socket "$mode"
  check_network "$mode"
  check_limits "$mode"
  check_fork_bomb "$mode"
done
show_timeout_caveat
echo "$failures failure(s)"
[[ $failures -eq 0 ]]
