"""Engine benchmark: our fast Griffin-Lim against librosa.griffinlim, measured in one run.

Same input (real drum samples from Debian's hydrogen-drumkits, prepared at 16 kHz), same
n_fft / hop / iterations / momentum (0.99); each side gets its own random initial phase
(seeded), so quality is compared as the mean over many files.  Prints a table and the two
ratios; goal: spectral-convergence ratio <= 1 (quality >= librosa) and time ratio <= 1.

    python benchmarks/engine.py [--iters 32] [--files 24] [--repeat 3] [--json out.json]
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

HYDROGEN = Path("/usr/share/hydrogen/data/drumkits")


def load(n_files: int, p: spectral.StftParams) -> list[np.ndarray]:
    files = sorted(HYDROGEN.glob("*/*.wav"), key=lambda f: zlib.crc32(str(f.relative_to(HYDROGEN)).encode()))
    mags = []
    for f in files:
        x, sr = audio.read_wav(f)
        try:
            x = audio.prepare(x, sr, 16000, p.hop_length * 128)
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
    ap.add_argument("--iters", type=int, default=32)
    ap.add_argument("--files", type=int, default=24)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    import librosa

    # librosa's framing (centred, 1 + n // hop frames) so both reconstruct the same magnitude
    p = spectral.StftParams(n_fft=512, hop_length=128, window="hann", center=True, n_bins=256, n_frames=None)
    length = 128 * 128
    mags = load(args.files, p)
    if not mags:
        sys.exit("no input: apt-get install hydrogen-drumkits")
    librosa.griffinlim(mags[0], n_iter=2, hop_length=128, n_fft=512, length=length)  # warm-up (numba/caches)
    phase.griffin_lim(mags[0], p, length, n_iter=2)
    rows = []
    for k, mag in enumerate(mags):
        t_ours, y_ours = best_time(lambda mag=mag, k=k: phase.griffin_lim(mag, p, length, n_iter=args.iters, momentum=0.99, seed=k), args.repeat)
        t_lib, y_lib = best_time(
            lambda mag=mag, k=k: librosa.griffinlim(mag, n_iter=args.iters, hop_length=128, n_fft=512, window="hann", center=True,
                                       length=length, momentum=0.99, init="random", random_state=k),
            args.repeat,
        )
        rows.append((t_ours, phase.spectral_convergence(mag, y_ours, p), t_lib, phase.spectral_convergence(mag, y_lib, p)))
    r = np.array(rows)
    res = {
        "files": len(mags), "iterations": args.iters, "n_fft": 512, "hop": 128, "momentum": 0.99,
        "ours_ms": 1000 * r[:, 0].mean(), "librosa_ms": 1000 * r[:, 2].mean(),
        "ours_sc": r[:, 1].mean(), "librosa_sc": r[:, 3].mean(),
        "ours_sc_db": float(np.mean(20 * np.log10(r[:, 1]))), "librosa_sc_db": float(np.mean(20 * np.log10(r[:, 3]))),
    }
    res["time_ratio"] = res["ours_ms"] / res["librosa_ms"]
    res["sc_ratio"] = res["ours_sc"] / res["librosa_sc"]
    print(f"Griffin-Lim, {res['files']} real drum sounds (1.024 s @ 16 kHz), n_fft 512, hop 128, {args.iters} iterations, momentum 0.99")
    print(f"{'':10} {'time / sound':>14} {'spectral conv.':>15} {'SC (dB)':>9}")
    print(f"{'ours':10} {res['ours_ms']:11.1f} ms {res['ours_sc']:15.4f} {res['ours_sc_db']:9.2f}")
    print(f"{'librosa':10} {res['librosa_ms']:11.1f} ms {res['librosa_sc']:15.4f} {res['librosa_sc_db']:9.2f}")
    print(f"time ratio (ours / librosa): {res['time_ratio']:.2f}   goal <= 1")
    print(f"spectral-convergence ratio (ours / librosa): {res['sc_ratio']:.3f}   goal <= 1 (lower SC is better)")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
