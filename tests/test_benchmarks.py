"""benchmarks/: the native half runs anywhere; the browser half says why it cannot run."""
import importlib.util
import io
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "default"


def load(name):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def test_browser_half_names_what_is_missing(tmp_path):
    browser = load("browser")
    why = browser.unavailable(None)
    assert "INTELLIMIXER_PYODIDE_PACKAGES" in why and browser.NUMPY_WHEEL in why
    assert browser.NUMPY_WHEEL in browser.unavailable(tmp_path)


def test_native_half_and_table(drums):
    if not (MODEL / "manifest.json").is_file():
        pytest.skip("models/default is not there")
    native, run = load("native"), load("run")
    r = native.run(MODEL, n_sources=4, n_clicks=3, n_scrub=4)
    assert r["sources"] == 4
    for key in ("decode_stft_encode_s", "click_p50_ms", "app_click_p50_ms", "app_scrub_generations_per_s"):
        assert r[key] > 0, key
    rows = run.table(r, None, "skipped for the test")
    assert all(len(row) == 6 for row in rows)
    out = io.StringIO()
    run.print_table(rows, out)
    assert "click → playable audio p50" in out.getvalue() and "scipy" in out.getvalue()
