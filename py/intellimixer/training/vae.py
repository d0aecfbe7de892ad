"""The convolutional VAE and its training (PyTorch, CPU, fixed seeds)."""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

from .corpus import Dataset

# OpenMP threads that sleep instead of spinning while waiting: on a shared 2-core machine
# (CI, other jobs) spinning threads made training several times slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
try:  # training and export need torch; the data and evaluation helpers do not
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - exercised only where torch is absent
    torch = None
    nn = None

@dataclass(frozen=True)
class ModelConfig:
    """Convolutional VAE layout.

    ``kind="conv1d"`` (the default model): the spectrogram's frequency bins are the channels
    of 1-D convolutions over time; each kernel-4 stride-2 convolution halves the frames
    (288 -> 9 after five) while mixing all bins, then a linear head gives ``[mu, logvar]``;
    the decoder mirrors it with stride-2 transposed convolutions and ends in a sigmoid.
    ``kind="conv2d"``: 4x4 stride-2 2-D convolutions halve both axes (256x288 -> 8x9 after
    five), the decoder mirrors them.
    """

    latent_dim: int = 24
    enc_channels: tuple[int, ...] = (192, 160, 128, 128, 128)
    dec_channels: tuple[int, ...] = (128, 128, 128, 160, 192)
    slope: float = 0.2  # LeakyReLU negative slope
    kind: str = "conv1d"

    def scaled(self, width: float) -> ModelConfig:
        """The same layout with every channel count multiplied by ``width`` (min 4)."""
        sc = lambda ch: tuple(max(4, int(round(c * width))) for c in ch)  # noqa: E731
        return replace(self, enc_channels=sc(self.enc_channels), dec_channels=sc(self.dec_channels))


