#!/usr/bin/env bash
# Sets up, builds and runs the gateway in the foreground (Ctrl-C drains and stops it).
# Without HERMES_HOME it uses a generated demo home (build/demo-home) whose provider is the
# bundled fake provider, so it works offline; with HERMES_HOME=/path it uses your config and
# your real providers.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
cmake --preset dev >/dev/null
cmake --build --preset dev

gateway=./build/dev/src/daemon/hermes-gateway
if [[ -n ${HERMES_HOME:-} ]]; then
  home=$HERMES_HOME
  $gateway --check-config --home "$home"
  exec $gateway --home "$home"
fi

home=$PWD/build/demo-home
if [[ ! -f $home/config.yaml ]]; then
  mkdir -p "$home"
  cp scripts/demo-config.yaml "$home/config.yaml"
  echo "Created a demo config: $home/config.yaml"
fi
$gateway --check-config --home "$home"

# The demo's provider: the fake provider the tests use, on the port demo-config.yaml names.
node tests/fake_provider/fake_provider.mjs --port 8643 >/dev/null &
fake_pid=$!
trap 'kill $fake_pid 2>/dev/null || true' EXIT

echo
echo "Starting hermes-gateway in the foreground (Ctrl-C drains and stops it). In another terminal:"
echo "  curl -s http://127.0.0.1:8642/v1/chat/completions -d '{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}'"
echo "To run it under systemd instead:  ./build/dev/src/cli/hermes gateway install --home $home"
echo
$gateway --home "$home"
