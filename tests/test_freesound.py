"""Freesound APIv2 client: URL, parsing, licences, errors (no network: a fake transport)."""
import asyncio
from urllib.parse import parse_qs, urlparse

import pytest

from intellimixer import freesound as fs

RESULT = {
    "count": 2,
    "next": None,
    "previous": None,
    "results": [
        {"id": 1, "name": "<img src=x onerror=alert(1)>", "username": "ana", "duration": 1.2,
         "license": "http://creativecommons.org/licenses/by-nc/4.0/",
         "previews": {"preview-hq-mp3": "https://cdn.freesound.org/previews/0/1-hq.mp3", "preview-lq-ogg": "x.ogg"}},
        {"id": 2, "name": "step", "username": "bo", "duration": 0.4,
         "license": "https://creativecommons.org/publicdomain/zero/1.0/", "previews": {"preview-lq-ogg": "https://x/2.ogg"}},
        {"id": 3, "name": "no preview", "username": "cy", "license": "", "previews": {}},
    ],
}


def test_search_url_fields_filter_page_size_token():
    url = fs.search_url("  foot   step ", 20, token="KEY", base_url="http://127.0.0.1:9/apiv2/", max_duration=5)
    u = urlparse(url)
    assert u.path == "/apiv2/search/"
    q = {k: v[0] for k, v in parse_qs(u.query).items()}
    assert q["query"] == "foot step"
    assert q["fields"] == "id,name,username,license,duration,previews,url,gen_ai_preference"
    assert q["page_size"] == "20"
    assert q["filter"] == "duration:[0 TO 5]"
    assert q["token"] == "KEY"
    assert "token" not in fs.search_url("a", 5, token="  ")


@pytest.mark.parametrize("n", [0, 151, -3])
def test_search_url_rejects_bad_page_size(n):
    with pytest.raises(ValueError, match="between 1 and 150"):
        fs.search_url("kick", n)


def test_empty_query():
    with pytest.raises(ValueError, match="keyword"):
        fs.search_url("   ", 10)


def test_parse_results_keeps_text_verbatim_and_skips_unusable():
    sounds = fs.parse_search(RESULT)
    assert [s.id for s in sounds] == [1, 2]
    assert sounds[0].name == "<img src=x onerror=alert(1)>"
    assert sounds[0].preview_url.endswith("1-hq.mp3")
    assert sounds[1].preview_url == "https://x/2.ogg"
    d = sounds[0].to_dict()
    assert d["noncommercial"] is True and d["license_name"] == "CC BY-NC 4.0"
    assert sounds[0].credit_line() == "<img src=x onerror=alert(1)> by ana -- https://freesound.org/s/1/ -- License: CC BY-NC 4.0"


@pytest.mark.parametrize(
    "url,name,attr,nc,sampling",
    [
        ("http://creativecommons.org/publicdomain/zero/1.0/", "CC0 1.0", False, False, False),
        ("https://creativecommons.org/licenses/by/3.0/", "CC BY 3.0", True, False, False),
        ("https://creativecommons.org/licenses/by/4.0/", "CC BY 4.0", True, False, False),
        ("http://creativecommons.org/licenses/by-nc/3.0/", "CC BY-NC 3.0", True, True, False),
        ("http://creativecommons.org/licenses/sampling+/1.0/", "Sampling+", True, True, True),
        ("Creative Commons 0", "CC0 1.0", False, False, False),
        ("weird", "weird", True, False, False),
    ],
)
def test_licence_classification(url, name, attr, nc, sampling):
    info = fs.licence_info(url)
    assert (info["name"], info["attribution"], info["noncommercial"], info["sampling"]) == (name, attr, nc, sampling)


@pytest.mark.parametrize(
    "status,body,kind,text",
    [
        (401, '{"detail": "Invalid token"}', "auth", "token"),
        (429, '{"detail": "Request was throttled. Expected available in 37 seconds."}', "rate_limit", "37 s"),
        (429, "", "rate_limit", "minute"),
        (400, '{"detail": "Invalid filter"}', "bad_request", "Invalid filter"),
        (503, "<html>", "server", "503"),
    ],
)
def test_status_errors(status, body, kind, text):
    e = fs.error_for_status(status, body)
    assert e.kind == kind and e.status == status and text in str(e)


def run_search(status, body, **kw):
    seen = []

    async def fetch(url):
        seen.append(url)
        return status, body

    return asyncio.run(fs.search("footstep", 2, token="T", base_url="http://fake/apiv2", fetch=fetch, **kw)), seen


def test_search_with_fake_transport():
    import json

    sounds, seen = run_search(200, json.dumps(RESULT))
    assert len(sounds) == 2 and "token=T" in seen[0] and "page_size=2" in seen[0]


def test_search_errors():
    with pytest.raises(fs.FreesoundError, match="token") as e:
        run_search(401, "{}")
    assert e.value.kind == "auth"
    with pytest.raises(fs.FreesoundError, match="No sounds found") as e:
        run_search(200, '{"count": 0, "results": []}')
    assert e.value.kind == "no_results"
    with pytest.raises(fs.FreesoundError, match="not valid JSON"):
        run_search(200, "<html>")


def test_network_down_with_real_transport():
    # nothing listens on port 9 (discard) of 127.0.0.1: the real urllib transport fails fast
    with pytest.raises(fs.FreesoundError, match="Could not reach Freesound") as e:
        asyncio.run(fs.search("kick", 3, base_url="http://127.0.0.1:9/apiv2"))
    assert e.value.kind == "network"


def test_attribution_text_and_info_tags_in_a_wav():
    import numpy as np

    from intellimixer import audio

    a, b = fs.parse_search(RESULT)
    text, info = fs.attribution([(b.to_dict(), 0.25), (a.to_dict(), 0.7), ({"name": "my kick.wav", "origin": "local"}, 0.05)], "footstep_dim1_0.10_dim2_-0.20")
    lines = text.splitlines()
    assert lines[0] == "footstep_dim1_0.10_dim2_-0.20"
    body = [line for line in lines if line.startswith("- ")]
    assert body[0].startswith("-  70.0%  <img src=x onerror=alert(1)> by ana -- https://freesound.org/s/1/ -- License: CC BY-NC 4.0")
    assert body[0].endswith("[non-commercial]")
    assert "step by bo" in body[1] and "CC0 1.0" in body[1] and "[" not in body[1]
    assert "my kick.wav (your local file)" in body[2]
    from intellimixer.strings import msg

    assert msg("licence_nc") in lines  # the same sentence the page shows beside such a source
    assert info["IART"] == "ana, bo"
    wav = audio.write_wav(np.zeros(100, np.float32), 16000, info=info)
    assert audio.read_info(wav)["ICMT"].startswith("<img src=x onerror=alert(1)> by ana")
