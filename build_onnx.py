#!/usr/bin/env python3
"""Train the default Audio Intellimixer VAE and export it as an ONNX model bundle.

A bundle is a folder with ``manifest.json``, ``encoder.onnx`` and ``decoder.onnx``
(optionally ONNX external-data weight files ``*.bin``); see ``docs/engine-api.md``.

Usage::

    python build_onnx.py                          # full run -> models/default (~10 min, 2 CPU cores)
    python build_onnx.py --quick --out /tmp/b     # tiny smoke-test model on a few files (< 2 min)
    python build_onnx.py --eval-only --out models/default   # re-measure an existing bundle

Pipeline: real recorded sounds (Debian ``hydrogen-drumkits`` and ``sound-theme-freedesktop``)
-> ``intellimixer.audio.prepare`` (mono, 16 kHz, onset, 16384 samples, peak 0.99)
-> ``intellimixer.spectral.analyze`` (log-magnitude STFT, [256, 128] in [0, 1]): exactly the
input the CLI and the browser compute.  Augmentation (pitch shift by resampling; mixing pairs
with a gain and a time shift) is applied to the waveforms *before* ``prepare``/``analyze``.
A fixed ~12 % of the files (whole instrument samples with all their velocity layers, chosen
by a hash of the name, see :func:`is_held_out`) is held out for evaluation and listed in the
manifest under ``training.held_out``.

The helpers :func:`export_bundle` and :func:`manifest_dict` are reusable for "bring your own
model": any pair of PyTorch modules ``encoder(x [B,1,n_bins,n_frames]) -> (mu, logvar)`` and
``decoder(z [B,D]) -> [B,1,n_bins,n_frames]`` in [0, 1] can be exported into a bundle the app
accepts (see ``docs/model-training.md``).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent
if str(ROOT / "py") not in sys.path:  # the engine, also without ``pip install -e .``
    sys.path.insert(0, str(ROOT / "py"))

from intellimixer import audio, phase, spectral  # noqa: E402
from intellimixer.model import Manifest, NativeModel, load_manifest  # noqa: E402

# OpenMP threads that sleep instead of spinning while waiting: on a shared 2-core machine
# (CI, other jobs) spinning threads made training several times slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
try:  # training and export need torch; the data and evaluation helpers do not
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - exercised only where torch is absent
    torch = None
    nn = None

# --- the model format: one definition, shared with the engine ---------------------------

SAMPLE_RATE = 16000  # Hz
N_SAMPLES = 16384  # samples per sound (1.024 s) = HOP_LENGTH * N_FRAMES
STFT = {"n_fft": 512, "hop_length": 128, "window": "hann", "center": True, "n_bins": 256, "n_frames": 128}
REPRESENTATION = {"type": "log_magnitude", "db_min": -80.0, "db_max": 0.0}
PHASE = {"algorithm": "fgla", "n_iter": 32, "momentum": 0.99}
ENCODER_INPUT, ENCODER_MU, ENCODER_LOGVAR = "spectrogram", "mu", "logvar"
DECODER_INPUT, DECODER_OUTPUT = "z", "spectrogram"
OPSET = 17

DEFAULT_OUT = ROOT / "models" / "default"
DEFAULT_PLOT = ROOT / "docs" / "latent-map.png"

# --- data sources ----------------------------------------------------------------------

SOURCES = {
    "hydrogen-drumkits": Path("/usr/share/hydrogen/data/drumkits"),
    "sound-theme-freedesktop": Path("/usr/share/sounds/freedesktop/stereo"),
}
AUDIO_SUFFIXES = (".wav", ".flac", ".aif", ".aiff", ".oga", ".ogg")
VELOCITY_WORDS = r"hardest|hard|medium|med|softest|soft|normal|loud|ghost|layer[0-9]*|vel[0-9]*"
HOLDOUT_FRACTION = 0.08  # of the split groups (~12 % of the files)
LICENSE = "GPL-2.0-or-later AND CC-BY-SA-3.0 AND CC-BY-3.0"
CREDITS = (
    "Trained by build_onnx.py on recorded sounds from Debian packages: hydrogen-drumkits "
    "(Hydrogen drum kits by Artemiy Pavlov, Emiliano Grilli, Marcos Guglielmetti, Glen MacArthur, "
    "Vladimir Sadovnikov & Alexander Belokurov, Luc Tanguay & Bransin James Anderson, Jim Harney, "
    "Emanuel Rumpf, Audiophob, Sineshine and others; GPL-2+, CC-BY-SA-3.0, CC-BY-3.0, CC0) and "
    "sound-theme-freedesktop (freedesktop.org sound theme; CC-BY-SA-3.0, CC-BY-3.0, GPL-2+). "
    "See /usr/share/doc/hydrogen-drumkits/copyright and /usr/share/doc/sound-theme-freedesktop/copyright."
)


def manifest_dict(
    *,
    name: str,
    latent_dim: int,
    description: str = "",
    dim_kl: Sequence[float] | None = None,
    external_data: Sequence[str] = (),
    license: str = "",
    credits: str = "",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The bundle manifest as a JSON-ready dict (the one place it is written).

    Args:
        name: model name shown in the app.
        latent_dim: D, the size of the latent vector.
        dim_kl: per-dim KL in nats, ``[D]``, already in the bundle's dim order (most active first);
            None leaves the ``kl`` fields out.
        external_data: ONNX external-data files of the bundle (``*.bin``).
        extra: further top-level keys (kept by ``load_manifest`` as ``Manifest.extra``).

    Returns:
        the manifest dict; validate it with ``intellimixer.model.load_manifest``.
    """
    spec_shape = ["batch", 1, STFT["n_bins"], STFT["n_frames"]]
    dims = []
    for i in range(latent_dim):
        d: dict[str, Any] = {"index": i, "label": f"dim {i + 1}"}
        if dim_kl is not None:
            d["kl"] = round(float(dim_kl[i]), 4)
        dims.append(d)
    m = {
        "format": "intellimixer-model",
        "format_version": 1,
        "name": name,
        "description": description,
        "latent_dim": latent_dim,
        "sample_rate": SAMPLE_RATE,
        "n_samples": N_SAMPLES,
        "stft": dict(STFT),
        "representation": dict(REPRESENTATION),
        "encoder": {
            "file": "encoder.onnx",
            "input": ENCODER_INPUT,
            "input_shape": spec_shape,
            "outputs": {"mu": ENCODER_MU, "logvar": ENCODER_LOGVAR},
        },
        "decoder": {
            "file": "decoder.onnx",
            "input": DECODER_INPUT,
            "input_shape": ["batch", latent_dim],
            "output": DECODER_OUTPUT,
            "output_shape": spec_shape,
        },
        "external_data": list(external_data),
        "dims": dims,
        "phase": dict(PHASE),
        "license": license,
        "credits": credits,
    }
    m.update(extra or {})
    return m


