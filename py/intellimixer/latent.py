"""Latent stage: the 2-D map over two chosen latent dims, and what a click on it means.

A click at ``(x, y)`` on the map of dims ``(i, j)`` yields a latent vector ``z`` whose
plotted dims are exactly ``(x, y)`` and whose other dims are a *local* weighted mean of the
sources' (:func:`local_weights`: modified Shepard interpolation with a compact radius, at most
:data:`NEIGHBOURS` sources). Distances are measured on the map as drawn: each plotted dim is
divided by its axis span, so what looks near is near. A click on a source returns that source.
"""
from __future__ import annotations

import numpy as np

DEFAULT_RANGE = (-3.0, 3.0)  # +-3 standard deviations of the VAE prior, for an empty map
NEIGHBOURS = 8  # at most this many sources contribute to one click
POWER = 3.0  # exponent of the modified Shepard weights (local_weights)
MARGIN = 0.06  # the map shows the sources' bounding box and this fraction of its span on each side
_HIT = 1e-9  # a click this close to a source (in map units) is on it


def _check(latents: np.ndarray, dims: tuple[int, int]) -> np.ndarray:
    z = np.asarray(latents, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"latents must be [K >= 1, D], got shape {z.shape}")
    i, j = dims
    d = z.shape[1]
    if not (0 <= i < d and 0 <= j < d):
        raise ValueError(f"dims {dims} out of range for latent size {d}")
    return z


def local_weights(points: np.ndarray, x: float, y: float, neighbours: int = NEIGHBOURS,
                  power: float = POWER) -> np.ndarray:
    """Weights of ``points [K, 2]`` for the query ``(x, y)``: modified Shepard interpolation
    with a compact radius.

    The weight of a point at distance ``d`` is ``((R - d)_+ / (R d)) ** power``, normalised to
    sum 1: Shepard's inverse-distance weights (D. Shepard, "A two-dimensional interpolation
    function for irregularly-spaced data", ACM 1968, with his exponent ``power``) made local
    by Franke & Nielson's compact radius ``R`` (R. Franke and G. Nielson, "Smooth
    interpolation of large sets of scattered data", Int. J. Numer. Methods Eng. 15, 1980;
    also Renka's QSHEP2D, ACM TOMS 14, 1988, who use the exponent 2). ``R`` follows the
    query, as in Renka's choice of a radius that holds a fixed number of nodes: it is the
    distance to the ``neighbours + 1``-th nearest point, so the ``neighbours`` nearest points
    share the mix and every other point gets exactly 0. With ``K <= neighbours`` points, ``R``
    is the farthest distance plus the unit map's diagonal (every point contributes).

    The exponent 3 (measured on 60 maps of 30 sources, clicks 3 % of the span from a source
    that is the click's nearest and at least 1.5 times nearer than the next): the source's
    share is >= 0.65 in every case, against 0.48 with the exponent 2; higher exponents flatten
    the mix into plateaus around each source.

    Properties (tested): at most ``neighbours`` non-zero weights; weights sum to 1; a query on
    a point gives it weight 1; weights fall with distance; continuous in ``(x, y)``
    everywhere: ``R`` (an order statistic of continuous distances) is continuous, and a point
    enters or leaves the neighbourhood at ``d = R``, where its weight is 0 and its slope too;
    near a point its weight tends to 1 (``~ 1 / d ** power``). The one exception is a query
    with ``neighbours + 1`` points exactly equidistant and none nearer (it needs that many
    co-circular points; for real sources it does not happen): every weight is 0 there, the
    limit depends on the direction of approach, and the tied points share the weight equally.

    Returns:
        float64 ``[K]``.
    """
    pts = np.asarray(points, dtype=np.float64)
    k = len(pts)
    if neighbours < 1:
        raise ValueError("neighbours must be >= 1")
    if power <= 0:
        raise ValueError("power must be > 0")
    d = np.hypot(pts[:, 0] - x, pts[:, 1] - y)
    hit = d <= _HIT
    if hit.any():
        w = hit.astype(np.float64)
        return w / w.sum()
    if k > neighbours:
        radius = float(np.partition(d, neighbours)[neighbours])
    else:
        radius = float(d.max()) + np.sqrt(2.0)
    # scaled by the nearest distance (each factor is at most 1), so nothing overflows
    w = np.where(d < radius, ((d.min() / d) * ((radius - d) / radius)) ** power, 0.0)
    total = w.sum()
    if total <= 0.0:  # every neighbour sits exactly on the radius
        w = (d <= radius).astype(np.float64)
        total = w.sum()
    return w / total


def mix_point(
    latents: np.ndarray,
    dims: tuple[int, int],
    x: float,
    y: float,
    ranges: tuple[tuple[float, float], tuple[float, float]] | None = None,
    neighbours: int = NEIGHBOURS,
) -> tuple[np.ndarray, np.ndarray]:
    """Latent vector for a click on the map (the app's and the CLI's one rule).

    Args:
        latents: source latents ``[K, D]``.
        dims: the plotted dims ``(i, j)`` (0-based; x axis, y axis).
        x, y: click position in latent units.
        ranges: the map's axis limits ``((x0, x1), (y0, y1))`` (default :func:`axis_ranges`);
            distances are measured in units of these spans.
        neighbours: at most this many sources contribute (:func:`local_weights`).

    Returns:
        ``(z, weights)``: float32 ``[D]`` with ``z[i] == x`` and ``z[j] == y`` (unless the
        click is on a source, when ``z`` is that source), and float64 ``[K]`` weights that
        sum to 1 with at most ``neighbours`` of them non-zero.
    """
    z = _check(latents, dims)
    i, j = dims
    (x0, x1), (y0, y1) = ranges or axis_ranges(z, dims)
    sx, sy = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    plane = np.stack([(z[:, i] - x0) / sx, (z[:, j] - y0) / sy], axis=1)
    qx, qy = (float(x) - x0) / sx, (float(y) - y0) / sy
    w = local_weights(plane, qx, qy, neighbours)
    if w.max() == 1.0 and np.hypot(plane[:, 0] - qx, plane[:, 1] - qy).min() <= _HIT:
        return z[int(np.argmax(w))].astype(np.float32), w  # on a source: that source
    used = np.flatnonzero(w)
    out = w[used] @ z[used]
    out[i], out[j] = x, y
    return out.astype(np.float32), w


