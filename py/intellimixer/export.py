"""Export stage: a generated sound as the WAV a sound designer asked for.

Rates: the model's own (``0``), 44.1 or 48 kHz; sample formats: 16-bit, 24-bit PCM or
32-bit float (:data:`intellimixer.audio.SAMPLE_FORMATS`). The choices (and the formats'
labels) are the limits ``export_rates`` / ``export_formats`` of :mod:`.strings` (the page's
menus and the CLI's options come from them). The credits travel in the WAV's INFO chunk as at the model's rate.

Resampling is band-limited through the DFT (``numpy.fft``, so it runs in the browser with
no scipy): a generated sound starts and ends at silence (:mod:`.finishing`), so the DFT's
periodic extension adds no edge, and zero padding keeps the tail clear of the wrap. Its
inter-sample peaks can rise above the original's: the result is scaled back under
:data:`intellimixer.finishing.PEAK_DBFS`.
"""
from __future__ import annotations

import math

import numpy as np

from . import audio, finishing
from .strings import LIMITS

RATES: tuple[int, ...] = tuple(int(r) for r in LIMITS["export_rates"])  # 0: the model's rate
FORMATS: dict[str, str] = dict(LIMITS["export_formats"])  # sample format -> its label
_PAD = 256  # zero samples after the sound before the DFT (keeps the tail off the wrap)


def check_options(rate, sample_format) -> tuple[int, str]:
    """Validated ``(rate, sample_format)``; ValueError naming the allowed values."""
    try:
        r = int(rate)
    except (TypeError, ValueError):
        r = -1
    if r not in RATES:
        raise ValueError(f"export rate must be one of {', '.join(str(v) for v in RATES)} (0: the model's), got {rate!r}")
    if sample_format not in FORMATS:
        raise ValueError(f"export format must be one of {', '.join(FORMATS)}, got {sample_format!r}")
    return r, str(sample_format)


def resample_fft(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Band-limited resampling of ``x [n]`` from ``sr_in`` to ``sr_out`` Hz through the DFT.

    The signal is zero-padded to a length whose rescaled length is whole, its spectrum is
    cut or zero-extended to the new length, and the result is trimmed to
    ``round(n * sr_out / sr_in)`` samples. Exact for a band-limited sound that is silent at
    both ends (what :func:`intellimixer.finishing.fade` guarantees).

    Returns:
        float32 ``[round(n * sr_out / sr_in)]``.
    """
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    if int(sr_in) == int(sr_out) or x.size == 0:
        return x.copy()
    g = math.gcd(int(sr_in), int(sr_out))
    up, down = int(sr_out) // g, int(sr_in) // g
    n_pad = -(-(len(x) + _PAD) // down) * down
    m = n_pad // down * up
    spec = np.fft.rfft(x, n=n_pad)
    y = np.fft.irfft(spec, n=m) * (m / n_pad)
    return y[: round(len(x) * up / down)].astype(np.float32)


def export_wav(wave: np.ndarray, sr: int, rate: int = 0, sample_format: str = "pcm16",
               info: dict[str, str] | None = None) -> tuple[bytes, int]:
    """A finished mono sound ``[n]`` at ``sr`` Hz -> ``(WAV bytes, the file's rate)``.

    Args:
        rate: 0 (keep ``sr``), 44100 or 48000.
        sample_format: ``"pcm16"``, ``"pcm24"`` or ``"float32"``.
        info: RIFF INFO tags (the credits).
    """
    rate, sample_format = check_options(rate, sample_format)
    out_sr = int(sr) if rate == 0 else rate
    y = finishing.limit_peak(resample_fft(wave, int(sr), out_sr))
    if out_sr != int(sr) and y.size:  # the DFT's ringing leaves ~1e-8 where the sound was 0
        y[0] = y[-1] = 0.0
    return audio.write_wav(y, out_sr, info=info, sample_format=sample_format), out_sr
