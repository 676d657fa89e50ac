#!/usr/bin/env bash
# Sets up, builds and runs every test: the normal build (unit, integration, shared store,
# systemd), the fuzz targets over their seed corpora and a few seconds of mutation each, the
# ASan+UBSan build of the unit tests, and the integration suites that exercise memory-heavy
# paths against the ASan+UBSan daemon. This is what CI runs (.ci/run); it prints how long each
# part took.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

started=$SECONDS
part() {  # part NAME: closes the previous part with its time, opens the next
  if [[ -n ${part_name:-} ]]; then echo "== $part_name: $((SECONDS - part_started)) s =="; fi
  part_name=$1
  part_started=$SECONDS
  [[ -n $part_name ]] && echo "== $part_name =="
  return 0
}

part "build (dev)"
cmake --preset dev >/dev/null
cmake --build --preset dev
part "tests (dev)"
ctest --preset dev

part "fuzz targets over their seed corpora (clang, ASan+UBSan; mutation runs: scripts/fuzz.sh N)"
./scripts/fuzz.sh --regress
part "fuzz smoke: 2 s of mutation per target (longer runs: scripts/fuzz.sh N)"
./scripts/fuzz.sh 2

part "build (asan: the unit tests, the daemon and the CLI under ASan+UBSan)"
cmake --preset asan >/dev/null
cmake --build --preset asan
part "tests (asan: unit)"
ctest --preset asan
part "tests (asan-daemon: memory-heavy integration suites against the ASan+UBSan daemon)"
echo "== (everything before this part took $((SECONDS - started)) s) =="
ctest --preset asan-daemon
