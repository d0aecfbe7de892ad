"""Spectral stage: STFT analysis and synthesis, and the model's input representation.

Every parameter (FFT size, hop, window, frame count, dB range) comes from the model
manifest through :class:`StftParams` and :class:`Representation`; nothing here is
hard-coded for one model.  numpy only (``numpy.fft``), so it runs unchanged under
Pyodide, where scipy is not on the critical path.

Conventions (librosa-like):

- audio ``x``: float, shape ``[n_samples]``, amplitude in [-1, 1];
- complex STFT ``X``: shape ``[n_fft // 2 + 1, n_frames]`` (frequency bins x frames);
- representation ``S``: float32, shape ``[n_bins, n_frames]`` with ``n_bins = n_fft // 2``
  (the Nyquist bin is dropped for the model and restored as zeros), values in [0, 1].
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

WINDOWS = ("hann", "hamming", "blackman")
REPRESENTATIONS = ("log_magnitude",)


@dataclass(frozen=True)
class StftParams:
    """STFT layout shared by analysis, the model and phase reconstruction.

    Attributes:
        n_fft: FFT size and window length in samples.
        hop_length: hop between frames in samples.
        window: window name, one of :data:`WINDOWS` (periodic form).
        center: if True, frame ``t`` is centred on sample ``t * hop_length`` (the signal is
            zero-padded by ``n_fft // 2`` on both sides), as in librosa.
        n_bins: frequency bins the model sees (``n_fft // 2``: DC .. Nyquist - 1 bin).
        n_frames: frames the model sees; a signal of ``n_frames * hop_length`` samples
            maps to exactly ``n_frames`` frames.
    """

    n_fft: int
    hop_length: int
    window: str = "hann"
    center: bool = True
    n_bins: int | None = None
    n_frames: int | None = None

    @property
    def n_freqs(self) -> int:
        """Bins of the full one-sided spectrum (``n_fft // 2 + 1``)."""
        return self.n_fft // 2 + 1

    @property
    def length(self) -> int:
        """Signal length in samples that maps to ``n_frames`` frames."""
        if self.n_frames is None:
            raise ValueError("StftParams.n_frames is not set")
        return self.n_frames * self.hop_length


@dataclass(frozen=True)
class Representation:
    """How magnitudes are scaled into the model's [0, 1] input.

    ``S = clip((20 log10(|X| / ref + 1e-10) - db_min) / (db_max - db_min), 0, 1)`` where
    ``ref = sum(window) / 2`` so that a full-scale sine peaks at 0 dB.
    """

    type: str = "log_magnitude"
    db_min: float = -80.0
    db_max: float = 0.0


@lru_cache(maxsize=16)
def window(name: str, n_fft: int) -> np.ndarray:
    """Periodic analysis window, float64 ``[n_fft]`` (read-only, cached)."""
    n = np.arange(n_fft) * (2.0 * np.pi / n_fft)
    if name == "hann":
        w = 0.5 - 0.5 * np.cos(n)
    elif name == "hamming":
        w = 0.54 - 0.46 * np.cos(n)
    elif name == "blackman":
        w = 0.42 - 0.5 * np.cos(n) + 0.08 * np.cos(2 * n)
    else:
        raise ValueError(f"unknown window {name!r}; expected one of {', '.join(WINDOWS)}")
    w.setflags(write=False)
    return w


def magnitude_ref(p: StftParams) -> float:
    """Magnitude of a full-scale sine's peak bin (``sum(window) / 2``): the 0 dB point."""
    return float(window(p.window, p.n_fft).sum() / 2.0)


def _frame_count(n_samples: int, p: StftParams) -> int:
    if p.n_frames is not None:
        return p.n_frames
    if p.center:
        return 1 + n_samples // p.hop_length
    return 1 + max(0, n_samples - p.n_fft) // p.hop_length


def stft(x: np.ndarray, p: StftParams) -> np.ndarray:
    """Short-time Fourier transform.

    Args:
        x: real signal ``[n_samples]``.
        p: STFT parameters; if ``p.n_frames`` is set, exactly that many frames are
            returned (the signal is zero-padded or frames past it are dropped).

    Returns:
        complex ``[n_fft // 2 + 1, n_frames]`` (complex128 for float64 input,
        complex64 for float32 input).
    """
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"stft expects a 1-D signal, got shape {x.shape}")
    n_fft, hop = p.n_fft, p.hop_length
    n_frames = _frame_count(len(x), p)
    pad_left = n_fft // 2 if p.center else 0
    total = (n_frames - 1) * hop + n_fft
    buf = np.zeros(total, dtype=np.float32 if x.dtype == np.float32 else np.float64)
    take = min(len(x), total - pad_left)
    buf[pad_left : pad_left + take] = x[:take]
    frames = np.lib.stride_tricks.as_strided(
        buf, shape=(n_frames, n_fft), strides=(buf.strides[0] * hop, buf.strides[0]), writeable=False
    )
    w = window(p.window, n_fft).astype(buf.dtype, copy=False)
    return np.fft.rfft(frames * w, axis=1).T


@lru_cache(maxsize=16)
def _ola_norm(name: str, n_fft: int, hop: int, n_frames: int) -> np.ndarray:
    """Overlap-added squared window ``[(n_frames - 1) * hop + n_fft]``, floored, read-only."""
    w2 = window(name, n_fft) ** 2
    norm = _overlap_add(np.broadcast_to(w2, (n_frames, n_fft)), hop)
    np.maximum(norm, 1e-8 * w2.max(), out=norm)
    norm.setflags(write=False)
    return norm


def _overlap_add(frames: np.ndarray, hop: int, out: np.ndarray | None = None) -> np.ndarray:
    """Overlap-add ``frames [n_frames, n_fft]`` with hop ``hop`` into one signal
    ``[(n_frames - 1) * hop + n_fft]`` (written into ``out`` if given, which is zeroed first).

    When ``hop`` divides ``n_fft`` this does ``n_fft // hop`` vectorised adds instead of
    one add per frame (the difference matters under Pyodide).
    """
    n_frames, n_fft = frames.shape
    if out is None:
        out = np.zeros((n_frames - 1) * hop + n_fft, dtype=frames.dtype)
    else:
        out.fill(0.0)
    if n_fft % hop == 0:
        r = n_fft // hop
        chunks = frames.reshape(n_frames, r, hop)
        for k in range(r):
            out[k * hop : (k * hop) + n_frames * hop] += chunks[:, k, :].reshape(-1)
    else:
        for t in range(n_frames):
            out[t * hop : t * hop + n_fft] += frames[t]
    return out


def istft(X: np.ndarray, p: StftParams, length: int | None = None) -> np.ndarray:
    """Inverse STFT by weighted overlap-add (least-squares inverse of :func:`stft`).

    Args:
        X: complex ``[n_fft // 2 + 1, n_frames]``.
        p: the parameters used for analysis.
        length: output length in samples (default ``n_frames * hop_length``).

    Returns:
        float ``[length]`` (float32 for complex64 input, else float64).
    """
    n_fft, hop = p.n_fft, p.hop_length
    if X.ndim != 2 or X.shape[0] != n_fft // 2 + 1:
        raise ValueError(f"istft expects [{n_fft // 2 + 1}, frames], got {X.shape}")
    n_frames = X.shape[1]
    if length is None:
        length = n_frames * hop
    frames = np.fft.irfft(X.T, n=n_fft, axis=1)
    if X.dtype == np.complex64:
        frames = frames.astype(np.float32)
    frames *= window(p.window, n_fft).astype(frames.dtype, copy=False)
    y = _overlap_add(frames, hop)
    y /= _ola_norm(p.window, n_fft, hop, n_frames).astype(y.dtype, copy=False)
    start = n_fft // 2 if p.center else 0
    out = y[start : start + length]
    if len(out) < length:
        out = np.pad(out, (0, length - len(out)))
    return out


def _check_rep(r: Representation) -> None:
    if r.type not in REPRESENTATIONS:
        raise ValueError(f"unknown representation {r.type!r}")
    if not r.db_max > r.db_min:
        raise ValueError("representation needs db_max > db_min")


def magnitude_to_repr(mag: np.ndarray, p: StftParams, r: Representation) -> np.ndarray:
    """Linear magnitude ``[>= n_bins, frames]`` -> representation ``[n_bins, frames]`` float32."""
    _check_rep(r)
    n_bins = p.n_bins or p.n_fft // 2
    db = 20.0 * np.log10(mag[:n_bins] / magnitude_ref(p) + 1e-10)
    s = (db - r.db_min) / (r.db_max - r.db_min)
    return np.clip(s, 0.0, 1.0).astype(np.float32)


def analyze(x: np.ndarray, p: StftParams, r: Representation) -> np.ndarray:
    """Audio -> model input.

    Args:
        x: float audio ``[p.length]`` (already prepared: mono, model rate, model length).
        p, r: the manifest's STFT parameters and representation.

    Returns:
        float32 ``[n_bins, n_frames]`` in [0, 1].
    """
    return magnitude_to_repr(np.abs(stft(np.asarray(x, dtype=np.float32), p)), p, r)


def to_magnitude(S: np.ndarray, p: StftParams, r: Representation) -> np.ndarray:
    """Model output -> linear magnitude, the inverse of the scaling in :func:`analyze`.

    Args:
        S: ``[n_bins, n_frames]`` (values outside [0, 1] are clipped). Values at 0
            (the dB floor) map to exact zeros so the floor does not add noise.

    Returns:
        float32 ``[n_fft // 2 + 1, n_frames]``; bins the model does not see are zero.
    """
    _check_rep(r)
    S = np.clip(np.asarray(S, dtype=np.float32), 0.0, 1.0)
    if S.ndim != 2:
        raise ValueError(f"to_magnitude expects [bins, frames], got shape {S.shape}")
    db = r.db_min + S * (r.db_max - r.db_min)
    mag = np.zeros((p.n_fft // 2 + 1, S.shape[1]), dtype=np.float32)
    lin = np.power(np.float32(10.0), db / np.float32(20.0)) * np.float32(magnitude_ref(p))
    lin[S <= 0.0] = 0.0
    mag[: S.shape[0]] = lin
    return mag


# magma (perceptually uniform), 17 knots taken from matplotlib's table; linear
# interpolation between them stays within 2.3/255 of the full 256-entry table
_MAGMA = np.array(
    [[0, 0, 4], [10, 8, 34], [29, 17, 71], [54, 16, 107], [81, 18, 124], [106, 28, 129], [131, 38, 129],
     [156, 46, 127], [183, 55, 121], [208, 65, 111], [231, 82, 99], [245, 107, 92], [252, 137, 97],
     [254, 167, 114], [254, 196, 136], [253, 226, 163], [252, 253, 191]],
    dtype=np.float32,
)


@lru_cache(maxsize=2)
def _magma_lut() -> np.ndarray:
    knots = np.linspace(0.0, 1.0, len(_MAGMA))
    grid = np.linspace(0.0, 1.0, 256)
    lut = np.empty((256, 4), dtype=np.uint8)
    for c in range(3):
        lut[:, c] = np.round(np.interp(grid, knots, _MAGMA[:, c]))
    lut[:, 3] = 255
    lut.setflags(write=False)
    return lut


def to_rgba(S: np.ndarray) -> np.ndarray:
    """Representation ``[n_bins, n_frames]`` in [0, 1] -> image ``uint8 [n_bins, n_frames, 4]``
    (magma colormap, row 0 = highest frequency, ready for a canvas ``ImageData``)."""
    S = np.asarray(S, dtype=np.float32)
    if S.ndim != 2:
        raise ValueError(f"to_rgba expects [bins, frames], got shape {S.shape}")
    idx = np.clip(np.round(S[::-1] * 255.0), 0, 255).astype(np.uint8)
    return _magma_lut()[idx]
