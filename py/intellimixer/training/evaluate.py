"""Evaluation of a bundle on real sounds (log-spectral distances) and latent-map plots."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import pipeline
from ..model import Manifest, NativeModel
from .corpus import SoundFile, instrument, load_prepared, represent


def log_spectral_distance(S_ref: np.ndarray, S_est: np.ndarray, m: Manifest) -> float:
    """Log-spectral distance in dB between two representations ``[n_bins, n_frames]``.

    Both are mapped back to dB (``db_min + S * (db_max - db_min)``, so levels below
    ``db_min`` count as ``db_min``); the result is the mean over frames of the RMS over bins
    of the dB difference.
    """
    span = m.representation.db_max - m.representation.db_min
    diff = (np.asarray(S_ref, np.float64) - np.asarray(S_est, np.float64)) * span
    return float(np.mean(np.sqrt(np.mean(diff**2, axis=0))))


def evaluate_bundle(bundle: str | Path, files: Sequence[SoundFile | str | Path], n_iter: int | None = None) -> dict[str, Any]:
    """Measure a bundle on real sounds: encode -> decode (z = mu) -> phase reconstruction.

    ``files`` are :class:`SoundFile` s or paths of any audio files; unreadable or silent
    ones are skipped (compare ``n_files``).

    For each file, with ``S = analyze(prepare(file))``:

    - ``lsd_recon``: LSD(S, decoder(mu)) - the model's spectrogram reconstruction;
    - ``lsd_phase``: LSD(S, analyze(synthesize(decoder(mu)))) - the audio the app plays,
      re-analysed;
    - ``lsd_gl_only``: LSD(S, analyze(synthesize(S))) - phase reconstruction alone.

    Returns:
        ``{"n_files", "mean_lsd_recon_db", "mean_lsd_phase_db", "mean_lsd_gl_only_db",
        "max_lsd_phase_db", "files": {id: {...}}}``.
    """
    model = NativeModel(bundle)
    m = model.manifest
    per_file = {}
    for f in files:
        got = load_prepared(f, m)
        if got is None:
            continue
        S = represent(got[2], m)
        mu, _ = model.encode(S[None])
        S_hat = model.decode(mu)[0]
        per_file[f.id if isinstance(f, SoundFile) else str(f)] = {
            "lsd_recon": log_spectral_distance(S, S_hat, m),
            "lsd_phase": log_spectral_distance(S, represent(pipeline.render(S_hat, m, n_iter), m), m),
            "lsd_gl_only": log_spectral_distance(S, represent(pipeline.render(S, m, n_iter, gate=False), m), m),
        }
    mean = lambda key: float(np.mean([v[key] for v in per_file.values()])) if per_file else math.nan  # noqa: E731
    return {
        "n_files": len(per_file),
        "mean_lsd_recon_db": mean("lsd_recon"),
        "mean_lsd_phase_db": mean("lsd_phase"),
        "mean_lsd_gl_only_db": mean("lsd_gl_only"),
        "max_lsd_phase_db": max((v["lsd_phase"] for v in per_file.values()), default=math.nan),
        "files": per_file,
    }



def plot_latent_map(mu: np.ndarray, colourings: dict[str, Sequence[str]], path: str | Path, title: str) -> None:
    """PNG scatter of latent dims 1 vs 2 (``mu[:, 0]``, ``mu[:, 1]``), one panel per colouring.

    Args:
        mu: latent means ``[N, D]``.
        colourings: panel title -> a label per point (e.g. ``{"by kit": [...], "by instrument": [...]}``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("tab20")
    fig, axes = plt.subplots(1, len(colourings), figsize=(6.6 * len(colourings), 5.6), dpi=100, squeeze=False)
    for ax, (panel, labels) in zip(axes[0], colourings.items()):
        g = np.asarray(labels)
        for k, name in enumerate(sorted(set(labels))):
            sel = g == name
            ax.scatter(mu[sel, 0], mu[sel, 1], s=12, color=cmap(k % 20), label=f"{name} ({sel.sum()})",
                       alpha=0.8, edgecolors="none")
        ax.set_xlabel("dim 1 (most active)")
        ax.set_ylabel("dim 2")
        ax.set_title(panel, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def plot_bundle_map(bundle: str | Path, files: Sequence[SoundFile], path: str | Path) -> int:
    """Encode ``files`` with a bundle (onnxruntime) and plot their latent map; returns the count."""
    model = NativeModel(bundle)
    m = model.manifest
    kept = [(f, got[2]) for f, got in ((f, load_prepared(f, m)) for f in files) if got is not None]
    mu, _ = model.encode(np.stack([represent(y, m) for _, y in kept]))
    plot_latent_map(mu, {"by drum kit / source": [f.group for f, _ in kept],
                         "by instrument (from the file name)": [instrument(f) for f, _ in kept]},
                    path, f"Latent map of the '{m.name}' model's training sounds (mu; {len(kept)} files)")
    return len(kept)
