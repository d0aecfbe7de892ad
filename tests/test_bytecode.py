"""The build's bytecode (static/vendor/pyc.zip, scripts/build_static.mjs) is used by the
worker's Python as PyScript lays out its files, and never when stale: tests/js/check_bytecode.mjs
imports engine modules in Pyodide (node) with and without a change to their source."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ZIP = ROOT / "static" / "vendor" / "pyc.zip"


@pytest.mark.skipif(shutil.which("node") is None or not ZIP.is_file(), reason="needs node and `npm run build`")
def test_bytecode_is_used_and_never_stale():
    r = subprocess.run(["node", str(ROOT / "tests" / "js" / "check_bytecode.mjs")], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["compiled_unchanged"] == []  # strings, protocol, backends: all from the zip
    assert out["compiled_after_change"] == ["backends.py"]  # its source changed: compiled afresh
