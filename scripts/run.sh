#!/usr/bin/env bash
# Set up a fresh Debian machine, build the static app and serve it on http://127.0.0.1:8000/
# (with the default model). Extra arguments go to scripts/serve.py (--port, --pyodide-packages DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh app
exec .venv/bin/python scripts/serve.py "$@"
