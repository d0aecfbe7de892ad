"""The page keeps to the protocol: tests/js/check_protocol.mjs finds no operation, argument
count or reply field in static/*.js that protocol.json lacks, and does find planted ones."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / "tests" / "js" / "check_protocol.mjs"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "acorn").is_dir(),
    reason="needs node and `npm ci` (acorn)")


def check(*files):
    return subprocess.run(["node", str(CHECK), *map(str, files)], capture_output=True, text=True, timeout=60)


def test_the_page_keeps_to_the_protocol():
    r = check()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 findings" in r.stdout and "checked 22 files" in r.stdout


def test_drift_is_found(tmp_path):
    bad = tmp_path / "bad.js"
    bad.write_text("""
export async function f(client) {
  const r = await client.call("set_dims", 1, 2);
  const { nx, nz } = await client.call("point_to_map", 1, 2);
  client.call("map_state").then((m) => m.mapp);
  client.call("no_such_op");
  client.call("generate", 0.5);
  return [r.map.pointz, r.warnings, nx, nz];
}
export function g(/* @protocol MapUpdate */ u) { return [u.entry.infoo, u.dims]; }
""")
    r = check(bad)
    assert r.returncode == 1
    found = sorted(line.split(": ", 1)[1] for line in r.stdout.splitlines() if line.startswith(str(bad)))
    assert found == sorted([
        "the reply of point_to_map has no field 'nz'", "the reply of map_state has no field 'mapp'",
        "no operation 'no_such_op' in the protocol", "generate takes 2 arguments, got 1",
        "the reply of set_dims.map has no field 'pointz'", "the reply of set_dims has no field 'warnings'",
        "MapUpdate.entry has no field 'infoo'"])


def test_every_static_module_is_checked():
    modules = sorted(p.name for p in (ROOT / "static").glob("*.js"))
    assert len(modules) == 22 and "boot.js" in modules and "main.js" in modules and "ort-worker.js" in modules and "app.js" not in modules
    assert "phase-helper.js" in modules
