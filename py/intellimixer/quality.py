"""The fixed yardstick for sounds a model made: the same measure whatever the model's format.

Both signals go through :func:`yardstick_db`: mono, resampled to 16 kHz, onset-aligned
(first 64-sample block within 40 dB of the peak), the first 1.024 s (zero-padded), STFT
512 / 128 Hann, magnitude in dB relative to the signal's own loudest bin, floored at -80 dB.

- :func:`log_spectral_distance`: mean over frames of the RMS over bins of the dB difference;
- :func:`silent_frame_level`: the made sound's level (each frame's loudest bin, dB relative
  to its own peak) in the frames where the reference is silent (loudest bin <= -70 dB);
- :func:`edge_samples`: the first and last samples (what a sampler clicks on).

Used by ``benchmarks/roundtrip.py`` and the tests; CPython only (resampling needs scipy).
"""
from __future__ import annotations

import math

import numpy as np

from . import audio, spectral

RATE = 16000  # Hz
LENGTH = 16384  # samples: 1.024 s
FLOOR_DB = -80.0
SILENT_DB = -70.0  # a reference frame whose loudest bin is at or below this is silent
STFT = spectral.StftParams(n_fft=512, hop_length=128, window="hann", center=True, n_bins=257, n_frames=LENGTH // 128 + 1)


def yardstick_signal(x: np.ndarray, sr: int) -> np.ndarray:
    """Audio ``[n]`` or ``[n, channels]`` at ``sr`` Hz -> float32 ``[LENGTH]`` at 16 kHz, from
    its onset (silence stays zeros)."""
    y = audio.to_mono(np.asarray(x, dtype=np.float32))
    if int(sr) != RATE:
        y = audio.resample(y, int(sr), RATE)
    y = y[audio.onset(y):]
    return audio.fit_length(y, LENGTH, fade=0)


def yardstick_db(x: np.ndarray, sr: int) -> np.ndarray:
    """Audio -> float64 ``[257, frames]`` dB relative to its loudest bin, floored at -80 dB
    (all -80 for digital silence)."""
    mag = np.abs(spectral.stft(yardstick_signal(x, sr), STFT)).astype(np.float64)
    peak = float(mag.max())
    if peak <= 0.0:
        return np.full(mag.shape, FLOOR_DB)
    return np.maximum(20.0 * np.log10(np.maximum(mag / peak, 1e-12)), FLOOR_DB)


def log_spectral_distance(ref_db: np.ndarray, est_db: np.ndarray) -> float:
    """LSD in dB between two :func:`yardstick_db` arrays of one shape."""
    return float(np.mean(np.sqrt(np.mean((np.asarray(ref_db) - np.asarray(est_db)) ** 2, axis=0))))


def silent_frame_level(ref_db: np.ndarray, est_db: np.ndarray) -> float:
    """Median over the reference's silent frames of the estimate's frame level (loudest bin,
    dB relative to its own peak); NaN where the reference has no silent frame."""
    silent = np.asarray(ref_db).max(axis=0) <= SILENT_DB
    if not silent.any():
        return math.nan
    return float(np.median(np.asarray(est_db).max(axis=0)[silent]))


def edge_samples(x: np.ndarray) -> tuple[float, float]:
    """``(first, last)`` sample of a mono signal (0, 0 when empty)."""
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    return (float(x[0]), float(x[-1])) if x.size else (0.0, 0.0)


def compare(ref: np.ndarray, ref_sr: int, est: np.ndarray, est_sr: int) -> dict[str, float]:
    """The yardstick's figures of ``est`` (a made sound) against ``ref`` (the original):
    ``{"lsd_db", "silent_db", "first", "last"}`` (silent_db NaN when ``ref`` is never silent)."""
    r, e = yardstick_db(ref, ref_sr), yardstick_db(est, est_sr)
    first, last = edge_samples(est)
    return {"lsd_db": log_spectral_distance(r, e), "silent_db": silent_frame_level(r, e), "first": first, "last": last}
