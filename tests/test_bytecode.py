"""The build's engine zip (static/vendor/engine.zip, scripts/build_static.mjs) holds every file
of py/pyscript.json as it is, and its bytecode is used by the worker's Python where PyScript
unpacks it, never when stale: tests/js/check_bytecode.mjs imports engine modules in Pyodide
(node) with and without a change to their source; and the build's standard library archive
(static/vendor/pyodide/python_stdlib.zip, py/intellimixer/precompiled.py) holds npm's entries as
they are, with the bytecode the modules of Pyodide's start, numpy and the engine come from."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ZIP = ROOT / "static" / "vendor" / "engine.zip"


@pytest.mark.skipif(shutil.which("node") is None or not ZIP.is_file(), reason="needs node and `npm run build`")
def test_bytecode_is_used_and_never_stale():
    r = subprocess.run(["node", str(ROOT / "tests" / "js" / "check_bytecode.mjs")], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["compiled_unchanged"] == []  # strings, protocol, backends: all from the zip
    assert out["compiled_after_change"] == ["backends.py"]  # its source changed: compiled afresh
    # the standard library: npm's archive entry for entry, plus bytecode only
    assert out["stdlib_differ"] == [] and out["stdlib_extra_not_pyc"] == [] and out["stdlib_pyc"] > 100
    # Pyodide's start and the worker's imports came from that bytecode, whose code keeps the
    # source's file name (compiled from the source, the module's origin would be the .py)
    archive = "/lib/python313.zip/"
    for name, got in out["stdlib"].items():
        assert got["origin"].startswith(archive) and got["origin"].endswith(".pyc"), (name, got)
        if got["code_file"] is not None:
            assert got["code_file"] == got["origin"][:-1], name
    assert sum(got["code_file"] is not None for got in out["stdlib"].values()) >= 5
    assert out["stdlib_compiled_at_start"] == [] and out["stdlib_compiled"] == []
    listed = json.loads((ROOT / "py" / "pyscript.json").read_text())["files"]
    assert out["listed"] == len(listed) and out["differ"] == []  # every file, the same bytes
