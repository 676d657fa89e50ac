#!/usr/bin/env bash
# Builds the optimised binaries and installs them: scripts/install.sh [--prefix DIR]
# (default /usr/local): DIR/bin/hermes, DIR/bin/hermes-gateway and DIR/bin/hermes-sandbox (the
# terminal tool's launcher, found beside the gateway), the unit template under
# DIR/share/hermes, README and config.example.yaml under DIR/share/doc. Then, as the user
# the gateway runs as: `hermes gateway install` (see "Running as a service" in the README).
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=/usr/local
while (($#)); do
  case $1 in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

./scripts/setup.sh --build-only
echo "== build (release: hermes, hermes-gateway) =="
cmake --preset release >/dev/null
cmake --build --preset release --target hermes hermes-gateway
echo "== install into $prefix =="
cmake --install build/release --prefix "$prefix" >/dev/null
echo "Installed $prefix/bin/hermes, $prefix/bin/hermes-gateway and $prefix/bin/hermes-sandbox."
echo "Next: create ~/.hermes/config.yaml (start from $prefix/share/doc/hermes_gateway/config.example.yaml),"
echo "      then run: $prefix/bin/hermes gateway install   (add --system for a machine-wide service)"
