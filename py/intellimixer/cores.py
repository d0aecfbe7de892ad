"""Phase reconstruction on two cores: the Python worker and its helper split each fast
Griffin-Lim run by frames (:class:`intellimixer.phase.Part`) and exchange the 384 samples
where their halves meet once per iteration, through a ``SharedArrayBuffer`` the page hands
to both (it exists where the page is cross-origin isolated).

Both sides block on ``Atomics.wait`` (allowed in workers), so the exchange costs
microseconds instead of an event-loop turn per iteration (~0.4 ms each under Pyodide, measured).
Every wait has a time limit: a helper that does not answer is dropped and the run is done in
the Python worker alone, as it is before the helper is up, for runs too small to split and
where there is no shared memory. The result equals the one-worker run's to float rounding.

Layout of the buffer: ``Int32`` control words (:data:`_W`), then float32 data: the two
parts' shared sums, then the job's input (the helper's frames of the magnitude and of the
starting complex spectrogram, ``[frames, bins]``), then its output (its blocks and its last
complex spectrogram).
"""
from __future__ import annotations

import time

import numpy as np

from . import phase, spectral

BYTES = 4 << 20  # the buffer the page allocates: room for a part of ~1000 frames x 257 bins
WAIT_MS = 2000  # the longest either side waits for the other before giving up
# Runs with fewer iterations stay on one core: the job's fixed costs (its ~0.6 MB in and out,
# waking the helper) outweigh the halved iterations, and while the map is dragged the decoder
# of the next position runs on the other core (scrubbing's 3-iteration previews: 48 -> 39
# generations/s when split, 2-core machine, 2026-12-03)
MIN_ITER = 8
_HEADER_WORDS = 32
# control words: job sequence (page-wide), job done (= its sequence; minus it on failure), the
# exchange counters of each side, and the job's parameters
_W = {"job": 0, "done": 1, "ex_main": 2, "ex_help": 3, "n_fft": 4, "hop": 5, "window": 6, "center": 7,
      "n_frames": 8, "length": 9, "f0": 10, "f1": 11, "n_iter": 12, "shared": 13, "bins": 14, "ex0": 15}
_F_ALPHA = 0  # float words after the header
_DATA = _HEADER_WORDS + 4


class Channel:
    """The shared buffer as ``Int32`` / ``Float32`` views and ``Atomics`` (JS objects)."""

    def __init__(self, sab, atomics, int32, float32):
        self.ints = int32.new(sab)
        self.floats = float32.new(sab)
        self.atomics = atomics
        self.capacity = self.floats.length - _DATA

    @classmethod
    def of(cls, sab) -> Channel:
        """The channel over ``sab`` with the JS globals of a Pyodide worker."""
        import js

        return cls(sab, js.Atomics, js.Int32Array, js.Float32Array)

    def get(self, word: str) -> int:
        return int(self.atomics.load(self.ints, _W[word]))

    def put(self, word: str, value: int) -> None:
        self.atomics.store(self.ints, _W[word], int(value))

    def bump(self, word: str, value: int) -> None:
        self.put(word, value)
        self.atomics.notify(self.ints, _W[word])

    def wait_for(self, word: str, at_least: int, limit_ms: float | None = None, failed=None) -> bool:
        """Blocks until ``word >= at_least``; False after ``limit_ms`` (default :data:`WAIT_MS`)
        or as soon as ``failed()`` is true."""
        end = time.monotonic() + (WAIT_MS if limit_ms is None else limit_ms) / 1000
        while True:
            now = self.get(word)
            if now >= at_least:
                return True
            if now == -at_least or (failed is not None and failed()):  # ("done": minus a failed job)
                return False
            left = end - time.monotonic()
            if left <= 0:
                return False
            self.atomics.wait(self.ints, _W[word], now, max(1.0, left * 1000))

    def fail(self, job: int) -> None:
        """The helper's word that ``job`` failed, waking the Python worker wherever it waits."""
        self.put("done", -job)
        for word in ("done", "ex_help"):
            self.atomics.notify(self.ints, _W[word])

    def put_float(self, at: int, value: float) -> None:
        self.floats.subarray(_HEADER_WORDS + at, _HEADER_WORDS + at + 1).assign(np.array([value], np.float32))

    def get_float(self, at: int) -> np.float32:
        out = np.empty(1, np.float32)
        self.floats.subarray(_HEADER_WORDS + at, _HEADER_WORDS + at + 1).assign_to(out)
        return out[0]

    def write(self, at: int, arr: np.ndarray) -> int:
        flat = np.ascontiguousarray(arr).view(np.float32).reshape(-1)
        self.floats.subarray(_DATA + at, _DATA + at + flat.size).assign(flat)
        return at + flat.size

    def read(self, at: int, out: np.ndarray) -> int:
        flat = out.view(np.float32).reshape(-1)
        self.floats.subarray(_DATA + at, _DATA + at + flat.size).assign_to(flat)
        return at + flat.size


