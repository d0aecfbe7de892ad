"""Each uploader's choice about generative AI (Freesound's ``gen_ai_preference``): read as the
API documents it, sounds that declined stay out of mixes unless the user includes them for
private study (then flagged everywhere), and the credits state every source's preference."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from engine_util import burst, run
from intellimixer import audio, freesound
from intellimixer.rules import AppError
from intellimixer.session import Session
from intellimixer.strings import msg
from tiny_bundle import make_bundle

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from intellimixer.backends import NativeBackend  # noqa: E402

CODES = ["no-additional-preferences", "open-source-models", "noncommercial-open-source-models", "no-gen-ai", None, "bogus"]


def result(k, code):
    r = {"id": 10 + k, "name": f"s{k}", "username": f"u{k}", "license": "http://creativecommons.org/publicdomain/zero/1.0/",
         "duration": 0.5, "previews": {"preview-hq-mp3": f"http://127.0.0.1/p/{k}.mp3"}}
    if code is not None:
        r["gen_ai_preference"] = code
    return r


def test_values_are_read_as_the_api_documents_them():
    sounds = freesound.parse_search({"results": [result(k, c) for k, c in enumerate(CODES)]})
    got = [(s.gen_ai_preference, freesound.genai_info(s.gen_ai_preference)) for s in sounds]
    assert [c for c, _ in got] == CODES[:4] + ["unspecified", "unspecified"]
    assert [(i["declined"], i["noncommercial"]) for _, i in got] == [
        (False, False), (False, False), (False, True), (True, False), (False, False), (False, False)]
    assert got[4][1]["label"] == msg("genai_unspecified")
    assert "gen_ai_preference" in freesound.FIELDS.split(",")
    assert sounds[3].to_dict()["gen_ai_preference"] == "no-gen-ai"


def test_search_filter_asks_only_for_sounds_that_allow_it():
    seen = []

    async def fetch(url):
        seen.append(url)
        return 200, json.dumps({"results": [result(0, "open-source-models")]})

    run(freesound.search("rain", 5, "t", fetch=fetch, genai_only=True))
    run(freesound.search("rain", 5, "t", fetch=fetch))
    flt = [parse_qs(urlsplit(u).query)["filter"][0] for u in seen]
    assert flt[0] == ('duration:[0 TO 5] gen_ai_preference:("no-additional-preferences" OR "open-source-models" '
                      'OR "noncommercial-open-source-models")')
    assert flt[1] == "duration:[0 TO 5]"


def session_with(folder, codes) -> Session:
    """A session whose map holds one Freesound sound per preference in ``codes``."""
    s = Session()
    b = NativeBackend.open(make_bundle(folder, 6))
    run(s.set_model(b.manifest, b))

    async def go():
        batch = s.begin_batch("rain", count=len(codes))
        for k, code in enumerate(codes):
            snd = freesound.parse_search({"results": [result(k, code)]})[0]
            await s.add_source(batch, snd.to_dict(), burst(k), 16000)
        return s.commit_batch(batch)

    run(go())
    return s


@pytest.fixture
def session(tmp_path):
    return session_with(tmp_path / "b", CODES[:5])


def point_of(s, name):
    return next(p for p in s.map_state()["points"] if p["name"] == name)


def test_declined_sounds_stay_on_the_map_but_out_of_mixes(session):
    declined = point_of(session, "s3")
    assert declined["declined"] is True and declined["gen_ai"] == msg("genai_declined")
    assert msg("genai_declined_warning") in declined["warning"]
    assert point_of(session, "s2")["warning"] == msg("genai_nc_warning")
    assert point_of(session, "s4")["gen_ai"] == msg("genai_unspecified") and not point_of(session, "s4")["declined"]
    # a click right on the declined sound: it gets no weight, the others share the mix
    wav, info = run(session.generate(declined["nx"], declined["ny"]))
    names = [w["name"] for w in info["weights"]]
    assert "s3" not in names and abs(sum(w["weight"] for w in info["weights"]) - 1) < 0.05
    assert "s3" not in info["credits_text"]
    e = info["map_update"]["entry"]
    assert e["declined"] == [] and e["genai_nc"] == ["s2"]
    assert [f["kind"] for f in e["flags"]] == ["genai_nc"]
    assert audio.read_info(wav)["ICOP"] == msg("flags_summary", what=msg("flag_genai_nc_short", count=1))


def test_credits_state_each_sources_preference(session):
    _, info = run(session.generate(0.5, 0.5))
    lines = [ln for ln in info["credits_text"].splitlines() if ln.startswith("- ")]
    by_name = {ln.split("  ", 2)[2].split(" by ")[0]: ln for ln in lines}
    assert set(by_name) == {"s0", "s1", "s2", "s4"}
    for name, code in (("s0", "genai_none"), ("s1", "genai_open"), ("s2", "genai_open_nc"), ("s4", "genai_unspecified")):
        assert msg("genai_line", label=msg(code)) in by_name[name]
    assert by_name["s2"].endswith("[gen AI: non-commercial]") and msg("note_genai_nc") in info["credits_text"]


def test_including_declined_sounds_flags_what_is_made(session):
    r = session.set_mix_options(True, False)
    assert r["message"] == msg("mix_declined_on") and r["map"]["include_declined"] is True
    declined = point_of(session, "s3")
    wav, info = run(session.generate(declined["nx"], declined["ny"]))
    assert info["weights"][0]["name"] == "s3" and info["weights"][0]["weight"] > 0.99
    e = info["map_update"]["entry"]
    assert e["declined"] == ["s3"] and "declined" in [f["kind"] for f in e["flags"]]
    assert msg("flag_declined_short", count=1) in e["flags_text"]
    assert "[declined generative AI]" in info["credits_text"] and msg("note_declined") in info["credits_text"]
    assert msg("flag_declined_short", count=1) in audio.read_info(wav)["ICOP"]
    assert session.set_mix_options(False, False)["map"]["include_declined"] is False


def test_a_map_of_declined_sounds_only_explains_itself(tmp_path):
    s = session_with(tmp_path / "b", ["no-gen-ai", "no-gen-ai"])
    with pytest.raises(AppError, match="declined generative AI"):
        run(s.generate(0.5, 0.5))
    s.set_mix_options(True, False)
    wav, _ = run(s.generate(0.5, 0.5))
    assert np.abs(audio.read_wav(wav)[0]).max() > 0.1


def test_the_stand_in_cycles_the_values_and_honours_the_filter():
    from fake_freesound import GENAI, FakeFreesound, parse_genai_filter

    assert parse_genai_filter(freesound.GENAI_ALLOWED_FILTER) == {c for c in GENAI if c and c != "no-gen-ai"}
    with FakeFreesound() as fs:
        base = fs.api_url
        every = run(freesound.search("kick", 10, "test-token", base, max_duration=None))
        allowed = run(freesound.search("kick", 10, "test-token", base, max_duration=None, genai_only=True))
    assert {s.gen_ai_preference for s in every} == {c for c in GENAI if c} | {"unspecified"}
    assert len(allowed) == 10 and not any(s.gen_ai_preference in ("no-gen-ai", "unspecified") for s in allowed)


def test_the_licence_filter_asks_freesound_for_commercial_licences_only():
    from fake_freesound import FakeFreesound, parse_set_filter

    assert parse_set_filter("license", freesound.COMMERCIAL_FILTER) == {"Creative Commons 0", "Attribution", "Attribution 4.0"}
    with FakeFreesound() as fs:
        every = run(freesound.search("kick", 12, "test-token", fs.api_url, max_duration=None))
        only = run(freesound.search("kick", 12, "test-token", fs.api_url, max_duration=None, commercial_only=True))
        both = run(freesound.search("kick", 12, "test-token", fs.api_url, max_duration=None, commercial_only=True, genai_only=True))
        sent = fs.requests[-1]["filter"]
    assert any(s.licence["noncommercial"] or s.licence["sampling"] for s in every)
    assert len(only) == 12 and not any(s.licence["noncommercial"] or s.licence["sampling"] for s in only)
    assert both and "license:(" in sent and "gen_ai_preference:(" in sent
    assert not any(s.gen_ai_preference in ("no-gen-ai", "unspecified") for s in both)
