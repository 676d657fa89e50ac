#!/usr/bin/env bash
# Sets up, builds and runs every test: the normal build (unit + integration), the fuzz
# targets over their seed corpora and 10 s of mutation each, and the ASan+UBSan build of the unit and integration
# tests. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

echo "== build (dev) =="
cmake --preset dev >/dev/null
cmake --build --preset dev
echo "== tests (dev) =="
ctest --preset dev

echo "== fuzz targets over their seed corpora (clang, ASan+UBSan; mutation runs: scripts/fuzz.sh N) =="
./scripts/fuzz.sh --regress
echo "== fuzz smoke: 10 s of mutation per target =="
./scripts/fuzz.sh 10

echo "== build (asan: ASan+UBSan unit and integration tests) =="
cmake --preset asan >/dev/null
cmake --build --preset asan
echo "== tests (asan) =="
ctest --preset asan
