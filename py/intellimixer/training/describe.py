"""Dims a person can read: each latent dim labelled by the audio descriptor it moves most.

Descriptors (:func:`descriptors`) are measured on each training sound's model input (its
spectrogram at the model's rate and length, mapped back to linear magnitude) and on the
envelope of its frames' energy:

- ``brightness``: spectral centroid in Hz (energy-weighted over the sound);
- ``pitch``: the dominant frequency (median over the loud frames of each frame's loudest
  bin), log2 Hz;
- ``length``: how long the sound stays within 30 dB of its peak, s;
- ``noisiness``: spectral flatness (geometric / arithmetic mean of the power spectrum),
  energy-weighted over the frames, 0 (a tone) to 1 (white noise);
- ``attack``: time from the onset to the envelope's peak, log10 ms.

:func:`sweep_dims` measures what each dim moves: for sounds of the corpus, it decodes their
latent with that one dim set low and high (its 10th and 90th percentile over the corpus) and
takes each descriptor's change, in units of the descriptor's spread over the corpus.
:func:`label_dims` names each dim after the descriptor it moves most, in the direction the
dim grows: ``"dim 1 · brighter →"`` (and records the rank correlation of the dim with that
descriptor over the corpus, Spearman's).
"""
from __future__ import annotations

import numpy as np

from .. import spectral
from ..model import Manifest

NAMES = ("brightness", "pitch", "length", "noisiness", "attack")
WORDS = {  # descriptor -> (word when it falls along the dim, word when it grows)
    "brightness": ("darker", "brighter"),
    "pitch": ("lower", "higher"),
    "length": ("shorter", "longer"),
    "noisiness": ("more tonal", "noisier"),
    "attack": ("sharper attack", "slower attack"),
}


def descriptors(S: np.ndarray, m: Manifest) -> dict[str, float]:
    """The descriptors of a model input ``S [n_bins, n_frames]`` (see the module docstring)."""
    p = m.stft
    mag = spectral.to_magnitude(S, p, m.representation).astype(np.float64)
    power = mag**2
    freqs = np.arange(mag.shape[0]) * m.sample_rate / p.n_fft
    frame_e = power.sum(axis=0)
    total = float(frame_e.sum()) or 1e-12
    centroid = float((power * freqs[:, None]).sum() / total)
    loud = frame_e >= 0.01 * frame_e.max() if frame_e.max() > 0 else np.ones_like(frame_e, bool)
    peak_bins = np.argmax(mag[1:, loud], axis=0) + 1
    pitch = float(np.log2(np.median(freqs[peak_bins]) + 1.0))
    flat = np.exp(np.mean(np.log(power[1:] + 1e-12), axis=0)) / (np.mean(power[1:], axis=0) + 1e-12)
    noisiness = float(np.sum(flat * frame_e) / total)
    env = np.sqrt(frame_e)
    top = int(np.argmax(env))
    hop_s = p.hop_length / m.sample_rate
    above = np.flatnonzero(env >= env[top] * 10 ** (-30 / 20))
    length = float((above[-1] - above[0] + 1) * hop_s) if above.size else 0.0
    start = int(above[0]) if above.size else 0
    attack = float(np.log10(1000 * max(top - start, 0) * hop_s + 1.0))
    return {"brightness": centroid, "pitch": pitch, "length": length, "noisiness": noisiness, "attack": attack}


def _ranks(v: np.ndarray) -> np.ndarray:
    order = np.argsort(v, kind="stable")
    r = np.empty(len(v), dtype=np.float64)
    r[order] = np.arange(len(v))
    return r


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two equal-length vectors (0 if either is constant)."""
    ra, rb = _ranks(np.asarray(a)), _ranks(np.asarray(b))
    ra -= ra.mean()
    rb -= rb.mean()
    den = float(np.sqrt((ra**2).sum() * (rb**2).sum()))
    return float((ra * rb).sum() / den) if den > 0 else 0.0


def sweep_dims(decode, mu: np.ndarray, m: Manifest, spread: dict[str, float], n: int = 48) -> np.ndarray:
    """What each latent dim moves: ``[D, len(NAMES)]``, the mean change of each descriptor
    (in units of ``spread``, its standard deviation over the corpus) when the dim goes from its
    10th to its 90th percentile over ``mu [N, D]``, the other dims kept as they are in ``n``
    sounds of the corpus; ``decode``: ``z [B, D] -> [B, n_bins, n_frames]``."""
    rng = np.random.default_rng(0)
    base = mu[rng.choice(len(mu), size=min(n, len(mu)), replace=False)]
    lo, hi = np.percentile(mu, 10, axis=0), np.percentile(mu, 90, axis=0)
    out = np.zeros((mu.shape[1], len(NAMES)))
    for i in range(mu.shape[1]):
        low, high = base.copy(), base.copy()
        low[:, i], high[:, i] = lo[i], hi[i]
        S = decode(np.concatenate([low, high]).astype(np.float32))
        d = np.array([[descriptors(s, m)[k] for k in NAMES] for s in S])
        out[i] = (d[len(base):] - d[: len(base)]).mean(axis=0) / np.array([spread[k] or 1.0 for k in NAMES])
    return out


def label_dims(mu: np.ndarray, desc: list[dict[str, float]], moves: np.ndarray | None = None) -> list[dict[str, object]]:
    """For each dim of ``mu [N, D]``: the descriptor it moves most (the largest ``|moves|``
    of :func:`sweep_dims`; without ``moves``, the largest rank correlation with the dim over
    ``desc``, one dict per sound) and the direction it grows in:
    ``[{"label", "descriptor", "correlation"}]`` in dim order."""
    table = {name: np.array([d[name] for d in desc], dtype=np.float64) for name in NAMES}
    out = []
    for i in range(mu.shape[1]):
        corr = {name: spearman(mu[:, i], v) for name, v in table.items()}
        if moves is None:
            best = max(NAMES, key=lambda n: abs(corr[n]))
            grows = corr[best] > 0
        else:
            k = int(np.argmax(np.abs(moves[i])))
            best, grows = NAMES[k], moves[i, k] > 0
        word = WORDS[best][1 if grows else 0]
        out.append({"label": f"dim {i + 1} · {word} →", "descriptor": best, "correlation": round(corr[best], 3)})
    return out


def spreads(desc: list[dict[str, float]]) -> dict[str, float]:
    """Each descriptor's standard deviation over ``desc``."""
    return {k: float(np.std([d[k] for d in desc])) for k in NAMES}
