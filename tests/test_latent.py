"""The map's click rule: properties that must hold for any sources and any click."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from intellimixer.latent import axis_ranges, idw_point, idw_weights

finite = st.floats(-5, 5, allow_nan=False, allow_infinity=False)
latents_st = st.integers(1, 12).flatmap(
    lambda k: st.integers(2, 10).flatmap(lambda d: arrays(np.float64, (k, d), elements=finite, unique=True))
)


@settings(max_examples=200, deadline=None)
@given(latents_st, finite, finite, st.data())
def test_plotted_dims_exact_and_weights_sum_to_one(z, x, y, data):
    d = z.shape[1]
    i = data.draw(st.integers(0, d - 1))
    j = data.draw(st.integers(0, d - 1).filter(lambda v: v != i))
    out, w = idw_point(z, (i, j), x, y)
    assert out.shape == (d,)
    assert w.shape == (len(z),)
    assert np.all(w >= 0) and abs(w.sum() - 1) < 1e-9
    on = np.hypot(z[:, i] - x, z[:, j] - y).min() <= 1e-9
    if not on:
        assert out[i] == np.float32(x) and out[j] == np.float32(y)
    others = [k for k in range(d) if k not in (i, j)]
    assert np.allclose(out[others], (w @ z)[others], atol=1e-5)
    # other dims stay inside the sources' hull
    assert np.all(out[others] >= z[:, others].min(0) - 1e-5) and np.all(out[others] <= z[:, others].max(0) + 1e-5)


@settings(max_examples=100, deadline=None)
@given(latents_st, st.data())
def test_click_on_a_source_returns_that_source(z, data):
    k = data.draw(st.integers(0, len(z) - 1))
    # make the plotted coordinates of the sources distinct
    z = z.copy()
    z[:, 0] = np.arange(len(z)) * 0.37
    z[:, 1] = np.arange(len(z)) * -0.21
    out, w = idw_point(z, (0, 1), z[k, 0], z[k, 1])
    assert np.allclose(out, z[k].astype(np.float32))
    assert w[k] == 1.0


def test_continuous_near_a_source():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((6, 8))
    exact, _ = idw_point(z, (2, 5), z[3, 2], z[3, 5])
    prev = None
    for eps in (1e-1, 1e-2, 1e-3, 1e-4, 1e-6):
        near, _ = idw_point(z, (2, 5), z[3, 2] + eps, z[3, 5] - eps)
        err = np.abs(near - exact).max()
        if prev is not None:
            assert err <= prev + 1e-9
        prev = err
    assert prev < 1e-4


def test_continuous_along_a_path():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((10, 12))
    xs = np.linspace(-3, 3, 2001)
    outs = np.array([idw_point(z, (0, 1), x, 0.3)[0] for x in xs])
    step = np.abs(np.diff(outs, axis=0)).max()
    assert step < 0.05  # no jumps between neighbouring clicks 0.003 apart


def test_power_sharpens_weights():
    pts = np.array([[0.0, 0.0], [1.0, 0.0]])
    w1 = idw_weights(pts, 0.25, 0.0, power=1)
    w4 = idw_weights(pts, 0.25, 0.0, power=4)
    assert w4[0] > w1[0] > 0.5
    assert np.allclose(w1, [0.75, 0.25])
    with pytest.raises(ValueError):
        idw_weights(pts, 0, 0, power=0)


def test_single_source_click_elsewhere_keeps_plotted_dims():
    z = np.array([[1.0, 2.0, 3.0]])
    out, w = idw_point(z, (0, 2), -1.0, 5.0)
    assert out.tolist() == [-1.0, 2.0, 5.0] and w.tolist() == [1.0]


def test_bad_dims_and_empty_sources():
    with pytest.raises(ValueError, match="out of range"):
        idw_point(np.zeros((2, 3)), (0, 3), 0, 0)
    with pytest.raises(ValueError, match="K >= 1"):
        idw_point(np.zeros((0, 3)), (0, 1), 0, 0)


def test_axis_ranges_with_margin():
    z = np.array([[0.0, 10.0, 5.0], [2.0, 20.0, 5.0]])
    (x0, x1), (y0, y1) = axis_ranges(z, (0, 1), margin=0.1)
    assert (x0, x1) == pytest.approx((-0.2, 2.2)) and (y0, y1) == pytest.approx((9.0, 21.0))
    (a0, a1), _ = axis_ranges(z, (2, 0))
    assert (a0, a1) == (4.0, 6.0)  # zero span gets +-1
    assert axis_ranges(None, (0, 1)) == ((-3.0, 3.0), (-3.0, 3.0))
