#!/usr/bin/env bash
# Shared set-up for a fresh Debian machine: system packages, Python venv, npm runtime build.
#   scripts/setup.sh app    -> what serving the app needs (npm build of the static runtime)
#   scripts/setup.sh test   -> everything the tests need (Chromium, sample sounds, dev extras)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-test}
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo

apt_need=()
if [ "$mode" = test ]; then
  for pkg in chromium hydrogen-drumkits sound-theme-freedesktop; do
    dpkg -s "$pkg" >/dev/null 2>&1 || apt_need+=("$pkg")
  done
fi
if [ ${#apt_need[@]} -gt 0 ]; then
  echo "== apt: ${apt_need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "== python venv (.venv)"
  python3 -m venv .venv
fi
extras=cli
[ "$mode" = test ] && extras=dev
echo "== pip install -e .[$extras]"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[$extras]"

echo "== npm ci && npm run build (vendors Pyodide, PyScript, onnxruntime-web into static/vendor/)"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
