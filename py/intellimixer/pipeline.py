"""The two pipeline steps around the model, used by the CLI, the app session, training,
the benchmarks and the tests alike.

- :func:`model_input`: decoded audio -> the encoder's input spectrogram
- :func:`render`: a decoded spectrogram -> audio (phase reconstruction)
- :func:`latent_to_audio`: a latent -> audio through a synchronous decoder (the CLI, training's
  evaluation, the benchmarks); the app session runs its asynchronous decoder, then :func:`render`
"""
from __future__ import annotations

import numpy as np

from . import audio, finishing, phase, spectral


def model_signal(x: np.ndarray, sr: int, manifest) -> np.ndarray:
    """Decoded audio ``x`` (float ``[n]`` or ``[n, channels]`` at ``sr`` Hz) -> the model's
    input signal: float32 ``[manifest.n_samples]`` at ``manifest.sample_rate`` (mono, from the
    onset, trimmed/padded, peak-normalised; see :func:`audio.prepare`). A sound longer than
    the model's duration fades out over its last :data:`finishing.FADE_OUT_S`, as every
    generated sound does.

    Raises:
        audio.AudioError: empty, silent or corrupt audio.
    """
    return audio.prepare(np.asarray(x, dtype=np.float32), int(sr), manifest.sample_rate, manifest.n_samples,
                         trim_fade=round(finishing.FADE_OUT_S * manifest.sample_rate))


def signal_to_input(y: np.ndarray, manifest) -> np.ndarray:
    """The model's signal (from :func:`model_signal`) -> the encoder's input: float32
    ``[n_bins, n_frames]`` in the manifest's representation."""
    return spectral.analyze(y, manifest.stft, manifest.representation)


def model_input(x: np.ndarray, sr: int, manifest) -> np.ndarray:
    """Decoded audio -> the encoder's input: :func:`signal_to_input` of :func:`model_signal`."""
    return signal_to_input(model_signal(x, sr, manifest), manifest)


def render(S: np.ndarray, manifest, n_iter: int | None = None, seed: int = 0, level_db: float | None = None,
           gate: bool = True, init=None, keep_phase: list | None = None) -> np.ndarray:
    """A spectrogram in the manifest's representation (``[n_bins, n_frames]``, any leading
    axes of size 1) -> the finished sound: float32 ``[manifest.n_samples]`` at
    ``manifest.sample_rate``: phase reconstruction with the manifest's settings (``n_iter``
    overrides its iterations; ``gate``, ``init`` and ``keep_phase`` as
    :func:`phase.synthesize`), then :func:`finishing.finish` (fades, level ``level_db`` dBFS
    RMS or, when None, peak at -0.3 dBFS)."""
    x = phase.synthesize(S, manifest, n_iter=n_iter, seed=seed, gate=gate, init=init, keep_phase=keep_phase)
    return finishing.finish(x, manifest.sample_rate, level_db)


def source_level(x: np.ndarray, sr: int, manifest) -> float:
    """A source's level in dBFS RMS over the model's duration from its onset
    (:func:`finishing.source_level_db`); what a mix's level follows."""
    return finishing.source_level_db(x, int(sr), manifest.duration)


def latent_to_audio(model, z: np.ndarray, n_iter: int | None = None, seed: int = 0, level_db: float | None = None) -> np.ndarray:
    """Latent ``z [D]`` -> float32 audio ``[n_samples]``: ``model.decode`` (any object with a
    ``manifest`` and a synchronous ``decode([B, D]) -> [B, n_bins, n_frames]``, e.g.
    :class:`intellimixer.model.NativeModel`), then :func:`render`."""
    z = np.asarray(z, dtype=np.float32).reshape(1, -1)
    return render(model.decode(z)[0], model.manifest, n_iter=n_iter, seed=seed, level_db=level_db)


def round_trip(model, x: np.ndarray, sr: int, gl_only: bool = False) -> np.ndarray:
    """What a click on a source made of ``x`` (float ``[n]`` or ``[n, channels]`` at ``sr`` Hz)
    gives: encode, decode its latent, render at its level (``model``: any object with a
    ``manifest`` and synchronous ``encode`` / ``decode``, e.g. :class:`intellimixer.model.NativeModel`).
    With ``gl_only``, phase reconstruction of its true spectrogram instead (no model, no gate):
    what the phase costs alone. Returns float32 ``[manifest.n_samples]``."""
    m = model.manifest
    S = model_input(x, sr, m)
    level = source_level(x, sr, m)
    if gl_only:
        return render(S, m, level_db=level, gate=False)
    mu, _ = model.encode(S[None])
    return latent_to_audio(model, mu[0], level_db=level)
