"""CPython tests of the app session (py/intellimixer/session.py and the modules it uses) with
real ONNX bundles run by onnxruntime: the same Session the browser worker uses, minus the browser."""
from __future__ import annotations

import io
import json
import math
import wave
from pathlib import Path

import numpy as np
import pytest

from engine_util import burst, run
from intellimixer import audio, model, pipeline, rules, share, views
from intellimixer import session as session_mod
from intellimixer.rules import AppError
from intellimixer.session import Session
from intellimixer.strings import msg
from tiny_bundle import make_bundle

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from intellimixer.backends import NativeBackend  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


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
    s = Session()
    b = NativeBackend.open(bundles["d12"])
    run(s.set_model(b.manifest, b))
    return s


def load(session, n=5, query="footstep", start=0, origin="freesound"):
    async def go():
        batch = session.begin_batch(query, origin=origin)
        for k in range(start, start + n):
            await session.add_source(batch, {"id": k, "name": f"snd{k}", "username": "u", "license_name": "CC0 1.0"},
                                     burst(k), 16000)
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
    assert rules.check_count(value) == expected


@pytest.mark.parametrize("value", ["0", "151", "-3", "2.5", "", "abc", None, "nan", "inf"])
def test_check_count_rejects_with_message(value):
    with pytest.raises(AppError, match="between|from 1 to 150"):
        rules.check_count(value)


def test_check_query():
    assert rules.check_query("  foot   step ") == "foot step"
    with pytest.raises(AppError, match="keyword"):
        rules.check_query("   ")


def test_wav_filename_names_query_and_coordinates():
    assert rules.wav_filename("Foot step!", (0, 1), 0.531, -1.2) == "foot-step_dim1_0.53_dim2_-1.20.wav"
    assert rules.wav_filename("<img src=x>", (2, 5), 1, 2).startswith("img-src-x_dim3_1.00_dim6_2.00")
    assert rules.wav_filename("???", (0, 1), 0, 0).startswith("sound_")


# --- model --------------------------------------------------------------------------------


def test_actions_before_model_give_clear_messages():
    s = Session()
    with pytest.raises(AppError, match="still loading"):
        s.begin_batch("footstep")
    with pytest.raises(AppError, match="still loading"):
        run(s.generate(0.5, 0.5))
    assert s.model_info() is None


def test_model_info_lists_dims_and_defaults(session):
    info = session.model_info()
    assert info["latent_dim"] == 12
    assert [d["index"] for d in info["dims"]] == list(range(12))
    assert info["default_dims"] == [0, 1]
    assert info["duration"] == pytest.approx(16384 / 16000)
    assert info["dims"][0]["option"] == "dim 1 (KL 12.0)"  # unlabelled dims say how active they are


def test_labelled_dims_name_what_they_move(bundles, tmp_path):
    import shutil

    folder = tmp_path / "labelled"
    shutil.copytree(bundles["d5"], folder)
    doc = json.loads((folder / "manifest.json").read_text())
    doc["dims"][0].update(label="dim 1 · brighter →", descriptor="brightness", correlation=0.71)
    (folder / "manifest.json").write_text(json.dumps(doc))
    s = Session()
    b = NativeBackend.open(folder)
    run(s.set_model(b.manifest, b))
    assert b.manifest.dims[0].descriptor == "brightness" and b.manifest.dims[0].correlation == 0.71
    dims = s.model_info()["dims"]
    assert dims[0]["option"] == "dim 1 · brighter →" and dims[1]["option"].startswith("dim 2 (KL ")
    load(s, 3)
    assert s.map_state()["labels"][0] == "dim 1 · brighter →"  # the axis says what the dim moves ...
    _, info = run(s.generate(0.5, 0.5))
    assert info["map_update"]["entry"]["text"].startswith("#1 dim 1 = ")  # ... coordinates name it short
    assert s.describe_point(0.5, 0.5).startswith("Cursor at dim 1 = ")


# --- sources and map -----------------------------------------------------------------------


