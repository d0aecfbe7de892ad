"""Stored sessions (intellimixer.persist) under CPython: a session is taken apart into the
records the page stores, the records go through JSON (what survives IndexedDB's structured
clone is a superset), and a fresh page's worker puts the session back together from them."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine_util import burst, run
from intellimixer import audio, persist, protocol
from intellimixer.rules import AppError
from intellimixer.strings import msg

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from intellimixer.backends import open_native  # noqa: E402
from intellimixer.service import Service  # noqa: E402
from test_service import Client  # noqa: E402
from tiny_bundle import make_bundle  # noqa: E402


def page(bundle):
    """A fresh page's worker with ``bundle`` loaded; counts the encoder's runs."""
    files = {p.name: p.read_bytes() for p in bundle.iterdir()}

    async def fetch(url, what):
        return files[url.rsplit("/", 1)[-1]]

    async def counting_backend(manifest, fs):
        backend = await open_native(manifest, fs)
        encode = backend.encode

        async def counted(S):
            client.encodes += len(S)
            return await encode(S)

        backend.encode = counted
        return backend

    client = Client(Service({}, open_backend=counting_backend, fetch_bytes=fetch))
    client.encodes = 0
    client("load_model_url", "http://127.0.0.1/m/manifest.json")
    return client


def stored(client, audio_of):
    """What the page stores: the session's record, each source's record (its latents object
    merged as the page does) with its audio, each sound's record with its samples; through
    JSON, as a browser would keep them."""
    session = client("session_record")["session"]
    protocol.check_type("SessionRecord", session)
    sources = []
    for rec in client("source_records", session["source_keys"])["sources"]:
        protocol.check_type("SourceRecord", rec)
        rec = {**rec, "latents": {rec["model"]: rec["latent"]}}
        sources.append((json.loads(json.dumps(rec)), audio_of[rec["meta"]["name"]]))
    sounds = []
    for n in session["numbers"]:
        rec = client("sound_record", n)["sound"]
        protocol.check_type("SoundRecord", rec)
        sounds.append((json.loads(json.dumps(rec)), client.service.session.entry(n).wave.copy()))
    return json.loads(json.dumps(session)), sources, sounds


def restore(client, session, sources, sounds):
    client("restore_begin", session)
    for rec, pcm in sources:
        reply = client("restore_source", rec, pcm, 16000)
        protocol.check_type("Point", reply["source"])
    wavs = {}
    for rec, pcm in sounds:
        fields, buffers = client("restore_sound", rec, pcm)
        protocol.check_type("HistoryEntry", fields["entry"])
        wavs[rec["number"]] = bytes(buffers["wav"])
    return client("restore_end"), wavs


@pytest.fixture
def made(tmp_path):
    """A session with three local sources, dims 3/2, one mix option and two kept sounds (of
    three made: one deleted)."""
    bundle = make_bundle(tmp_path / "a", 6)
    client = page(bundle)
    audio_of = {f"drop {k}.wav": burst(k) for k in range(3)}
    batch = client("begin_local")["batch"]
    for name, pcm in audio_of.items():
        client("add_source", batch, json.dumps({"name": name}), pcm, 16000)
    client("commit_batch", batch)
    client("set_dims", 2, 1)
    client("set_mix_options", True, False)
    made = [client("generate", x, 0.5, k)[0] for k, x in enumerate((0.2, 0.5, 0.8))]
    client("delete_generated", made[1]["number"])
    return bundle, client, audio_of


def test_a_session_comes_back_as_it_was(made, tmp_path):
    bundle, before, audio_of = made
    session, sources, sounds = stored(before, audio_of)
    old_map = before("map_state")["map"]
    after = page(bundle)
    encodes_at_load = after.encodes
    done, wavs = restore(after, session, sources, sounds)
    assert after.encodes == encodes_at_load, "stored latents of the same model are used, not encoded again"
    new_map = done["map"]
    assert done["message"] == msg("restored", query=old_map["query"], sources=3, sounds=2)
    for field in ("dims", "labels", "x_range", "y_range", "include_declined", "commercial_only", "query", "count"):
        assert new_map[field] == old_map[field], field
    assert [(p["key"], p["nx"], p["ny"]) for p in new_map["points"]] == [(p["key"], p["nx"], p["ny"]) for p in old_map["points"]]
    assert new_map["generated"] == old_map["generated"]
    assert new_map["history"] == old_map["history"]  # text, credits, flags, file names, links
    for n, wav in wavs.items():  # the WAV the page gets is the one it had (samples and credits)
        first = before.service.session.entry(n)
        assert wav == audio.write_wav(first.wave, first.sample_rate, info=first.credits.tags)
    # the next sound carries on the numbering, and a new source gets a key of its own
    ev, _ = after("generate", 0.3, 0.3, 9)
    assert ev["number"] == 4
    batch = after("begin_local")["batch"]
    key = after("add_source", batch, json.dumps({"name": "more.wav"}), burst(7), 16000)["source"]["key"]
    assert key not in {p["key"] for p in old_map["points"]}
    # exports of a restored sound are those of the original
    a = before("export_sound", 3, 48000, "pcm24")[1]["wav"]
    b = after("export_sound", 3, 48000, "pcm24")[1]["wav"]
    assert bytes(a) == bytes(b)


def test_a_session_of_another_model_is_encoded_again_and_its_sounds_leave_the_map(made, tmp_path):
    _, before, audio_of = made
    session, sources, sounds = stored(before, audio_of)
    other = page(make_bundle(tmp_path / "other", 5, seed=3))
    at_load = other.encodes
    done, _ = restore(other, session, sources, sounds)
    assert other.encodes - at_load == 3
    assert len(done["map"]["points"]) == 3 and done["map"]["generated"] == []
    assert [h["on_map"] for h in done["map"]["history"]] == [False, False]
    assert msg("restored_other_model", model="tiny-d6", current="tiny-d5") in done["message"]
    assert msg("restored_off_map", count=2) in done["message"]
    assert done["map"]["dims"] == [0, 1]  # the stored dims were another model's
    # the stored record now carries this model's latent too (the page merges it in)
    rec = other("source_records", [sources[0][0]["key"]])["sources"][0]
    assert rec["model"] != session["model"] and len(rec["latent"]) == 5


def test_the_model_key_follows_the_bytes_not_the_file_names(tmp_path):
    bundle = make_bundle(tmp_path / "k", 6)
    files = {p.name: p.read_bytes() for p in bundle.iterdir() if p.name != "manifest.json"}
    manifest = (bundle / "manifest.json").read_bytes()
    key = persist.model_key(manifest, files)
    assert key == persist.model_key(manifest, dict(reversed(list(files.items()))))
    changed = {**files, "decoder.onnx": files["decoder.onnx"] + b"\0"}
    assert persist.model_key(manifest, changed) != key
    assert persist.model_key(manifest.replace(b"tiny", b"tina"), files) != key


def test_records_a_version_cannot_read_are_refused_with_a_reason(made):
    bundle, before, audio_of = made
    session, sources, sounds = stored(before, audio_of)
    after = page(bundle)
    with pytest.raises(AppError) as exc:
        run(after.service.restore_begin({**session, "version": persist.STORE_VERSION + 1}))
    assert str(exc.value) == msg("store_newer", what=msg("store_what_session"), version=persist.STORE_VERSION + 1,
                                 ours=persist.STORE_VERSION)
    with pytest.raises(AppError) as exc:
        run(after.service.restore_begin({"query": "x"}))
    assert str(exc.value) == msg("store_unreadable", what=msg("store_what_session"))
    with pytest.raises(AppError):  # a source outside a restore
        run(after.service.restore_source(sources[0][0], sources[0][1], 16000))


def test_a_stored_latent_of_the_wrong_size_or_not_finite_is_encoded_again(made):
    bundle, before, audio_of = made
    session, sources, sounds = stored(before, audio_of)
    key = session["model"]
    bad = [({**rec, "latent": None, "latents": {key: [1.0, 2.0]}}, pcm) for rec, pcm in sources[:1]]
    bad += [({**rec, "latent": None, "latents": {key: [float("nan")] * 6}}, pcm) for rec, pcm in sources[1:2]]
    after = page(bundle)
    at_load = after.encodes
    done, _ = restore(after, session, bad + sources[2:], sounds)
    assert after.encodes - at_load == 2
    assert msg("restored_encoded", count=2) in done["message"]
    assert all(np.isfinite(p["nx"]) for p in done["map"]["points"])


def test_a_new_session_keeps_the_model_and_empties_the_rest(made):
    _, client, _ = made
    reply = client("reset_session")
    m = reply["map"]
    assert m["points"] == [] and m["history"] == [] and m["dims"] == [0, 1] and m["include_declined"] is False
    assert reply["message"] == msg("session_new")
    assert client("session_record")["session"]["next_number"] == 0
