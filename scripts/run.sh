#!/usr/bin/env bash
# Sets up, builds and runs the main job on a generated demo home (build/demo-home).
# Pass your own home with HERMES_HOME=/path ./scripts/run.sh to use your config instead.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
cmake --preset dev >/dev/null
cmake --build --preset dev

home="${HERMES_HOME:-$PWD/build/demo-home}"
if [[ ! -f "$home/config.yaml" ]]; then
  mkdir -p "$home"
  cp scripts/demo-config.yaml "$home/config.yaml"
  echo "Created a demo config: $home/config.yaml"
fi

./build/dev/src/daemon/hermes-gateway --check-config --home "$home"

port=$(sed -n 's/.*port: *\([0-9][0-9]*\).*/\1/p' "$home/config.yaml" | head -n 1)
echo
echo "Starting hermes-gateway in the foreground (Ctrl-C drains and stops it)."
echo "In another terminal:  curl -s http://127.0.0.1:${port:-8642}/health"
echo "As a systemd unit:    ./build/dev/src/cli/hermes gateway install --home $home"
echo
exec ./build/dev/src/daemon/hermes-gateway --home "$home"
