#!/usr/bin/env bash
# Sets up, builds and runs every test: the normal build (unit + integration) and the
# ASan+UBSan build of the unit and integration tests. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

echo "== build (dev) =="
cmake --preset dev >/dev/null
cmake --build --preset dev
echo "== tests (dev) =="
ctest --preset dev

echo "== build (asan: ASan+UBSan unit and integration tests) =="
cmake --preset asan >/dev/null
cmake --build --preset asan
echo "== tests (asan) =="
ctest --preset asan
