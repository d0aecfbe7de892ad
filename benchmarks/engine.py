"""Engine benchmark: our fast Griffin-Lim against librosa.griffinlim, measured in one run.

Same input (real drum samples from Debian's hydrogen-drumkits, prepared in the default
model's format: its sample rate, length, n_fft and hop), momentum 0.99. Rows: ours with the
default model's phase settings (the phase-gradient start and its iteration count), the same
split by frames as the web app runs it on two cores (its two halves run one after the other
here, so its time is not the browser's), ours as it was before (random start, 32
iterations), and librosa with its defaults (random start, 32 iterations); each random
start is seeded per file, so quality is compared as the mean over many files. Prints a
table and the ratios against librosa; goal: spectral-convergence ratio <= 0.91 (what the
random-start 32-iteration version reached) and time ratio <= 1.

    python benchmarks/engine.py [--files 24] [--repeat 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "py"))
from intellimixer import audio, phase, spectral  # noqa: E402
from intellimixer.model import load_manifest  # noqa: E402

HYDROGEN = Path("/usr/share/hydrogen/data/drumkits")
MANIFEST = Path(__file__).resolve().parents[1] / "models" / "default" / "manifest.json"


def load(n_files: int, p: spectral.StftParams, sr: int, length: int) -> list[np.ndarray]:
    files = sorted(HYDROGEN.glob("*/*.wav"), key=lambda f: zlib.crc32(str(f.relative_to(HYDROGEN)).encode()))
    mags = []
    for f in files:
        x, file_sr = audio.read_wav(f)
        try:
            x = audio.prepare(x, file_sr, sr, length)
        except audio.AudioError:
            continue
        mags.append(np.abs(spectral.stft(x, p)))
        if len(mags) == n_files:
            break
    return mags


def best_time(fn, repeat: int) -> tuple[float, np.ndarray]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=24)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    import librosa

    m = load_manifest(MANIFEST.read_text())
    n_fft, hop = m.stft.n_fft, m.stft.hop_length
    # librosa's framing (centred, 1 + n // hop frames) so that all reconstruct the same magnitude
    p = spectral.StftParams(n_fft=n_fft, hop_length=hop, window=m.stft.window, center=True, n_bins=n_fft // 2)
    length = m.n_samples
    mags = load(args.files, p, m.sample_rate, length)
    if not mags:
        sys.exit("no input: apt-get install hydrogen-drumkits")
    app = f"ours: {m.phase.init} start, {m.phase.n_iter} it."

    runs = {
        app: lambda mag, k: phase.griffin_lim(mag, p, length, n_iter=m.phase.n_iter, momentum=0.99, init=m.phase.init),
        "ours, split for two cores (in turn here)": lambda mag, k: phase.split_in_turn(
            mag, p, length, n_iter=m.phase.n_iter, momentum=0.99, init=m.phase.init)[0],
        "ours before: random start, 32 it.": lambda mag, k: phase.griffin_lim(mag, p, length, n_iter=32, momentum=0.99,
                                                                              init="random", seed=k),
        "librosa: random start, 32 it.": lambda mag, k: librosa.griffinlim(
            mag, n_iter=32, hop_length=hop, n_fft=n_fft, window=m.stft.window, center=True, length=length,
            momentum=0.99, init="random", random_state=k),
    }
    for fn in runs.values():  # warm-up (numba, caches)
        fn(mags[0], 0)
    res = {"files": len(mags), "sample_rate": m.sample_rate, "seconds": length / m.sample_rate, "n_fft": n_fft,
           "hop": hop, "momentum": 0.99, "rows": {}}
    for name, fn in runs.items():
        t, sc = [], []
        for k, mag in enumerate(mags):
            dt, y = best_time(lambda mag=mag, k=k, fn=fn: fn(mag, k), args.repeat)
            t.append(dt)
            sc.append(phase.spectral_convergence(mag, y, p))
        res["rows"][name] = {"ms": 1000 * float(np.mean(t)), "sc": float(np.mean(sc)),
                             "sc_db": float(np.mean(20 * np.log10(sc)))}
    lib = res["rows"]["librosa: random start, 32 it."]
    for row in res["rows"].values():
        row["time_ratio"] = row["ms"] / lib["ms"]
        row["sc_ratio"] = row["sc"] / lib["sc"]
    res["time_ratio"], res["sc_ratio"] = res["rows"][app]["time_ratio"], res["rows"][app]["sc_ratio"]
    print(f"Griffin-Lim, {len(mags)} real drum sounds ({length / m.sample_rate:.3f} s @ {m.sample_rate} Hz), "
          f"n_fft {n_fft}, hop {hop}, momentum 0.99")
    print(f"{'':42} {'time / sound':>13} {'spectral conv.':>15} {'SC (dB)':>8} {'time ratio':>11} {'SC ratio':>9}")
    for name, row in res["rows"].items():
        print(f"{name:42} {row['ms']:10.1f} ms {row['sc']:15.4f} {row['sc_db']:8.2f} {row['time_ratio']:11.2f} "
              f"{row['sc_ratio']:9.3f}")
    print(f"the app's settings against librosa: time ratio {res['time_ratio']:.2f} (goal <= 1), "
          f"spectral-convergence ratio {res['sc_ratio']:.3f} (goal <= 0.91; lower SC is better)")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
