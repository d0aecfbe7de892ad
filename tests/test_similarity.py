"""The map of overall similarity: besides single dims, the X/Y axes can be the sources'
principal components over all latent dims (intellimixer.latent.principal_axes). Neighbours on
that plane are alike over every dim; a click maps back to a full latent whose plane coordinates
are the click's (the rest from the local mix), and a click on a source is that source."""
from __future__ import annotations

import numpy as np
import pytest

from engine_util import run
from intellimixer import latent
from intellimixer.strings import msg
from test_session import bundles, load, session  # noqa: F401 - fixtures


def test_principal_axes_are_orthonormal_ordered_and_signed():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(40, 6)) * np.array([5.0, 0.2, 3.0, 0.1, 0.1, 0.1])
    mean, comps = latent.principal_axes(z, 6)
    assert np.allclose(comps @ comps.T, np.eye(2), atol=1e-9)
    var = np.var((z - mean) @ comps.T, axis=0)
    assert var[0] > var[1] > np.var((z - mean)[:, 3])  # most variation first
    assert abs(comps[0, 0]) > 0.99 and abs(comps[1, 2]) > 0.99
    assert all(c[np.argmax(np.abs(c))] > 0 for c in comps)
    # too few sources for two directions: still two orthonormal axes
    _, few = latent.principal_axes(z[:2], 6)
    assert np.allclose(few @ few.T, np.eye(2), atol=1e-9)


def test_similarity_plane_round_trip(session):  # noqa: F811
    load(session, 12)
    d = session.manifest.latent_dim
    info = session.model_info()
    assert [s["index"] for s in info["similarity"]] == [d, d + 1]
    m = session.set_dims(d, d + 1)["map"]
    assert m["labels"] == [msg("similarity_label", k=1), msg("similarity_label", k=2)]
    mus = np.stack([s.mu for s in session.sources]).astype(np.float64)
    mean, comps = latent.principal_axes(mus, d)
    want = (mus - mean) @ comps.T
    got = np.array([[p["x"], p["y"]] for p in m["points"]])
    assert np.allclose(got, want, atol=1e-5)  # the plane's coordinates are reproduced
    # the plane shows more of the sources' spread than any two single dims do
    best_two = max(np.var(mus[:, i]) + np.var(mus[:, j]) for i in range(d) for j in range(d) if i != j)
    assert np.var(want[:, 0]) + np.var(want[:, 1]) >= best_two - 1e-9
    # a click on a source is that source
    p = m["points"][3]
    pending = session.begin_generate(p["nx"], p["ny"])
    assert np.allclose(pending.z, session.sources[3].mu, atol=1e-6)
    assert pending.weights[3] == 1.0
    # a click elsewhere: its latent sits exactly at the click on the plane, the rest is the mix
    pending = session.begin_generate(0.37, 0.61)
    x, y = session.to_latent(0.37, 0.61)
    assert session.xy(pending.z) == pytest.approx((x, y), abs=1e-4)
    assert (pending.weights > 0).sum() <= latent.NEIGHBOURS
    wav, info = run(session.generate(0.37, 0.61))
    assert info["map_update"]["point"]["nx"] == pytest.approx(0.37, abs=1e-4)
    assert info["map_update"]["entry"]["filename"].startswith("footstep_similarity1_")


def test_a_similarity_axis_beside_a_dim(session):  # noqa: F811
    load(session, 9)
    d = session.manifest.latent_dim
    session.set_dims(2, d)
    pending = session.begin_generate(0.8, 0.2)
    x, y = session.to_latent(0.8, 0.2)
    assert float(pending.z[2]) == pytest.approx(x, abs=1e-5) and session.xy(pending.z)[1] == pytest.approx(y, abs=1e-4)


def test_similarity_dims_in_links_are_accepted(session):  # noqa: F811
    from intellimixer import share

    load(session, 4)
    d = session.manifest.latent_dim
    session.set_dims(d, d + 1)
    h = share.parse_hash(session.map_state()["hash"], d + latent.SIMILARITY)
    assert h["dims"] == [d, d + 1] and not h["errors"]
