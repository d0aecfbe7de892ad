"""Helpers of the CPython engine tests: running a coroutine, test sounds, TF.js test models."""
from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
import subprocess
from pathlib import Path

import numpy as np


def run(coro):
    """Run ``coro`` to its end in a thread of its own (works even if another test left an
    event loop running in this one)."""
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        return ex.submit(asyncio.run, coro).result()


def burst(seed: int, sr: int = 16000, seconds: float = 0.6, f0: float = 200.0) -> np.ndarray:
    """A decaying noisy tone: a stand-in for a drum hit, different per seed."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    x = np.sin(2 * np.pi * (f0 + 150 * seed) * t) + 0.5 * rng.standard_normal(t.size)
    return (0.5 * x * np.exp(-t * (4 + seed))).astype(np.float32)


def make_tfjs_models(out: Path) -> Path:
    """TF.js Layers models made by TF.js itself in node (tests/js/make_tfjs_models.mjs) in
    ``out``; skips the test where node or the dev dependency @tensorflow/tfjs is missing."""
    import pytest

    root = Path(__file__).resolve().parents[1]
    if shutil.which("node") is None or not (root / "node_modules" / "@tensorflow" / "tfjs").is_dir():
        pytest.skip("needs node and `npm ci` (@tensorflow/tfjs, a dev dependency)")
    r = subprocess.run(["node", str(root / "tests" / "js" / "make_tfjs_models.mjs"), str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return out
