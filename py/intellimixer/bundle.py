"""Writing model bundles: the manifest as a JSON-ready dict (the one place it is written).

Training (:mod:`intellimixer.training`), "bring your own model" exports and the tests' tiny
bundles all write their ``manifest.json`` through :func:`manifest_dict`; the format itself is
described in ``docs/model-format.md`` and checked by :func:`intellimixer.model.load_manifest`.
"""
from __future__ import annotations

import json
import math
from typing import Any, Sequence

from .model import FORMAT, FORMAT_VERSION

TENSORS = {"encoder_input": "spectrogram", "mu": "mu", "logvar": "logvar",
           "decoder_input": "z", "decoder_output": "spectrogram"}


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float (nested) replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def manifest_json(manifest: dict[str, Any]) -> str:
    """The text of ``manifest.json``: strict JSON (a figure that has no value, e.g. the level
    of silent frames in files without any, is null: browsers refuse NaN)."""
    return json.dumps(_finite(manifest), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def manifest_dict(
    *,
    name: str,
    latent_dim: int,
    sample_rate: int,
    n_samples: int,
    stft: dict[str, Any],
    representation: dict[str, Any],
    phase: dict[str, Any],
    description: str = "",
    dim_kl: Sequence[float] | None = None,
    dim_labels: Sequence[dict[str, Any]] | None = None,
    external_data: Sequence[str] = (),
    license: str = "",
    credits: str = "",
    extra: dict[str, Any] | None = None,
    tensors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The bundle manifest as a JSON-ready dict.

    Args:
        name: model name shown in the app.
        latent_dim: D, the size of the latent vector.
        sample_rate, n_samples: the model's audio (Hz, samples per sound).
        stft, representation, phase: the manifest's sections of those names.
        dim_kl: per-dim KL in nats, ``[D]``, already in the bundle's dim order (most active
            first); None leaves the ``kl`` fields out.
        dim_labels: per dim, in the same order, ``{"label", "descriptor", "correlation"}``
            (what the dim moves most, e.g. ``"dim 1 · brighter →"``); default ``"dim N"``.
        external_data: ONNX external-data files of the bundle (``*.bin``).
        extra: further top-level keys (kept by ``load_manifest`` as ``Manifest.extra``).
        tensors: graph tensor names, default :data:`TENSORS`.

    Returns:
        the manifest dict; validate it with :func:`intellimixer.model.load_manifest`.
    """
    t = {**TENSORS, **(tensors or {})}
    spec_shape = ["batch", 1, stft["n_bins"], stft["n_frames"]]
    dims = []
    for i in range(latent_dim):
        d: dict[str, Any] = {"index": i, "label": f"dim {i + 1}"}
        if dim_labels is not None:
            d.update({k: dim_labels[i][k] for k in ("label", "descriptor", "correlation") if k in dim_labels[i]})
        if dim_kl is not None:
            d["kl"] = round(float(dim_kl[i]), 4)
        dims.append(d)
    m = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "description": description,
        "latent_dim": latent_dim,
        "sample_rate": sample_rate,
        "n_samples": n_samples,
        "stft": dict(stft),
        "representation": dict(representation),
        "encoder": {"file": "encoder.onnx", "input": t["encoder_input"], "input_shape": spec_shape,
                    "outputs": {"mu": t["mu"], "logvar": t["logvar"]}},
        "decoder": {"file": "decoder.onnx", "input": t["decoder_input"], "input_shape": ["batch", latent_dim],
                    "output": t["decoder_output"], "output_shape": spec_shape},
        "external_data": list(external_data),
        "dims": dims,
        "phase": dict(phase),
        "license": license,
        "credits": credits,
    }
    m.update(extra or {})
    return m
