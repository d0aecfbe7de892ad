#!/usr/bin/env bash
# Set-up for a fresh Debian machine. Every step is skipped when what it makes is there and
# its inputs did not change (a stamp holds the inputs' hash), so a second start takes seconds.
#   scripts/setup.sh app    -> what serving the app needs: Node's runtime packages and the
#                              static build (static/vendor/). No Python packages: scripts/serve.py
#                              is standard library only.
#   scripts/setup.sh test   -> everything the tests need: Chromium, the sample sounds, the
#                              Python venv with the dev extras, the JS dev tools (eslint).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-test}
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
fresh() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }  # stamp file, expected hash

apt_need=()
command -v node >/dev/null 2>&1 || apt_need+=(nodejs)
command -v npm >/dev/null 2>&1 || apt_need+=(npm)
python3 -m pip --version >/dev/null 2>&1 || dpkg -s python3-venv >/dev/null 2>&1 || apt_need+=(python3-venv)
if [ "$mode" = test ]; then
  for pkg in chromium firefox-esr webkit2gtk-driver xvfb xauth pulseaudio hydrogen-drumkits sound-theme-freedesktop python3-venv; do
    dpkg -s "$pkg" >/dev/null 2>&1 || apt_need+=("$pkg")
  done
fi
if [ ${#apt_need[@]} -gt 0 ]; then
  echo "== apt: ${apt_need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_need[@]}" >/dev/null
fi

# Node packages: the runtime (Pyodide, PyScript, onnxruntime-web) for the app; the dev tools too for tests.
omit=""; [ "$mode" = app ] && omit="--omit=dev"
key="$(hash_of package.json package-lock.json) $mode"
if ! fresh node_modules/.intellimixer-stamp "$key"; then
  echo "== npm ci $omit"
  npm ci $omit --no-audit --no-fund --loglevel=error
  echo "$key" > node_modules/.intellimixer-stamp
fi

# ONNX's generated protobuf module (onnx_ml_pb2.py, taken from the pinned onnx wheel on PyPI):
# with Pyodide's protobuf it lets the page write ONNX when it imports TensorFlow.js models. Its
# gencode (protobuf 6.31.1 for onnx 1.23.2) must not be newer than Pyodide's protobuf (6.31.1).
ONNX_SCHEMA=1.23.2
if ! fresh build/.onnx-schema-stamp "$ONNX_SCHEMA" || [ ! -f build/onnx_ml_pb2.py ]; then
  echo "== onnx $ONNX_SCHEMA's protobuf module (build/onnx_ml_pb2.py, for the page's TF.js import)"
  mkdir -p build/wheels
  py=python3
  if ! $py -m pip --version >/dev/null 2>&1; then
    [ -x build/pip-venv/bin/python ] || python3 -m venv build/pip-venv
    py=build/pip-venv/bin/python
  fi
  if $py -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: "onnx==$ONNX_SCHEMA" -d build/wheels \
      2> >(grep -v "^WARNING: Location '" >&2); then
    python3 -c "import glob, sys, zipfile; w = sorted(glob.glob('build/wheels/onnx-$ONNX_SCHEMA-*.whl'))[-1]; open('build/onnx_ml_pb2.py', 'wb').write(zipfile.ZipFile(w).read('onnx/onnx_ml_pb2.py'))"
    echo "$ONNX_SCHEMA" > build/.onnx-schema-stamp
  else
    echo "   (PyPI not reachable: the page will send TF.js models to the CLI's convert)"
  fi
fi

# The static build: vendors the runtime's files into static/vendor/.
key="$(hash_of package-lock.json scripts/build_static.mjs) $( [ -f build/onnx_ml_pb2.py ] && hash_of build/onnx_ml_pb2.py)"
if ! fresh static/vendor/.intellimixer-stamp "$key" || [ ! -f static/vendor/runtime.json ]; then
  echo "== npm run build (vendors Pyodide, PyScript, onnxruntime-web into static/vendor/)"
  npm run --silent build
  echo "$key" > static/vendor/.intellimixer-stamp
fi

if [ "$mode" = test ]; then
  key="$(hash_of pyproject.toml)"
  if [ ! -x .venv/bin/python ] || ! fresh .venv/.intellimixer-stamp "$key"; then
    [ -x .venv/bin/python ] || { echo "== python venv (.venv)"; python3 -m venv .venv; }
    echo "== pip install -e .[dev]"
    # (this machine's pip config names local wheel folders that may be absent: pip warns per package)
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]" 2> >(grep -v "^WARNING: Location '" >&2)
    echo "$key" > .venv/.intellimixer-stamp
  fi
fi