def test_query_puts_sources_on_map(session):
    res = load(session, 6)
    assert res["level"] == "ready" and res["loaded"] == 6 and res["failed"] == 0
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
    assert res["level"] == "error" and res["loaded"] == 0 and res["failed"] == 2
    assert "previous sounds stay" in res["message"]
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
    assert res["level"] == "ready" and "local file" in res["message"]
    assert len(session.map_state()["points"]) == 6 and session.query == "kick"
    assert len(session.generated) == 1


def test_partial_failures_are_reported(session):
    async def go():
        batch = session.begin_batch("snare")
        await session.add_source(batch, {"id": 1, "name": "ok"}, burst(1), 16000)
        session.fail_source(batch, "bad <b>", "could not be decoded")
        return session.commit_batch(batch)

    res = run(go())
    assert res["level"] == "warn" and res["loaded"] == 1 and res["failed"] == 1
    assert "1 failed" in res["message"] and "could not be decoded" in res["message"]


def test_newer_search_supersedes_older_batch(session):
    async def go():
        old = session.begin_batch("a")
        session.begin_batch("b")
        with pytest.raises(AppError, match="replaced"):
            await session.add_source(old, {"id": 1}, burst(1), 16000)

    run(go())


def test_set_dims_changes_coordinates(session):
    load(session, 5)
    a = session.map_state()["points"]
    b = session.set_dims(3, 7)["map"]["points"]
    assert session.dims == (3, 7)
    assert [p["x"] for p in a] != [p["x"] for p in b]
    with pytest.raises(AppError, match="between 1 and 12"):
        session.set_dims(0, 14)  # (12 and 13 are the similarity axes: tests/test_similarity.py)


# --- generation ------------------------------------------------------------------------------


def test_click_before_sources_is_refused(session):
    with pytest.raises(AppError, match="Load some sounds first"):
        run(session.generate(0.5, 0.5))


def test_generate_makes_non_silent_wav_of_model_length(session):
    load(session, 5)
    wav, info = run(session.generate(0.3, 0.7))
    x, sr, ch, width = parse_wav(wav)
    assert (sr, ch, width) == (16000, 1, 2)
    assert x.size == 16384
    assert np.sqrt(np.mean(x**2)) > 0.01
    e = info["map_update"]["entry"]
    assert e["filename"] == rules.wav_filename("footstep", (0, 1), e["x"], e["y"])
    # the click position maps back to the plotted dims of z
    (x0, x1), (y0, y1) = session.ranges()
    assert e["x"] == pytest.approx(x0 + 0.3 * (x1 - x0))
    assert e["y"] == pytest.approx(y0 + 0.7 * (y1 - y0))
    g = session.map_state()["generated"]
    assert len(g) == 1 and g[0]["nx"] == pytest.approx(0.3) and g[0]["ny"] == pytest.approx(0.7)
    assert info["map_update"]["point"] == g[0]
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


# --- attribution, licence flags, history ------------------------------------------------------

LICENCES = {
    "cc0": "http://creativecommons.org/publicdomain/zero/1.0/",
    "by": "https://creativecommons.org/licenses/by/4.0/",
    "nc": "http://creativecommons.org/licenses/by-nc/3.0/",
    "sampling": "https://creativecommons.org/licenses/sampling+/1.0/",
}


def load_freesound(session, kinds=("cc0", "by", "nc", "sampling"), query="footstep"):
    """Sources with Freesound metadata as the worker gets it (``Sound.to_dict()``)."""
    from intellimixer import freesound

    async def go():
        batch = session.begin_batch(query, count=len(kinds))
        for k, kind in enumerate(kinds):
            snd = freesound.Sound(id=1000 + k, name=f"{kind}-sound", username=f"user{k}", license=LICENCES[kind],
                                  duration=0.6, preview_url="http://x/p.mp3", url=f"https://freesound.org/s/{1000 + k}/")
            await session.add_source(batch, snd.to_dict(), burst(k), 16000)
        return session.commit_batch(batch)

    return run(go())


