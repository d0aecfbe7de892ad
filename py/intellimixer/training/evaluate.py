"""Evaluation of a bundle on real sounds (log-spectral distances) and latent-map plots.

Two measures:

- :func:`evaluate_bundle`: the model's own representation (decoder output against the input
  spectrogram, and after phase reconstruction), at the model's rate and length;
- :func:`round_trip_report`: the fixed yardstick (:mod:`intellimixer.quality`) of the sound a
  click on each source makes (:func:`intellimixer.pipeline.round_trip`) against the original
  file, the same whatever the model's format; grouped for the per-category tables.
"""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .. import audio, pipeline, quality
from ..model import Manifest, NativeModel
from .corpus import SoundFile, load_prepared, represent


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
    - ``lsd_gl_only``: LSD(S, analyze(synthesize(S))) - phase reconstruction alone;
    - ``peak_delta_db``: the decoded spectrogram's loudest bin against the input's, dB.

    Returns:
        ``{"n_files", "mean_lsd_recon_db", "mean_lsd_phase_db", "mean_lsd_gl_only_db",
        "max_lsd_phase_db", "peak_delta_db_median", "files": {id: {...}}}``.
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
            "peak_delta_db": float(S_hat.max() - S.max()) * (m.representation.db_max - m.representation.db_min),
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
        "peak_delta_db_median": float(np.median([v["peak_delta_db"] for v in per_file.values()])) if per_file else math.nan,
        "files": per_file,
    }



def round_trip_report(model: NativeModel, items: Iterable[tuple[str, str | Path]], log=None) -> dict[str, Any]:
    """The yardstick's figures of the round trip of each file.

    Args:
        model: the bundle (onnxruntime).
        items: ``(group, path)`` pairs; unreadable or silent files are skipped.
        log: optional ``log(row)`` called with each file's row as it is measured.

    Returns:
        ``{"rows": [{file, group, lsd_db, silent_db, first, last, peak_dbfs, gl_lsd_db,
        gl_silent_db}], "groups": {group: summary}, "all": summary}`` where a summary is
        :func:`summarize` of the rows.
    """
    m = model.manifest
    rows = []
    for group, path in items:
        try:
            x, sr = audio.read_audio(path)
            made = pipeline.round_trip(model, x, sr)
            gl = pipeline.round_trip(model, x, sr, gl_only=True)
        except audio.AudioError:
            continue
        r, g = quality.compare(x, sr, made, m.sample_rate), quality.compare(x, sr, gl, m.sample_rate)
        peak = float(np.max(np.abs(made)))
        row = {"file": str(path), "group": group, **r, "gl_lsd_db": g["lsd_db"], "gl_silent_db": g["silent_db"],
               "peak_dbfs": 20 * math.log10(peak) if peak > 0 else -math.inf}
        rows.append(row)
        if log:
            log(row)
    groups = defaultdict(list)
    for r in rows:
        groups[r["group"]].append(r)
    return {"rows": rows, "groups": {k: summarize(v) for k, v in sorted(groups.items())}, "all": summarize(rows)}


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean and median LSD, Griffin-Lim-only LSD, median silent-frame level, the largest
    first/last sample and the share above 0.01, the highest peak (dBFS)."""
    if not rows:
        return {"n": 0}

    def med(key):
        v = [r[key] for r in rows if not math.isnan(r[key])]
        return float(np.median(v)) if v else math.nan

    edge = np.array([max(abs(r["first"]), abs(r["last"])) for r in rows])
    return {"n": len(rows), "lsd_mean": float(np.mean([r["lsd_db"] for r in rows])), "lsd_median": med("lsd_db"),
            "gl_lsd_mean": float(np.mean([r["gl_lsd_db"] for r in rows])),
            "silent_median": med("silent_db"), "gl_silent_median": med("gl_silent_db"),
            "max_edge": float(edge.max()), "edge_over_0.01": float(np.mean(edge > 0.01)),
            "peak_dbfs_max": float(max(r["peak_dbfs"] for r in rows))}


def plot_latent_map(mu: np.ndarray, colourings: dict[str, Sequence[str]], path: str | Path, title: str,
                    axes_labels: tuple[str, str] = ("dim 1 (most active)", "dim 2")) -> None:
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
        ax.set_xlabel(axes_labels[0])
        ax.set_ylabel(axes_labels[1])
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
    plot_latent_map(mu, {"by kind of sound": [f.group for f, _ in kept],
                         "by package": [f.source for f, _ in kept]},
                    path, f"Latent map of the '{m.name}' model's training sounds (mu; {len(kept)} files)",
                    axes_labels=(m.dims[0].label, m.dims[1].label))
    return len(kept)
