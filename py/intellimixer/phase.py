"""Synthesis stage: phase reconstruction from a magnitude spectrogram.

Fast Griffin-Lim (Perraudin, Balazs & Sondergaard, "A fast Griffin-Lim algorithm",
WASPAA 2013): alternate projections onto consistent spectrograms (STFT of the ISTFT) and
onto the target magnitude, with an inertial step of weight ``momentum`` (0.99 by default).
numpy only; all work is complex64 / float32 so it is as cheap as possible under Pyodide.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import audio, spectral
from .spectral import StftParams

_EPS = np.float32(1e-8)


def _frames_params(p: StftParams, n_frames: int) -> StftParams:
    return p if p.n_frames == n_frames else replace(p, n_frames=n_frames)


def initial_phase(mag: np.ndarray, init: str = "random", seed: int = 0) -> np.ndarray:
    """Unit-modulus complex64 ``[bins, frames]`` to start from: ``"random"`` (uniform
    phase, seeded) or ``"zeros"`` (all phases 0)."""
    if init == "random":
        rng = np.random.default_rng(seed)
        return np.exp(2j * np.pi * rng.random(mag.shape, dtype=np.float32)).astype(np.complex64)
    if init == "zeros":
        return np.ones(mag.shape, dtype=np.complex64)
    raise ValueError(f"unknown phase init {init!r}; expected 'random' or 'zeros'")


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
    t = c
    for _ in range(n_iter):
        rebuilt = spectral.stft(spectral.istft(t, p, length), p)
        c_next = mag * (rebuilt / (np.abs(rebuilt) + _EPS))
        t = c_next + alpha * (c_next - c)
        c = c_next
    return spectral.istft(c.astype(np.complex64, copy=False), p, length).astype(np.float32)


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