LOGVAR_LIMIT = 8.0  # the encoder's log-variance is clamped to +-this in training
GRAD_CLIP = 1000.0  # gradient norm limit (the loss is a sum over the spectrogram's pixels)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; ``beta`` is the KL weight reached after ``warmup`` of the steps.

    Loss per sound: sum over the [n_bins, n_frames] pixels of the squared (or, with
    ``loss="l1"``, absolute) error, each weighted
    ``1 + loud_weight * x`` (``x`` the target in [0, 1]: loud bins count more, so the decoder
    keeps the peaks' level instead of averaging them away), plus ``beta * KL(q(z|x) || N(0, I))``
    in nats.
    """

    epochs: int = 30
    loud_weight: float = 4.0
    loss: str = "l2"  # "l2": squared error; "l1": absolute error (sharper: a median, not a mean)
    batch_size: int = 32
    lr: float = 1e-3
    beta: float = 0.3
    warmup: float = 0.3
    seed: int = 0
    threads: int = 2


if nn is not None:

    class Conv1dEncoder(nn.Module):
        """Spectrogram ``[B, 1, n_bins, n_frames]`` in [0, 1] -> ``(mu [B, D], logvar [B, D])``;
        the bins are the channels of 1-D convolutions over the frames."""

        def __init__(self, cfg: ModelConfig, n_bins: int, n_frames: int):
            super().__init__()
            layers: list[nn.Module] = []
            c = n_bins
            for out in cfg.enc_channels:
                layers += [nn.Conv1d(c, out, 4, stride=2, padding=1), nn.LeakyReLU(cfg.slope)]
                c = out
            self.convs = nn.Sequential(*layers)
            self.head = nn.Linear(c * (n_frames // 2 ** len(cfg.enc_channels)), 2 * cfg.latent_dim)
            self.latent_dim = cfg.latent_dim

        def forward(self, x):
            h = self.head(torch.flatten(self.convs(x.flatten(1, 2)), 1))
            return h[:, : self.latent_dim], h[:, self.latent_dim :]

    class Conv1dDecoder(nn.Module):
        """Latent ``z [B, D]`` -> spectrogram ``[B, 1, n_bins, n_frames]`` in [0, 1] (sigmoid)."""

        def __init__(self, cfg: ModelConfig, n_bins: int, n_frames: int):
            super().__init__()
            self.grid = (cfg.dec_channels[0], n_frames // 2 ** len(cfg.dec_channels))
            self.inp = nn.Linear(cfg.latent_dim, math.prod(self.grid))
            layers: list[nn.Module] = [nn.LeakyReLU(cfg.slope)]
            chans = list(cfg.dec_channels) + [n_bins]
            for c_in, c_out in zip(chans[:-1], chans[1:]):
                layers.append(nn.ConvTranspose1d(c_in, c_out, 4, stride=2, padding=1))
                layers.append(nn.LeakyReLU(cfg.slope) if c_out != n_bins else nn.Sigmoid())
            self.deconvs = nn.Sequential(*layers)

        def forward(self, z):
            return self.deconvs(self.inp(z).reshape(-1, *self.grid)).unsqueeze(1)

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
            conv1d = cfg.kind == "conv1d"
            self.encoder = (Conv1dEncoder if conv1d else ConvEncoder)(cfg, n_bins, n_frames)
            self.decoder = (Conv1dDecoder if conv1d else ConvDecoder)(cfg, n_bins, n_frames)

        def forward(self, x):
            mu, logvar = self.encoder(x)
            logvar = logvar.clamp(-LOGVAR_LIMIT, LOGVAR_LIMIT)  # exp() stays finite
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
            return self.decoder(z), mu, logvar

    class PiecewiseLinear(nn.Module):
        """A monotone piecewise-linear map through the knots ``(xs, ys)`` (flat outside
        them), as ONNX-exportable element-wise ops: ``ys[0] + sum_k d_k relu(clip(x) - xs[k])``."""

        def __init__(self, xs: Sequence[float], ys: Sequence[float]):
            super().__init__()
            xs, ys = np.asarray(xs, np.float64), np.asarray(ys, np.float64)
            slopes = np.diff(ys) / np.diff(xs)
            self.register_buffer("knots", torch.as_tensor(xs[:-1], dtype=torch.float32))
            self.register_buffer("steps", torch.as_tensor(np.diff(slopes, prepend=0.0), dtype=torch.float32))
            self.lo, self.hi, self.y0 = float(xs[0]), float(xs[-1]), float(ys[0])

        def forward(self, x):
            x = x.clamp(self.lo, self.hi).unsqueeze(-1)
            return self.y0 + torch.relu(x - self.knots).matmul(self.steps)

    class CalibratedDecoder(nn.Module):
        """A decoder whose output is calibrated to the corpus (:func:`fit_output_calibration`): the
        loudest bin of each decoded spectrogram is mapped to where inputs' loudest bins lie
        (``peak``), and every bin's level under it to where inputs' levels under their own
        peak lie (``relative``). A VAE's decoder averages what it cannot tell apart, which
        compresses its output's range (peaks ~20 dB low, a haze where the input is silent);
        the maps undo that compression in the decoder itself, so every runtime gets it."""

        def __init__(self, decoder: nn.Module, peak: tuple, relative: tuple):
            super().__init__()
            self.decoder = decoder
            self.peak, self.relative = PiecewiseLinear(*peak), PiecewiseLinear(*relative)

        def forward(self, z):
            s = self.decoder(z)
            top = s.amax(dim=(1, 2, 3), keepdim=True)
            return (self.peak(top) + self.relative(s - top)).clamp(0.0, 1.0)

    class PermutedEncoder(nn.Module):
        """Wraps an encoder so its outputs come in the order ``order`` (new dim i = old order[i])."""

        def __init__(self, encoder: nn.Module, order: Sequence[int]):
            super().__init__()
            self.encoder = encoder
            self.register_buffer("order", torch.as_tensor(list(order), dtype=torch.long))

        def forward(self, x):
            mu, logvar = self.encoder(x)
            return mu.index_select(1, self.order), logvar.index_select(1, self.order)

    class PermutedDecoder(nn.Module):
        """Wraps a decoder to take latents in the order ``order`` (the inverse of the encoder's)."""

        def __init__(self, decoder: nn.Module, order: Sequence[int]):
            super().__init__()
            self.decoder = decoder
            self.register_buffer("inverse", torch.as_tensor(np.argsort(order), dtype=torch.long))

        def forward(self, z):
            return self.decoder(z.index_select(1, self.inverse))


def require_torch() -> None:
    if torch is None:
        raise RuntimeError("training and export need PyTorch: pip install -e '.[dev]' (or pip install torch)")


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


def _quantile_knots(decoded: np.ndarray, target: np.ndarray, n: int) -> tuple[list[float], list[float]]:
    """Knots mapping the quantiles of ``decoded`` onto those of ``target`` (strictly increasing x)."""
    q = np.linspace(0.0, 1.0, n + 1)
    xs, ys = np.quantile(decoded, q), np.quantile(target, q)
    xs, keep = np.unique(xs, return_index=True)
    return [float(v) for v in xs], [float(v) for v in np.maximum.accumulate(ys[keep])]


def fit_output_calibration(decoded: np.ndarray, inputs: np.ndarray, knots: int = 32) -> dict[str, tuple[list[float], list[float]]]:
    """Quantile maps for :class:`CalibratedDecoder` from sounds of the corpus: ``decoded``
    (the decoder's output for their latent means) and ``inputs`` (their spectrograms), both
    ``[N, n_bins, n_frames]``: ``peak`` maps the decoded loudest bins' distribution onto the
    inputs', ``relative`` the distribution of levels under each sound's own loudest bin."""
    d_top = decoded.max(axis=(1, 2), keepdims=True)
    s_top = inputs.max(axis=(1, 2), keepdims=True)
    return {"peak": _quantile_knots(d_top.ravel(), s_top.ravel(), knots),
            "relative": _quantile_knots((decoded - d_top).ravel(), (inputs - s_top).ravel(), knots)}


def decode_all(decoder, z: np.ndarray, batch: int = 64) -> np.ndarray:
    """Run a torch decoder over ``z [N, D]``; returns ``[N, n_bins, n_frames]``."""
    decoder.eval()
    with torch.no_grad():
        return np.concatenate([decoder(torch.from_numpy(np.asarray(z[i : i + batch], np.float32))).numpy()[:, 0]
                               for i in range(0, len(z), batch)])


def train_vae(data: Dataset, mcfg: ModelConfig, tcfg: TrainConfig, log=print) -> tuple[Any, list[dict]]:
    """Train a :class:`VAE` on ``data.specs`` (fixed seeds, CPU).

    Returns:
        ``(model in eval mode, history)``; history holds one dict per epoch with the mean
        ``recon`` (summed squared error per sound), ``kl`` (nats per sound), ``beta`` and ``time_s``.
    """
    require_torch()
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
            err = (recon - x).pow(2) if tcfg.loss == "l2" else (recon - x).abs()
            if tcfg.loud_weight:
                err = err * (1.0 + tcfg.loud_weight * x)
            rec = err.flatten(1).sum(1).mean()
            kl = (0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0)).sum(1).mean()
            loss = rec + beta * kl
            opt.zero_grad(set_to_none=True)
            loss.backward()
            # a rare exploding step must not end the run: clip the gradient's norm
            torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
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
