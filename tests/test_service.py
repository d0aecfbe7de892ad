"""The page's operations (intellimixer.service) through the protocol, under CPython: each is
called as the worker calls it, and every reply and event is checked against protocol.json."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine_util import burst, run
from intellimixer import audio, protocol
from intellimixer.strings import msg

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from intellimixer.backends import open_native  # noqa: E402
from intellimixer.service import Service  # noqa: E402
from tiny_bundle import make_bundle  # noqa: E402

BROWSER_ONLY = {"boot", "tune_backend"}  # need onnxruntime-web: tested in tests/browser


class Client:
    """Calls Service operations the way py/worker.py does, checking replies and events."""

    def __init__(self, service):
        self.service = service
        self.called = set()

    def __call__(self, op, *args):
        assert len(args) == len(protocol.args_of(op)), f"{op} takes {protocol.args_of(op)}"
        self.called.add(op)
        spec = protocol.OPERATIONS[op]
        result = run(getattr(self.service, op)(*args))
        if "event" in spec:
            fields, buffers = result
            return json.loads(protocol.event_json(spec["event"], fields, buffers)), buffers
        if "buffers" in spec:
            fields, buffers = result
            return json.loads(protocol.ok_json(op, fields, buffers)), buffers
        return json.loads(protocol.ok_json(op, result or {}))


@pytest.fixture
def client(tmp_path):
    bundle = make_bundle(tmp_path / "b", 6)
    files = {p.name: p.read_bytes() for p in bundle.iterdir()}

    async def fetch(url, what):
        return files[url.rsplit("/", 1)[-1]]

    async def search_fetch(url):
        client.urls.append(url)
        return 200, json.dumps({"count": 1, "results": [
            {"id": 5, "name": "<b>step</b>", "username": "ana", "license": "http://creativecommons.org/licenses/by-nc/4.0/",
             "duration": 0.5, "previews": {"preview-hq-mp3": "http://127.0.0.1/p/5.mp3"}}]})

    svc = Service({"freesound_token": ""}, open_backend=open_native, fetch_bytes=fetch, search_fetch=search_fetch)
    client = Client(svc)
    client.urls = []
    return client


def test_every_operation_through_the_protocol(client):
    loaded = client("load_model_url", "http://127.0.0.1/models/b/manifest.json")
    protocol.check_type("ModelInfo", loaded["model"])
    assert loaded["message"] == msg("model_loaded", name="tiny-d6", dims=6)
    protocol.check_type("MapState", loaded["map"])
    batch = client("begin_local")["batch"]
    for k in range(3):
        src = client("add_source", batch, json.dumps({"name": f"drop {k}.wav"}), burst(k), 16000)["source"]
        protocol.check_type("Point", src)
        assert src["origin"] == "local" and src["credit"] == msg("local_credit", name=f"drop {k}.wav")
    client("fail_source", batch, "bad.wav", msg("undecodable"))
    done = client("commit_batch", batch)
    assert done["level"] == "warn" and done["loaded"] == 3 and "bad.wav" in done["message"]
    for p in done["map"]["points"]:
        protocol.check_type("Point", p)
    dims = client("set_dims", 2, 2)
    assert dims["warning"] == msg("same_dims")
    assert client("set_dims", "0", "1")["warning"] == ""
    mix = client("set_mix_options", True, False)
    assert mix["map"]["include_declined"] is True and mix["message"] == msg("mix_declined_on")
    assert client("set_mix_options", False, False)["map"]["include_declined"] is False
    ev, buffers = client("generate", 0.4, 0.6, 7)
    assert ev["ok"] and ev["ticket"] == 7 and buffers["wav"][:4] == b"RIFF"
    assert buffers["pcm"].dtype == np.float32 and buffers["pcm"].size == 16384
    protocol.check_type("MapUpdate", ev["map_update"])
    entry = protocol.check_type("HistoryEntry", ev["map_update"]["entry"])
    assert entry["info"].startswith(f"#{ev['number']} at dim 1 = ") and "drop" in entry["info"]
    pv, pbuf = client("preview", 0.41, 0.6, 8)
    assert pv["ok"] and pv["ticket"] == 8 and pv["sample_rate"] == 16000 and set(pbuf) == {"pcm"}
    assert pbuf["pcm"].dtype == np.float32 and pbuf["pcm"].size == 16384
    assert [h["number"] for h in client("map_state")["map"]["history"]] == [ev["number"]]  # not kept
    view, bufs = client("view", "generated", ev["number"], 100)
    assert bufs["env"].size == 200 and view["label"].startswith("Spectrogram (0 to 8000 Hz)")
    exp, bufs = client("export_sound", ev["number"], 48000, "pcm24")
    assert exp["sample_rate"] == 48000 and exp["filename"] == entry["filename"] and "48000 Hz, 24-bit" in exp["message"]
    y, sr = audio.read_wav(bytes(bufs["wav"]))
    assert sr == 48000 and y.shape[0] == 16384 * 3 and audio.read_info(bytes(bufs["wav"]))["INAM"]
    with pytest.raises(Exception) as exc:
        client("export_sound", ev["number"], 22050, "pcm16")
    assert "44100" in protocol.error_fields(exc.value)["error"]
    key = done["map"]["points"][0]["key"]
    assert client("view", "source", key, 50)[0]["title"] == "drop 0.wav"
    text = client("describe_point", 0.5, 0.5)["text"]
    assert text.startswith("Cursor at dim 1 = ") and "Nearest sound: drop" in text
    back = client("point_to_map", entry["x"], entry["y"])
    assert back["nx"] == pytest.approx(0.4) and back["ny"] == pytest.approx(0.6)
    h = client("parse_hash", entry["hash"], False)["hash"]
    protocol.check_type("Hash", h)
    assert h["search"] is False and h["then_message"].startswith("This link's map was made of local files")
    assert client("map_state")["map"]["history"][0]["number"] == ev["number"]
    assert client("replace_audio", key, burst(9), 16000)["source"]["key"] == key
    assert client("delete_generated", ev["number"])["message"] == msg("deleted_status", number=ev["number"])
    files = {p: run(client.service._fetch_bytes(f"x/{p}", p)) for p in ("manifest.json", "encoder.onnx", "decoder.onnx")}
    assert client("load_model_files", files)["model"]["latent_dim"] == 6
    found = client("search", "  foot  step ", "3", "my-token", True, False)
    assert found["query"] == "foot step" and "token=my-token" in client.urls[-1]
    assert "gen_ai_preference%3A%28" in client.urls[-1]  # only sounds whose uploaders allow generative AI
    assert found["sounds"][0]["name"] == "<b>step</b>" and found["sounds"][0]["noncommercial"] is True
    batch = found["batch"]
    client("add_source", batch, json.dumps(found["sounds"][0]), burst(3), 16000)
    mixed = client("commit_batch", batch)["map"]["points"]
    nc = next(p for p in mixed if p["origin"] == "freesound")
    assert nc["warning"] == msg("licence_nc") and len(mixed) == 4  # the local files stay beside it
    # stored sessions (tests/test_persist.py in depth): taken apart and put back
    made, buffers = client("generate", 0.5, 0.5, 9)
    rec = client("session_record")["session"]
    src = client("source_records", rec["source_keys"])["sources"][0]
    snd = client("sound_record", made["number"])["sound"]
    assert client("restore_begin", rec)["same_model"] is True
    assert client("restore_source", src, burst(0), 16000)["encoded"] is False
    assert client("restore_sound", snd, buffers["pcm"])[1]["wav"][:4] == b"RIFF"
    assert client("restore_end")["message"] == msg("restored", query="foot step", sources=1, sounds=1)
    # sample packs (tests/test_packs.py in depth)
    pack = client("pack_begin", "history", 0, [], 0, "pcm16")["pack"]
    assert client("pack_step", pack)["done"] == 1
    assert client("pack_finish", pack)[1]["zip"][:2] == b"PK"
    assert client("pack_cancel", pack)["message"] == msg("pack_cancelled")
    assert client("reset_session")["map"]["points"] == []
    assert set(protocol.OPERATIONS) - client.called == BROWSER_ONLY


def test_errors_become_the_error_envelope(client):
    with pytest.raises(Exception) as exc:
        client("begin_local")
    fields = protocol.error_fields(exc.value)
    assert fields == {"ok": False, "error": msg("no_model_yet"), "kind": "AppError"}
    client("load_model_url", "http://127.0.0.1/b/manifest.json")
    with pytest.raises(Exception) as exc:
        client("generate", 0.5, 0.5, 1)
    assert protocol.error_fields(exc.value)["error"] == msg("no_sounds")
    event = protocol.check_event("generated", {"ticket": 1, **protocol.error_fields(exc.value)})
    assert event["ok"] is False


def test_replies_that_break_the_declaration_are_caught():
    with pytest.raises(protocol.ProtocolError, match="undeclared fields \\['extra'\\]"):
        protocol.check_reply("point_to_map", {"nx": 0.1, "ny": 0.2, "extra": 1})
    with pytest.raises(protocol.ProtocolError, match="missing fields \\['ny'\\]"):
        protocol.check_reply("point_to_map", {"nx": 0.1})
    with pytest.raises(protocol.ProtocolError, match="missing fields \\['rgba'\\]"):
        protocol.check_reply("view", {k: 0 for k in protocol.OPERATIONS["view"]["reply"]}, ["env"])


def test_search_needs_a_token_and_checks_its_input(client):
    client("load_model_url", "http://127.0.0.1/b/manifest.json")
    for args, text in ((("", 20, "t", False, False), msg("no_query")), (("kick", 0, "t", False, False), msg("bad_count", max=150)),
                       (("kick", 5, " ", False, False), msg("no_token"))):
        with pytest.raises(Exception) as exc:
            client("search", *args)
        assert protocol.error_fields(exc.value)["error"] == text