def format_manifest(latent_dim: int = 2) -> Manifest:
    """A validated manifest carrying only the format (sample rate, STFT, representation);
    used for data preparation before any model exists."""
    return load_manifest(manifest_dict(name="format", latent_dim=latent_dim))


# --- data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoundFile:
    """One recorded sound of a data source.

    Attributes:
        source: key of :data:`SOURCES`.
        rel: path relative to the source root (POSIX separators).
    """

    source: str
    rel: str

    @property
    def id(self) -> str:
        """Stable identifier ``"<source>/<rel>"`` (used for the held-out split)."""
        return f"{self.source}/{self.rel}"

    @property
    def path(self) -> Path:
        return SOURCES[self.source] / self.rel

    @property
    def split_key(self) -> str:
        """The file's group for the held-out split: its id without velocity/layer suffixes
        ("Snare-Hard.wav", "Snare-Soft.wav", "snare_03.flac" -> ".../snare"), so the layers of
        one instrument sample are all in training or all held out."""
        import re

        folder, _, name = self.id.rpartition("/")
        stem = name.rsplit(".", 1)[0].lower()
        stem = re.sub(rf"([-_ .]+({VELOCITY_WORDS}))+$", "", stem)
        return f"{folder}/{re.sub(r'[-_ .]*[0-9]+$', '', stem) or stem}"

    @property
    def group(self) -> str:
        """Colour group of the latent map: the drum kit, or ``"freedesktop"``."""
        return self.rel.split("/")[0] if self.source == "hydrogen-drumkits" else "freedesktop"