def test_points_carry_licence_flags(session):
    res = load_freesound(session)
    flags = {p["name"]: (p["noncommercial"], p["sampling"]) for p in res["map"]["points"]}
    assert flags == {"cc0-sound": (False, False), "by-sound": (False, False),
                     "nc-sound": (True, False), "sampling-sound": (True, True)}
    load(session, 1, origin="local", query="local files", start=40)
    local = [p for p in session.map_state()["points"] if p["origin"] == "local"][0]
    assert (local["noncommercial"], local["sampling"]) == (False, False)


def test_generated_sound_carries_credits_in_wav_and_text(session):
    load_freesound(session)
    load(session, 1, origin="local", query="local files", start=40)
    wav, info = run(session.generate(0.5, 0.5))
    text = info["credits_text"]
    assert text.startswith("footstep, dim 1 = ")
    for k, kind in enumerate(LICENCES):
        assert f"{kind}-sound by user{k} -- https://freesound.org/s/{1000 + k}/ -- License:" in text
    assert "snd40 (your local file)" in text
    lines = [ln for ln in text.splitlines() if ln.startswith("- ")]
    assert len(lines) == 5
    # weights: heaviest first, shares of the mix adding up to ~100 %
    shares = [float(ln[2:].split("%")[0]) for ln in lines]
    assert shares == sorted(shares, reverse=True) and 99.0 <= sum(shares) <= 100.5
    nc_line = next(ln for ln in lines if "nc-sound" in ln)
    assert "CC BY-NC 3.0" in nc_line and nc_line.endswith("[non-commercial]")
    assert next(ln for ln in lines if "sampling-sound" in ln).endswith("[sampling licence]")
    assert msg("licence_nc") in text and msg("licence_sampling") in text
    tags = audio.read_info(wav)
    assert tags["INAM"] == text.splitlines()[0]
    assert tags["IART"] == "user0, user1, user2, user3"
    assert "nc-sound" in tags["ICMT"] and "snd40" in tags["ICMT"] and "weight 0." in tags["ICMT"]
    e = info["map_update"]["entry"]
    assert e["noncommercial"] == ["nc-sound"] and e["sampling"] == ["sampling-sound"]
    assert "non-commercial" in e["flags_text"] and [f["kind"] for f in e["flags"]] == ["nc", "sampling"]
    assert e["credits_filename"] == e["filename"][:-4] + "-credits.txt"
    assert e["hash"].startswith("#q=footstep&n=4&x=1&y=2&px=") and e["hash"].endswith("&local=1")


def test_tiny_weights_are_not_credited(session):
    load_freesound(session)
    (x0, x1), (y0, y1) = session.ranges()
    pts = session.map_state()["points"]
    p = pts[0]
    _, info = run(session.generate(p["nx"], p["ny"]))  # right on a source: it takes ~all the weight
    lines = [ln for ln in info["credits_text"].splitlines() if ln.startswith("- ")]
    assert len(lines) == 1 and p["name"] in lines[0]


def test_history_lists_deletes_and_survives_queries_and_model_swaps(session, bundles):
    load(session, 4)
    for k in range(3):
        run(session.generate(0.2 + 0.3 * k, 0.5))
    m = session.map_state()
    assert [h["number"] for h in m["history"]] == [1, 2, 3]
    assert all(h["on_map"] and h["labels"] == ["dim 1", "dim 2"] for h in m["history"])
    assert [g["number"] for g in m["generated"]] == [1, 2, 3]
    m = session.delete_generated(2)["map"]
    assert [h["number"] for h in m["history"]] == [1, 3] and len(m["generated"]) == 2
    with pytest.raises(AppError, match="no longer in the history"):
        session.delete_generated(2)
    # a new query keeps the history (same latent space: still on the map)
    load(session, 3, start=10, query="kick")
    assert len(session.map_state()["generated"]) == 2
    run(session.generate(0.5, 0.5))
    assert session.map_state()["history"][-1]["number"] == 4
    assert session.map_state()["history"][-1]["query"] == "kick"
    # another model: the sounds stay in the history, off the map
    session.set_dims(2, 3)
    b5 = NativeBackend.open(bundles["d5"])
    res = run(session.set_model(b5.manifest, b5))
    m = session.map_state()
    assert [h["number"] for h in m["history"]] == [1, 3, 4] and not any(h["on_map"] for h in m["history"])
    assert m["generated"] == []
    # and the swap says what it changed on the map
    assert res["effects"] == [msg("swap_axes", x=1, y=2), msg("swap_reencoded", count=3),
                              msg("swap_history", count=3)]


