"""Griffin-Lim split by frames between two workers (``phase.Part``, ``cores``): the same
signal as the one-worker loop, to float rounding, through the shared-memory exchange too
(run here with two threads and a stand-in for ``SharedArrayBuffer`` and ``Atomics``)."""
import threading

import numpy as np
import pytest

from intellimixer import cores, phase, spectral

P = spectral.StftParams(n_fft=512, hop_length=128, window="hann", center=True, n_bins=256)
N = 36864


def _mag(seed=0, n=N):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 22050
    x = (np.sin(2 * np.pi * 440 * t) * np.exp(-t * 3) + 0.3 * rng.standard_normal(n) * np.exp(-t * 8)).astype(np.float32)
    return np.abs(spectral.stft(x, P)).astype(np.float32)


@pytest.mark.parametrize("n_iter", [1, 3, 28])
def test_two_parts_give_the_one_worker_signal(n_iter):
    mag = _mag()
    keep = []
    ref = phase.griffin_lim(mag, P, N, n_iter=n_iter, keep_phase=keep)
    y, spec = phase.split_in_turn(mag, P, N, n_iter)
    assert np.abs(y - ref).max() <= 1e-5 * np.abs(ref).max()
    assert spec.shape == keep[0].shape
    assert np.abs(spec - keep[0]).max() <= 1e-4 * np.abs(keep[0]).max()


def test_a_wrong_exchange_changes_the_signal():
    """The exchange matters: parts that ignore each other's sums give another signal (so the
    test above would catch a split that lost the shared blocks)."""
    mag = _mag(1)
    ref = phase.griffin_lim(mag, P, N, n_iter=8)
    _, alpha, runs = phase.split_runs(mag, P, N, 8, 0.99)
    gens = [part.steps(m, c, 8, alpha) for part, m, c in runs]
    out = []
    for g in gens:  # each part is sent zeros instead of its neighbour's sums
        try:
            sums = next(g)
            while True:
                sums = g.send(np.zeros_like(sums))
        except StopIteration as done:
            out.append(done.value)
    y, _ = phase.split_join([(part, r) for (part, _, _), r in zip(runs, out)])
    assert np.abs(y - ref).max() > 1e-2 * np.abs(ref).max()


def test_runs_that_cannot_be_split_are_left_to_the_caller():
    mag = _mag()
    assert phase.split_runs(mag[:, :8], P, 1024, 28, 0.99) is None  # too few frames
    assert phase.split_runs(mag, P, N, 0, 0.99) is None
    assert phase.split_runs(mag, P, N, 28, -1.0) is None


# --- the shared-memory exchange, with threads standing in for the two workers -------------


class _Typed:
    def __init__(self, arr):
        self.arr = arr
        self.length = arr.size

    def subarray(self, a, b):
        return _Typed(self.arr[a:b])

    def assign(self, src):
        self.arr[:] = np.asarray(src).reshape(-1)

    def assign_to(self, dst):
        dst.reshape(-1)[:] = self.arr


class _Kind:
    def __init__(self, dtype):
        self.dtype = dtype

    def new(self, sab):
        return _Typed(np.frombuffer(sab, dtype=self.dtype))


class _Atomics:
    def __init__(self):
        self.cond = threading.Condition()

    def load(self, ints, i):
        with self.cond:
            return int(ints.arr[i])

    def store(self, ints, i, v):
        with self.cond:
            ints.arr[i] = v

    def notify(self, ints, i):
        with self.cond:
            self.cond.notify_all()

    def wait(self, ints, i, value, timeout_ms):
        with self.cond:
            if ints.arr[i] == value:
                self.cond.wait(timeout_ms / 1000)


def _channel_pair():
    sab = bytearray(cores.BYTES)
    atomics = _Atomics()
    make = lambda: cores.Channel(sab, atomics, _Kind(np.int32), _Kind(np.float32))  # noqa: E731
    return make(), make()


def test_splitter_and_helper_through_shared_memory():
    main, helper = _channel_pair()
    threading.Thread(target=cores.serve, args=(helper,), daemon=True).start()
    split = cores.Splitter(main)
    for seed, n_iter in ((0, 28), (1, cores.MIN_ITER), (2, 28)):  # several jobs: counters and slots carry on
        mag = _mag(seed)
        keep_ref, keep = [], []
        ref = phase.griffin_lim(mag, P, N, n_iter=n_iter, keep_phase=keep_ref)
        y = split(mag, P, N, n_iter, 0.99, "gradient", 0, keep)
        assert y is not None and split.alive
        assert np.abs(y - ref).max() <= 1e-5 * np.abs(ref).max()
        assert np.abs(keep[0] - keep_ref[0]).max() <= 1e-4 * np.abs(keep_ref[0]).max()


def test_griffin_lim_uses_the_splitter_and_falls_back_without_an_answer(monkeypatch):
    main, _ = _channel_pair()  # no helper serves this buffer
    monkeypatch.setattr(cores, "WAIT_MS", 50)
    split = cores.Splitter(main)
    phase.use_splitter(split)
    try:
        mag = _mag()
        y = phase.griffin_lim(mag, P, N, n_iter=cores.MIN_ITER)
    finally:
        phase.use_splitter(None)
    assert not split.alive  # dropped: the run was done alone
    assert np.array_equal(y, phase.griffin_lim(mag, P, N, n_iter=cores.MIN_ITER))


def test_short_runs_stay_on_one_core():
    main, _ = _channel_pair()
    split = cores.Splitter(main)
    assert split(_mag(), P, N, cores.MIN_ITER - 1, 0.99, "gradient", 0, None) is None
    assert split.alive and main.get("job") == 0  # nothing was asked of the helper


def test_a_failing_helper_is_left_at_once_and_serves_the_next_run(monkeypatch):
    """A job the helper cannot do: the Python worker hears so at once (not after the time
    limit) and runs alone; the helper, still serving, does the next job right (both sides
    count that job's exchanges afresh)."""
    import time

    main, helper = _channel_pair()
    threading.Thread(target=cores.serve, args=(helper,), daemon=True).start()
    monkeypatch.setattr(cores, "WAIT_MS", 20_000)
    real_steps = phase.Part.steps

    def steps_failing_after_one_exchange(self, mag, c, n_iter, alpha):
        gen = real_steps(self, mag, c, n_iter, alpha)
        sums = next(gen)
        theirs = yield sums
        if self.f0 > 0:  # the helper's part
            raise RuntimeError("helper broke")
        sums = gen.send(theirs)
        while True:
            sums = gen.send((yield sums))

    mag = _mag(3)
    ref = phase.griffin_lim(mag, P, N, n_iter=12)
    split = cores.Splitter(main)
    monkeypatch.setattr(phase.Part, "steps", steps_failing_after_one_exchange)
    t = time.perf_counter()
    assert split(mag, P, N, 12, 0.99, "gradient", 0, None) is None
    assert time.perf_counter() - t < 2.0 and not split.alive
    monkeypatch.setattr(phase.Part, "steps", real_steps)
    again = cores.Splitter(main)
    y = again(mag, P, N, 12, 0.99, "gradient", 0, None)
    assert y is not None and np.abs(y - ref).max() <= 1e-5 * np.abs(ref).max()
