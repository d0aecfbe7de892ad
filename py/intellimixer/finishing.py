"""Finishing stage: what turns a decoded spectrogram and its phase reconstruction into a
sound a sound designer can keep.

- :func:`gate`: a downward expander on the decoded spectrogram, relative to its own loudest
  bin: bins above the knee stay, bins below fall ``ratio`` times faster, and what falls
  under the floor becomes exact silence; the settings are the model's (its manifest's
  ``phase`` section, :class:`intellimixer.model.PhaseSettings`). A decoder's output is
  blurry: where its input was silent it still outputs a faint haze that phase
  reconstruction smears into audible noise once the sound is normalised. Measured on
  held-out real sounds (``benchmarks/roundtrip.py``): for the first default model (no output
  calibration) the expander (knee :data:`GATE_DB`, ratio :data:`GATE_RATIO`, floor
  :data:`FLOOR_DB`, the defaults) took the median level of the frames where the source is
  silent from -54 dB to the -80 dB floor and the round-trip log-spectral distance from 20 to
  6.6 dB; a hard gate at -30 dB gave 8.6 dB and a per-frame gate 11-18 dB (it leaves the haze
  under every sounding frame). The current default model's decoder is calibrated to its
  corpus (``docs/model-training.md``), and on 71 unseen sounds a floor alone at -66 dB did
  best: 9.3 dB against 12.6 with the expander and 10.2 with no gate (silent frames -80 dB;
  -69 dB without any gate); its manifest says so.
- :func:`finish`: DC removed (the DC bin is dropped before phase reconstruction, so no
  step shifts the silent parts), a :data:`FADE_IN_S` fade-in and a :data:`FADE_OUT_S`
  fade-out (half-Hann), so every sound starts and ends at exactly 0, then the level.
- The level follows the sources: the sound's RMS over the model's window is set to the
  weighted mean, in dB, of the contributing sources' RMS levels over the same window from
  their onsets (:func:`source_level_db`; the weights are the mix's), and the gain is
  lowered where the peak would pass :data:`PEAK_DBFS` (no clipping, no limiter). Without
  a level (a map without sources' levels) the peak is set to :data:`PEAK_DBFS`.

numpy only; the cost is a few element-wise passes (cheap under Pyodide).
"""
from __future__ import annotations

import math

import numpy as np

from . import audio

GATE_DB = -30.0  # default: dB under the decoded peak bin where the expander starts
GATE_RATIO = 1.5  # default: below GATE_DB, each dB of input is GATE_RATIO dB of output
FLOOR_DB = -60.0  # default: output under this (relative to the peak bin) is silence
FADE_IN_S = 0.002  # s: short, so attacks stay sharp
FADE_OUT_S = 0.050  # s: sustained sounds end with a release instead of a cut
PEAK_DBFS = -0.3  # no sample (nor a resampled one) goes above this
PEAK_MAX = 10 ** (PEAK_DBFS / 20) * (1 - 1e-6)  # a hair under, so float rounding never passes it


def gate(S: np.ndarray, db_span: float, knee_db: float = GATE_DB, ratio: float = GATE_RATIO,
         floor_db: float = FLOOR_DB) -> np.ndarray:
    """The expander on a log-magnitude representation.

    Args:
        S: float ``[n_bins, n_frames]`` in [0, 1], linear in dB (the manifest's
            ``log_magnitude``: ``db_min + S * db_span``).
        db_span: ``db_max - db_min`` of the representation.
        knee_db, ratio, floor_db: dB under the maximum where the expansion starts, its
            ratio (1: none), and the level under which the output is silence.

    Returns:
        float32 ``[n_bins, n_frames]``: ``S`` with bins more than ``-knee_db`` dB under its
        maximum expanded downwards, and 0 (silence, see
        :func:`intellimixer.spectral.to_magnitude`) where the result is under ``floor_db``.
    """
    S = np.asarray(S, dtype=np.float32)
    top = float(S.max()) if S.size else 0.0
    rel = (S - np.float32(top)) * np.float32(db_span)  # dB under the peak bin, <= 0
    knee = np.float32(knee_db)
    out_rel = np.where(rel < knee, knee + (rel - knee) * np.float32(ratio), rel) if ratio != 1 else rel
    out = np.float32(top) + out_rel / np.float32(db_span)
    out[out_rel < floor_db] = 0.0
    return np.clip(out, 0.0, 1.0, out=out)