def test_history_is_capped(session, monkeypatch):
    monkeypatch.setattr(session_mod, "HISTORY_MAX", 3)
    load(session, 3)
    for _ in range(5):
        run(session.generate(0.4, 0.4, n_iter=2))
    assert [h["number"] for h in session.map_state()["history"]] == [3, 4, 5]


# --- views -----------------------------------------------------------------------------------


def test_views_of_source_and_generated_sound(session):
    load(session, 3)
    key = session.map_state()["points"][1]["key"]
    meta, rgba, env = session.view("source", key, 200)
    assert rgba.dtype == np.uint8 and rgba.shape == (256, 128, 4)
    assert env.dtype == np.float32 and env.shape == (200, 2)
    assert np.all(env[:, 0] <= env[:, 1]) and env.max() > 0.5  # peak-normalised source
    assert meta["f_max"] == 8000.0 and meta["duration"] == pytest.approx(16384 / 16000)
    assert meta["freq_ticks"][0] == 0 and meta["freq_ticks"][-1] <= 8000 and len(meta["freq_ticks"]) >= 3
    assert meta["time_ticks"] == [0.0, 0.5, 1.0]
    assert meta["title"] == "snd1"
    # magma: the loudest pixels are bright yellow-white, silence is near black; row 0 = top
    assert len(np.unique(rgba.reshape(-1, 4), axis=0)) > 50
    _, info = run(session.generate(0.5, 0.5))
    meta2, rgba2, env2 = session.view("generated", info["number"], 64)
    assert rgba2.shape == (256, 128, 4) and env2.shape == (64, 2) and meta2["title"] == "sound #1"
    with pytest.raises(AppError, match="no longer in the history"):
        session.view("generated", 99, 64)
    with pytest.raises(AppError, match="no longer on the map"):
        session.view("source", "nope", 64)


@pytest.mark.parametrize("hi,target,expected", [
    (1.024, 4, [0.0, 0.5, 1.0]), (8000, 4, [0, 2000, 4000, 6000, 8000]),
    (11025, 4, [0, 5000, 10000]), (0.3, 4, [0.0, 0.1, 0.2, 0.3]), (0, 4, [0.0]), (float("nan"), 4, [0.0]),
])
def test_axis_ticks(hi, target, expected):
    assert views.axis_ticks(hi, target) == pytest.approx(expected)


# --- shareable state ---------------------------------------------------------------------------


def test_hash_round_trip():
    h = share.make_hash("foot step & more", 33, (2, 0), (0.3125, -1.2))
    assert h == "#q=foot%20step%20%26%20more&n=33&x=3&y=1&px=0.3125&py=-1.2"
    st = share.parse_hash(h, latent_dim=12)
    assert st == {"present": True, "query": "foot step & more", "count": 33, "dims": [2, 0],
                  "point": [0.3125, -1.2], "local": False, "freesound": True, "errors": [], "message": ""}
    assert share.parse_hash(share.make_hash("kick", 5, (0, 1), local=True))["local"] is True
    assert share.parse_hash("#q=footstep&n=20&x=1&y=2&px=0.31&py=-1.2")["point"] == [0.31, -1.2]


