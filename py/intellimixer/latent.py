"""Latent stage: the 2-D map over two chosen latent dims, and what a click on it means.

A click at ``(x, y)`` on the map of dims ``(i, j)`` yields a latent vector ``z`` whose
plotted dims are exactly ``(x, y)`` and whose other dims are the inverse-distance
weighted mean of the sources' (distance measured in the plotted plane, weight
``1 / d**power``).  A click on a source returns that source.
"""
from __future__ import annotations

import numpy as np

DEFAULT_RANGE = (-3.0, 3.0)  # +-3 standard deviations of the VAE prior, for an empty map


def _check(latents: np.ndarray, dims: tuple[int, int]) -> np.ndarray:
    z = np.asarray(latents, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"latents must be [K >= 1, D], got shape {z.shape}")
    i, j = dims
    d = z.shape[1]
    if not (0 <= i < d and 0 <= j < d):
        raise ValueError(f"dims {dims} out of range for latent size {d}")
    return z


def idw_weights(points: np.ndarray, x: float, y: float, power: float = 2.0, eps: float = 1e-9) -> np.ndarray:
    """Inverse-distance weights of ``points [K, 2]`` for the query ``(x, y)``.

    Returns float64 ``[K]`` summing to 1.  If the query is within ``eps`` of one or more
    points, those points share the weight equally and all others get 0.
    """
    if power <= 0:
        raise ValueError("power must be > 0")
    d = np.hypot(points[:, 0] - x, points[:, 1] - y)
    hit = d <= eps
    if hit.any():
        w = hit.astype(np.float64)
    else:
        # scale by the nearest distance first so large powers neither overflow nor underflow
        w = (d.min() / d) ** power
    return w / w.sum()


def idw_point(
    latents: np.ndarray, dims: tuple[int, int], x: float, y: float, power: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    """Latent vector for a click on the map.

    Args:
        latents: source latents ``[K, D]``.
        dims: the plotted dims ``(i, j)`` (0-based; x axis, y axis).
        x, y: click position in latent units.
        power: inverse-distance power ``p`` (weights ``1 / d**p``).

    Returns:
        ``(z, weights)``: float32 ``[D]`` with ``z[i] == x`` and ``z[j] == y`` (unless the
        click is on a source, when ``z`` is that source), and float64 ``[K]`` weights that sum to 1.
    """
    z = _check(latents, dims)
    i, j = dims
    plane = z[:, [i, j]]
    w = idw_weights(plane, float(x), float(y), power)
    out = w @ z
    on_source = np.hypot(plane[:, 0] - x, plane[:, 1] - y).min() <= 1e-9
    if not on_source:  # on a source, z is that source (its plotted dims are (x, y) anyway)
        out[i], out[j] = x, y
    return out.astype(np.float32), w


def axis_ranges(
    latents: np.ndarray | None, dims: tuple[int, int], margin: float = 0.1
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis limits that show every source with a margin.

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
