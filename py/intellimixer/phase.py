"""Synthesis stage: phase reconstruction from a magnitude spectrogram.

Fast Griffin-Lim (Perraudin, Balazs & Sondergaard, "A fast Griffin-Lim algorithm",
WASPAA 2013): alternate projections onto consistent spectrograms (STFT of the ISTFT) and
onto the target magnitude, with an inertial step of weight ``momentum`` (0.99 by default).
numpy only; all work is complex64 / float32 so it is as cheap as possible under Pyodide.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np

from . import audio, spectral
from .spectral import StftParams

_EPS = np.float32(1e-8)


def _frames_params(p: StftParams, n_frames: int) -> StftParams:
    return p if p.n_frames == n_frames else replace(p, n_frames=n_frames)


def initial_phase(mag: np.ndarray, init: str = "random", seed: int = 0) -> np.ndarray:
    """Unit-modulus complex64 ``[bins, frames]`` to start from: ``"random"`` (uniform
    phase, seeded) or ``"zeros"`` (all phases 0). Read-only and cached per shape and seed
    (complex ``exp`` is slow under Pyodide, and every click of one model uses the same)."""
    return _initial_phase(tuple(np.shape(mag)), init, int(seed))


@lru_cache(maxsize=8)
def _initial_phase(shape: tuple[int, ...], init: str, seed: int) -> np.ndarray:
    if init == "random":
        rng = np.random.default_rng(seed)
        out = np.exp(2j * np.pi * rng.random(shape, dtype=np.float32)).astype(np.complex64)
    elif init == "zeros":
        out = np.ones(shape, dtype=np.complex64)
    else:
        raise ValueError(f"unknown phase init {init!r}; expected 'random' or 'zeros'")
    out.setflags(write=False)
    return out


def griffin_lim(
    mag: np.ndarray,
    p: StftParams,
    length: int | None = None,
    n_iter: int = 32,
    momentum: float = 0.99,
    init: str = "random",
    seed: int = 0,
) -> np.ndarray:
    """Reconstruct a signal whose STFT magnitude approximates ``mag``.

    Args:
        mag: linear magnitude ``[n_fft // 2 + 1, n_frames]``.
        p: STFT parameters (``p.n_frames`` is taken from ``mag``).
        length: output length in samples (default ``n_frames * hop_length``).
        n_iter: iterations (each is one ISTFT and one STFT).
        momentum: inertial weight alpha of fast Griffin-Lim; 0 gives classic Griffin-Lim.
        init: initial phase, ``"random"`` or ``"zeros"``.
        seed: random-phase seed (output is deterministic for a given seed).

    Returns:
        float32 ``[length]``.
    """
    mag = np.asarray(mag, dtype=np.float32)
    if mag.ndim != 2 or mag.shape[0] != p.n_fft // 2 + 1:
        raise ValueError(f"griffin_lim expects [{p.n_fft // 2 + 1}, frames], got {mag.shape}")
    if n_iter < 0:
        raise ValueError("n_iter must be >= 0")
    p = _frames_params(p, mag.shape[1])
    length = p.length if length is None else length
    alpha = np.float32(momentum)
    c = mag * initial_phase(mag, init, seed)
    if n_iter and p.n_fft % p.hop_length == 0:
        c = _fgla_frames(mag, c, p, length, n_iter, alpha)
    else:
        t = c
        for _ in range(n_iter):
            rebuilt = spectral.stft(spectral.istft(t, p, length), p)
            c_next = mag * (rebuilt / (np.abs(rebuilt) + _EPS))
            t = c_next + alpha * (c_next - c)
            c = c_next
    return spectral.istft(c.astype(np.complex64, copy=False), p, length).astype(np.float32)


def _fgla_frames(mag: np.ndarray, c: np.ndarray, p: StftParams, length: int, n_iter: int, alpha) -> np.ndarray:
    """The fast Griffin-Lim loop of :func:`griffin_lim`, same arithmetic, made cheap for Pyodide.

    Works on ``[frames, bins]`` arrays (no transposes), with preallocated buffers and
    in-place float32/complex64 ops, and fuses ISTFT -> trim -> re-pad -> STFT into one
    overlap-add buffer: the STFT of ``istft(t)[:length]`` frames that buffer with the samples
    outside ``[pad, pad + length)`` zeroed, which a precomputed normalisation does.
    The magnitude is ``sqrt(re**2 + im**2)`` (``np.abs`` of complex64 is several times slower
    in WebAssembly) and the projection multiplies by a real ratio instead of dividing
    complex numbers. Needs ``hop_length`` to divide ``n_fft``. Returns ``c`` as ``[bins, frames]``.
    """
    n_fft, hop = p.n_fft, p.hop_length
    n_frames = mag.shape[1]
    w = spectral.window(p.window, n_fft).astype(np.float32)
    total = (n_frames - 1) * hop + n_fft
    pad = n_fft // 2 if p.center else 0
    norm = spectral._ola_norm(p.window, n_fft, hop, n_frames)
    inv = np.zeros(total, dtype=np.float32)  # 1 / OLA norm where istft keeps samples, else 0
    keep = max(0, min(length, total - pad))
    inv[pad : pad + keep] = 1.0 / norm[pad : pad + keep]
    mag_t = np.ascontiguousarray(mag.T)
    c = np.ascontiguousarray(c.T)
    t = c.copy()
    y = np.zeros(total, dtype=np.float32)
    frames_of_y = np.lib.stride_tricks.as_strided(
        y, shape=(n_frames, n_fft), strides=(y.strides[0] * hop, y.strides[0]), writeable=False)
    ratio = np.empty(mag_t.shape, dtype=np.float32)
    im2 = np.empty(mag_t.shape, dtype=np.float32)
    framed = np.empty((n_frames, n_fft), dtype=np.float32)
    for _ in range(n_iter):
        # ISTFT of t into y (windowed overlap-add, normalised, trimmed and re-padded)
        fr = np.fft.irfft(t, n=n_fft, axis=1)
        if fr.dtype != np.float32:
            fr = fr.astype(np.float32)
        fr *= w
        spectral._overlap_add(fr, hop, out=y)
        y *= inv
        # STFT of y, then the magnitude projection: mag * rebuilt / (|rebuilt| + eps)
        np.multiply(frames_of_y, w, out=framed)
        rebuilt = np.fft.rfft(framed, axis=1)
        if rebuilt.dtype != np.complex64:
            rebuilt = rebuilt.astype(np.complex64)
        np.multiply(rebuilt.real, rebuilt.real, out=ratio)
        np.multiply(rebuilt.imag, rebuilt.imag, out=im2)
        ratio += im2
        np.sqrt(ratio, out=ratio)
        ratio += _EPS
        np.divide(mag_t, ratio, out=ratio)
        rebuilt *= ratio  # c_next
        # inertial step: t = c_next + alpha * (c_next - c)
        np.subtract(rebuilt, c, out=t)
        t *= alpha
        t += rebuilt
        c = rebuilt
    return c.T


def spectral_convergence(mag: np.ndarray, x: np.ndarray, p: StftParams) -> float:
    """``|| mag - |STFT(x)| ||_F / || mag ||_F`` (0 is perfect; lower is better)."""
    mag = np.asarray(mag, dtype=np.float64)
    p = _frames_params(p, mag.shape[1])
    est = np.abs(spectral.stft(np.asarray(x, dtype=np.float64), p))
    return float(np.linalg.norm(mag - est) / max(np.linalg.norm(mag), 1e-12))


def synthesize(S: np.ndarray, manifest, n_iter: int | None = None, seed: int = 0) -> np.ndarray:
    """Model output -> audio.

    Args:
        S: representation ``[n_bins, n_frames]`` (or with leading singleton axes, as the
            decoder returns it).
        manifest: a :class:`intellimixer.model.Manifest` (STFT, representation, length,
            phase settings).
        n_iter: Griffin-Lim iterations (default: the manifest's ``phase.n_iter``).

    Returns:
        float32 ``[manifest.n_samples]``, peak-normalised to 0.99 (silence stays silent).
    """
    S = np.asarray(S, dtype=np.float32).reshape(manifest.stft.n_bins, manifest.stft.n_frames)
    mag = spectral.to_magnitude(S, manifest.stft, manifest.representation)
    x = griffin_lim(
        mag,
        manifest.stft,
        manifest.n_samples,
        n_iter=manifest.phase.n_iter if n_iter is None else n_iter,
        momentum=manifest.phase.momentum,
        seed=seed,
    )
    return audio.normalize_peak(x)
