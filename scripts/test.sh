#!/usr/bin/env bash
# Set up a fresh Debian machine and run every check: the lint gates (ruff, eslint), the page's
# protocol check, then every test (engine, model, CLI, browser).
# Browser tests that need numpy inside Pyodide run only when INTELLIMIXER_PYODIDE_PACKAGES
# points at a folder holding Pyodide's numpy wheel (see DEVELOPERS.md); they skip otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
echo "== ruff"
.venv/bin/ruff check .
echo "== eslint"
npx --no-install eslint .
echo "== protocol check (static/*.js against py/intellimixer/protocol.json)"
node tests/js/check_protocol.mjs
echo "== pytest"
# Chromium and static/vendor were just installed/built: their absence is a failure, not a skip
export INTELLIMIXER_REQUIRE_BROWSER=1
set +e
.venv/bin/python -m pytest -ra "$@"
rc=$?
set -e
[ $rc -eq 5 ] && { echo "pytest collected no tests"; exit 1; }
exit $rc
