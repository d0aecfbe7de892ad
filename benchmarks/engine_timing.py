"""Where the worker's time goes: the engine steps of one click, timed in this interpreter.

Runs unchanged under CPython (``python benchmarks/engine_timing.py``) and under Pyodide in
Node (``node benchmarks/pyodide_engine.mjs``, which runs this file), so the two can be
compared step by step: STFT, ISTFT, one Griffin-Lim iteration, the whole phase
reconstruction, and ``session.Session.generate`` + ``view`` with a stub decoder (the ONNX part is
measured by benchmarks/browser.py), plus a cProfile of ``generate``.
"""
import asyncio
import cProfile
import os
import pstats
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else "/bench"
ROOT = os.environ.get("INTELLIMIXER_ROOT", os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "py"))

import numpy as np  # noqa: E402

from intellimixer import model, phase, spectral  # noqa: E402
from intellimixer.session import Session  # noqa: E402

MODEL = os.path.join(ROOT, "models", "default", "manifest.json")


def timed(label, f, n=20):
    f()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    print(f"  {label:44s} {1000 * float(np.median(ts)):8.2f} ms (min {1000 * min(ts):.2f})")


async def main():
    where = "Pyodide " + sys.version.split()[0] if sys.platform == "emscripten" else "CPython " + sys.version.split()[0]
    print(f"engine timing in {where}, numpy {np.__version__}")
    with open(MODEL, "rb") as f:
        m = model.load_manifest(f.read())
    if sys.platform != "emscripten":
        # as in the app and the CLI, onnxruntime sessions exist; natively that changes numpy's
        # float32 FFT speed by up to 4x on this CPU (measured: 0.43 -> 0.10 ms per 129 x 512 rfft)
        native_model = model.NativeModel(os.path.dirname(MODEL), threads=1)
        native_model.decode(np.zeros((1, native_model.manifest.latent_dim), np.float32))
    p = m.stft
    rng = np.random.default_rng(0)
    S = (rng.random((1, p.n_bins, p.n_frames), dtype=np.float32) * 0.6)
    x = rng.standard_normal(m.n_samples).astype(np.float32) * 0.3
    X = spectral.stft(x, p)
    mag = spectral.to_magnitude(S[0], p, m.representation)
    timed("STFT (float32)", lambda: spectral.stft(x, p))
    timed("ISTFT (complex64)", lambda: spectral.istft(X, p, m.n_samples))
    timed("analyze (STFT + dB scaling)", lambda: spectral.analyze(x, p, m.representation))
    timed("Griffin-Lim, 1 iteration", lambda: phase.griffin_lim(mag, p, m.n_samples, n_iter=1), 50)
    timed(f"Griffin-Lim, {m.phase.n_iter} iterations", lambda: phase.griffin_lim(mag, p, m.n_samples, n_iter=m.phase.n_iter))
    timed("synthesize (to_magnitude + GL + peak)", lambda: phase.synthesize(S[0], m))

    class Stub:
        async def encode(self, spec):
            return (rng.standard_normal((spec.shape[0], m.latent_dim)).astype(np.float32),
                    np.zeros((spec.shape[0], m.latent_dim), np.float32))

        async def decode(self, z):
            return S

    s = Session()
    await s.set_model(m, Stub())
    b = s.begin_batch("local files", origin="local")
    for k in range(50):
        await s.add_source(b, {"name": f"source {k}"},
                           rng.standard_normal(m.n_samples).astype(np.float32) * 0.3, m.sample_rate)
    s.commit_batch(b)
    for _ in range(3):
        await s.generate(0.3, 0.4)
    ts = []
    for k in range(20):
        t = time.perf_counter()
        await s.generate(0.05 + 0.045 * k, 0.4)
        ts.append(time.perf_counter() - t)
    print(f"  {'Session.generate, 50 sources (stub decoder)':44s} {1000 * float(np.median(ts)):8.2f} ms")
    timed("Session.view of the generated sound (400 px)", lambda: s.view("generated", s._generated_count, 400))
    pr = cProfile.Profile()
    pr.enable()
    for k in range(5):
        await s.generate(0.1 + 0.1 * k, 0.6)
    pr.disable()
    print("cProfile of 5 x Session.generate (by own time):")
    pstats.Stats(pr).sort_stats("tottime").print_stats(10)


if sys.platform != "emscripten":  # under Pyodide, benchmarks/pyodide_engine.mjs awaits main()
    asyncio.run(main())
