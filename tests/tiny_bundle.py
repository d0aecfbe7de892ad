"""Tiny, untrained model bundles for tests (made in milliseconds with the onnx package).

The encoder averages each frequency bin over time and projects to ``latent_dim`` values
(``mu``; ``logvar`` is constant); the decoder maps ``z`` to a per-bin level through a
sigmoid and shapes it with a decaying envelope over the frames, so every latent decodes
to an audible, non-silent spectrogram.  Shapes follow ``docs/engine-api.md`` exactly, which
makes these bundles good for plumbing tests and for deliberately broken variants.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def manifest_dict(latent_dim: int = 12, sample_rate: int = 16000, n_fft: int = 512, hop: int = 128,
                  n_frames: int = 128, name: str | None = None) -> dict:
    """The manifest of a tiny bundle (through the engine's one manifest writer)."""
    from intellimixer.bundle import manifest_dict as write

    return write(name=name or f"tiny-d{latent_dim}", latent_dim=latent_dim, sample_rate=sample_rate,
                 n_samples=hop * n_frames, description="untrained test bundle",
                 stft={"n_fft": n_fft, "hop_length": hop, "window": "hann", "center": True,
                       "n_bins": n_fft // 2, "n_frames": n_frames},
                 representation={"type": "log_magnitude", "db_min": -80.0, "db_max": 0.0},
                 phase={"algorithm": "fgla", "n_iter": 8, "momentum": 0.99},
                 dim_kl=[float(latent_dim - k) for k in range(latent_dim)],
                 license="CC0-1.0", credits="tests/tiny_bundle.py")


def _models(latent_dim: int, n_bins: int, n_frames: int, seed: int = 0, webgl: bool = False):
    """The two graphs. ``webgl``: the same maths in opset 11 without int64 tensors (an
    ``Unsqueeze`` with attribute axes instead of a ``Reshape``) and with a fixed batch of 1,
    which onnxruntime-web's WebGL backend can run."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    batch = 1 if webgl else "batch"  # the WebGL backend rejects inputs on symbolic axes
    rng = np.random.default_rng(seed)
    w_enc = (rng.standard_normal((n_bins, latent_dim)) * 4.0 / np.sqrt(n_bins)).astype(np.float32)
    w_dec = (rng.standard_normal((latent_dim, n_bins)) * 0.8).astype(np.float32)
    b_dec = np.full((n_bins,), 0.3, np.float32)
    env = np.exp(-np.arange(n_frames) / (0.25 * n_frames)).astype(np.float32).reshape(1, 1, 1, n_frames)

    enc = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["spectrogram"], ["avg"], axes=[3], keepdims=0),  # [B,1,nb]
            helper.make_node("Flatten", ["avg"], ["flat"], axis=1),  # [B, nb]
            helper.make_node("MatMul", ["flat", "w_enc"], ["mu"]),
            helper.make_node("Mul", ["mu", "zero"], ["mu0"]),
            helper.make_node("Add", ["mu0", "minus2"], ["logvar"]),
        ],
        "tiny_encoder",
        [helper.make_tensor_value_info("spectrogram", TensorProto.FLOAT, [batch, 1, n_bins, n_frames])],
        [helper.make_tensor_value_info("mu", TensorProto.FLOAT, [batch, latent_dim]),
         helper.make_tensor_value_info("logvar", TensorProto.FLOAT, [batch, latent_dim])],
        [numpy_helper.from_array(w_enc, "w_enc"), numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
         numpy_helper.from_array(np.array(-2.0, np.float32), "minus2")],
    )
    dec = helper.make_graph(
        [
            helper.make_node("MatMul", ["z", "w_dec"], ["lin"]),
            helper.make_node("Add", ["lin", "b_dec"], ["pre"]),
            helper.make_node("Sigmoid", ["pre"], ["level"]),  # [B, nb]
            helper.make_node("Unsqueeze", ["level"], ["level4"], axes=[1, 3]) if webgl
            else helper.make_node("Reshape", ["level", "shape4"], ["level4"]),  # [B,1,nb,1]
            helper.make_node("Mul", ["level4", "env"], ["spectrogram"]),  # [B,1,nb,nf]
        ],
        "tiny_decoder",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [batch, latent_dim])],
        [helper.make_tensor_value_info("spectrogram", TensorProto.FLOAT, [batch, 1, n_bins, n_frames])],
        [numpy_helper.from_array(w_dec, "w_dec"), numpy_helper.from_array(b_dec, "b_dec"),
         *([] if webgl else [numpy_helper.from_array(np.array([-1, 1, n_bins, 1], np.int64), "shape4")]),
         numpy_helper.from_array(env, "env")],
    )
    models = []
    for g in (enc, dec):
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11 if webgl else 17)], producer_name="tiny_bundle")
        m.ir_version = 8
        onnx.checker.check_model(m)
        models.append(m)
    return models


def make_bundle(out: str | Path, latent_dim: int = 12, sample_rate: int = 16000, n_fft: int = 512,
                hop: int = 128, n_frames: int = 128, external_data: bool = False,
                manifest_latent_dim: int | None = None, manifest_n_frames: int | None = None,
                name: str | None = None, seed: int = 0, webgl: bool = False) -> Path:
    """Write ``manifest.json``, ``encoder.onnx``, ``decoder.onnx`` (and ``*.bin`` weights with
    ``external_data``) into ``out``.  ``manifest_latent_dim`` / ``manifest_n_frames`` make the
    manifest disagree with the ONNX graphs (for rejection tests); ``webgl`` makes graphs that
    onnxruntime-web's WebGL backend can run."""
    import onnx

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    enc, dec = _models(latent_dim, n_fft // 2, n_frames, seed, webgl)
    m_frames = manifest_n_frames or n_frames
    manifest = manifest_dict(manifest_latent_dim or latent_dim, sample_rate, n_fft, hop, m_frames, name)
    if external_data:
        for model, stem in ((enc, "encoder"), (dec, "decoder")):
            onnx.save_model(model, str(out / f"{stem}.onnx"), save_as_external_data=True,
                            all_tensors_to_one_file=True, location=f"{stem}.bin", size_threshold=256)
        manifest["external_data"] = ["encoder.bin", "decoder.bin"]
    else:
        onnx.save_model(enc, str(out / "encoder.onnx"))
        onnx.save_model(dec, str(out / "decoder.onnx"))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return out
