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

# CI builds once, optimised without debug info (the bench preset: -O2, as fast to compile as
# -O0 with -g; the suites' and benches' own process-driving code at -O0): the integration
# suites run on it and the bench guard measures it. The unit and
# store tests are built and run under ASan+UBSan only (below).
part "build (bench preset, -O2: the daemon, the CLI, the integration suites and the benches)"
cmake --preset bench >/dev/null
cmake --build --preset bench --target hermes-gateway hermes hermes_integration_tests \
  hermes_shared_tests hermes_systemd_tests $(sed -nE 's/^hermes_(process_)?bench\(([a-z_]+) .*/\2/p' bench/CMakeLists.txt)
# The suites asan-daemon runs (turns, tools, chat platforms, ...) run there only, against the
# ASan+UBSan daemon: once each, not twice (CMakePresets.json, test preset ci).
part "tests (integration, shared store, systemd)"
ctest --preset ci

part "bench guard (bench/peers/run.sh --quick: this hermes-gateway next to nginx and Portkey, one short round)"
BENCH_BIN=build/bench/src/daemon/hermes-gateway bench/peers/run.sh --quick

part "fuzz targets over their seed corpora (clang, ASan+UBSan; mutation runs: scripts/fuzz.sh N)"
./scripts/fuzz.sh --regress
part "fuzz smoke: 1 s of mutation per target (longer runs: scripts/fuzz.sh N)"
./scripts/fuzz.sh 1

part "build (asan: the unit tests, with the CLI's pieces, and the daemon under ASan+UBSan)"
cmake --preset asan >/dev/null
cmake --build --preset asan
part "tests (asan: unit)"
ctest --preset asan
part "tests (asan-daemon: memory-heavy integration suites against the ASan+UBSan daemon)"
echo "== (everything before this part took $((SECONDS - started)) s) =="
ctest --preset asan-daemon
