"""The model format the default model is trained for: sample rate, length, STFT,
representation and phase settings (one definition, written into every manifest)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import bundle
from ..model import Manifest, load_manifest

SAMPLE_RATE = 22050  # Hz: half of 44.1 kHz, sounds up to 11 kHz
N_SAMPLES = 36864  # samples per sound (1.672 s) = HOP_LENGTH * N_FRAMES
STFT = {"n_fft": 512, "hop_length": 128, "window": "hann", "center": True, "n_bins": 256, "n_frames": 288}
REPRESENTATION = {"type": "log_magnitude", "db_min": -80.0, "db_max": 0.0}
# the decoder is calibrated to its corpus (training.vae.CalibratedDecoder): the gate is a floor
# alone, 66 dB under the decoded peak (measured: intellimixer.finishing's docstring)
# 28 iterations from the phase-gradient start: spectral convergence 0.86x librosa's 32 from a random
# phase, 0.81x our own random start's (benchmarks/engine.py)
PHASE = {"algorithm": "fgla", "n_iter": 28, "momentum": 0.99, "init": "gradient", "preview_n_iter": 3,
         "gate_knee_db": -66.0, "gate_ratio": 1.0, "gate_floor_db": -66.0}
ENCODER_INPUT, ENCODER_MU, ENCODER_LOGVAR = "spectrogram", "mu", "logvar"
DECODER_INPUT, DECODER_OUTPUT = "z", "spectrogram"
OPSET = 17

ROOT = Path(__file__).resolve().parents[3]  # the repository (an editable install)
DEFAULT_OUT = ROOT / "models" / "default"
DEFAULT_PLOT = ROOT / "docs" / "latent-map.png"


def manifest_dict(*, name: str, latent_dim: int, **fields: Any) -> dict[str, Any]:
    """:func:`intellimixer.bundle.manifest_dict` for this format (every other field of
    that function may be given)."""
    return bundle.manifest_dict(name=name, latent_dim=latent_dim, sample_rate=SAMPLE_RATE, n_samples=N_SAMPLES,
                                stft=STFT, representation=REPRESENTATION, phase=PHASE,
                                tensors={"encoder_input": ENCODER_INPUT, "mu": ENCODER_MU, "logvar": ENCODER_LOGVAR,
                                         "decoder_input": DECODER_INPUT, "decoder_output": DECODER_OUTPUT},
                                **fields)


def format_manifest(latent_dim: int = 2) -> Manifest:
    """A validated manifest carrying only the format (sample rate, STFT, representation);
    used for data preparation before any model exists."""
    return load_manifest(manifest_dict(name="format", latent_dim=latent_dim))
