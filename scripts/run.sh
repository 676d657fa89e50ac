#!/usr/bin/env bash
# Sets up, builds and runs the gateway in the foreground (Ctrl-C drains and stops it).
# Without HERMES_HOME it uses a generated demo home (build/demo-home) whose provider is the
# bundled fake provider, so it works offline; with HERMES_HOME=/path it uses your config and
# your real providers.
set -euo pipefail
cd "$(dirname "$0")/.."

# Only what the demo needs, optimised (the same build scripts/install.sh installs): a few
# minutes on 2 cores instead of the whole test tree.
./scripts/setup.sh --build-only
cmake --preset release >/dev/null
cmake --build --preset release --target hermes hermes-gateway

gateway=./build/release/src/daemon/hermes-gateway
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
# Its own session, so Ctrl-C reaches only the gateway: the gateway drains its requests (which
# still need the provider), and the provider is stopped after it.
command -v node >/dev/null || { echo "run.sh: the demo's fake provider needs node (apt-get install nodejs)" >&2; exit 1; }
setsid node tests/fake_provider/fake_provider.mjs --port 8643 >/dev/null &
fake_pid=$!
trap 'kill $fake_pid 2>/dev/null || true' EXIT

echo
echo "Starting hermes-gateway in the foreground (Ctrl-C drains and stops it). In another terminal:"
echo "  curl -s http://127.0.0.1:8642/v1/chat/completions -d '{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}'"
echo "To run it under systemd instead:  ./scripts/install.sh, then: hermes gateway install --home $home"
echo
$gateway --home "$home" || status=$?
exit "${status:-0}"
