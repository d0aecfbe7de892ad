"""Small ONNX model bundles for tests, built with the onnx helper API (no torch).

A *linear* VAE: the encoder maps the flattened spectrogram through one matrix to ``mu``
(``logvar`` is a constant), the decoder maps ``z`` back through a matrix and a sigmoid.
It has the real bundle's tensor names and shapes, so it exercises every code path of the
app (including a latent size other than the default model's) in milliseconds.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

N_BINS, N_FRAMES = 256, 128


def manifest_dict(latent_dim: int, name: str = "linear-test", encoder: str = "encoder.onnx",
                  decoder: str = "decoder.onnx") -> dict:
    return {
        "format": "intellimixer-model",
        "format_version": 1,
        "name": name,
        "description": "linear test model",
        "latent_dim": latent_dim,
        "sample_rate": 16000,
        "n_samples": 16384,
        "stft": {"n_fft": 512, "hop_length": 128, "window": "hann", "center": True, "n_bins": N_BINS, "n_frames": N_FRAMES},
        "representation": {"type": "log_magnitude", "db_min": -80.0, "db_max": 0.0},
        "encoder": {"file": encoder, "input": "spectrogram", "input_shape": ["batch", 1, N_BINS, N_FRAMES],
                    "outputs": {"mu": "mu", "logvar": "logvar"}},
        "decoder": {"file": decoder, "input": "z", "input_shape": ["batch", latent_dim],
                    "output": "spectrogram", "output_shape": ["batch", 1, N_BINS, N_FRAMES]},
        "dims": [{"index": k, "label": f"dim {k + 1}", "kl": float(latent_dim - k)} for k in range(latent_dim)],
        "phase": {"algorithm": "fgla", "n_iter": 16, "momentum": 0.99},
        "license": "CC0-1.0",
        "credits": "test fixture",
    }


def make_linear_bundle(out_dir: str | Path, latent_dim: int = 8, seed: int = 0) -> Path:
    """Write ``manifest.json``, ``encoder.onnx`` and ``decoder.onnx`` to ``out_dir``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = N_BINS * N_FRAMES
    w_enc = (rng.standard_normal((n, latent_dim)) / np.sqrt(n) * 4).astype(np.float32)
    # decoder: a bias giving a decaying, broadband spectrogram plus a low-rank latent term
    t = np.linspace(0, 1, N_FRAMES, dtype=np.float32)
    f = np.linspace(0, 1, N_BINS, dtype=np.float32)
    bias = (2.0 - 6.0 * t[None, :] - 2.0 * f[:, None]).reshape(1, n).astype(np.float32)
    w_dec = (rng.standard_normal((latent_dim, n)) * 0.5).astype(np.float32)

    enc = helper.make_graph(
        [
            helper.make_node("Flatten", ["spectrogram"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "w_enc"], ["mu"]),
            helper.make_node("Mul", ["mu", "zero"], ["mu0"]),
            helper.make_node("Add", ["mu0", "logvar_c"], ["logvar"]),
        ],
        "encoder",
        [helper.make_tensor_value_info("spectrogram", TensorProto.FLOAT, ["batch", 1, N_BINS, N_FRAMES])],
        [helper.make_tensor_value_info("mu", TensorProto.FLOAT, ["batch", latent_dim]),
         helper.make_tensor_value_info("logvar", TensorProto.FLOAT, ["batch", latent_dim])],
        [numpy_helper.from_array(w_enc, "w_enc"), numpy_helper.from_array(np.zeros(1, np.float32), "zero"),
         numpy_helper.from_array(np.full(1, -2.0, np.float32), "logvar_c")],
    )
    dec = helper.make_graph(
        [
            helper.make_node("MatMul", ["z", "w_dec"], ["h"]),
            helper.make_node("Add", ["h", "bias"], ["h2"]),
            helper.make_node("Sigmoid", ["h2"], ["s"]),
            helper.make_node("Reshape", ["s", "shape"], ["spectrogram"]),
        ],
        "decoder",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", latent_dim])],
        [helper.make_tensor_value_info("spectrogram", TensorProto.FLOAT, ["batch", 1, N_BINS, N_FRAMES])],
        [numpy_helper.from_array(w_dec, "w_dec"), numpy_helper.from_array(bias, "bias"),
         numpy_helper.from_array(np.array([-1, 1, N_BINS, N_FRAMES], np.int64), "shape")],
    )
    for graph, fname in ((enc, "encoder.onnx"), (dec, "decoder.onnx")):
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
        onnx.checker.check_model(model)
        onnx.save(model, out / fname)
    (out / "manifest.json").write_text(json.dumps(manifest_dict(latent_dim), indent=1))
    return out


if __name__ == "__main__":  # python tests/bundles.py OUT_DIR [D]
    import sys

    print(make_linear_bundle(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 8))