def find_sound_files(sources: dict[str, Path] = SOURCES) -> list[SoundFile]:
    """Every audio file under the source roots, sorted by id (missing roots are skipped).

    Symbolic links are skipped: the freedesktop theme links several event names to one
    sound, and a sound must not be both in training and held out.
    """
    files = []
    for source, root in sources.items():
        if root.is_dir():
            files += [
                SoundFile(source, p.relative_to(root).as_posix())
                for p in root.rglob("*")
                if p.is_file() and not p.is_symlink() and p.suffix.lower() in AUDIO_SUFFIXES
            ]
    return sorted(files, key=lambda f: f.id)


def is_held_out(split_key: str, fraction: float = HOLDOUT_FRACTION) -> bool:
    """Deterministic evaluation split: the first 32 bits of SHA-1(split key) / 2**32 < fraction
    (``split_key`` is :attr:`SoundFile.split_key`)."""
    h = int(hashlib.sha1(split_key.encode("utf-8")).hexdigest()[:8], 16)
    return h / 2**32 < fraction


def prepared(x: np.ndarray, sr: int, m: Manifest) -> np.ndarray:
    """Decoded audio ``[n]`` or ``[n, ch]`` at ``sr`` Hz -> the model's signal, float32 ``[n_samples]``."""
    return audio.prepare(x, sr, m.sample_rate, m.n_samples)


def represent(y: np.ndarray, m: Manifest) -> np.ndarray:
    """Prepared signal ``[n_samples]`` -> model input float32 ``[n_bins, n_frames]`` in [0, 1]."""
    return spectral.analyze(y, m.stft, m.representation)


def load_prepared(f: SoundFile | str | Path, m: Manifest) -> tuple[np.ndarray, int, np.ndarray] | None:
    """Read a sound (a :class:`SoundFile` or any audio file path) and prepare it.

    Returns:
        ``(x [n] mono float32 at its own rate, sr, prepared [n_samples])``, or None if the
        file is unreadable, empty or silent.
    """
    try:
        x, sr = audio.read_audio(f.path if isinstance(f, SoundFile) else f)
        x = audio.to_mono(x)
        return x, sr, prepared(x, sr, m)
    except audio.AudioError:
        return None


@dataclass(frozen=True)
class AugmentConfig:
    """Waveform augmentation, applied before ``prepare``.

    ``prepare`` peak-normalises and starts each sound at its onset, so a single sound's gain
    and time offset are normalised away; gain and time shift therefore act on the second
    sound of a mixed pair, where they change the result.

    Attributes:
        pitch_variants: pitch-shifted copies per training file.
        max_semitones: pitch shifts are drawn uniformly from +-[1, max_semitones] semitones.
        mixes_per_file: mixed pairs per training file (on average).
        mix_gain_db: range of the second sound's gain in dB.
        max_shift_s: the second sound starts 0 .. max_shift_s seconds after the first.
    """

    pitch_variants: int = 2
    max_semitones: float = 7.0
    mixes_per_file: float = 1.5
    mix_gain_db: tuple[float, float] = (-18.0, 0.0)
    max_shift_s: float = 0.3


def pitch_shift_rate(sr: int, semitones: float) -> int:
    """Tape-speed pitch shift: the declared sample rate that makes ``prepare``'s resampler
    shift pitch (and duration) by ``semitones``; rounded to 100 Hz so the polyphase ratio
    stays small."""
    return int(round(sr * 2.0 ** (semitones / 12.0) / 100.0)) * 100


def mix_pair(a: np.ndarray, b: np.ndarray, gain_db: float, shift: int) -> np.ndarray:
    """``a + 10**(gain_db/20) * b`` delayed by ``shift`` samples; float32 ``[len(a)]``."""
    out = np.array(a, dtype=np.float32)
    n = len(out) - shift
    if n > 0:
        out[shift:] += np.float32(10.0 ** (gain_db / 20.0)) * b[:n]
    return out


