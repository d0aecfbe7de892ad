#!/usr/bin/env bash
# Set up a fresh Debian machine and run every test (engine, model, CLI, browser).
# Browser tests that need numpy inside Pyodide run only when INTELLIMIXER_PYODIDE_PACKAGES
# points at a folder holding Pyodide's numpy wheel (see README); they skip otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
echo "== pytest"
# Chromium and static/vendor were just installed/built: their absence is a failure, not a skip
export INTELLIMIXER_REQUIRE_BROWSER=1
set +e
.venv/bin/python -m pytest -ra "$@"
rc=$?
set -e
[ $rc -eq 5 ] && { echo "pytest collected no tests"; exit 1; }
exit $rc
