"""Synthesis stage: phase reconstruction from a magnitude spectrogram.

Fast Griffin-Lim (Perraudin, Balazs & Sondergaard, "A fast Griffin-Lim algorithm",
WASPAA 2013): alternate projections onto consistent spectrograms (STFT of the ISTFT) and
onto the target magnitude, with an inertial step of weight ``momentum`` (0.99 by default).
numpy only; all work is complex64 / float32 so it is as cheap as possible under Pyodide.

The starting phase matters as much as the iterations: :func:`gradient_phase` integrates the
phase-gradient heuristic of Průša, Balazs & Søndergaard ("A noniterative method for
reconstruction of phase from STFT magnitude", IEEE/ACM TASLP 2017) along time, so fast
Griffin-Lim starts from a phase whose partials already advance at their own frequencies;
it reaches in 16-20 iterations what a random start reaches in 32 (``benchmarks/engine.py``).
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np

from . import finishing, spectral
from .spectral import StftParams

_EPS = np.float32(1e-8)


def _frames_params(p: StftParams, n_frames: int) -> StftParams:
    return p if p.n_frames == n_frames else replace(p, n_frames=n_frames)


INITS = ("gradient", "random", "zeros")

# PGHI's time-frequency ratio of each window, as a multiple of its length squared (the
# Gaussian that the window resembles most; Průša et al. 2017, table I)
_LAMBDA = {"hann": 0.25645, "hamming": 0.29794, "blackman": 0.17954}


def gradient_phase(mag: np.ndarray, p: StftParams) -> np.ndarray:
    """Phase from the magnitude alone: PGHI's time-direction relation, integrated along time.

    For an STFT with hop ``a`` and ``M = n_fft`` bins, the phase of bin ``m`` advances per hop by
    ``a * (2 pi m / M + (M / lambda) * d log|X| / dm)`` (a partial between two bins pulls their
    phases towards its own frequency); the advance is summed over frames with the trapezoid
    rule, each bin starting at 0.

    Args:
        mag: linear magnitude ``[n_fft // 2 + 1, n_frames]``.
        p: STFT parameters (window and hop).

    Returns:
        float32 phase in radians ``[n_fft // 2 + 1, n_frames]``.
    """
    mag = np.asarray(mag, dtype=np.float32)
    M, a = p.n_fft, p.hop_length
    lam = _LAMBDA.get(p.window, _LAMBDA["hann"]) * M * M
    s = np.log(mag + np.float32(1e-6) * max(float(mag.max()), 1e-30))
    ds = np.zeros_like(s)
    ds[1:-1] = s[2:] - s[:-2]  # central difference over bins, times 2
    adv = ds * np.float32(a * M / (2.0 * lam))
    adv += (np.float32(2.0 * np.pi * a / M) * np.arange(mag.shape[0], dtype=np.float32))[:, None]
    out = np.zeros_like(s)
    np.cumsum((adv[:, 1:] + adv[:, :-1]) * np.float32(0.5), axis=1, out=out[:, 1:])
    return out


def initial_phase(mag: np.ndarray, init="gradient", seed: int = 0, p: StftParams | None = None) -> np.ndarray:
    """Unit-modulus complex64 ``[bins, frames]`` to start from: ``"gradient"``
    (:func:`gradient_phase`, needs ``p``), ``"random"`` (uniform phase, seeded), ``"zeros"``
    (all phases 0), or a complex array of the same shape (e.g. the phase a neighbouring sound
    ended with: its modulus is ignored). The random and zero phases are read-only and cached
    per shape and seed (complex ``exp`` is slow under Pyodide, and every click uses the same)."""
    if isinstance(init, np.ndarray):
        if init.shape != np.shape(mag):
            raise ValueError(f"initial phase has shape {init.shape}, the magnitude {np.shape(mag)}")
        return (init / (np.abs(init) + _EPS)).astype(np.complex64)
    if init == "gradient":
        if p is None:
            raise ValueError("the gradient initial phase needs the STFT parameters")
        ph = gradient_phase(mag, p)
        out = np.empty(ph.shape, dtype=np.complex64)
        np.cos(ph, out=out.real)
        np.sin(ph, out=out.imag)
        return out
    return _initial_phase(tuple(np.shape(mag)), init, int(seed))


@lru_cache(maxsize=8)
def _initial_phase(shape: tuple[int, ...], init: str, seed: int) -> np.ndarray:
    if init == "random":
        rng = np.random.default_rng(seed)
        out = np.exp(2j * np.pi * rng.random(shape, dtype=np.float32)).astype(np.complex64)
    elif init == "zeros":
        out = np.ones(shape, dtype=np.complex64)
    else:
        raise ValueError(f"unknown phase init {init!r}; expected one of {', '.join(INITS)} or an array")
    out.setflags(write=False)
    return out


def griffin_lim(
    mag: np.ndarray,
    p: StftParams,
    length: int | None = None,
    n_iter: int = 32,
    momentum: float = 0.99,
    init="gradient",
    seed: int = 0,
    keep_phase: list | None = None,
) -> np.ndarray:
    """Reconstruct a signal whose STFT magnitude approximates ``mag``.

    Args:
        mag: linear magnitude ``[n_fft // 2 + 1, n_frames]``.
        p: STFT parameters (``p.n_frames`` is taken from ``mag``).
        length: output length in samples (default ``n_frames * hop_length``).
        n_iter: iterations (each is one ISTFT and one STFT).
        momentum: inertial weight alpha of fast Griffin-Lim; 0 gives classic Griffin-Lim.
        init: initial phase, see :func:`initial_phase` (``"gradient"``, ``"random"``,
            ``"zeros"`` or a complex ``[bins, frames]`` array).
        seed: random-phase seed (output is deterministic for a given seed).
        keep_phase: if a list, the final complex spectrogram ``[bins, frames]`` is appended
            to it (a warm start for a neighbouring sound: see ``init``).

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
    c = mag * initial_phase(mag, init, seed, p)
    if n_iter and p.n_fft % p.hop_length == 0 and 1 + alpha > 0:
        return _fgla_loop(mag, c, p, length, n_iter, alpha, keep_phase)
    t = c
    for _ in range(n_iter):
        rebuilt = spectral.stft(spectral.istft(t, p, length), p)
        c_next = mag * (rebuilt / (np.abs(rebuilt) + _EPS))
        t = c_next + alpha * (c_next - c)
        c = c_next
    if keep_phase is not None:
        keep_phase.append(c)
    return spectral.istft(c.astype(np.complex64, copy=False), p, length).astype(np.float32)


@lru_cache(maxsize=8)
def _fgla_windows(name: str, n_fft: int, hop: int, n_frames: int, length: int, pad: int, scale: float):
    """Read-only float32 windows for :func:`_fgla_loop`: the synthesis window repeated for
    every frame ``ws [n_frames, n_fft]`` (a full operand multiplies faster than a broadcast one
    under Pyodide), the per-frame analysis window ``wa [n_frames, n_fft]`` = ``scale * w * inv`` framed, and
    ``inv [(n_frames - 1) * hop + n_fft]``: 1 / (overlap-added squared window) on the samples
    ``istft`` keeps, ``[pad, pad + length)``, and 0 elsewhere (the trim and re-pad)."""
    w = spectral.window(name, n_fft).astype(np.float32)
    total = (n_frames - 1) * hop + n_fft
    norm = spectral._ola_norm(name, n_fft, hop, n_frames)
    inv = np.zeros(total, dtype=np.float32)
    keep = max(0, min(length, total - pad))
    inv[pad : pad + keep] = 1.0 / norm[pad : pad + keep]
    inv_framed = np.lib.stride_tricks.as_strided(inv, shape=(n_frames, n_fft), strides=(inv.strides[0] * hop, inv.strides[0]))
    wa = (np.float32(scale) * inv_framed * w).astype(np.float32)
    ws = np.ascontiguousarray(np.broadcast_to(w, (n_frames, n_fft)))
    for a in (ws, wa, inv):
        a.setflags(write=False)
    return ws, wa, inv


def _fgla_loop(mag: np.ndarray, c: np.ndarray, p: StftParams, length: int, n_iter: int, alpha,
               keep_phase: list | None = None) -> np.ndarray:
    """The fast Griffin-Lim loop of :func:`griffin_lim`, rearranged to be cheap under Pyodide.

    Same iterates as the textbook loop, but the inertial step is taken on signals instead of
    spectrograms: the ISTFT is linear, so ``istft(t_n) = (1 + a) istft(c_n) - a istft(c_{n-1})``
    and the loop keeps the last two ISTFTs (16k samples each) instead of combining two complex
    ``[frames, bins]`` spectrograms (33k values) every iteration. Further:

    - arrays are ``[frames, bins]`` (no transposes), float32 / complex64, preallocated;
    - the ISTFT's normalisation, trim and re-pad (``y * inv``) are folded into the analysis
      window of the next STFT (``wa``), and ``1 + a`` with them;
    - the overlap-add is ``n_fft / hop - 1`` vectorised adds of a strided view of a padded
      frame buffer (``irfft`` writes into it);
    - the magnitude is ``sqrt(re**2 + im**2)`` (``np.abs`` of complex64 is several times
      slower in WebAssembly) and the projection multiplies by a real ratio.

    Needs ``hop_length`` to divide ``n_fft`` and ``1 + a > 0``. Returns the signal ``[length]``.
    """
    n_fft, hop = p.n_fft, p.hop_length
    n_frames = mag.shape[1]
    r = n_fft // hop
    pad = n_fft // 2 if p.center else 0
    beta = np.float32(alpha / (1 + alpha))  # t = (1 + a) * (y_c - beta * y_prev)
    ws, wa, inv = _fgla_windows(p.window, n_fft, hop, n_frames, length, pad, float(1 + alpha))
    blocks = n_frames + r - 1  # the signal is blocks * hop samples
    mag_t = np.ascontiguousarray(mag.T)
    # frames with r - 1 zero frames either side: block j of the overlap-add is
    # sum_k fbuf[j - k + r - 1, k * hop : (k + 1) * hop], a strided view (negative middle stride)
    fbuf = np.zeros((n_frames + 2 * (r - 1), n_fft), dtype=np.float32)
    frames = fbuf[r - 1 : r - 1 + n_frames]
    size = fbuf.itemsize
    ola = np.ndarray((blocks, r, hop), np.float32, buffer=fbuf, offset=(r - 1) * n_fft * size,
                     strides=(n_fft * size, (hop - n_fft) * size, size))

    def istft_into(spec, y):
        """Unnormalised ISTFT of ``spec [frames, bins]`` into ``y [blocks * hop]``."""
        np.fft.irfft(spec, n=n_fft, axis=1, out=frames)
        np.multiply(frames, ws, out=frames)
        y2 = y.reshape(blocks, hop)
        if r == 1:
            y2[...] = ola[:, 0]
        else:
            np.add(ola[:, 0], ola[:, 1], out=y2)
            for k in range(2, r):
                np.add(y2, ola[:, k], out=y2)
        return y

    def framed(y):
        return np.lib.stride_tricks.as_strided(y, shape=(n_frames, n_fft), strides=(y.strides[0] * hop, y.strides[0]),
                                               writeable=False)

    # two signal buffers, each with its frames view: (current ISTFT, previous ISTFT)
    y_c = istft_into(np.ascontiguousarray(c.T), np.empty(blocks * hop, dtype=np.float32))
    y_o = y_c.copy()
    cur, old = (y_c, framed(y_c)), (y_o, framed(y_o))
    x = np.empty((n_frames, n_fft), dtype=np.float32)
    rebuilt = np.empty(mag_t.shape, dtype=np.complex64)
    re, im = rebuilt.real, rebuilt.imag
    ratio = np.empty(mag_t.shape, dtype=np.float32)
    im2 = np.empty(mag_t.shape, dtype=np.float32)
    for _ in range(n_iter):
        # old <- cur - beta * old, so that (1 + a) * old is the ISTFT of t (1 + a is in wa)
        y_o = old[0]
        y_o *= beta
        np.subtract(cur[0], y_o, out=y_o)
        # STFT of t, then the magnitude projection c = mag * rebuilt / (|rebuilt| + eps)
        np.multiply(old[1], wa, out=x)
        np.fft.rfft(x, axis=1, out=rebuilt)
        np.multiply(re, re, out=ratio)
        np.multiply(im, im, out=im2)
        ratio += im2
        np.sqrt(ratio, out=ratio)
        ratio += _EPS
        np.divide(mag_t, ratio, out=ratio)
        # rebuilt *= ratio, as two real products (complex64 * float32 casts, 2x slower in wasm)
        np.multiply(re, ratio, out=re)
        np.multiply(im, ratio, out=im)
        # old <- ISTFT of the new c; it becomes the current one and the current one the old
        istft_into(rebuilt, y_o)
        cur, old = old, cur
    if keep_phase is not None:
        keep_phase.append(rebuilt.T)
    y_c = cur[0]
    y_c *= inv
    out = np.zeros(length, dtype=np.float32)
    seg = y_c[pad : pad + length]
    out[: len(seg)] = seg
    return out


def spectral_convergence(mag: np.ndarray, x: np.ndarray, p: StftParams) -> float:
    """``|| mag - |STFT(x)| ||_F / || mag ||_F`` (0 is perfect; lower is better)."""
    mag = np.asarray(mag, dtype=np.float64)
    p = _frames_params(p, mag.shape[1])
    est = np.abs(spectral.stft(np.asarray(x, dtype=np.float64), p))
    return float(np.linalg.norm(mag - est) / max(np.linalg.norm(mag), 1e-12))


def synthesize(S: np.ndarray, manifest, n_iter: int | None = None, seed: int = 0, gate: bool = True,
               init=None, keep_phase: list | None = None) -> np.ndarray:
    """Model output -> audio (before finishing: see :func:`intellimixer.pipeline.render`).

    Args:
        S: representation ``[n_bins, n_frames]`` (or with leading singleton axes, as the
            decoder returns it).
        manifest: a :class:`intellimixer.model.Manifest` (STFT, representation, length,
            phase settings).
        n_iter: Griffin-Lim iterations (default: the manifest's ``phase.n_iter``).
        gate: apply :func:`intellimixer.finishing.gate` first, with the manifest's settings (for
            decoded spectrograms; False measures phase reconstruction alone on a true spectrogram).
        init: starting phase (default: the manifest's ``phase.init``); see :func:`initial_phase`.
        keep_phase: see :func:`griffin_lim`.

    Returns:
        float32 ``[manifest.n_samples]`` at the magnitude's own scale; the DC bin is left
        out, so the signal has no DC offset and its silent parts stay at 0.
    """
    r = manifest.representation
    S = np.asarray(S, dtype=np.float32).reshape(manifest.stft.n_bins, manifest.stft.n_frames)
    if gate:
        ph = manifest.phase
        S = finishing.gate(S, r.db_max - r.db_min, ph.gate_knee_db, ph.gate_ratio, ph.gate_floor_db)
    mag = spectral.to_magnitude(S, manifest.stft, r)
    mag[0] = 0.0
    return griffin_lim(
        mag,
        manifest.stft,
        manifest.n_samples,
        n_iter=manifest.phase.n_iter if n_iter is None else n_iter,
        momentum=manifest.phase.momentum,
        init=manifest.phase.init if init is None else init,
        seed=seed,
        keep_phase=keep_phase,
    )