def test_hash_notes_local_files_and_missing_freesound_sounds(session):
    load(session, 3, origin="local", query="local files")
    _, info = run(session.generate(0.5, 0.5))
    h = info["map_update"]["entry"]["hash"]
    assert h.endswith("&local=1&fs=0")
    st = share.parse_hash(h)
    assert st["local"] is True and st["freesound"] is False and st["message"] == ""
    load(session, 2, start=10)
    _, info = run(session.generate(0.5, 0.5))
    st = share.parse_hash(info["map_update"]["entry"]["hash"])
    assert st["local"] is True and st["freesound"] is True


def test_map_state_holds_the_hash_of_the_map(session):
    assert session.map_state()["hash"] == "#q=footstep&n=20&x=1&y=2&fs=0"  # nothing loaded yet
    load_freesound(session, query="kick")
    assert session.map_state()["hash"] == "#q=kick&n=4&x=1&y=2"
    assert session.set_dims(4, 2)["map"]["hash"] == "#q=kick&n=4&x=5&y=3"


def test_empty_hash_gives_defaults():
    for text in ("", "#", None):
        st = share.parse_hash(text)
        assert st["present"] is False and st["query"] == "footstep" and st["count"] == 20
        assert st["dims"] is None and st["point"] is None and st["message"] == ""


@pytest.mark.parametrize("text,field,default", [
    ("#q=&n=5", "q:", ("query", "footstep")),
    ("#q=kick&n=999", "n:", ("count", 20)),
    ("#q=kick&n=2.5", "n:", ("count", 20)),
    ("#x=0&y=2", "x:", ("dims", None)),
    ("#x=1&y=13", "this model has 12 dims", ("dims", None)),
    ("#x=1", "y:", ("dims", None)),
    ("#x=abc&y=2", "x:", ("dims", None)),
    ("#px=nan&py=1", "px:", ("point", None)),
    ("#px=1e9&py=1", "px:", ("point", None)),
    ("#px=1", "py:", ("point", None)),
    ("#q=kick&colour=red", "unknown field colour", ("query", "kick")),
    ("#%%%garbage", "", ("query", "footstep")),
])
def test_invalid_hash_fields_fall_back_with_message(text, field, default):
    st = share.parse_hash(text, latent_dim=12)
    assert st["message"].startswith("The link's settings are partly invalid") and field in st["message"]
    assert st[default[0]] == default[1]


def test_invalid_fields_do_not_spoil_valid_ones():
    st = share.parse_hash("#q=snare&n=0&x=2&y=3&px=x&py=1", latent_dim=4)
    assert st["query"] == "snare" and st["count"] == 20 and st["dims"] == [1, 2] and st["point"] is None


def test_point_in_hash_maps_back_to_the_click(session):
    load(session, 5)
    _, info = run(session.generate(0.3, 0.8))
    st = share.parse_hash(info["map_update"]["entry"]["hash"], latent_dim=12)
    nx, ny = session.to_normalized(*st["point"])
    assert nx == pytest.approx(0.3, abs=1e-5) and ny == pytest.approx(0.8, abs=1e-5)
    assert st["query"] == "footstep" and st["count"] == 20 and st["dims"] == [0, 1]  # count: the default


# --- model swap ----------------------------------------------------------------------------


def test_swap_to_other_latent_size_reencodes_sources(session, bundles):
    load(session, 4)
    b5 = NativeBackend.open(bundles["d5"])
    res = run(session.set_model(b5.manifest, b5))
    assert res["model"]["latent_dim"] == 5 and res["stale"] == []
    lat = session.latents()
    assert lat.shape == (4, 5)
    assert session.generated == [] and session.dims == (0, 1)  # earlier sounds leave the map
    wav, info = run(session.generate(0.5, 0.5))
    assert len(session.map_state()["points"]) == 4 and info["map_update"]["dims"] == [0, 1]


def test_swap_to_other_rate_marks_sources_stale_until_redecoded(session, bundles):
    load(session, 3)
    b = NativeBackend.open(bundles["sr8k"])
    res = run(session.set_model(b.manifest, b))
    assert len(res["stale"]) == 3
    assert session.map_state()["points"] == []
    key = res["stale"][0]
    run(session.replace_audio(key, burst(0, sr=8000), 8000))
    assert len(session.map_state()["points"]) == 1


