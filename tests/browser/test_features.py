"""Issue 5 in headless Chromium: attribution and licence flags, history, keyboard and screen
readers, spectrogram views, drag to scrub, shareable links, local files by drag and drop.

All but the label/focus test need numpy inside Pyodide (INTELLIMIXER_PYODIDE_PACKAGES) and
skip with that reason without it.
"""
from __future__ import annotations

import base64
import io
import re
import time
import wave
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pytest

from browser_util import blob_bytes, boot, click_map, empty_spot, n_points, query, status, wait_idle
from fake_freesound import DRUMKITS, TOKEN_OK
from intellimixer import audio

FREEDESKTOP = Path("/usr/share/sounds/freedesktop/stereo")


def pcm(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768


def generate_at(page, nx, ny, count):
    click_map(page, nx, ny)
    page.wait_for_function(f"window.intellimixer.state.map.history.length === {count}")
    return wait_idle(page)


def download(page, selector) -> tuple[str, bytes]:
    with page.expect_download() as dl:
        page.click(selector)
    d = dl.value
    return d.suggested_filename, Path(d.path()).read_bytes()


# --- attribution and licence flags -------------------------------------------------------------


def test_download_carries_credits_as_info_chunk_and_text(page, app_url, needs_numpy):
    boot(page, app_url)
    state, msg = query(page, "footstep", 8)
    assert state == "ready", msg
    # the fake Freesound cycles CC0, BY, BY-NC, Sampling+: NC and sampling sounds are flagged
    pts = page.evaluate("window.intellimixer.state.map.points")
    nc = [p for p in pts if p["noncommercial"] and not p["sampling"]]
    sampling = [p for p in pts if p["sampling"]]
    assert len(nc) == 2 and len(sampling) == 2
    target = [p for p in page.evaluate("window.intellimixer.points()") if p["name"] == nc[0]["name"]][0]
    page.mouse.move(target["clientX"], target["clientY"])
    page.wait_for_selector("#tooltip-flags", state="visible")
    assert "Non-commercial" in page.inner_text("#tooltip-flags")
    unflagged = {p["name"] for p in pts if not p["warning"]}  # no licence nor generative-AI restriction
    plain = [p for p in page.evaluate("window.intellimixer.points()")
             if p["license_name"].startswith(("CC0", "CC BY 4")) and p["name"] in unflagged][0]
    page.mouse.move(plain["clientX"], plain["clientY"])
    page.wait_for_function("document.getElementById('tooltip-name').textContent === " + repr(plain["name"]))
    assert not page.is_visible("#tooltip-flags")

    state, msg = generate_at(page, *empty_spot(page), 1)
    assert state == "ready", msg
    name, wav = download(page, "#download")
    cname, text_bytes = download(page, "#download-credits")
    assert name.endswith(".wav") and cname == name[:-4] + "-credits.txt"
    text = text_bytes.decode("utf-8")
    lines = [ln for ln in text.splitlines() if ln.startswith("- ")]
    assert len(lines) >= 2 and "Made with Audio Intellimixer" in text
    for ln in lines:  # name, author, licence, URL, weight
        m = re.match(r"- +([\d.]+)%  (.+) by (.+) -- (https://freesound\.org/\S+) -- License: (.+)$", ln)
        assert m, ln
        assert " -- generative AI: " in m.group(5)  # each source's stated preference
        if "BY-NC" in m.group(5):
            assert "[non-commercial]" in ln
        if "Sampling+" in m.group(5):
            assert "[sampling licence]" in ln
    assert 95 <= sum(float(ln[2:].split("%")[0]) for ln in lines) <= 100.5
    info = audio.read_info(wav)
    assert info["INAM"] == text.splitlines()[0] and info["INAM"].startswith("footstep, dim 1 = ")
    assert info["ICMT"].startswith("Made from: ") and "weight" in info["ICMT"]
    used = [re.match(r"- +[\d.]+%  (.+?) by ", ln).group(1) for ln in lines]
    for n in used:
        assert n in info["ICMT"]
    # the generated sound is flagged when NC / sampling sources shaped it
    flagged_nc = [p["name"] for p in nc if p["name"] in used]
    if flagged_nc or any(p["name"] in used for p in sampling):
        assert page.is_visible("#generated-flags")
        flags = page.inner_text("#generated-flags")  # one short line: counts, the names are in the credits
        assert len(flags) < 140 and "names in the credits" in flags and not any(n in flags for n in used)
        if flagged_nc:
            assert f"{len(flagged_nc)} non-commercial" in flags and all(n in text for n in flagged_nc)
        assert page.locator("#history li .badge").count() >= 1
        assert page.get_attribute("#history li .badge", "title")


# --- history -----------------------------------------------------------------------------------


def test_history_replay_download_delete(page, app_url, needs_numpy):
    boot(page, app_url)
    query(page, "footstep", 6)
    spots = []
    for k in range(3):
        spots.append(empty_spot(page, avoid=spots))
        state, msg = generate_at(page, *spots[-1], k + 1)
        assert state == "ready", msg
    items = page.locator("#history li")
    assert items.count() == 3
    hist = page.evaluate("window.intellimixer.state.map.history")
    # newest first, each with its coordinates and dims
    for li_text, h in zip(items.all_inner_texts(), reversed(hist)):
        assert f"#{h['number']} dim 1 = {h['x']:.2f}, dim 2 = {h['y']:.2f}" in li_text
    first = pcm(blob_bytes(page, "#history-1 a.download"))
    third = pcm(blob_bytes(page, "#generated-audio"))
    assert not np.array_equal(first, third)
    # replay #1: the player, the download link and the view show #1 again
    page.click("#history-1 button[data-action=play]")
    page.wait_for_function("document.getElementById('generated-view').dataset.drawn === 'sound #1'")
    assert np.array_equal(pcm(blob_bytes(page, "#generated-audio")), first)
    assert page.get_attribute("#download", "download") == hist[0]["filename"]
    assert "current" in page.get_attribute("#history-1", "class")
    # download #2 from the list: a WAV with its credits, plus its credits text
    name, data = download(page, "#history-2 a.download")
    assert name == hist[1]["filename"] and audio.read_info(data)["ICMT"].startswith("Made from: ")
    cname, _ = download(page, "#history-2 a.credits")
    assert cname == hist[1]["credits_filename"]
    # delete #2: gone from the list and the map
    page.click("#history-2 button[data-action=delete]")
    page.wait_for_function("document.querySelectorAll('#history li').length === 2")
    assert page.get_attribute("#map", "data-generated") == "2"
    assert [h["number"] for h in page.evaluate("window.intellimixer.state.map.history")] == [1, 3]
    assert page.locator("#history-2").count() == 0
    assert not page.errors


# --- keyboard and screen readers --------------------------------------------------------------


def test_controls_are_labelled_and_map_is_focusable(page, app_url_no_numpy):
    page.goto(app_url_no_numpy, wait_until="domcontentloaded")
    unnamed = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, button, textarea, audio, canvas, a[href], ol')]
        .filter(el => {
          const name = (el.labels && [...el.labels].map(l => l.textContent).join(' ')) || el.getAttribute('aria-label')
            || (el.getAttribute('aria-labelledby') || '').split(' ').map(id => document.getElementById(id)?.textContent || '').join(' ')
            || (el.tagName === 'BUTTON' || el.tagName === 'A' ? el.textContent : '');
          return !name || !name.trim();
        }).map(el => el.id || el.outerHTML.slice(0, 60))""")
    assert unnamed == []
    assert page.get_attribute("#status", "aria-live") == "polite"
    assert page.get_attribute("#map-cursor-info", "aria-live") == "polite"
    assert page.get_attribute("#map", "tabindex") == "0"
    help_id = page.get_attribute("#map", "aria-describedby")
    assert "Arrow keys" in page.inner_text(f"#{help_id}") or "Arrow keys" in page.text_content(f"#{help_id}")
    # the search form comes first in the Tab order, then the map (tests/browser/test_layout.py)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "query"


def test_arrow_keys_move_cursor_and_enter_generates(page, app_url, needs_numpy):
    boot(page, app_url)
    query(page, "footstep", 6)
    page.focus("#local-files")
    page.keyboard.press("Tab")  # reached by keyboard: the cursor shows
    assert page.evaluate("window.intellimixer.cursor()") == {"nx": 0.5, "ny": 0.5, "shown": True}
    for key in ["ArrowRight"] * 5 + ["ArrowUp"] * 3 + ["Shift+ArrowLeft"]:
        page.keyboard.press(key)
    c = page.evaluate("window.intellimixer.cursor()")
    assert c["nx"] == pytest.approx(0.5) and c["ny"] == pytest.approx(0.56)
    page.wait_for_function("document.getElementById('map-cursor-info').textContent.startsWith('Cursor at')")
    info = page.text_content("#map-cursor-info")
    assert info.startswith("Cursor at dim 1 = ") and "Nearest sound:" in info
    for _ in range(40):  # clamped at the edge
        page.keyboard.press("ArrowDown")
    assert page.evaluate("window.intellimixer.cursor().ny") == 0
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_function("window.intellimixer.state.map.generated.length === 1")
    state, msg = wait_idle(page)
    assert state == "ready" and "Generated sound #1" in msg, msg
    g = page.evaluate("window.intellimixer.state.map.generated[0]")
    assert g["nx"] == pytest.approx(0.52, abs=1e-6) and g["ny"] == pytest.approx(0.5, abs=1e-6)
    # P plays the sound nearest to the cursor
    page.keyboard.press("p")
    page.wait_for_function("document.getElementById('source-audio').src.startsWith('blob:')")
    assert page.evaluate("document.activeElement.id") == "map"


# --- spectrogram views ----------------------------------------------------------------------------


def view_pixels(page, canvas_id):
    return page.evaluate("""(id) => {
        const c = document.getElementById(id), g = c.getContext('2d');
        const d = g.getImageData(0, 0, c.width, c.height).data;
        return {w: c.width, h: c.height, data: Array.from(d)};
    }""", canvas_id)


def test_spectrogram_views_of_source_and_generated(page, app_url, needs_numpy, default_model):
    import json

    boot(page, app_url)
    query(page, "footstep", 6)
    m = json.loads((default_model / "manifest.json").read_text())
    p = page.evaluate("window.intellimixer.points()")[2]
    page.mouse.click(p["clientX"], p["clientY"])
    page.wait_for_function(f"document.getElementById('source-view').dataset.drawn === {json.dumps(p['name'])}")
    v = page.evaluate("window.intellimixer.views()['source-view']")
    assert v["units"] == {"freq": "Hz", "time": "s"}
    assert v["f_max"] == m["sample_rate"] / 2
    assert v["freq_ticks"][0] == 0 and v["freq_ticks"][-1] <= v["f_max"] and len(v["freq_ticks"]) >= 3
    assert v["duration"] == pytest.approx(m["n_samples"] / m["sample_rate"])
    assert v["time_ticks"][0] == 0 and v["time_ticks"][-1] <= v["duration"]
    assert (v["n_bins"], v["n_frames"]) == (m["stft"]["n_bins"], m["stft"]["n_frames"])
    assert "Hz" in page.get_attribute("#source-view", "aria-label")
    px = view_pixels(page, "source-view")
    img = np.array(px["data"], np.uint8).reshape(px["h"], px["w"], 4)
    dpr = px["w"] / page.evaluate("document.getElementById('source-view').clientWidth")
    spec = img[int(16 * dpr):int(80 * dpr), int(46 * dpr):int(-10 * dpr), :3]
    assert len(np.unique(spec.reshape(-1, 3), axis=0)) > 100, "spectrogram is not drawn"
    # magma: red >= blue for bright pixels, never green-dominant
    bright = spec[spec.sum(axis=2) > 300]
    assert bright.size and np.mean(bright[:, 0] >= bright[:, 2]) > 0.9
    wave_rows = img[int(104 * dpr):int(132 * dpr), int(46 * dpr):int(-10 * dpr), :3]
    assert np.any(np.all(wave_rows == [0x5b, 0xc0, 0xf2], axis=-1)), "waveform is not drawn"
    state, msg = generate_at(page, *empty_spot(page), 1)
    assert page.get_attribute("#generated-view", "data-drawn") == "sound #1"
    g = page.evaluate("window.intellimixer.views()['generated-view']")
    assert g["env_width"] == page.evaluate("document.getElementById('generated-view').clientWidth") - 52
    assert not page.errors


# --- drag to scrub ---------------------------------------------------------------------------------


RECORD_RAMPS = """
window.__ramps = [];
const ramp = AudioParam.prototype.linearRampToValueAtTime;
AudioParam.prototype.linearRampToValueAtTime = function (v, t) {
  window.__ramps.push([v, t]); return ramp.call(this, v, t);
};
"""


def test_drag_scrubs_latest_wins_with_crossfades(page, app_url, needs_numpy):
    page.add_init_script(RECORD_RAMPS)
    boot(page, app_url)
    query(page, "footstep", 8)
    page.evaluate("window.intellimixer.resetStats()")
    page.evaluate("""window.__long = [];
        new PerformanceObserver(l => { for (const e of l.getEntries()) window.__long.push(e.duration); })
          .observe({type: 'longtask'});""")
    a = page.evaluate("window.intellimixer.toClient(0.15, 0.2)")
    b = page.evaluate("window.intellimixer.toClient(0.85, 0.8)")
    page.mouse.move(a["x"], a["y"])
    page.mouse.down()
    assert page.evaluate("document.body.dataset.scrubbing") == "1"
    steps = 40
    for k in range(1, steps + 1):
        t = k / steps
        page.mouse.move(a["x"] + t * (b["x"] - a["x"]), a["y"] + t * (b["y"] - a["y"]))
        time.sleep(0.005)  # faster than a generation, so some positions are replaced while waiting
    page.mouse.up()
    wait_idle(page)
    s = page.evaluate("window.intellimixer.stats")
    assert s["scrub_requested"] >= steps // 2
    # latest wins: every request either ran or was replaced while waiting; nothing queued
    assert s["scrub_requested"] == s["scrub_completed"] + s["scrub_dropped"] + s["scrub_failed"]
    assert s["scrub_failed"] == 0 and s["scrub_completed"] >= 2 and s["scrub_dropped"] >= 1
    assert len(s["generate_ms"]) == s["scrub_completed"]
    # the last position asked for is always made: the newest sound sits under the pointer's end
    last = page.evaluate("window.intellimixer.state.map.generated.at(-1)")
    assert last["nx"] == pytest.approx(0.85, abs=0.01) and last["ny"] == pytest.approx(0.8, abs=0.01)
    # points passed while dragging are quick previews, played and not kept; the press and the
    # release make sounds to keep (the press's may be replaced by a newer point while it waits)
    assert s["previews"] >= 1
    kept = page.evaluate("window.intellimixer.state.map.history.length")
    assert kept == s["scrub_completed"] - s["previews"] and 1 <= kept <= 2
    # consecutive results crossfade (WebAudio gain ramps)
    assert 30 <= s["fade_ms"] <= 50
    assert s["crossfades"] >= 1
    # each crossfade: the old sound ramps to 0 while the new one ramps to 1, ending together
    ramps = page.evaluate("window.__ramps")
    ups = {round(t, 6) for v, t in ramps if v == 1}
    downs = [round(t, 6) for v, t in ramps if v == 0]
    assert len(downs) == s["crossfades"] and all(t in ups for t in downs), ramps
    long = page.evaluate("window.__long")
    assert all(d < 200 for d in long), f"main thread blocked while scrubbing: {sorted(long)[-5:]} ms"
    assert not page.evaluate("document.body.dataset.scrubbing")
    ctx = page.evaluate("(() => { const c = window.intellimixer.state.audio.ctx; return c && {state: c.state, t: c.currentTime}; })()")
    assert ctx and ctx["state"] == "running" and ctx["t"] > 0, ctx
    print(f"\nscrub: {s['scrub_completed']} made, {s['scrub_dropped']} dropped of {s['scrub_requested']}; "
          f"median {np.median(s['generate_ms']):.0f} ms per sound")


# --- shareable state -------------------------------------------------------------------------------


def test_shared_link_reproduces_map_and_sound(browser, page, app_url, needs_numpy):
    boot(page, app_url)
    query(page, "kick", 5)
    assert page.evaluate("location.hash") == "#q=kick&n=5&x=1&y=2"  # the map, no point yet
    page.select_option("#x-dim", "2")
    page.wait_for_function("window.intellimixer.state.map.dims[0] === 2")
    assert page.evaluate("location.hash") == "#q=kick&n=5&x=3&y=2"
    generate_at(page, *empty_spot(page), 1)
    h = page.evaluate("location.hash")
    fields = {k: v[0] for k, v in parse_qs(h[1:]).items()}
    assert fields["q"] == "kick" and fields["n"] == "5" and fields["x"] == "3" and fields["y"] == "2"
    assert {"px", "py"} <= set(fields)
    assert page.get_attribute("#share-link", "href") == h
    original = pcm(blob_bytes(page, "#generated-audio"))
    points = sorted(p["name"] for p in page.evaluate("window.intellimixer.state.map.points"))
    # open the link in a fresh browser context that remembers the token
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        ctx.add_init_script(f"localStorage.setItem('intellimixer.freesound_token', '{TOKEN_OK}')")
        p2 = ctx.new_page()
        p2.set_default_timeout(60_000)
        p2.goto(app_url + h)
        p2.evaluate("window.intellimixer.ready")
        p2.wait_for_function("window.intellimixer.state.map && window.intellimixer.state.map.history.length === 1",
                             timeout=120_000)
        wait_idle(p2)
        assert p2.input_value("#query") == "kick" and p2.input_value("#count") == "5"
        assert p2.input_value("#x-dim") == "2" and p2.input_value("#y-dim") == "1"
        assert sorted(p["name"] for p in p2.evaluate("window.intellimixer.state.map.points")) == points
        again = pcm(blob_bytes(p2, "#generated-audio"))
        assert again.shape == original.shape
        assert np.max(np.abs(again - original)) < 0.02, "the shared link made another sound"
        g = p2.evaluate("window.intellimixer.state.map.generated[0]")
        assert g["x"] == pytest.approx(float(fields["px"]), rel=1e-5)
    finally:
        ctx.close()


def test_shared_link_without_token_says_what_to_do(page, app_url, needs_numpy, fake_freesound):
    n_req = len(fake_freesound.requests)
    page.goto(app_url + "#q=snare&n=7&x=2&y=1&px=0.1&py=0.2")
    page.evaluate("window.intellimixer.ready")
    state, msg = status(page)
    assert state == "warn" and "enter your Freesound API token" in msg and "sound at its point" in msg
    assert page.input_value("#query") == "snare" and page.input_value("#count") == "7"
    assert page.input_value("#x-dim") == "1" and page.input_value("#y-dim") == "0"
    assert len(fake_freesound.requests) == n_req
    # dropping local files rebuilds a map, and the link's point is made there
    drop_files(page, sorted(DRUMKITS.glob("*/*.wav"))[:3])
    page.wait_for_function("window.intellimixer.state.map.history.length === 1", timeout=120_000)
    state, msg = wait_idle(page)
    assert state == "ready", msg
    g = page.evaluate("window.intellimixer.state.map.generated[0]")
    assert (g["x"], g["y"]) == (pytest.approx(0.1, abs=1e-6), pytest.approx(0.2, abs=1e-6))


def test_link_to_a_map_of_local_files_waits_for_them(browser, app_url, needs_numpy, fake_freesound):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        ctx.add_init_script(f"localStorage.setItem('intellimixer.freesound_token', '{TOKEN_OK}')")
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        n_req = len(fake_freesound.requests)
        page.goto(app_url + "#q=footstep&n=20&x=1&y=2&px=0.05&py=-0.05&local=1&fs=0")
        page.evaluate("window.intellimixer.ready")
        state, msg = status(page)
        assert state == "warn" and "made of local files" in msg and "drop the same files" in msg
        assert len(fake_freesound.requests) == n_req, "a local-only map must not run the query"
        drop_files(page, sorted(DRUMKITS.glob("*/*.wav"))[3:6])
        page.wait_for_function("window.intellimixer.state.map.history.length === 1", timeout=120_000)
        g = page.evaluate("window.intellimixer.state.map.generated[0]")
        assert (g["x"], g["y"]) == (pytest.approx(0.05, abs=1e-6), pytest.approx(-0.05, abs=1e-6))
        assert page.evaluate("location.hash").endswith("&local=1&fs=0")
    finally:
        ctx.close()


def test_invalid_link_uses_defaults_with_message(page, app_url, needs_numpy, fake_freesound):
    n_req = len(fake_freesound.requests)
    page.goto(app_url + "#q=&n=999&x=0&y=abc&px=nan&py=1&colour=red")
    page.evaluate("window.intellimixer.ready")
    state, msg = status(page)
    assert state == "warn" and "partly invalid" in msg
    for part in ("q:", "n:", "x:", "px:", "unknown field colour"):
        assert part in msg
    assert page.input_value("#query") == "footstep" and page.input_value("#count") == "20"
    assert page.get_attribute("body", "data-ready") == "1"
    assert len(fake_freesound.requests) == n_req
    # the app stays usable
    state, msg = query(page, "footstep", 3)
    assert state == "ready" and n_points(page) == 3, msg
    assert not page.errors


# --- local files by drag and drop --------------------------------------------------------------


def drop_files(page, files):
    """Drop ``files`` (paths, or (name, bytes) pairs) on the map like a file manager does."""
    payload = []
    for f in files:
        name, data = (f.name, f.read_bytes()) if isinstance(f, Path) else f
        payload.append({"name": name, "data": base64.b64encode(data).decode()})
    page.evaluate("""(files) => {
        const dt = new DataTransfer();
        for (const f of files) {
          const bin = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
          dt.items.add(new File([bin], f.name));
        }
        const pane = document.getElementById('map-pane');
        pane.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
        pane.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""", payload)


def test_drop_mixed_files_without_freesound(page, app_url, needs_numpy, fake_freesound):
    wav = sorted(DRUMKITS.glob("*/*.wav"))[0]
    flac = sorted(DRUMKITS.glob("*/*.flac"))[0]
    oga = sorted(FREEDESKTOP.glob("*.oga"))[:2]
    if not oga:
        pytest.skip("Debian package sound-theme-freedesktop is not installed")
    n_req = len(fake_freesound.requests)
    boot(page, app_url)  # no token, no query
    good = [wav, flac, *oga]
    drop_files(page, [*good, ("broken.wav", b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x07" * 40),
                      ("readme.txt", b"These are my drum samples.\n")])
    page.wait_for_function("document.body.dataset.job === 'adding local files' || document.getElementById('status').dataset.state !== 'busy'")
    state, msg = wait_idle(page, timeout=120_000)
    assert state == "warn", msg
    assert f"{len(good)} local files added" in msg and "2 failed" in msg
    assert "broken.wav" in msg and "readme.txt" in msg
    assert n_points(page) == len(good)
    names = sorted(p["name"] for p in page.evaluate("window.intellimixer.state.map.points"))
    assert names == sorted(p.name for p in good)
    assert len(fake_freesound.requests) == n_req, "local files need no Freesound"
    # a sound made from local files credits them as local files
    generate_at(page, *empty_spot(page), 1)
    _, text = download(page, "#download-credits")
    assert "(your local file)" in text.decode() and "[non-commercial]" not in text.decode()
    assert not page.is_visible("#generated-flags")
    assert not page.errors


def test_files_dropped_and_a_search_asked_for_while_starting_wait_for_ready(page, app_url, needs_numpy, fake_freesound):
    """What needs no Python works at once: files dropped and a search submitted while the app
    starts wait in a queue (the status says so) and run once it is ready."""
    wav = sorted(DRUMKITS.glob("*/*.wav"))[:2]
    page.goto(app_url)
    page.wait_for_function("() => window.intellimixer && document.getElementById('status').dataset.state === 'busy'")
    assert page.get_attribute("body", "data-ready") is None  # still starting
    drop_files(page, wav)
    page.fill("#query", "footstep")
    page.fill("#count", "3")
    page.fill("#token", TOKEN_OK)
    page.click("#go")
    log = page.inner_text("#status-log")
    assert "2 file(s) wait until the app is ready" in log and "“footstep” starts as soon as the app is ready" in log
    page.evaluate("window.intellimixer.ready")
    assert page.get_attribute("body", "data-ready") == "1"
    state, msg = wait_idle(page, timeout=120_000)
    assert state == "ready", msg
    origins = sorted(p["origin"] for p in page.evaluate("window.intellimixer.state.map.points"))
    assert origins.count("local") == 2 and len(origins) == 5, origins