@dataclass
class Dataset:
    """Model inputs with their provenance.

    Attributes:
        specs: float32 ``[N, n_bins, n_frames]`` in [0, 1].
        ids: file id per row (a mix is ``"<id a> + <id b>"``).
        groups: colour group per row (of the first sound for mixes).
        kinds: ``"original"``, ``"pitch"`` or ``"mix"`` per row.
    """

    specs: np.ndarray
    ids: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def build_dataset(files: Sequence[SoundFile], m: Manifest, aug: AugmentConfig | None, seed: int, log=print) -> Dataset:
    """Prepare and analyse ``files``, plus augmented variants if ``aug`` is given.

    Every row is ``analyze(prepare(x, sr, ...))`` of a real or augmented waveform ``x``.
    Files that cannot be read or are silent are skipped.
    """
    rng = np.random.default_rng(seed)
    rows: list[tuple[np.ndarray, str, str, str]] = []  # (prepared signal, id, group, kind)
    t0 = time.perf_counter()
    for k, f in enumerate(files):
        got = load_prepared(f, m)
        if got is None:
            log(f"  skipped {f.id} (unreadable or silent)")
            continue
        x, sr, y = got
        rows.append((y, f.id, f.group, "original"))
        for _ in range(aug.pitch_variants if aug else 0):
            st = float(rng.uniform(1.0, aug.max_semitones) * rng.choice([-1.0, 1.0]))
            try:
                rows.append((prepared(x, pitch_shift_rate(sr, st), m), f.id, f.group, "pitch"))
            except audio.AudioError:
                pass
        if (k + 1) % 100 == 0:
            log(f"  read {k + 1}/{len(files)} files ({time.perf_counter() - t0:.0f} s)")
    if aug:
        pool = list(rows)
        for _ in range(int(round(aug.mixes_per_file * sum(r[3] == "original" for r in pool)))):
            i, j = rng.choice(len(pool), size=2, replace=False)
            gain = float(rng.uniform(*aug.mix_gain_db))
            shift = int(rng.integers(0, int(aug.max_shift_s * m.sample_rate) + 1))
            mixed = mix_pair(pool[i][0], pool[j][0], gain, shift)
            try:
                y = prepared(mixed, m.sample_rate, m)
            except audio.AudioError:
                continue
            rows.append((y, f"{pool[i][1]} + {pool[j][1]}", pool[i][2], "mix"))
    specs = np.stack([represent(r[0], m) for r in rows]) if rows else np.zeros((0, *m.input_shape), np.float32)
    return Dataset(specs, [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows])