def _layout(shared: int, bins: int, frames: int, blocks_samples: int) -> dict:
    """Float offsets of each region for a helper part of ``frames`` frames. Each side's
    shared sums alternate between two slots (``mine`` for the Python worker's, ``theirs`` for
    the helper's; exchange ``k`` uses slot ``k % 2``), so that one side cannot overwrite sums
    the other has not read yet."""
    at = {"mine": (0, shared), "theirs": (2 * shared, 3 * shared)}
    at["mag"] = 4 * shared
    at["c"] = at["mag"] + frames * bins
    at["y"] = at["c"] + 2 * frames * bins
    at["rebuilt"] = at["y"] + blocks_samples
    at["end"] = at["rebuilt"] + 2 * frames * bins
    return at


def _exchange(steps, ch: Channel, me: str, other: str, mine_at: tuple[int, int], theirs_at: tuple[int, int],
              count: list, failed=None):
    """Drives a :meth:`~intellimixer.phase.Part.steps` generator, exchanging through ``ch``
    (this side writes its sums at ``mine_at``'s slots, reads the other's at ``theirs_at``'s);
    ``count`` holds this side's running exchange number. Returns its result, or None if the
    other side did not answer in time (or ``failed()``)."""
    try:
        sums = next(steps)
        theirs = np.empty_like(sums)
        while True:
            count[0] += 1
            ch.write(mine_at[count[0] % 2], sums)
            ch.bump(me, count[0])
            if not ch.wait_for(other, count[0], failed=failed):
                steps.close()
                return None
            ch.read(theirs_at[count[0] % 2], theirs)
            sums = steps.send(theirs)
    except StopIteration as done:
        return done.value


