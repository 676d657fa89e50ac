#!/usr/bin/env bash
# Installs what the peer benchmark needs; idempotent and quick when everything is present.
#   Debian: wrk, nginx-light (apt-get update only when one is missing)
#   npm:    @portkey-ai/gateway 1.15.x (+ @hono/node-server 1.13.8 override) from package-lock.json
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

missing=()
for pkg in wrk nginx-light; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v wrk >/dev/null || { echo "setup: wrk not on PATH after install" >&2; exit 1; }
[[ -x /usr/sbin/nginx ]] || { echo "setup: /usr/sbin/nginx missing after install" >&2; exit 1; }

# npm ci only when node_modules does not match the lock file (npm writes its own copy of the
# lock into node_modules/.package-lock.json on install).
lock="$here/package-lock.json"
installed="$here/node_modules/.package-lock.json"
entry="$here/node_modules/@portkey-ai/gateway/build/start-server.js"
if [[ ! -f "$entry" || ! -f "$installed" || "$lock" -nt "$installed" ]]; then
  echo "setup: npm ci in bench/peers" >&2
  # --ignore-scripts: the package's postinstall (patch-package) has no patches in the tarball.
  (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi
[[ -f "$entry" ]] || { echo "setup: $entry missing after npm ci" >&2; exit 1; }
hono=$(node -p "require('$here/node_modules/@hono/node-server/package.json').version")
[[ "$hono" == 1.13.8 ]] || { echo "setup: @hono/node-server is $hono, expected 1.13.8 (override)" >&2; exit 1; }
