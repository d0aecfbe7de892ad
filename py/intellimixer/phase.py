"""Synthesis stage: phase reconstruction from a magnitude spectrogram.

Fast Griffin-Lim (Perraudin, Balazs & Sondergaard, "A fast Griffin-Lim algorithm",
WASPAA 2013): alternate projections onto consistent spectrograms (STFT of the ISTFT) and
onto the target magnitude, with an inertial step of weight ``momentum`` (0.99 by default).
numpy only; all work is complex64 / float32 so it is as cheap as possible under Pyodide.

The starting phase matters as much as the iterations: :func:`gradient_phase` integrates the
phase-gradient heuristic of Průša, Balazs & Søndergaard ("A noniterative method for
reconstruction of phase from STFT magnitude", IEEE/ACM TASLP 2017) along time, so fast
Griffin-Lim starts from a phase whose partials already advance at their own frequencies;
it reaches in 16-20 iterations what a random start reaches in 32 (``benchmarks/engine.py``).

The loop can be split by frames (:class:`Part`) between two workers that exchange a few
hundred samples per iteration: the web app does so on two cores (:mod:`intellimixer.cores`,
:func:`use_splitter`), with the same result to float rounding.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np

from . import finishing, spectral
from .spectral import StftParams

_EPS = np.float32(1e-8)


def _frames_params(p: StftParams, n_frames: int) -> StftParams:
    return p if p.n_frames == n_frames else replace(p, n_frames=n_frames)


INITS = ("gradient", "random", "zeros")

# PGHI's time-frequency ratio of each window, as a multiple of its length squared (the
# Gaussian that the window resembles most; Průša et al. 2017, table I)
_LAMBDA = {"hann": 0.25645, "hamming": 0.29794, "blackman": 0.17954}


def gradient_phase(mag: np.ndarray, p: StftParams) -> np.ndarray:
    """Phase from the magnitude alone: PGHI's time-direction relation, integrated along time.

    For an STFT with hop ``a`` and ``M = n_fft`` bins, the phase of bin ``m`` advances per hop by
    ``a * (2 pi m / M + (M / lambda) * d log|X| / dm)`` (a partial between two bins pulls their
    phases towards its own frequency); the advance is summed over frames with the trapezoid
    rule, each bin starting at 0.

    Args:
        mag: linear magnitude ``[n_fft // 2 + 1, n_frames]``.
        p: STFT parameters (window and hop).

    Returns:
        float32 phase in radians ``[n_fft // 2 + 1, n_frames]``.
    """
    mag = np.asarray(mag, dtype=np.float32)
    M, a = p.n_fft, p.hop_length
    lam = _LAMBDA.get(p.window, _LAMBDA["hann"]) * M * M
    s = np.log(mag + np.float32(1e-6) * max(float(mag.max()), 1e-30))
    ds = np.zeros_like(s)
    ds[1:-1] = s[2:] - s[:-2]  # central difference over bins, times 2
    adv = ds * np.float32(a * M / (2.0 * lam))
    adv += (np.float32(2.0 * np.pi * a / M) * np.arange(mag.shape[0], dtype=np.float32))[:, None]
    out = np.zeros_like(s)
    np.cumsum((adv[:, 1:] + adv[:, :-1]) * np.float32(0.5), axis=1, out=out[:, 1:])
    return out


def initial_phase(mag: np.ndarray, init="gradient", seed: int = 0, p: StftParams | None = None) -> np.ndarray:
    """Unit-modulus complex64 ``[bins, frames]`` to start from: ``"gradient"``
    (:func:`gradient_phase`, needs ``p``), ``"random"`` (uniform phase, seeded), ``"zeros"``
    (all phases 0), or a complex array of the same shape (e.g. the phase a neighbouring sound
    ended with: its modulus is ignored). The random and zero phases are read-only and cached
    per shape and seed (complex ``exp`` is slow under Pyodide, and every click uses the same)."""
    if isinstance(init, np.ndarray):
        if init.shape != np.shape(mag):
            raise ValueError(f"initial phase has shape {init.shape}, the magnitude {np.shape(mag)}")
        return (init / (np.abs(init) + _EPS)).astype(np.complex64)
    if init == "gradient":
        if p is None:
            raise ValueError("the gradient initial phase needs the STFT parameters")
        ph = gradient_phase(mag, p)
        out = np.empty(ph.shape, dtype=np.complex64)
        np.cos(ph, out=out.real)
        np.sin(ph, out=out.imag)
        return out
    return _initial_phase(tuple(np.shape(mag)), init, int(seed))


@lru_cache(maxsize=8)
def _initial_phase(shape: tuple[int, ...], init: str, seed: int) -> np.ndarray:
    if init == "random":
        rng = np.random.default_rng(seed)
        out = np.exp(2j * np.pi * rng.random(shape, dtype=np.float32)).astype(np.complex64)
    elif init == "zeros":
        out = np.ones(shape, dtype=np.complex64)
    else:
        raise ValueError(f"unknown phase init {init!r}; expected one of {', '.join(INITS)} or an array")
    out.setflags(write=False)
    return out


_SPLITTER = [None]


def use_splitter(splitter) -> None:
    """Hands each :func:`griffin_lim` run first to ``splitter`` (e.g. :class:`intellimixer.cores.Splitter`,
    which does half of its frames on another core), called with ``griffin_lim``'s arguments;
    where it returns None the run is done here as usual. ``None`` removes it."""
    _SPLITTER[0] = splitter


def splitter():
    """The splitter :func:`use_splitter` set, or None."""
    return _SPLITTER[0]


def griffin_lim(
    mag: np.ndarray,
    p: StftParams,
    length: int | None = None,
    n_iter: int = 32,
    momentum: float = 0.99,
    init="gradient",
    seed: int = 0,
    keep_phase: list | None = None,
) -> np.ndarray:
    """Reconstruct a signal whose STFT magnitude approximates ``mag``.

    Args:
        mag: linear magnitude ``[n_fft // 2 + 1, n_frames]``.
        p: STFT parameters (``p.n_frames`` is taken from ``mag``).
        length: output length in samples (default ``n_frames * hop_length``).
        n_iter: iterations (each is one ISTFT and one STFT).
        momentum: inertial weight alpha of fast Griffin-Lim; 0 gives classic Griffin-Lim.
        init: initial phase, see :func:`initial_phase` (``"gradient"``, ``"random"``,
            ``"zeros"`` or a complex ``[bins, frames]`` array).
        seed: random-phase seed (output is deterministic for a given seed).
        keep_phase: if a list, the final complex spectrogram ``[bins, frames]`` is appended
            to it (a warm start for a neighbouring sound: see ``init``).

    Returns:
        float32 ``[length]``.
    """
    mag = np.asarray(mag, dtype=np.float32)
    if mag.ndim != 2 or mag.shape[0] != p.n_fft // 2 + 1:
        raise ValueError(f"griffin_lim expects [{p.n_fft // 2 + 1}, frames], got {mag.shape}")
    if n_iter < 0:
        raise ValueError("n_iter must be >= 0")
    p = _frames_params(p, mag.shape[1])
    length = p.length if length is None else length
    alpha = np.float32(momentum)
    if _SPLITTER[0] is not None and n_iter:
        y = _SPLITTER[0](mag, p, length, n_iter, momentum, init, seed, keep_phase)
        if y is not None:
            return y
    c = mag * initial_phase(mag, init, seed, p)
    if n_iter and p.n_fft % p.hop_length == 0 and 1 + alpha > 0:
        return _fgla_loop(mag, c, p, length, n_iter, alpha, keep_phase)
    t = c
    for _ in range(n_iter):
        rebuilt = spectral.stft(spectral.istft(t, p, length), p)
        c_next = mag * (rebuilt / (np.abs(rebuilt) + _EPS))
        t = c_next + alpha * (c_next - c)
        c = c_next
    if keep_phase is not None:
        keep_phase.append(c)
    return spectral.istft(c.astype(np.complex64, copy=False), p, length).astype(np.float32)


@lru_cache(maxsize=8)
def _fgla_windows(name: str, n_fft: int, hop: int, n_frames: int, length: int, pad: int, scale: float):
    """Read-only float32 windows for :func:`_fgla_loop`: the synthesis window repeated for
    every frame ``ws [n_frames, n_fft]`` (a full operand multiplies faster than a broadcast one
    under Pyodide), the per-frame analysis window ``wa [n_frames, n_fft]`` = ``scale * w * inv`` framed, and
    ``inv [(n_frames - 1) * hop + n_fft]``: 1 / (overlap-added squared window) on the samples
    ``istft`` keeps, ``[pad, pad + length)``, and 0 elsewhere (the trim and re-pad)."""
    w = spectral.window(name, n_fft).astype(np.float32)
    total = (n_frames - 1) * hop + n_fft
    norm = spectral._ola_norm(name, n_fft, hop, n_frames)
    inv = np.zeros(total, dtype=np.float32)
    keep = max(0, min(length, total - pad))
    inv[pad : pad + keep] = 1.0 / norm[pad : pad + keep]
    inv_framed = np.lib.stride_tricks.as_strided(inv, shape=(n_frames, n_fft), strides=(inv.strides[0] * hop, inv.strides[0]))
    wa = (np.float32(scale) * inv_framed * w).astype(np.float32)
    ws = np.ascontiguousarray(np.broadcast_to(w, (n_frames, n_fft)))
    for a in (ws, wa, inv):
        a.setflags(write=False)
    return ws, wa, inv


def _fgla_loop(mag: np.ndarray, c: np.ndarray, p: StftParams, length: int, n_iter: int, alpha,
               keep_phase: list | None = None) -> np.ndarray:
    """The fast Griffin-Lim loop of :func:`griffin_lim`, on all frames in this thread: the
    :meth:`Part.steps` of a part that has them all (no neighbour). Returns the signal ``[length]``."""
    part = Part.whole(p, mag.shape[1], length, alpha)
    return part.finish(run_alone(part.steps(mag, c, n_iter, alpha)), keep_phase)


def run_alone(steps):
    """Runs a :meth:`Part.steps` generator that has no neighbour to exchange with."""
    try:
        next(steps)
    except StopIteration as done:
        return done.value
    raise RuntimeError("a part with neighbours was run alone")


class Part:
    """Frames ``[f0, f1)`` of a fast Griffin-Lim run split by frames, for two workers.

    Frame ``j`` overlap-adds into the signal's blocks ``[j, j + r)`` (``r = n_fft / hop``, a
    block is ``hop`` samples): the part's frames reach blocks ``[f0, f1 + r - 1)``, and the
    ``r - 1`` blocks at a cut get frames from both sides. Each iteration, the two parts
    exchange their own sums over those blocks (384 samples for the default model) and each
    adds the other's, so both hold the same complete blocks and every iterate equals the
    one-worker loop's up to float rounding (``tests/test_phase_split.py``).
    """

    def __init__(self, p: StftParams, n_frames: int, length: int, alpha, f0: int, f1: int):
        self.n_fft, self.hop = p.n_fft, p.hop_length
        self.r = r = p.n_fft // p.hop_length
        self.f0, self.f1, self.n_frames, self.length = f0, f1, n_frames, length
        self.pad = p.n_fft // 2 if p.center else 0
        ws, wa, inv = _fgla_windows(p.window, p.n_fft, p.hop_length, n_frames, length, self.pad, float(1 + alpha))
        self.ws, self.wa = ws[f0:f1], wa[f0:f1]
        self.inv = inv[f0 * self.hop : (f1 + r - 1) * self.hop]
        # the shared blocks (local block indices) where this part meets its neighbours
        self.left = slice(0, (r - 1) * self.hop) if f0 > 0 else None
        self.right = slice((f1 - f0) * self.hop, (f1 - f0 + r - 1) * self.hop) if f1 < n_frames else None

    @classmethod
    def whole(cls, p: StftParams, n_frames: int, length: int, alpha) -> Part:
        return cls(p, n_frames, length, alpha, 0, n_frames)

    @property
    def shared(self) -> int:
        """Samples this part exchanges per iteration (left then right neighbour's blocks)."""
        return sum(0 if s is None else s.stop - s.start for s in (self.left, self.right))

    def steps(self, mag: np.ndarray, c: np.ndarray, n_iter: int, alpha):
        """The loop for this part's frames, as a generator: after each overlap-add it yields
        this part's sums over the shared blocks (float32 ``[shared]``, left cut's first) and
        is sent the neighbours' sums over the same blocks, in the same order; it returns
        ``(signal, rebuilt)``: the part's blocks (before the normalisation of
        :meth:`finish`) and its last complex spectrogram ``[frames, bins]``.

        Args:
            mag: linear magnitude of the part's frames ``[bins, f1 - f0]``.
            c: starting complex spectrogram of those frames ``[bins, f1 - f0]``.

        Same iterates as the textbook loop, but the inertial step is taken on signals instead
        of spectrograms: the ISTFT is linear, so ``istft(t_n) = (1 + a) istft(c_n) - a
        istft(c_{n-1})`` and the loop keeps the last two ISTFTs (16k samples each for the whole
        default sound) instead of combining two complex ``[frames, bins]`` spectrograms (33k
        values) every iteration. Further, so that it is cheap under Pyodide:

        - arrays are ``[frames, bins]`` (no transposes), float32 / complex64, preallocated;
        - the ISTFT's normalisation, trim and re-pad (``y * inv``) are folded into the analysis
          window of the next STFT (``wa``), and ``1 + a`` with them;
        - the overlap-add is ``n_fft / hop - 1`` vectorised adds of a strided view of a padded
          frame buffer (``irfft`` writes into it);
        - the magnitude is ``sqrt(re**2 + im**2)`` (``np.abs`` of complex64 is several times
          slower in WebAssembly) and the projection multiplies by a real ratio.
        """
        n_fft, hop, r = self.n_fft, self.hop, self.r
        n_frames = self.f1 - self.f0
        beta = np.float32(alpha / (1 + alpha))  # t = (1 + a) * (y_c - beta * y_prev)
        ws, wa = self.ws, self.wa
        blocks = n_frames + r - 1  # the part's signal is blocks * hop samples
        mag_t = np.ascontiguousarray(np.asarray(mag, dtype=np.float32).T)
        # frames with r - 1 zero frames either side: block j of the overlap-add is
        # sum_k fbuf[j - k + r - 1, k * hop : (k + 1) * hop], a strided view (negative middle stride)
        fbuf = np.zeros((n_frames + 2 * (r - 1), n_fft), dtype=np.float32)
        frames = fbuf[r - 1 : r - 1 + n_frames]
        size = fbuf.itemsize
        ola = np.ndarray((blocks, r, hop), np.float32, buffer=fbuf, offset=(r - 1) * n_fft * size,
                         strides=(n_fft * size, (hop - n_fft) * size, size))
        cuts = [s for s in (self.left, self.right) if s is not None]
        mine = np.empty(self.shared, dtype=np.float32)

        def istft_into(spec, y):
            """Unnormalised ISTFT of ``spec [frames, bins]`` into ``y [blocks * hop]``."""
            np.fft.irfft(spec, n=n_fft, axis=1, out=frames)
            np.multiply(frames, ws, out=frames)
            y2 = y.reshape(blocks, hop)
            if r == 1:
                y2[...] = ola[:, 0]
            else:
                np.add(ola[:, 0], ola[:, 1], out=y2)
                for k in range(2, r):
                    np.add(y2, ola[:, k], out=y2)
            return y

        def framed(y):
            return np.lib.stride_tricks.as_strided(y, shape=(n_frames, n_fft), strides=(y.strides[0] * hop, y.strides[0]),
                                                   writeable=False)

        def complete(y):
            """Adds the neighbours' sums over the shared blocks (a generator step)."""
            if not cuts:
                return
            at = 0
            for s in cuts:
                mine[at : at + s.stop - s.start] = y[s]
                at += s.stop - s.start
            theirs = yield mine.copy()
            at = 0
            for s in cuts:
                y[s] += theirs[at : at + s.stop - s.start]
                at += s.stop - s.start

        # two signal buffers, each with its frames view: (current ISTFT, previous ISTFT)
        y_c = istft_into(np.ascontiguousarray(np.asarray(c, dtype=np.complex64).T), np.empty(blocks * hop, dtype=np.float32))
        yield from complete(y_c)
        y_o = y_c.copy()
        cur, old = (y_c, framed(y_c)), (y_o, framed(y_o))
        x = np.empty((n_frames, n_fft), dtype=np.float32)
        rebuilt = np.empty(mag_t.shape, dtype=np.complex64)
        re, im = rebuilt.real, rebuilt.imag
        ratio = np.empty(mag_t.shape, dtype=np.float32)
        im2 = np.empty(mag_t.shape, dtype=np.float32)
        for _ in range(n_iter):
            # old <- cur - beta * old, so that (1 + a) * old is the ISTFT of t (1 + a is in wa)
            y_o = old[0]
            y_o *= beta
            np.subtract(cur[0], y_o, out=y_o)
            # STFT of t, then the magnitude projection c = mag * rebuilt / (|rebuilt| + eps)
            np.multiply(old[1], wa, out=x)
            np.fft.rfft(x, axis=1, out=rebuilt)
            np.multiply(re, re, out=ratio)
            np.multiply(im, im, out=im2)
            ratio += im2
            np.sqrt(ratio, out=ratio)
            ratio += _EPS
            np.divide(mag_t, ratio, out=ratio)
            # rebuilt *= ratio, as two real products (complex64 * float32 casts, 2x slower in wasm)
            np.multiply(re, ratio, out=re)
            np.multiply(im, ratio, out=im)
            # old <- ISTFT of the new c; it becomes the current one and the current one the old
            istft_into(rebuilt, y_o)
            yield from complete(y_o)
            cur, old = old, cur
        return cur[0], rebuilt

    def finish(self, result, keep_phase: list | None = None) -> np.ndarray:
        """The whole run's output from a part that has all frames: the signal ``[length]``."""
        y, rebuilt = result
        if keep_phase is not None:
            keep_phase.append(rebuilt.T)
        return self.trim(self.normalised(y))

    def normalised(self, y: np.ndarray) -> np.ndarray:
        """The part's blocks ``y`` with the ISTFT's normalisation (in place)."""
        y *= self.inv
        return y

    def trim(self, y_full: np.ndarray) -> np.ndarray:
        """All blocks (normalised) -> the signal ``[length]`` (centring pad removed)."""
        out = np.zeros(self.length, dtype=np.float32)
        seg = y_full[self.pad : self.pad + self.length]
        out[: len(seg)] = seg
        return out


def split_frames(n_frames: int, parts: int = 2) -> list[tuple[int, int]]:
    """``parts`` contiguous frame ranges of near-equal size covering ``[0, n_frames)``."""
    edges = [round(k * n_frames / parts) for k in range(parts + 1)]
    return [(a, b) for a, b in zip(edges, edges[1:])]


def split_join(results) -> tuple[np.ndarray, np.ndarray]:
    """Joins two parts' results (``[(part, (signal, rebuilt)), ...]`` in frame order, as
    :meth:`Part.steps` returns them): the signal ``[length]`` and the last complex spectrogram
    ``[bins, frames]``."""
    first = results[0][0]
    y = np.empty((first.n_frames + first.r - 1) * first.hop, dtype=np.float32)
    for part, (part_y, _) in results:
        at = part.f0 * part.hop
        y[at : at + len(part_y)] = part.normalised(part_y)  # the shared blocks are equal in both
    return first.trim(y), np.concatenate([rebuilt for _, (_, rebuilt) in results], axis=0).T


def split_runs(mag: np.ndarray, p: StftParams, length: int | None, n_iter: int, momentum: float,
               init="gradient", seed: int = 0):
    """A :func:`griffin_lim` run in two parts (one per worker): ``(p, alpha, [(part, mag,
    c), ...])``, each part's :class:`Part` with its frames of the magnitude and of the starting
    complex spectrogram (``[bins, f1 - f0]``, for :meth:`Part.steps`). ``None`` where the run
    cannot be split (the classic loop's settings, or too few frames)."""
    mag = np.asarray(mag, dtype=np.float32)
    p = _frames_params(p, mag.shape[1])
    length = p.length if length is None else length
    alpha = np.float32(momentum)
    r = p.n_fft // p.hop_length
    if not n_iter or p.n_fft % p.hop_length or 1 + alpha <= 0 or mag.shape[1] < 4 * r:
        return None
    c = mag * initial_phase(mag, init, seed, p)
    runs = [(Part(p, mag.shape[1], length, alpha, f0, f1), mag[:, f0:f1], c[:, f0:f1])
            for f0, f1 in split_frames(mag.shape[1])]
    return p, alpha, runs


def split_in_turn(mag: np.ndarray, p: StftParams, length: int | None, n_iter: int, momentum: float = 0.99,
                  init="gradient", seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """:func:`griffin_lim` split in two parts as the web app runs it on two cores, the parts
    run in turn in this thread (:func:`run_in_turn`): the signal ``[length]`` and the last
    complex spectrogram ``[bins, frames]``. For tests and benchmarks; the run must be one
    :func:`split_runs` can split."""
    _, alpha, runs = split_runs(mag, p, length, n_iter, momentum, init, seed)
    results = run_in_turn([part.steps(m, c, n_iter, alpha) for part, m, c in runs])
    return split_join([(part, res) for (part, _, _), res in zip(runs, results)])


def run_in_turn(gens: list) -> list:
    """Runs two :meth:`Part.steps` generators to the end in this thread, passing each the
    other's shared sums: what two workers do side by side (tests, and the reference)."""
    a, b = gens
    ma, mb = next(a), next(b)
    while True:
        try:
            ma_next = a.send(mb)
        except StopIteration as done_a:
            try:
                b.send(ma)
            except StopIteration as done_b:
                return [done_a.value, done_b.value]
            raise RuntimeError("the parts stopped after different numbers of exchanges") from None
        mb = b.send(ma)
        ma = ma_next


def spectral_convergence(mag: np.ndarray, x: np.ndarray, p: StftParams) -> float:
    """``|| mag - |STFT(x)| ||_F / || mag ||_F`` (0 is perfect; lower is better)."""
    mag = np.asarray(mag, dtype=np.float64)
    p = _frames_params(p, mag.shape[1])
    est = np.abs(spectral.stft(np.asarray(x, dtype=np.float64), p))
    return float(np.linalg.norm(mag - est) / max(np.linalg.norm(mag), 1e-12))


def synthesize(S: np.ndarray, manifest, n_iter: int | None = None, seed: int = 0, gate: bool = True,
               init=None, keep_phase: list | None = None) -> np.ndarray:
    """Model output -> audio (before finishing: see :func:`intellimixer.pipeline.render`).

    Args:
        S: representation ``[n_bins, n_frames]`` (or with leading singleton axes, as the
            decoder returns it).
        manifest: a :class:`intellimixer.model.Manifest` (STFT, representation, length,
            phase settings).
        n_iter: Griffin-Lim iterations (default: the manifest's ``phase.n_iter``).
        gate: apply :func:`intellimixer.finishing.gate` first, with the manifest's settings (for
            decoded spectrograms; False measures phase reconstruction alone on a true spectrogram).
        init: starting phase (default: the manifest's ``phase.init``); see :func:`initial_phase`.
        keep_phase: see :func:`griffin_lim`.

    Returns:
        float32 ``[manifest.n_samples]`` at the magnitude's own scale; the DC bin is left
        out, so the signal has no DC offset and its silent parts stay at 0.
    """
    r = manifest.representation
    S = np.asarray(S, dtype=np.float32).reshape(manifest.stft.n_bins, manifest.stft.n_frames)
    if gate:
        ph = manifest.phase
        S = finishing.gate(S, r.db_max - r.db_min, ph.gate_knee_db, ph.gate_ratio, ph.gate_floor_db)
    mag = spectral.to_magnitude(S, manifest.stft, r)
    mag[0] = 0.0
    return griffin_lim(
        mag,
        manifest.stft,
        manifest.n_samples,
        n_iter=manifest.phase.n_iter if n_iter is None else n_iter,
        momentum=manifest.phase.momentum,
        init=manifest.phase.init if init is None else init,
        seed=seed,
        keep_phase=keep_phase,
    )