def test_describe_error_wording():
    assert rules.describe_error(model.ManifestError("latent_dim", "is wrong")).startswith("Model rejected, previous model kept:")
    assert rules.describe_error(AppError("Type a keyword")) == "Type a keyword"
    assert "RuntimeError" in rules.describe_error(RuntimeError("boom"))


def test_map_update_applied_to_the_previous_map_gives_the_new_map(session, monkeypatch):
    """generate sends only what changed on the map; the page merges it into the map it has
    (static/app.js mergeMapUpdate does what this does). Over a history that overflows."""
    monkeypatch.setattr(session_mod, "HISTORY_MAX", 5)
    load(session, 4)
    page = session.map_state()
    for k in range(8):
        _, info = run(session.generate(0.1 + 0.1 * k, 0.6))
        u = info["map_update"]
        keep = set(u["history"])
        page = {**page,
                "generated": [g for g in page["generated"] if g["number"] in keep] + [u["point"]],
                "history": [h for h in page["history"] if h["number"] in keep] + [u["entry"]]}
        assert json_roundtrip(page) == json_roundtrip(session.map_state())
    assert [h["number"] for h in page["history"]] == [4, 5, 6, 7, 8]
    assert len(json.dumps(info)) < 6000  # no longer grows with the history


def json_roundtrip(x):
    return json.loads(json.dumps(x))


def test_mix_option_commercial_only_keeps_nc_and_sampling_sources_out(session):
    load_freesound(session, kinds=("cc0", "by", "nc", "sampling", "cc0", "by"))
    r = session.set_mix_options(False, True)
    assert r["message"] == msg("mix_commercial_on") and r["map"]["commercial_only"] is True
    points = {p["name"]: p for p in r["map"]["points"]}
    assert not points["nc-sound"]["in_mix"] and not points["sampling-sound"]["in_mix"]
    assert points["cc0-sound"]["in_mix"] and msg("left_out_mix") in points["nc-sound"]["warning"]
    for p in points.values():  # everywhere on the map, right on the NC source included
        for nx, ny in ((p["nx"], p["ny"]), (0.5, 0.5), (0.05, 0.95)):
            _, info = run(session.generate(nx, ny))
            names = {w["name"] for w in info["weights"]}
            assert not names & {"nc-sound", "sampling-sound"}
            e = info["map_update"]["entry"]
            assert e["noncommercial"] == [] and e["sampling"] == [] and e["flags_text"] == ""
            assert "nc-sound" not in info["credits_text"] and "sampling-sound" not in info["credits_text"]
    assert session.set_mix_options(False, False)["message"] == msg("mix_commercial_off")
    assert session.set_mix_options(False, False)["message"] == ""  # nothing changed, nothing said


def test_a_map_without_commercial_sources_says_which_option(session):
    load_freesound(session, kinds=("nc", "sampling"))
    session.set_mix_options(False, True)
    with pytest.raises(AppError, match="allows commercial use"):
        run(session.generate(0.5, 0.5))


def test_credits_and_flags_list_only_the_contributing_sources(session):
    load_freesound(session, kinds=("cc0",) * 20 + ("nc",))
    pts = {p["name"]: p for p in session.map_state()["points"]}
    far = [p for n, p in pts.items() if n != "nc-sound"]
    # a click on a cc0 source far from the NC one: NC gets nothing and is neither credited nor flagged
    nc = pts["nc-sound"]
    p = max(far, key=lambda q: math.hypot(q["nx"] - nc["nx"], q["ny"] - nc["ny"]))
    _, info = run(session.generate(p["nx"], p["ny"]))
    lines = [ln for ln in info["credits_text"].splitlines() if ln.startswith("- ")]
    assert len(lines) == 1 and info["map_update"]["entry"]["flags"] == []
    _, info = run(session.generate(0.5, 0.5))
    lines = [ln for ln in info["credits_text"].splitlines() if ln.startswith("- ")]
    assert 1 <= len(lines) <= 8
    flags_text = info["map_update"]["entry"]["flags_text"]
    assert ("nc-sound" in info["credits_text"]) == bool(flags_text)
    assert len(flags_text) < 200  # a short sentence, the list is in the credits


