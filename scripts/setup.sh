#!/usr/bin/env bash
# Installs the Debian 12 packages hermes gateway needs to build and test.
# Idempotent: when everything is already installed it only checks and returns.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache clang-format
  libboost1.81-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libsystemd-dev libyaml-cpp-dev libsqlite3-dev libssl-dev libpq-dev libsimdjson-dev libmimalloc-dev
  postgresql
  libgtest-dev libgmock-dev googletest
  libseccomp-dev libxml2-dev python3
  systemd curl ca-certificates openssl tzdata
)

# The dashboard's browser tests drive Debian's Chromium (puppeteer-core downloads nothing);
# building does not need it.
if [[ ${1:-} != --build-only ]]; then PACKAGES+=(chromium); fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

# Node.js and npm come with the machine; Debian's are the fallback where they do not.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} Debian packages present"
else
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The dashboard's chart library (uPlot from npm, pinned by its lock file): the build copies it
# into the gateway, so building needs it; after this, building needs no network.
dashboard="$(dirname "$0")/../src/daemon/dashboard"
if [[ ! -f $dashboard/node_modules/uplot/dist/uPlot.iife.min.js ]] || [[ $dashboard/package-lock.json -nt $dashboard/node_modules/.package-lock.json ]]; then
  echo "setup: installing the dashboard's npm packages (uPlot)"
  (cd "$dashboard" && npm ci --no-audit --no-fund --loglevel=error)
fi

# --build-only (scripts/install.sh, scripts/run.sh): what building needs, not the test peers.
if [[ ${1:-} == --build-only ]]; then
  echo "setup: done (build dependencies)"
  exit 0
fi

# Test peers from the npm registry (the official openai client), pinned by package-lock.json.
node_tests="$(dirname "$0")/../tests/node"
if [[ ! -d $node_tests/node_modules/openai ]] || [[ $node_tests/package-lock.json -nt $node_tests/node_modules/.package-lock.json ]]; then
  echo "setup: installing npm test peers"
  (cd "$node_tests" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: done"