def axis_ranges(
    latents: np.ndarray | None, dims: tuple[int, int], margin: float = MARGIN
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis limits that show every source with a margin (the clickable plane is where the
    sources are).

    Args:
        latents: ``[K, D]`` or None / empty (then the prior's +-3 range).
        dims: plotted dims ``(i, j)``.
        margin: fraction of the span added on each side (a zero span gets +-1).

    Returns:
        ``((xmin, xmax), (ymin, ymax))``.
    """
    if latents is None or len(latents) == 0:
        return DEFAULT_RANGE, DEFAULT_RANGE
    z = _check(latents, dims)
    out = []
    for d in dims:
        lo, hi = float(z[:, d].min()), float(z[:, d].max())
        span = hi - lo
        pad = margin * span if span > 0 else 1.0
        out.append((lo - pad, hi + pad))
    return out[0], out[1]


# --- a map of overall similarity ----------------------------------------------------------------
# Besides single latent dims, the map can plot the sources' principal components over all dims
# ("similarity 1/2"): the plane that shows the most of their variation, so that neighbours on it
# are alike over every dim, not only two. An axis is then a unit direction ``a`` over the
# latent dims with an offset ``o``: a vector's coordinate on it is ``z . a - o``.

SIMILARITY = 2  # similarity axes offered besides the D latent dims (indices D, D + 1)


def principal_axes(latents: np.ndarray | None, d: int) -> tuple[np.ndarray, np.ndarray]:
    """The sources' mean ``[D]`` and first :data:`SIMILARITY` principal directions
    ``[SIMILARITY, D]`` (orthonormal, by falling variance; each signed so that its largest
    loading is positive). With fewer than 3 sources the missing directions are the first
    latent dims made orthogonal to those found."""
    if latents is None or len(latents) == 0:
        return np.zeros(d), np.eye(d)[:SIMILARITY].astype(np.float64)
    z = np.asarray(latents, dtype=np.float64)
    mean = z.mean(axis=0)
    _, s, vt = np.linalg.svd(z - mean, full_matrices=False)
    found = vt[s > 1e-9 * max(1.0, float(s.max(initial=0.0)))][:SIMILARITY]
    q, _ = np.linalg.qr(np.vstack([found, np.eye(d)]).T)  # Gram-Schmidt in that order
    comps = q.T[:SIMILARITY].copy()
    for k in range(SIMILARITY):
        if comps[k, int(np.argmax(np.abs(comps[k])))] < 0:
            comps[k] = -comps[k]
    return mean, comps


def projection(dims: tuple[int, int], d: int, mean: np.ndarray, comps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The plotted axes as ``(A [D, 2], offsets [2])``: dim ``i < D`` is the unit vector
    ``e_i`` (offset 0), similarity ``k`` (index ``D + k``) is ``comps[k]`` centred on the mean."""
    a = np.zeros((d, 2))
    off = np.zeros(2)
    for col, axis in enumerate(dims):
        if axis < d:
            a[axis, col] = 1.0
        else:
            a[:, col] = comps[axis - d]
            off[col] = float(mean @ comps[axis - d])
    return a, off


def coord_ranges(points: np.ndarray | None, margin: float = MARGIN) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis limits of plotted coordinates ``[K, 2]`` with a margin (as :func:`axis_ranges`)."""
    if points is None or len(points) == 0:
        return DEFAULT_RANGE, DEFAULT_RANGE
    return axis_ranges(np.asarray(points, dtype=np.float64), (0, 1), margin)


def mix_projected(latents: np.ndarray, a: np.ndarray, off: np.ndarray, x: float, y: float,
                  ranges: tuple[tuple[float, float], tuple[float, float]], neighbours: int = NEIGHBOURS
                  ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`mix_point` on any plotted axes (:func:`projection`): the local mix of the sources
    nearest the click on the plane as drawn, then the smallest change that puts the result's
    coordinates exactly at ``(x, y)`` (the plane's point through the projection; the rest of
    the vector, the other components, from the mix). A click on a source is that source."""
    z = np.asarray(latents, dtype=np.float64)
    (x0, x1), (y0, y1) = ranges
    sx, sy = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    coords = z @ a - off
    plane = np.stack([(coords[:, 0] - x0) / sx, (coords[:, 1] - y0) / sy], axis=1)
    qx, qy = (float(x) - x0) / sx, (float(y) - y0) / sy
    w = local_weights(plane, qx, qy, neighbours)
    if w.max() == 1.0 and np.hypot(plane[:, 0] - qx, plane[:, 1] - qy).min() <= _HIT:
        return z[int(np.argmax(w))].astype(np.float32), w
    used = np.flatnonzero(w)
    out = w[used] @ z[used]
    miss = np.array([float(x), float(y)]) - (out @ a - off)
    out = out + a @ (np.linalg.pinv(a.T @ a) @ miss)
    return out.astype(np.float32), w
