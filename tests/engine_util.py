"""Helpers of the CPython engine tests: running a coroutine, and test sounds."""
from __future__ import annotations

import asyncio
import concurrent.futures

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
