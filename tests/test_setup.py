"""The README's run command on a fresh clone: it installs and builds only what serving the app
needs (no Python packages, no dev tools), quietly, and a second start skips everything."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("npm") is None or shutil.which("git") is None, reason="needs git and npm")


def setup_app(folder: Path) -> tuple[float, str]:
    t = time.perf_counter()
    r = subprocess.run(["bash", "scripts/setup.sh", "app"], cwd=folder, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return time.perf_counter() - t, r.stdout + r.stderr


def test_app_setup_on_a_fresh_clone(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    _, out = setup_app(clone)
    assert (clone / "static" / "vendor" / "runtime.json").is_file()
    assert not (clone / ".venv").exists(), "serving the app needs no Python packages"
    assert not (clone / "node_modules" / "eslint").exists(), "serving the app needs no dev tools"
    assert "warn" not in out.lower(), out
    seconds, again = setup_app(clone)
    assert again == "", again  # nothing changed: every step skipped
    print(f"\nsecond start's set-up: {seconds:.2f} s")