# --- model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelConfig:
    """Convolutional VAE layout.

    The encoder halves both spectrogram axes with each 4x4 stride-2 convolution
    (256x128 -> 8x4 after five), then a linear head gives ``[mu, logvar]``; the decoder
    mirrors it with 4x4 stride-2 transposed convolutions and ends in a sigmoid.
    """

    latent_dim: int = 12
    enc_channels: tuple[int, ...] = (8, 16, 32, 64, 128)
    dec_channels: tuple[int, ...] = (96, 64, 32, 16, 8)
    slope: float = 0.2  # LeakyReLU negative slope

    def scaled(self, width: float) -> ModelConfig:
        """The same layout with every channel count multiplied by ``width`` (min 4)."""
        sc = lambda ch: tuple(max(4, int(round(c * width))) for c in ch)  # noqa: E731
        return replace(self, enc_channels=sc(self.enc_channels), dec_channels=sc(self.dec_channels))


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; ``beta`` is the KL weight reached after ``warmup`` of the steps.

    Loss per sound: sum over the [n_bins, n_frames] pixels of the squared error plus
    ``beta * KL(q(z|x) || N(0, I))`` in nats.
    """

    epochs: int = 50
    batch_size: int = 32
    lr: float = 2e-3
    beta: float = 1.0
    warmup: float = 0.3
    seed: int = 0
    threads: int = 2


if nn is not None:

    class ConvEncoder(nn.Module):
        """Spectrogram ``[B, 1, n_bins, n_frames]`` in [0, 1] -> ``(mu [B, D], logvar [B, D])``."""

        def __init__(self, cfg: ModelConfig, n_bins: int, n_frames: int):
            super().__init__()
            layers: list[nn.Module] = []
            c = 1
            for out in cfg.enc_channels:
                layers += [nn.Conv2d(c, out, 4, stride=2, padding=1), nn.LeakyReLU(cfg.slope)]
                c = out
            scale = 2 ** len(cfg.enc_channels)
            self.convs = nn.Sequential(*layers)
            self.head = nn.Linear(c * (n_bins // scale) * (n_frames // scale), 2 * cfg.latent_dim)
            self.latent_dim = cfg.latent_dim

        def forward(self, x):
            h = self.head(torch.flatten(self.convs(x), 1))
            return h[:, : self.latent_dim], h[:, self.latent_dim :]

    class ConvDecoder(nn.Module):
        """Latent ``z [B, D]`` -> spectrogram ``[B, 1, n_bins, n_frames]`` in [0, 1] (sigmoid)."""

        def __init__(self, cfg: ModelConfig, n_bins: int, n_frames: int):
            super().__init__()
            scale = 2 ** len(cfg.dec_channels)
            self.grid = (cfg.dec_channels[0], n_bins // scale, n_frames // scale)
            self.inp = nn.Linear(cfg.latent_dim, math.prod(self.grid))
            layers: list[nn.Module] = [nn.LeakyReLU(cfg.slope)]
            chans = list(cfg.dec_channels) + [1]
            for c_in, c_out in zip(chans[:-1], chans[1:]):
                layers.append(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1))
                layers.append(nn.LeakyReLU(cfg.slope) if c_out != 1 else nn.Sigmoid())
            self.deconvs = nn.Sequential(*layers)

        def forward(self, z):
            return self.deconvs(self.inp(z).reshape(-1, *self.grid))

    class VAE(nn.Module):
        """Encoder + decoder; ``forward(x) -> (reconstruction, mu, logvar)`` with a
        reparameterised sample of z in training mode and ``z = mu`` in eval mode."""

        def __init__(self, cfg: ModelConfig, n_bins: int, n_frames: int):
            super().__init__()
            self.encoder = ConvEncoder(cfg, n_bins, n_frames)
            self.decoder = ConvDecoder(cfg, n_bins, n_frames)

        def forward(self, x):
            mu, logvar = self.encoder(x)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
            return self.decoder(z), mu, logvar

    class _PermutedEncoder(nn.Module):
        """Wraps an encoder so its outputs come in the order ``order`` (new dim i = old order[i])."""

        def __init__(self, encoder: nn.Module, order: Sequence[int]):
            super().__init__()
            self.encoder = encoder
            self.register_buffer("order", torch.as_tensor(list(order), dtype=torch.long))

        def forward(self, x):
            mu, logvar = self.encoder(x)
            return mu.index_select(1, self.order), logvar.index_select(1, self.order)

    class _PermutedDecoder(nn.Module):
        """Wraps a decoder to take latents in the order ``order`` (the inverse of the encoder's)."""

        def __init__(self, decoder: nn.Module, order: Sequence[int]):
            super().__init__()
            self.decoder = decoder
            self.register_buffer("inverse", torch.as_tensor(np.argsort(order), dtype=torch.long))

        def forward(self, z):
            return self.decoder(z.index_select(1, self.inverse))


def _require_torch() -> None:
    if torch is None:
        raise RuntimeError("build_onnx.py needs PyTorch for training and export: pip install torch")


def kl_per_dim(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Mean KL(N(mu, exp(logvar)) || N(0, 1)) per latent dim over the batch, nats ``[D]``."""
    mu, logvar = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
    return (0.5 * (mu**2 + np.exp(logvar) - logvar - 1.0)).mean(axis=0)


def encode_all(encoder, specs: np.ndarray, batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Run a torch encoder over ``specs [N, n_bins, n_frames]``; returns ``(mu, logvar)``, each ``[N, D]``."""
    encoder.eval()
    out_mu, out_lv = [], []
    with torch.no_grad():
        for i in range(0, len(specs), batch):
            mu, lv = encoder(torch.from_numpy(specs[i : i + batch]).unsqueeze(1))
            out_mu.append(mu.numpy())
            out_lv.append(lv.numpy())
    return np.concatenate(out_mu), np.concatenate(out_lv)


def train_vae(data: Dataset, mcfg: ModelConfig, tcfg: TrainConfig, log=print) -> tuple[Any, list[dict]]:
    """Train a :class:`VAE` on ``data.specs`` (fixed seeds, CPU).

    Returns:
        ``(model in eval mode, history)``; history holds one dict per epoch with the mean
        ``recon`` (summed squared error per sound), ``kl`` (nats per sound), ``beta`` and ``time_s``.
    """
    _require_torch()
    torch.manual_seed(tcfg.seed)
    torch.set_num_threads(tcfg.threads)
    model = VAE(mcfg, *data.specs.shape[1:])
    x_all = torch.from_numpy(data.specs).unsqueeze(1)
    steps_per_epoch = math.ceil(len(data) / tcfg.batch_size)
    total = tcfg.epochs * steps_per_epoch
    opt = torch.optim.Adam(model.parameters(), lr=tcfg.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=tcfg.lr, total_steps=total, pct_start=0.1)
    gen = torch.Generator().manual_seed(tcfg.seed)
    history, step, t0 = [], 0, time.perf_counter()
    for epoch in range(tcfg.epochs):
        model.train()
        sums = np.zeros(2)
        for idx in torch.randperm(len(data), generator=gen).split(tcfg.batch_size):
            x = x_all[idx]
            beta = tcfg.beta * min(1.0, step / max(1.0, tcfg.warmup * total))
            recon, mu, logvar = model(x)
            rec = (recon - x).pow(2).flatten(1).sum(1).mean()
            kl = (0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0)).sum(1).mean()
            loss = rec + beta * kl
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            sums += [rec.item() * len(idx), kl.item() * len(idx)]
        h = {"epoch": epoch + 1, "recon": sums[0] / len(data), "kl": sums[1] / len(data), "beta": beta,
             "time_s": time.perf_counter() - t0}
        history.append(h)
        log(f"  epoch {h['epoch']:3d}/{tcfg.epochs}  recon {h['recon']:8.2f}  kl {h['kl']:6.2f}  "
            f"beta {beta:.2f}  {h['time_s']:6.0f} s")
    return model.eval(), history


def order_latent_dims(model, specs: np.ndarray) -> np.ndarray:
    """Permute ``model``'s latent dims in place so dim 0 has the largest mean KL on ``specs``.

    Reorders the rows of the encoder head (the mu and the logvar halves alike) and the
    columns of the decoder's input layer, so the exported graphs need no extra ops.

    Returns:
        per-dim KL in nats ``[D]`` in the new order (non-increasing).
    """
    mu, lv = encode_all(model.encoder, specs)
    kl = kl_per_dim(mu, lv)
    order = np.argsort(-kl, kind="stable")
    d = len(order)
    rows = torch.as_tensor(np.concatenate([order, order + d]))
    cols = torch.as_tensor(order)
    with torch.no_grad():
        head, inp = model.encoder.head, model.decoder.inp
        head.weight.copy_(head.weight[rows])
        head.bias.copy_(head.bias[rows])
        inp.weight.copy_(inp.weight[:, cols])
    return kl[order]


# --- export ----------------------------------------------------------------------------


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
        encoder: ``x [B, 1, 256, 128]`` in [0, 1] -> ``(mu [B, D], logvar [B, D])``.
        decoder: ``z [B, D]`` -> ``[B, 1, 256, 128]`` in [0, 1] (end in a sigmoid or clamp).
        out_dir: bundle folder (created; existing bundle files are overwritten).
        latent_dim: D.
        dim_kl: per-dim KL in nats ``[D]`` in the modules' own dim order; if None and
            ``calibration`` is given it is measured there.  When known, dims are exported
            most-active-first (the modules are wrapped with a permutation if needed), which
            puts the most meaningful dims on the map's default axes.
        calibration: spectrograms ``[N, 256, 128]`` (e.g. your training set) to measure KL on.
        name, description, license, credits: manifest fields.
        external_data: store weights in ``encoder.bin`` / ``decoder.bin`` (ONNX external data).
        extra: more top-level manifest keys.
        opset: ONNX opset (>= 17).
        check: reload the bundle with onnxruntime (``intellimixer.model.NativeModel``) and
            compare its outputs with PyTorch's.

    Returns:
        the manifest dict written to ``out_dir/manifest.json``.
    """
    _require_torch()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    encoder, decoder = encoder.eval(), decoder.eval()
    if dim_kl is None and calibration is not None:
        dim_kl = kl_per_dim(*encode_all(encoder, np.asarray(calibration, np.float32)))
    if dim_kl is not None:
        order = np.argsort(-np.asarray(dim_kl, np.float64), kind="stable")
        if np.any(order != np.arange(latent_dim)):
            encoder, decoder = _PermutedEncoder(encoder, order), _PermutedDecoder(decoder, order)
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
                             external_data=bins, license=license, credits=credits, extra=extra)
    load_manifest(manifest)  # raises ManifestError naming the field
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
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


# --- evaluation ------------------------------------------------------------------------


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
            "lsd_phase": log_spectral_distance(S, represent(phase.synthesize(S_hat, m, n_iter), m), m),
            "lsd_gl_only": log_spectral_distance(S, represent(phase.synthesize(S, m, n_iter), m), m),
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


def held_out_files(manifest: Manifest) -> list[SoundFile]:
    """The evaluation files a bundle's manifest lists under ``training.held_out``."""
    ids = manifest.extra.get("training", {}).get("held_out", [])
    return [SoundFile(*i.split("/", 1)) for i in ids]


INSTRUMENTS = (  # (label, regex on the lower-case file name); first match wins; for the map's colours only
    ("kick", r"kick|kik|bass ?drum|(^|[^a-z])bd"),
    ("snare / rim", r"snare|(^|[^a-z])sd|rim|stick"),
    ("hi-hat", r"hat|(^|[^a-z])hh"),
    ("cymbal", r"crash|ride|cymbal|splash|china|(^|[^a-z])cym"),
    ("tom", r"tom"),
    ("clap", r"clap|hand"),
    ("break / loop", r"beat|break|loop"),
)


def instrument(f: SoundFile) -> str:
    """Rough instrument class from the file name (drum kits), or ``"UI / foley"`` (freedesktop)."""
    import re

    if f.source != "hydrogen-drumkits":
        return "UI / foley"
    name = f.rel.rsplit("/", 1)[-1].lower()
    return next((label for label, rx in INSTRUMENTS if re.search(rx, name)), "other percussion")


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


# --- command line ----------------------------------------------------------------------


def select_files(files: Sequence[SoundFile], quick: bool) -> tuple[list[SoundFile], list[SoundFile]]:
    """Split into (training, held-out) files; ``quick`` keeps a small fixed spread of both."""
    train = [f for f in files if not is_held_out(f.split_key)]
    held = [f for f in files if is_held_out(f.split_key)]
    if quick:
        train, held = train[:: max(1, len(train) // 32)][:32], held[:: max(1, len(held) // 4)][:4]
    return train, held


def build(args: argparse.Namespace, log=print) -> dict[str, Any]:
    """Train, order dims, export, evaluate; returns the manifest written to ``args.out``."""
    t_start = time.perf_counter()
    mcfg = ModelConfig(latent_dim=args.latent_dim)
    if getattr(args, "dec_channels", None):
        mcfg = replace(mcfg, dec_channels=tuple(args.dec_channels))
    mcfg = mcfg.scaled(args.width)
    tcfg = TrainConfig(epochs=args.epochs, beta=args.beta, lr=args.lr, seed=args.seed)
    aug = AugmentConfig(pitch_variants=1, mixes_per_file=0.5) if args.quick else AugmentConfig()
    fmt = format_manifest()
    train_files, held = select_files(find_sound_files(), args.quick)
    if not train_files:
        raise SystemExit("no training sounds found: apt install hydrogen-drumkits sound-theme-freedesktop")
    log(f"data: {len(train_files)} training files, {len(held)} held out")
    data = build_dataset(train_files, fmt, aug, args.seed, log)
    t_data = time.perf_counter() - t_start
    log(f"dataset: {len(data)} spectrograms ({', '.join(f'{data.kinds.count(k)} {k}' for k in ('original', 'pitch', 'mix'))}) "
        f"in {t_data:.0f} s")
    model, history = train_vae(data, mcfg, tcfg, log)
    t_train = history[-1]["time_s"]
    dim_kl = order_latent_dims(model, data.specs)
    log("per-dim KL (nats): " + " ".join(f"{k:.2f}" for k in dim_kl))
    n_params = sum(p.numel() for p in model.parameters())
    training = {
        "held_out": [f.id for f in held],
        "held_out_rule": f"int(sha1(split_key)[:8], 16) / 2**32 < {HOLDOUT_FRACTION}; split_key = "
                         "'<source>/<folder>/<file stem without velocity words and trailing number>'",
        "n_train_files": data.kinds.count("original"),
        "n_train_rows": len(data),
        "augment": asdict(aug),
        "model": {**asdict(mcfg), "parameters": n_params},
        "train": asdict(tcfg),
        "final": {k: round(float(history[-1][k]), 3) for k in ("recon", "kl")},
        "time_s": {"data": round(t_data, 1), "train": round(t_train, 1)},
    }
    kind = "quick smoke-test" if args.quick else "default"
    manifest = export_bundle(
        model.encoder, model.decoder, args.out, mcfg.latent_dim, dim_kl=dim_kl,
        name="quick" if args.quick else "default",
        description=f"Convolutional VAE ({kind}), {mcfg.latent_dim}-d latent, trained on drum one-shots "
                    "and UI/foley sounds.",
        license=LICENSE, credits=CREDITS, external_data=args.external_data, extra={"training": training},
    )
    if args.plot:
        plot_bundle_map(args.out, train_files, args.plot)
        log(f"latent map -> {args.plot}")
    if not args.no_eval and held:
        result = evaluate_bundle(args.out, held)
        log("held out: " + format_eval(result))
        manifest["training"]["eval"] = {k: (round(v, 3) if isinstance(v, float) else v)
                                        for k, v in result.items() if k != "files"}
    manifest["training"]["time_s"]["total"] = round(time.perf_counter() - t_start, 1)
    load_manifest(manifest)
    (Path(args.out) / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    size = sum(p.stat().st_size for p in Path(args.out).iterdir() if p.is_file())
    log(f"bundle {args.out}: {size / 1e6:.2f} MB, {n_params} parameters, "
        f"total {manifest['training']['time_s']['total']:.0f} s")
    return manifest


def format_eval(result: dict[str, Any]) -> str:
    """One-line summary of :func:`evaluate_bundle`'s result."""
    return (f"{result['n_files']} files: LSD recon {result['mean_lsd_recon_db']:.2f} dB, "
            f"recon + phase {result['mean_lsd_phase_db']:.2f} dB (max {result['max_lsd_phase_db']:.2f}), "
            f"phase only {result['mean_lsd_gl_only_db']:.2f} dB")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="bundle folder to write")
    p.add_argument("--quick", action="store_true",
                   help="tiny model on a few files for smoke tests (< 2 min); implies small defaults")
    p.add_argument("--epochs", type=int, help="training epochs (default 50, quick 30)")
    p.add_argument("--width", type=float, help="channel-count multiplier (default 1, quick 0.25)")
    p.add_argument("--latent-dim", type=int, default=12, help="latent size D")
    p.add_argument("--dec-channels", type=lambda v: [int(c) for c in v.split(",")],
                   help="decoder channels, comma-separated, before --width (default "
                        + ",".join(map(str, ModelConfig.dec_channels)) + ")")
    p.add_argument("--beta", type=float, default=TrainConfig.beta, help="KL weight after warm-up")
    p.add_argument("--lr", type=float, default=TrainConfig.lr, help="peak learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--external-data", action="store_true", help="write weights as encoder.bin / decoder.bin")
    p.add_argument("--plot", type=Path, help="write the training-set latent map PNG here "
                   f"(default for a full run into {DEFAULT_OUT.relative_to(ROOT)}: {DEFAULT_PLOT.relative_to(ROOT)})")
    p.add_argument("--no-eval", action="store_true", help="skip the held-out evaluation")
    p.add_argument("--eval-only", action="store_true", help="only evaluate the bundle in --out on its held-out files")
    args = p.parse_args(argv)
    if args.epochs is None:
        args.epochs = 30 if args.quick else TrainConfig.epochs
    if args.width is None:
        args.width = 0.25 if args.quick else 1.0
    if args.plot is None and not args.quick and args.out.resolve() == DEFAULT_OUT:
        args.plot = DEFAULT_PLOT
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.eval_only:
        m = load_manifest(args.out)
        print("held out: " + format_eval(evaluate_bundle(args.out, held_out_files(m))))
        if args.plot:
            held = set(m.extra.get("training", {}).get("held_out", []))
            plot_bundle_map(args.out, [f for f in find_sound_files() if f.id not in held], args.plot)
            print(f"latent map -> {args.plot}")
        return 0
    _require_torch()
    build(args, log=lambda s: print(s, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
