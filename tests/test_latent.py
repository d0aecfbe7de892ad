"""The map's click rule (modified Shepard with a compact radius): properties that must hold
for any sources and any click."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from intellimixer.latent import MARGIN, NEIGHBOURS, axis_ranges, local_weights, mix_point

finite = st.floats(-5, 5, allow_nan=False, allow_infinity=False)
latents_st = st.integers(1, 30).flatmap(
    lambda k: st.integers(2, 10).flatmap(lambda d: arrays(np.float64, (k, d), elements=finite, unique=True))
)


@settings(max_examples=300, deadline=None)
@given(latents_st, finite, finite, st.data())
def test_plotted_dims_exact_weights_sum_to_one_and_few_contribute(z, x, y, data):
    d = z.shape[1]
    i = data.draw(st.integers(0, d - 1))
    j = data.draw(st.integers(0, d - 1).filter(lambda v: v != i))
    out, w = mix_point(z, (i, j), x, y)
    assert out.shape == (d,) and w.shape == (len(z),)
    assert np.all(w >= 0) and abs(w.sum() - 1) < 1e-9
    assert np.count_nonzero(w) <= NEIGHBOURS
    (x0, x1), (y0, y1) = axis_ranges(z, (i, j))
    plane = np.c_[(z[:, i] - x0) / (x1 - x0), (z[:, j] - y0) / (y1 - y0)]
    on = np.hypot(plane[:, 0] - (x - x0) / (x1 - x0), plane[:, 1] - (y - y0) / (y1 - y0)).min() <= 1e-9
    if not on:
        assert out[i] == np.float32(x) and out[j] == np.float32(y)
    others = [k for k in range(d) if k not in (i, j)]
    assert np.allclose(out[others], (w @ z)[others], atol=1e-5)
    # other dims stay inside the hull of the contributing sources
    used = z[w > 0][:, others]
    assert np.all(out[others] >= used.min(0) - 1e-5) and np.all(out[others] <= used.max(0) + 1e-5)


@settings(max_examples=100, deadline=None)
@given(latents_st, st.data())
def test_click_on_a_source_returns_that_source(z, data):
    k = data.draw(st.integers(0, len(z) - 1))
    z = z.copy()  # distinct plotted coordinates
    z[:, 0] = np.arange(len(z)) * 0.37
    z[:, 1] = (np.arange(len(z)) * 7 % 11) * -0.21
    out, w = mix_point(z, (0, 1), z[k, 0], z[k, 1])
    assert np.allclose(out, z[k].astype(np.float32))
    assert w[k] == 1.0 and np.count_nonzero(w) == 1


def _layouts(n_layouts, k, seed):
    rng = np.random.default_rng(seed)
    for t in range(n_layouts):  # uniform and clustered maps of k sources in 12 dims
        z = rng.standard_normal((k, 12))
        if t % 2:
            z[:, :2] = rng.normal(0, 0.3, (k, 2)) + rng.choice([-1.0, 1.0], (k, 1))
        yield z


def test_nearby_source_dominates():
    """A click 3 % of the map's span from a source gives it >= 60 % of the mix wherever the
    click is clearly that source's (the next source at least 1.5 times as far from the
    click: the bound the exponent was chosen for, see local_weights)."""
    shares, isolated = [], []
    for z in _layouts(60, 30, 0):
        (x0, x1), (y0, y1) = axis_ranges(z, (0, 1))
        span = np.array([x1 - x0, y1 - y0])
        plane = z[:, :2] / span
        for k in range(len(z)):
            alone = np.sort(np.hypot(*(plane - plane[k]).T))[1] >= 0.09
            for a in np.linspace(0, 2 * np.pi, 12, endpoint=False):
                x, y = z[k, :2] + 0.03 * span * [np.cos(a), np.sin(a)]
                d = np.hypot(*(plane - [x, y] / span).T)
                first, second = np.argsort(d)[:2]
                if first != k or d[second] < 1.5 * d[first]:
                    continue
                shares.append(mix_point(z, (0, 1), x, y)[1][k])
                if alone:
                    isolated.append(shares[-1])
    assert len(shares) > 5000 and len(isolated) > 1000
    assert min(shares) >= 0.6, min(shares)
    assert min(isolated) >= 0.8 and np.median(isolated) > 0.95


def test_the_nearest_source_weighs_most_everywhere():
    """Every part of the plane sounds like its nearest sources: the heaviest weight is the
    nearest source's (the weights fall with distance), so no region far from the sources
    gives one shared mix."""
    for z in _layouts(10, 30, 1):
        (x0, x1), (y0, y1) = axis_ranges(z, (0, 1))
        for x in np.linspace(x0, x1, 25):
            for y in np.linspace(y0, y1, 25):
                w = mix_point(z, (0, 1), x, y)[1]
                d = np.hypot((z[:, 0] - x) / (x1 - x0), (z[:, 1] - y) / (y1 - y0))
                assert np.argmax(w) == np.argmin(d)
                order = np.argsort(d)
                assert np.all(np.diff(w[order]) <= 1e-12)  # farther never weighs more


@pytest.mark.parametrize("k", [3, 8, 9, 30])
def test_continuous_everywhere(k):
    """No jump anywhere on a line across the map, also where a source enters or leaves the
    neighbourhood: halving the step halves the largest change (Lipschitz), and a source
    whose weight turns on or off does so from 0."""
    for z in _layouts(4, k, 2):
        (x0, x1), (y0, y1) = axis_ranges(z, (0, 1))
        y = y0 + 0.37 * (y1 - y0)
        steps = []
        for n in (4001, 8001):
            xs = np.linspace(x0, x1, n)
            W = np.array([mix_point(z, (0, 1), x, y)[1] for x in xs])
            steps.append(np.abs(np.diff(W, axis=0)).max())
            support = W > 0
            change = support[1:] != support[:-1]
            if change.any():  # the weight of a source entering or leaving is ~0 on both sides
                both = np.maximum(W[1:], W[:-1])[change]
                assert both.max() < 1e-4
        assert steps[1] < 0.75 * steps[0] or steps[1] < 1e-6
        assert steps[1] < 0.01


def test_continuous_near_a_source():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((12, 8))
    exact, _ = mix_point(z, (2, 5), z[3, 2], z[3, 5])
    prev = None
    for eps in (1e-1, 1e-2, 1e-3, 1e-4, 1e-6):
        near, _ = mix_point(z, (2, 5), z[3, 2] + eps, z[3, 5] - eps)
        err = np.abs(near - exact).max()
        if prev is not None:
            assert err <= prev + 1e-9
        prev = err
    assert prev < 1e-4


def test_distances_are_measured_on_the_map_as_drawn():
    """Stretching one latent axis stretches the map with it: the mix of a click at the same
    place on the drawn map does not change."""
    rng = np.random.default_rng(3)
    z = rng.standard_normal((20, 6))
    stretched = z.copy()
    stretched[:, 1] *= 25.0
    for nx, ny in rng.random((50, 2)):
        (x0, x1), (y0, y1) = axis_ranges(z, (0, 1))
        (s0, s1), (t0, t1) = axis_ranges(stretched, (0, 1))
        w = mix_point(z, (0, 1), x0 + nx * (x1 - x0), y0 + ny * (y1 - y0))[1]
        ws = mix_point(stretched, (0, 1), s0 + nx * (s1 - s0), t0 + ny * (t1 - t0))[1]
        assert np.allclose(w, ws)


def test_few_sources_all_contribute():
    pts = np.array([[0.1, 0.1], [0.9, 0.2], [0.5, 0.8]])
    w = local_weights(pts, 0.5, 0.4)
    assert np.all(w > 0) and abs(w.sum() - 1) < 1e-12
    with pytest.raises(ValueError):
        local_weights(pts, 0, 0, neighbours=0)


def test_ties_on_the_radius_share_the_weight():
    # four sources at exactly one distance around the click, three neighbours: the fourth
    # nearest is as near as the first, so no weight is left; the tied sources share it
    pts = np.array([[0.25, 0.0], [-0.25, 0.0], [0.0, 0.25], [0.0, -0.25]])
    w = local_weights(pts, 0.0, 0.0, neighbours=3)
    assert np.allclose(w, 0.25) and abs(w.sum() - 1) < 1e-12


def test_single_source_click_elsewhere_keeps_plotted_dims():
    z = np.array([[1.0, 2.0, 3.0]])
    out, w = mix_point(z, (0, 2), -1.0, 5.0)
    assert out.tolist() == [-1.0, 2.0, 5.0] and w.tolist() == [1.0]


def test_bad_dims_and_empty_sources():
    with pytest.raises(ValueError, match="out of range"):
        mix_point(np.zeros((2, 3)), (0, 3), 0, 0)
    with pytest.raises(ValueError, match="K >= 1"):
        mix_point(np.zeros((0, 3)), (0, 1), 0, 0)


def test_axis_ranges_with_margin():
    z = np.array([[0.0, 10.0, 5.0], [2.0, 20.0, 5.0]])
    (x0, x1), (y0, y1) = axis_ranges(z, (0, 1), margin=0.1)
    assert (x0, x1) == pytest.approx((-0.2, 2.2)) and (y0, y1) == pytest.approx((9.0, 21.0))
    (x0, x1), _ = axis_ranges(z, (0, 1))
    assert (x0, x1) == pytest.approx((-2 * MARGIN, 2 + 2 * MARGIN))
    (a0, a1), _ = axis_ranges(z, (2, 0))
    assert (a0, a1) == (4.0, 6.0)  # zero span gets +-1
    assert axis_ranges(None, (0, 1)) == ((-3.0, 3.0), (-3.0, 3.0))
