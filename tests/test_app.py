"""CPython tests of the app glue (py/intellimixer/app.py) with real ONNX bundles run by
onnxruntime: the same Session the browser worker uses, minus the browser."""
from __future__ import annotations

import asyncio
import concurrent.futures
import io
import json
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from intellimixer import app, audio, model  # noqa: E402
from tiny_bundle import make_bundle  # noqa: E402

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


class NativeBackend:
    """app.Backend over intellimixer.model.NativeModel (what OrtBackend is in the browser)."""

    def __init__(self, bundle):
        self.native = model.NativeModel(bundle)
        self.manifest = self.native.manifest
        self.calls = 0

    async def encode(self, S):
        self.calls += 1
        return self.native.encode(S)

    async def decode(self, z):
        self.calls += 1
        return self.native.decode(z)


def run(coro):
    # in a thread of its own: works even if another test left an event loop running here
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        return ex.submit(asyncio.run, coro).result()


def burst(seed: int, sr: int = 16000, seconds: float = 0.6, f0: float = 200.0) -> np.ndarray:
    """A decaying noisy tone: a stand-in for a drum hit, different per seed."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    x = np.sin(2 * np.pi * (f0 + 150 * seed) * t) + 0.5 * rng.standard_normal(t.size)
    return (0.5 * x * np.exp(-t * (4 + seed))).astype(np.float32)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    base = tmp_path_factory.mktemp("bundles")
    return {
        "d12": make_bundle(base / "d12", 12),
        "d5": make_bundle(base / "d5", 5, seed=1),
        "sr8k": make_bundle(base / "sr8k", 6, sample_rate=8000, hop=64, n_frames=128),
    }


@pytest.fixture
def session(bundles):
    s = app.Session()
    b = NativeBackend(bundles["d12"])
    run(s.set_model(b.manifest, b))
    return s


def load(session, n=5, query="footstep", start=0, origin="freesound"):
    async def go():
        batch = session.begin_batch(query, origin=origin)
        for k in range(start, start + n):
            await session.add_source(batch, {"id": k, "name": f"snd{k}", "username": "u", "license_name": "CC0 1.0"},
                                     burst(k), 16000, origin)
        return session.commit_batch(batch)

    return run(go())


def parse_wav(data: bytes):
    with wave.open(io.BytesIO(data)) as w:
        n, sr, ch, width = w.getnframes(), w.getframerate(), w.getnchannels(), w.getsampwidth()
        x = np.frombuffer(w.readframes(n), "<i2").astype(np.float32) / 32768
    return x, sr, ch, width


# --- input checks -----------------------------------------------------------------------


@pytest.mark.parametrize("value,expected", [("20", 20), (1, 1), ("150", 150), (" 7 ", 7), ("3.0", 3)])
def test_check_count_accepts(value, expected):
    assert app.check_count(value) == expected


@pytest.mark.parametrize("value", ["0", "151", "-3", "2.5", "", "abc", None, "nan", "inf"])
def test_check_count_rejects_with_message(value):
    with pytest.raises(app.AppError, match="between|from 1 to 150"):
        app.check_count(value)


def test_check_query():
    assert app.check_query("  foot   step ") == "foot step"
    with pytest.raises(app.AppError, match="keyword"):
        app.check_query("   ")


def test_wav_filename_names_query_and_coordinates():
    assert app.wav_filename("Foot step!", (0, 1), 0.531, -1.2) == "foot-step_dim1_0.53_dim2_-1.20.wav"
    assert app.wav_filename("<img src=x>", (2, 5), 1, 2).startswith("img-src-x_dim3_1.00_dim6_2.00")
    assert app.wav_filename("???", (0, 1), 0, 0).startswith("sound_")


# --- model --------------------------------------------------------------------------------


def test_actions_before_model_give_clear_messages():
    s = app.Session()
    with pytest.raises(app.AppError, match="still loading"):
        s.begin_batch("footstep")
    with pytest.raises(app.AppError, match="still loading"):
        run(s.generate(0.5, 0.5))
    assert s.model_info() is None


def test_model_info_lists_dims_and_defaults(session):
    info = session.model_info()
    assert info["latent_dim"] == 12
    assert [d["index"] for d in info["dims"]] == list(range(12))
    assert info["default_dims"] == [0, 1]
    assert info["duration"] == pytest.approx(16384 / 16000)


# --- sources and map -----------------------------------------------------------------------


def test_query_puts_sources_on_map(session):
    res = load(session, 6)
    assert res["ok"] and res["loaded"] == 6 and res["failed"] == 0
    m = res["map"]
    assert len(m["points"]) == 6
    for p in m["points"]:
        assert 0.0 <= p["nx"] <= 1.0 and 0.0 <= p["ny"] <= 1.0
    # distinct sounds land on distinct points
    assert len({(round(p["x"], 6), round(p["y"], 6)) for p in m["points"]}) == 6
    assert m["labels"] == ["dim 1", "dim 2"]


def test_failed_query_keeps_previous_sources(session):
    load(session, 4)
    before = [p["key"] for p in session.map_state()["points"]]

    async def go():
        batch = session.begin_batch("other")
        session.fail_source(batch, "a", "download failed (HTTP 404)")
        with pytest.raises(audio.SilentAudioError):
            await session.add_source(batch, {"id": 99, "name": "quiet"}, np.zeros(8000, np.float32), 16000)
        session.fail_source(batch, "quiet", "silent")
        return session.commit_batch(batch)

    res = run(go())
    assert not res["ok"] and res["loaded"] == 0 and res["failed"] == 2
    assert res["kept_previous"] and "previous sounds stay" in res["message"]
    assert [p["key"] for p in session.map_state()["points"]] == before
    assert session.query == "footstep"


def test_new_query_replaces_freesound_sources_but_keeps_local(session):
    load(session, 3, origin="local", query="local files")
    load(session, 4, start=10)
    load(session, 2, start=20, query="kick")
    pts = session.map_state()["points"]
    assert sorted(p["origin"] for p in pts) == ["freesound"] * 2 + ["local"] * 3
    assert session.query == "kick"
    # local files join the map beside the query's sounds and keep its query and generated sounds
    run(session.generate(0.5, 0.5))
    res = load(session, 1, start=30, origin="local", query="my drops")
    assert res["ok"] and "local file" in res["message"]
    assert len(session.map_state()["points"]) == 6 and session.query == "kick"
    assert len(session.generated) == 1


def test_partial_failures_are_reported(session):
    async def go():
        batch = session.begin_batch("snare")
        await session.add_source(batch, {"id": 1, "name": "ok"}, burst(1), 16000)
        session.fail_source(batch, "bad <b>", "could not be decoded")
        return session.commit_batch(batch)

    res = run(go())
    assert res["ok"] and res["loaded"] == 1 and res["failed"] == 1
    assert "1 failed" in res["message"] and "could not be decoded" in res["message"]


def test_newer_search_supersedes_older_batch(session):
    async def go():
        old = session.begin_batch("a")
        session.begin_batch("b")
        with pytest.raises(app.AppError, match="replaced"):
            await session.add_source(old, {"id": 1}, burst(1), 16000)

    run(go())


def test_set_dims_changes_coordinates(session):
    load(session, 5)
    a = session.map_state()["points"]
    b = session.set_dims(3, 7)["points"]
    assert session.dims == (3, 7)
    assert [p["x"] for p in a] != [p["x"] for p in b]
    with pytest.raises(app.AppError, match="between 1 and 12"):
        session.set_dims(0, 12)


# --- generation ------------------------------------------------------------------------------


def test_click_before_sources_is_refused(session):
    with pytest.raises(app.AppError, match="Load some sounds first"):
        run(session.generate(0.5, 0.5))


def test_generate_makes_non_silent_wav_of_model_length(session):
    load(session, 5)
    wav, info = run(session.generate(0.3, 0.7))
    x, sr, ch, width = parse_wav(wav)
    assert (sr, ch, width) == (16000, 1, 2)
    assert x.size == 16384
    assert np.sqrt(np.mean(x**2)) > 0.01
    assert info["filename"] == app.wav_filename("footstep", (0, 1), info["x"], info["y"])
    # the click position maps back to the plotted dims of z
    (x0, x1), (y0, y1) = session.ranges()
    assert info["x"] == pytest.approx(x0 + 0.3 * (x1 - x0))
    assert info["y"] == pytest.approx(y0 + 0.7 * (y1 - y0))
    g = info["map"]["generated"]
    assert len(g) == 1 and g[0]["nx"] == pytest.approx(0.3) and g[0]["ny"] == pytest.approx(0.7)
    assert abs(sum(w["weight"] for w in info["weights"]) - 1.0) < 0.05
    # the file carries its title and the credits of the sources that shaped it
    tags = audio.read_info(wav)
    assert tags["INAM"].startswith("footstep, dim 1 = ") and tags["ISFT"] == "Audio Intellimixer"
    assert tags["ICMT"].startswith("Made from: ") and "snd" in tags["ICMT"] and "weight" in tags["ICMT"]


def test_different_clicks_make_different_sounds(session):
    load(session, 5)
    a, _ = run(session.generate(0.1, 0.1))
    b, _ = run(session.generate(0.9, 0.9))
    assert a != b


# --- model swap ----------------------------------------------------------------------------


def test_swap_to_other_latent_size_reencodes_sources(session, bundles):
    load(session, 4)
    b5 = NativeBackend(bundles["d5"])
    res = run(session.set_model(b5.manifest, b5))
    assert res["model"]["latent_dim"] == 5 and res["stale"] == []
    lat = session.latents()
    assert lat.shape == (4, 5)
    assert session.generated == [] and session.dims == (0, 1)
    wav, info = run(session.generate(0.5, 0.5))
    assert len(info["map"]["points"]) == 4


def test_swap_to_other_rate_marks_sources_stale_until_redecoded(session, bundles):
    load(session, 3)
    b = NativeBackend(bundles["sr8k"])
    res = run(session.set_model(b.manifest, b))
    assert len(res["stale"]) == 3
    assert session.map_state()["points"] == []
    key = res["stale"][0]
    run(session.replace_audio(key, burst(0, sr=8000), 8000))
    assert len(session.map_state()["points"]) == 1


def test_describe_error_wording():
    assert app.describe_error(model.ManifestError("latent_dim", "is wrong")).startswith("Model rejected, previous model kept:")
    assert app.describe_error(app.AppError("Type a keyword")) == "Type a keyword"
    assert "RuntimeError" in app.describe_error(RuntimeError("boom"))


# --- browser packaging -----------------------------------------------------------------------

BROWSER_EXCLUDED = {"cli.py", "__main__.py"}  # CLI only: never imported by the worker


def test_pyscript_config_ships_every_engine_module():
    cfg = json.loads((ROOT / "py" / "pyscript.json").read_text())
    listed = {Path(k).name for k in cfg["files"]}
    on_disk = {p.name for p in (ROOT / "py" / "intellimixer").glob("*.py")} - BROWSER_EXCLUDED
    assert on_disk <= listed, f"add {sorted(on_disk - listed)} to py/pyscript.json 'files'"
    for src, dst in cfg["files"].items():
        assert (ROOT / "py" / src).is_file(), src
        assert dst == src
    assert "packages" not in cfg, "a 'packages' key makes PyScript fetch micropip from the Pyodide index"
