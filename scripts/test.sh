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

# The unit and store tests are built and run under ASan+UBSan only (below): building them a
# second time at -O0 found nothing the ASan run does not.
part "build (dev: the daemon, the CLI, the integration suites and the benches)"
cmake --preset dev >/dev/null
cmake --build --preset dev --target hermes-gateway hermes hermes_integration_tests \
  hermes_shared_tests hermes_systemd_tests $(sed -nE 's/^hermes_bench\(([a-z_]+) .*/\1/p' bench/CMakeLists.txt)
part "tests (dev: integration, shared store, systemd)"
# (gtest_discover_tests stands in an unbuilt executable's tests with one "<name>_NOT_BUILT".)
ctest --preset dev -LE unit -E '^hermes_(unit|store)_tests_NOT_BUILT$'

part "bench guard (bench/peers/run.sh --quick: release hermes-gateway next to nginx and Portkey, one short round)"
bench/peers/run.sh --quick

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
