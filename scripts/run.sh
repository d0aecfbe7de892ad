#!/usr/bin/env bash
# Set up what serving the app needs (once), build the static app and serve it with the
# default model on http://127.0.0.1:8000/. Extra arguments go to scripts/serve.py
# (--port, --pyodide-packages DIR, --freesound-url URL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh app
exec python3 scripts/serve.py "$@"
