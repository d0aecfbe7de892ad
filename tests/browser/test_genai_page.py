"""Uploaders' generative-AI preferences in the page, against the local Freesound stand-in
(its results cycle through every value and one without the field)."""
from __future__ import annotations

import pytest

from browser_util import blob_bytes, boot, make_sound, map_points, query, status

pytestmark = pytest.mark.usefixtures("needs_numpy")


def test_declined_sounds_are_references_until_included(page, app_url, fake_freesound):
    boot(page, app_url)
    # the search option sends the filter, and only sounds that allow generative AI come back
    page.check("#genai-only")
    query(page, "kick", 10)
    flt = fake_freesound.requests[-1].get("filter", "")
    assert 'gen_ai_preference:("no-additional-preferences" OR "open-source-models" OR "noncommercial-open-source-models")' in flt
    assert len(map_points(page)) == 10 and not any(p["declined"] for p in map_points(page))
    assert all(p["gen_ai"] != "unspecified" for p in map_points(page))
    # without it, declined sounds are on the map, marked, with a tooltip that says why
    page.uncheck("#genai-only")
    query(page, "kick", 10)
    assert "gen_ai_preference" not in fake_freesound.requests[-1].get("filter", "")
    pts = page.evaluate("window.intellimixer.points()")
    declined = [p for p, q in zip(pts, map_points(page)) if q["declined"]]
    assert declined and any(q["gen_ai"] == "unspecified" for q in map_points(page))
    page.mouse.move(declined[0]["clientX"], declined[0]["clientY"])
    page.wait_for_selector("#tooltip:not([hidden])")
    assert page.inner_text("#tooltip-genai") == "generative AI: no generative AI"
    assert "declined generative AI" in page.inner_text("#tooltip-flags")
    # by default a generated sound leaves them out: credits name every contributor's preference
    h = make_sound(page, 1)
    assert h["declined"] == [] and not any(f["kind"] == "declined" for f in h["flags"])
    credits = blob_bytes(page, "#download-credits").decode()
    lines = [ln for ln in credits.splitlines() if ln.startswith("- ")]
    assert lines and all("generative AI: " in ln for ln in lines)
    names = {q["name"] for q in map_points(page) if q["declined"]}
    assert not any(n in credits for n in names)
    # included for private study: the sound carries the flag in the page, history, credits, WAV
    page.check("#include-declined")
    page.wait_for_function("window.intellimixer.state.map.include_declined === true")
    assert status(page)[0] == "warn" and "private study" in status(page)[1]
    h = make_sound(page, 2)
    assert h["declined"] and set(h["declined"]) <= names
    assert "declined generative AI" in page.inner_text("#generated-flags")
    assert page.locator("#history li.current .badge.declined").count() == 1
    assert "[declined generative AI]" in blob_bytes(page, "#download-credits").decode()
    wav = blob_bytes(page, "#download")
    assert b"ICOP" in wav and b"declined generative AI" in wav
    assert not page.errors
