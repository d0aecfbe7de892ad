"""What the page draws: spectrogram + waveform views of a sound, and axis ticks.

numpy-first; no DOM here (the page paints what these return).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import audio, spectral
from .model import Manifest
from .strings import msg


def axis_ticks(hi: float, target: int = 5) -> list[float]:
    """Round tick values from 0 to ``hi`` (steps of 1, 2 or 5 x 10^k, about ``target`` ticks)."""
    hi = float(hi)
    if not math.isfinite(hi) or hi <= 0:
        return [0.0]
    raw = hi / max(1, target)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(k * mag for k in (1, 2, 5, 10) if k * mag >= raw)
    n = int(math.floor(hi / step + 1e-9))
    return [round(k * step, 10) for k in range(n + 1)]


def map_ticks(lo: float, hi: float, n: int = 4) -> list[dict[str, Any]]:
    """``n + 1`` evenly spaced ticks of a map axis spanning latent values ``lo..hi``:
    ``[{"n": position in [0, 1], "label": value with enough decimals for the span}]``."""
    span = abs(float(hi) - float(lo)) / n
    decimals = max(0, min(6, math.ceil(-math.log10(span)) + 1)) if span > 0 else 2
    return [{"n": k / n, "label": f"{lo + (k / n) * (hi - lo):.{decimals}f}"} for k in range(n + 1)]


def spectrogram_view(x: np.ndarray, m: Manifest, width: int, sample_rate: int | None = None
                     ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """What the page draws for a sound ``x`` (float32 mono at ``sample_rate``, default the
    model's; the model's STFT settings are used either way).

    Returns ``(rgba, env, meta)``: ``rgba`` uint8 ``[n_bins, n_frames, 4]`` (the model's
    representation through magma, row 0 = highest frequency), ``env`` float32 ``[width, 2]``
    and ``meta`` = ``{width, n_bins, n_frames, sample_rate, duration (s), f_max (Hz),
    time_ticks (s), freq_ticks (Hz)}``.
    """
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    S = spectral.analyze(x, m.stft, m.representation)
    rgba = spectral.to_rgba(S)
    env = audio.envelope(x, int(width))
    sr = int(sample_rate or m.sample_rate)
    duration = x.size / float(sr)
    f_max = m.stft.n_bins * sr / float(m.stft.n_fft)
    meta = {
        "width": int(width), "n_bins": int(rgba.shape[0]), "n_frames": int(rgba.shape[1]),
        "sample_rate": sr, "duration": duration, "f_max": f_max,
        "time_ticks": axis_ticks(duration, 4), "freq_ticks": axis_ticks(f_max, 4),
    }
    return rgba, env, meta


def view_label(meta: dict[str, Any], title: str) -> str:
    """The accessible name of a drawn view."""
    return msg("view_label", f_max=round(meta["f_max"]), duration=f"{meta['duration']:.2f}", title=title)
