#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang + ASan + UBSan) and runs each for N seconds
# (default 60) on its seed corpus in fuzz/corpus/<target>; new inputs that grow coverage are
# kept in build/fuzz/corpus/<target>, crashes in build/fuzz/crashes/. Exits 1 on a crash.
#   scripts/fuzz.sh [seconds-per-target] [target ...]
#   scripts/fuzz.sh --regress    every seed (and every past crash in fuzz/corpus) once, no
#                                mutation: deterministic, what CI runs (scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

regress=0
if [[ ${1:-} == --regress ]]; then
  regress=1
  shift
fi
seconds=${1:-60}
shift || true
if ! command -v clang++-14 >/dev/null && ! command -v clang++ >/dev/null; then
  echo "fuzz: installing clang (libFuzzer)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends clang
fi
cxx=$(command -v clang++-14 || command -v clang++)
./scripts/setup.sh --build-only >/dev/null
# Paths hashed relative to the clone: every clone and worktree shares one cache.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
cmake -S fuzz -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
cmake --build build/fuzz

targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(classifier redact config api_request http_request json_text mcp_messages
    responses_request stream_event chat_text telegram_updates anthropic_stream messages_request
    discord_events slack_events webhook_template cron_schedule)
fi
mkdir -p build/fuzz/crashes
failed=0
for target in "${targets[@]}"; do
  if ((regress)); then
    echo "== fuzz_$target: the seed corpus, once =="
    if ! build/fuzz/fuzz_"$target" -runs=0 fuzz/corpus/"$target" >build/fuzz/"$target".log 2>&1; then
      echo "fuzz_$target: a seed crashes (see build/fuzz/$target.log)"
      failed=1
    fi
    continue
  fi
  corpus=build/fuzz/corpus/$target
  mkdir -p "$corpus"
  echo "== fuzz_$target: ${seconds}s =="
  if ! build/fuzz/fuzz_"$target" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build/fuzz/crashes/"$target"- \
      "$corpus" fuzz/corpus/"$target" 2>build/fuzz/"$target".log; then
    echo "fuzz_$target: CRASH (see build/fuzz/$target.log and build/fuzz/crashes/)"
    failed=1
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' build/fuzz/"$target".log | tr '\n' ' '
  echo
done
exit $failed
