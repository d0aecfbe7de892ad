"""Licence-aware search and mixing, short flags and the export options in the page, against
the local Freesound stand-in (its results cycle through CC0, CC BY, CC BY-NC and Sampling+)."""
from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from browser_util import blob_bytes, boot, make_sound, map_points, query, status

pytestmark = pytest.mark.usefixtures("needs_numpy")


def test_licence_filter_mix_option_and_short_flags(page, app_url, fake_freesound):
    boot(page, app_url)
    # the search option asks Freesound for CC0 / CC BY only
    page.check("#commercial-only")
    query(page, "kick", 8)
    assert 'license:("Creative Commons 0" OR "Attribution" OR "Attribution 4.0")' in fake_freesound.requests[-1]["filter"]
    assert len(map_points(page)) == 8 and not any(p["noncommercial"] or p["sampling"] for p in map_points(page))
    # without it every licence comes back; the mix option dims NC / Sampling+ sources ...
    page.uncheck("#commercial-only")
    query(page, "kick", 12)
    restricted = {p["key"] for p in map_points(page) if p["noncommercial"] or p["sampling"]}
    restricted_names = {p["name"] for p in map_points(page) if p["key"] in restricted}
    assert not restricted_names & {p["name"] for p in map_points(page) if p["key"] not in restricted}
    assert restricted and "license:" not in fake_freesound.requests[-1].get("filter", "")
    page.check("#mix-commercial")
    page.wait_for_function("window.intellimixer.state.map.commercial_only === true")
    assert "Only sounds that allow commercial use" in status(page)[1]
    for p in map_points(page):  # out: NC / Sampling+, declined generative AI, or generative AI non-commercially only
        out = p["key"] in restricted or p["declined"] or "only non-commercially" in p["warning"]
        assert p["in_mix"] == (not out), p
    # ... which still play, and never enter a mix, even right on them
    pts = page.evaluate("window.intellimixer.points()")
    target = next(p for p in pts if p["key"] in restricted)
    page.mouse.move(target["clientX"], target["clientY"])
    page.wait_for_selector("#tooltip:not([hidden])")
    assert "Left out of mixes" in page.inner_text("#tooltip-flags")
    spot = next(q for q in map_points(page) if q["key"] in restricted)
    # just beside it: 12 px to its right (a press on the dot itself plays it)
    step = 12 / page.evaluate("document.getElementById('map').clientWidth - 64")
    h = make_sound(page, 1, at=(spot["nx"] + step, spot["ny"]))
    assert h["noncommercial"] == [] and h["sampling"] == [] and h["flags"] == []
    credits = blob_bytes(page, "#download-credits").decode()
    assert not any(n in credits for n in restricted_names)
    # mixed again: the flag is one short sentence and a badge; the names are in the credits only
    page.uncheck("#mix-commercial")
    page.wait_for_function("window.intellimixer.state.map.commercial_only === false")
    h = make_sound(page, 2, at=(spot["nx"] + step, spot["ny"]))
    assert h["noncommercial"] or h["sampling"]
    flags = page.inner_text("#generated-flags")
    assert len(flags) < 140 and "names in the credits" in flags
    assert not any(n in flags for n in restricted_names)
    credits = blob_bytes(page, "#download-credits").decode()
    lines = [ln for ln in credits.splitlines() if ln.startswith("- ")]
    assert 1 <= len(lines) <= 8  # only the sources that contributed
    assert not page.errors


def test_export_options_resample_and_reencode_the_download(page, app_url):
    boot(page, app_url)
    query(page, "snare", 6)
    make_sound(page, 1)
    own = blob_bytes(page, "#download")
    y0, sr0 = sf.read(io.BytesIO(own), dtype="float32")
    assert y0[0] == 0 and y0[-1] == 0 and np.max(np.abs(y0)) <= 10 ** (-0.3 / 20) + 1e-4
    rates = page.eval_on_selector_all("#export-rate option", "os => os.map(o => o.textContent)")
    assert rates[0] == f"model rate ({sr0} Hz)" and rates[1:] == ["44.1 kHz", "48 kHz"]
    page.select_option("#export-rate", "48000")
    page.select_option("#export-format", "pcm24")
    with page.expect_download() as dl:
        page.click("#download")
    data = open(dl.value.path(), "rb").read()
    info = sf.info(io.BytesIO(data))
    assert info.samplerate == 48000 and info.subtype == "PCM_24" and dl.value.suggested_filename.endswith(".wav")
    assert info.frames == round(len(y0) * 48000 / sr0)
    assert b"INAM" in data and b"ICMT" in data  # the credits travel with it
    page.wait_for_function("document.getElementById('status-message').textContent.includes('48000 Hz, 24-bit')")
    # the history's link uses the same options
    page.select_option("#export-rate", "44100")
    page.select_option("#export-format", "float32")
    with page.expect_download() as dl:
        page.click("#history li .download")
    info = sf.info(dl.value.path())
    assert info.samplerate == 44100 and info.subtype == "FLOAT"
    assert not page.errors