class Splitter:
    """The Python worker's side: :func:`intellimixer.phase.griffin_lim` hands it each run
    (:func:`intellimixer.phase.use_splitter`); it does the first half of the frames here and the
    helper the second, or returns None (the caller then runs alone)."""

    def __init__(self, ch: Channel):
        self.ch = ch
        self.alive = True
        self.last_split = False  # whether the last run was split (the worker reports it)
        self.job = ch.get("job")

    def __call__(self, mag, p, length, n_iter, momentum, init, seed, keep_phase):
        self.last_split = False
        y = self._split(mag, p, length, n_iter, momentum, init, seed, keep_phase)
        self.last_split = y is not None
        return y

    def _split(self, mag, p, length, n_iter, momentum, init, seed, keep_phase):
        if not self.alive or n_iter < MIN_ITER or p.window not in spectral.WINDOWS:
            return None
        pieces = phase.split_runs(mag, p, length, n_iter, momentum, init, seed)
        if pieces is None:
            return None
        p, alpha, ((part_a, mag_a, c_a), (part_b, mag_b, c_b)) = pieces
        b0, b1 = part_b.f0, part_b.f1
        bins = mag.shape[0]
        shared = part_a.shared
        at = _layout(shared, bins, b1 - b0, (b1 - b0 + part_b.r - 1) * p.hop_length)
        if at["end"] > self.ch.capacity:
            return None
        ch = self.ch
        ch.write(at["mag"], np.ascontiguousarray(mag_b.T))
        ch.write(at["c"], np.ascontiguousarray(c_b.T))
        ch.put_float(_F_ALPHA, float(alpha))
        for word, value in (("n_fft", p.n_fft), ("hop", p.hop_length), ("window", spectral.WINDOWS.index(p.window)),
                            ("center", int(p.center)), ("n_frames", mag.shape[1]), ("length", part_b.length), ("f0", b0),
                            ("f1", b1), ("n_iter", n_iter), ("shared", shared), ("bins", bins)):
            ch.put(word, value)
        # both sides count this job's exchanges from here (whatever an earlier failure left)
        count = [max(ch.get("ex_main"), ch.get("ex_help"))]
        ch.put("ex0", count[0])
        self.job += 1
        ch.bump("job", self.job)
        job = self.job
        mine = _exchange(part_a.steps(mag_a, c_a, n_iter, alpha), ch, "ex_main", "ex_help", at["mine"], at["theirs"],
                         count, failed=lambda: ch.get("done") == -job)
        if mine is None or not ch.wait_for("done", self.job):
            self.alive = False  # (a late helper could still write: it is not asked again)
            return None
        frames_b = b1 - b0
        y_b = np.empty((frames_b + part_b.r - 1) * p.hop_length, dtype=np.float32)
        rebuilt_b = np.empty((frames_b, bins), dtype=np.complex64)
        ch.read(at["y"], y_b)
        ch.read(at["rebuilt"], rebuilt_b)
        y, spec = phase.split_join([(part_a, mine), (part_b, (y_b, rebuilt_b))])
        if keep_phase is not None:
            keep_phase.append(spec)
        return y


def serve(ch: Channel, ready=None) -> None:
    """The helper's side, for ever: waits for a job, runs its part, writes its blocks.
    ``ready()`` is called once it has read where the counters stand (then the Python worker
    may start splitting)."""
    job = ch.get("job")
    if ready is not None:
        ready()
    while True:
        if not ch.wait_for("job", job + 1, 60_000):
            continue
        job = ch.get("job")
        try:
            _serve_one(ch, job)
        except Exception as exc:  # noqa: BLE001 - the Python worker then runs alone; this one waits for the next
            import sys

            print(f"intellimixer phase helper: job {job} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            ch.fail(job)


def _serve_one(ch: Channel, job: int) -> None:
    """The helper's part of ``job`` (its parameters and frames are in the buffer)."""
    get = ch.get
    p = spectral.StftParams(n_fft=get("n_fft"), hop_length=get("hop"), window=spectral.WINDOWS[get("window")],
                            center=bool(get("center")), n_bins=get("bins") - 1, n_frames=get("n_frames"))
    f0, f1, bins, shared = get("f0"), get("f1"), get("bins"), get("shared")
    alpha = ch.get_float(_F_ALPHA)
    part = phase.Part(p, p.n_frames, get("length"), alpha, f0, f1)
    at = _layout(shared, bins, f1 - f0, (f1 - f0 + part.r - 1) * p.hop_length)
    mag_t = np.empty((f1 - f0, bins), dtype=np.float32)
    c_t = np.empty((f1 - f0, bins), dtype=np.complex64)
    ch.read(at["mag"], mag_t)
    ch.read(at["c"], c_t)
    count = [get("ex0")]
    out = _exchange(part.steps(mag_t.T, c_t.T, get("n_iter"), alpha), ch, "ex_help", "ex_main", at["theirs"],
                    at["mine"], count)
    if out is None:
        ch.fail(job)
        return
    y, rebuilt = out
    ch.write(at["y"], y)
    ch.write(at["rebuilt"], rebuilt)
    ch.bump("done", job)
