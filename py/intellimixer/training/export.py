"""Export of a PyTorch encoder/decoder pair as a model bundle the app accepts ("bring your
own model")."""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..bundle import manifest_json
from ..model import NativeModel, load_manifest
from .format import DECODER_INPUT, DECODER_OUTPUT, ENCODER_INPUT, ENCODER_LOGVAR, ENCODER_MU, OPSET, STFT, manifest_dict
from .vae import PermutedDecoder, PermutedEncoder, encode_all, kl_per_dim, require_torch, torch


def _export_onnx(module, example, path: Path, inputs: list[str], outputs: list[str], opset: int) -> None:
    """torch -> ONNX with a dynamic batch axis on every input and output."""
    axes = {name: {0: "batch"} for name in inputs + outputs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            module.eval(), (example,), str(path), input_names=inputs, output_names=outputs,
            dynamic_axes=axes, opset_version=opset, do_constant_folding=True, dynamo=False,
        )


def _move_weights_to_external(path: Path) -> str:
    """Rewrite ``path`` (``X.onnx``) with all initialisers in ``X.bin``; returns ``"X.bin"``."""
    import onnx

    model = onnx.load(str(path))
    location = path.with_suffix(".bin").name
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=location, size_threshold=0)
    os.chmod(path.with_suffix(".bin"), 0o644)  # onnx creates it owner-only; it is served as a static file
    return location


def export_bundle(
    encoder,
    decoder,
    out_dir: str | Path,
    latent_dim: int,
    *,
    dim_kl: Sequence[float] | None = None,
    calibration: np.ndarray | None = None,
    dim_labels: Sequence[dict[str, Any]] | None = None,
    name: str = "custom",
    description: str = "",
    license: str = "",
    credits: str = "",
    external_data: bool = False,
    extra: dict[str, Any] | None = None,
    opset: int = OPSET,
    check: bool = True,
) -> dict[str, Any]:
    """Export a PyTorch encoder/decoder pair as a model bundle the app accepts.

    Args:
        encoder: ``x [B, 1, n_bins, n_frames]`` in [0, 1] -> ``(mu [B, D], logvar [B, D])``
            (the format's shape: :data:`intellimixer.training.format.STFT`).
        decoder: ``z [B, D]`` -> ``[B, 1, n_bins, n_frames]`` in [0, 1] (end in a sigmoid or clamp).
        out_dir: bundle folder (created; existing bundle files are overwritten).
        latent_dim: D.
        dim_kl: per-dim KL in nats ``[D]`` in the modules' own dim order; if None and
            ``calibration`` is given it is measured there.  When known, dims are exported
            most-active-first (the modules are wrapped with a permutation if needed), which
            puts the most meaningful dims on the map's default axes.
        calibration: spectrograms ``[N, n_bins, n_frames]`` (e.g. your training set) to measure KL on.
        dim_labels: per dim, in the exported order, ``{"label", "descriptor", "correlation"}``
            (:func:`intellimixer.training.describe.label_dims`); default ``"dim N"``.
        name, description, license, credits: manifest fields.
        external_data: store weights in ``encoder.bin`` / ``decoder.bin`` (ONNX external data).
        extra: more top-level manifest keys.
        opset: ONNX opset (>= 17).
        check: reload the bundle with onnxruntime (``intellimixer.model.NativeModel``) and
            compare its outputs with PyTorch's.

    Returns:
        the manifest dict written to ``out_dir/manifest.json``.
    """
    require_torch()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    encoder, decoder = encoder.eval(), decoder.eval()
    if dim_kl is None and calibration is not None:
        dim_kl = kl_per_dim(*encode_all(encoder, np.asarray(calibration, np.float32)))
    if dim_kl is not None:
        order = np.argsort(-np.asarray(dim_kl, np.float64), kind="stable")
        if np.any(order != np.arange(latent_dim)):
            encoder, decoder = PermutedEncoder(encoder, order), PermutedDecoder(decoder, order)
        dim_kl = np.asarray(dim_kl, np.float64)[order]
    n_bins, n_frames = STFT["n_bins"], STFT["n_frames"]
    x = torch.rand(2, 1, n_bins, n_frames, generator=torch.Generator().manual_seed(0))
    z = torch.randn(2, latent_dim, generator=torch.Generator().manual_seed(0))
    _export_onnx(encoder, x, out / "encoder.onnx", [ENCODER_INPUT], [ENCODER_MU, ENCODER_LOGVAR], opset)
    _export_onnx(decoder, z, out / "decoder.onnx", [DECODER_INPUT], [DECODER_OUTPUT], opset)
    for stale in ("encoder.bin", "decoder.bin"):
        (out / stale).unlink(missing_ok=True)
    bins = [_move_weights_to_external(out / f) for f in ("encoder.onnx", "decoder.onnx")] if external_data else []
    manifest = manifest_dict(name=name, latent_dim=latent_dim, description=description, dim_kl=dim_kl,
                             dim_labels=dim_labels, external_data=bins, license=license, credits=credits, extra=extra)
    load_manifest(manifest)  # raises ManifestError naming the field
    (out / "manifest.json").write_text(manifest_json(manifest))
    if check:
        _check_against_torch(out, encoder, decoder, x, z)
    return manifest


def _check_against_torch(bundle: Path, encoder, decoder, x, z, tol: float = 1e-4) -> None:
    """Load ``bundle`` with onnxruntime and assert it reproduces the torch outputs."""
    native = NativeModel(bundle)
    with torch.no_grad():
        mu, logvar = (t.numpy() for t in encoder(x))
        s = decoder(z).numpy()[:, 0]
    got_mu, got_lv = native.encode(x.numpy()[:, 0])
    got_s = native.decode(z.numpy())
    for label, a, b in (("mu", mu, got_mu), ("logvar", logvar, got_lv), ("spectrogram", s, got_s)):
        err = float(np.max(np.abs(a - b)))
        if err > tol:
            raise RuntimeError(f"ONNX {label} differs from PyTorch by {err:.3g} (> {tol})")