def _ramp(n: int) -> np.ndarray:
    """Half-Hann ramp 0 -> 1 over ``n`` samples (its first sample is exactly 0)."""
    return (0.5 - 0.5 * np.cos(np.pi * np.arange(n) / max(n, 1))).astype(np.float32)


def fade(x: np.ndarray, sr: int, fade_in_s: float = FADE_IN_S, fade_out_s: float = FADE_OUT_S) -> np.ndarray:
    """``x [n]`` with half-Hann fades; its first and last samples are exactly 0."""
    y = np.array(x, dtype=np.float32, copy=True).reshape(-1)
    n = len(y)
    if n == 0:
        return y
    a = min(n, max(1, round(fade_in_s * sr)))
    b = min(n, max(1, round(fade_out_s * sr)))
    y[:a] *= _ramp(a)
    y[n - b:] *= _ramp(b)[::-1]
    y[-1] = 0.0
    return y


def rms_db(x: np.ndarray) -> float:
    """RMS level of ``x`` in dBFS (``-inf`` for silence)."""
    x = np.asarray(x, dtype=np.float32)
    ms = float(np.mean(np.square(x, dtype=np.float64))) if x.size else 0.0
    return 10.0 * math.log10(ms) if ms > 0 else -math.inf


def source_level_db(x: np.ndarray, sr: int, duration: float) -> float:
    """A source's level: RMS in dBFS over ``duration`` s from its onset (mono), as the model
    hears it before its input is normalised (``-inf`` for silence)."""
    y = audio.to_mono(x)
    y = y[audio.onset(y):]
    n = max(1, round(duration * sr))
    return rms_db(audio.fit_length(y, n, fade=0))


def mix_level_db(levels: np.ndarray, weights: np.ndarray) -> float | None:
    """The level a mix should have: the weighted mean of finite source levels (dB), or None."""
    lv, w = np.asarray(levels, dtype=np.float64), np.asarray(weights, dtype=np.float64)
    ok = np.isfinite(lv) & (w > 0)
    return float(np.sum(lv[ok] * w[ok]) / np.sum(w[ok])) if ok.any() else None


def set_level(x: np.ndarray, level_db: float | None) -> np.ndarray:
    """Scale ``x`` to an RMS of ``level_db`` dBFS (None: peak at :data:`PEAK_DBFS`), never
    letting its peak pass :data:`PEAK_DBFS`. Silence stays silence."""
    x = np.asarray(x, dtype=np.float32)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak == 0.0:
        return x
    gain = PEAK_MAX / peak
    if level_db is not None and math.isfinite(level_db):
        now = rms_db(x)
        gain = min(gain, 10 ** ((level_db - now) / 20))
    return (x * np.float32(gain)).astype(np.float32)


def finish(x: np.ndarray, sr: int, level_db: float | None = None) -> np.ndarray:
    """A reconstructed signal ``[n]`` -> the sound kept: fades, then :func:`set_level`."""
    return set_level(fade(x, sr), level_db)


def limit_peak(x: np.ndarray) -> np.ndarray:
    """Scale down ``x`` (e.g. after resampling, whose inter-sample peaks can rise) so its
    peak is at most :data:`PEAK_DBFS`."""
    x = np.asarray(x, dtype=np.float32)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return (x * np.float32(PEAK_MAX / peak)).astype(np.float32) if peak > PEAK_MAX else x
