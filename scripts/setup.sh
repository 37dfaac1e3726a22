#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the tools need, and
# the one npm package the browser tests need.
# Idempotent and non-interactive: safe to run on every CI start.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  liblua5.4-dev lua5.4
  libcmocka-dev
  clang clang-format
  tshark graphviz libxml2-utils
  groff-base file dpkg-dev python3
  chromium
)
# Node.js for the browser tests: Debian's, unless a node and npm are already
# installed (another Node.js package would conflict with Debian's npm).
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
else
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    as_root=(sudo)
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# playwright-core, pinned by tests/browser/package-lock.json, drives the
# Debian chromium above (it downloads no browser of its own).
browser=tests/browser
want=$(sed -n 's/.*"playwright-core": "\(.*\)".*/\1/p' "$browser/package.json")
have=$(sed -n 's/^  "version": "\(.*\)".*/\1/p' "$browser/node_modules/playwright-core/package.json" 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  echo "setup: npm ci in $browser (playwright-core $want)"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$browser" --no-audit --no-fund --ignore-scripts >/dev/null
fi
echo "setup: done"