def test_previews_are_quick_warm_started_and_not_kept(session, monkeypatch):
    """A point passed while dragging: the manifest's preview iterations, started from where
    the previous preview ended, nothing added to the history; a click after it is a full,
    deterministic render whatever the previews did."""
    load(session, 5)
    calls = []
    real = pipeline.render

    def spy(S, manifest, n_iter=None, **kw):
        calls.append((n_iter, kw.get("init")))
        return real(S, manifest, n_iter=n_iter, **kw)

    monkeypatch.setattr(pipeline, "render", spy)
    wav_before, _ = run(session.generate(0.4, 0.6))
    n_history = len(session.history)
    pcm1, info1 = run(session.preview(0.41, 0.6))
    pcm2, info2 = run(session.preview(0.42, 0.6))
    assert len(session.history) == n_history  # previews are not kept
    preview_iters = session.manifest.phase.preview_n_iter
    assert calls[1] == (preview_iters, None)  # the first preview starts cold
    assert calls[2][0] == preview_iters and isinstance(calls[2][1], np.ndarray)  # then warm
    for pcm, info in ((pcm1, info1), (pcm2, info2)):
        assert pcm.dtype == np.float32 and pcm.size == session.manifest.n_samples
        assert info["sample_rate"] == session.manifest.sample_rate and 0 < info["peak"] <= 10 ** (-0.3 / 20) + 1e-6
        assert abs(pcm[0]) < 1e-3 and abs(pcm[-1]) < 1e-3  # finished like every sound (fades)
    # a preview is close to the full render of the same point (same level, similar spectrum)
    wav_full, _ = run(session.generate(0.42, 0.6))
    full = parse_wav(wav_full)[0]
    assert abs(20 * np.log10(np.sqrt(np.mean(pcm2**2)) / np.sqrt(np.mean(full**2)))) < 3.0
    # the full render does not depend on the previews before it
    wav_again, _ = run(session.generate(0.4, 0.6))
    assert np.array_equal(parse_wav(wav_again)[0], parse_wav(wav_before)[0])


def test_sources_longer_than_the_model_are_named_when_added(session):
    """A 3 s file on a 1.024 s model is added, and the status says that only its first
    1.02 s from the onset are used (sounds that fit are not mentioned)."""
    async def go():
        batch = session.begin_batch("local files", origin="local")
        await session.add_source(batch, {"name": "long take.wav"}, burst(1, seconds=3.0), 16000)
        await session.add_source(batch, {"name": "short.wav"}, burst(2, seconds=0.5), 16000)
        return session.commit_batch(batch)

    done = run(go())
    assert done["loaded"] == 2 and done["level"] == "ready"
    assert "1 of them last longer than the model's 1.02 s" in done["message"]
    assert "(long take.wav)" in done["message"] and "short.wav" not in done["message"]
    plain = load(session, 2, start=10)
    assert "longer than the model" not in plain["message"]


def test_a_link_with_freesound_and_local_sounds_says_each_clause_once():
    both = share.parse_hash(share.make_hash("kick", 5, (0, 1), (0.2, 0.3), local=True, freesound=True))
    text = share.link_plan(both, has_token=False)["then_message"]
    assert text.count(msg("link_then")) == 1 and text.endswith(msg("link_then") + ".")
    assert text == msg("link_need_token", then="", local=msg("link_local_too", then=msg("link_then")))
    alone = share.link_plan(share.parse_hash(share.make_hash("kick", 5, (0, 1), (0.2, 0.3))), has_token=False)
    assert alone["then_message"] == msg("link_need_token", then=msg("link_then"), local="")
