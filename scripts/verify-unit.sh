#!/usr/bin/env bash
# Renders the unit template and fails if `systemd-analyze verify` prints anything
# (it exits 0 even on unknown keys and bad values).
set -euo pipefail
template=$1 daemon=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed -e "s#@HERMES_GATEWAY@#$daemon#" -e "s#@HERMES_HOME@#$dir#" -e "s#@WANTED_BY@#default.target#" \
  "$template" > "$dir/hermes-gateway.service"
output=$(systemd-analyze verify "$dir/hermes-gateway.service" 2>&1) || true
if [[ -n $output ]]; then
  echo "systemd-analyze verify complained about $template:" >&2
  echo "$output" >&2
  exit 1
fi
echo "systemd-analyze verify: $template is clean"
