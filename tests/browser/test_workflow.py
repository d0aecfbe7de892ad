"""The seed workflow in headless Chromium: boot, query, map, generate, download, model swap.

Needs numpy inside Pyodide (INTELLIMIXER_PYODIDE_PACKAGES); skips with the reason otherwise.
"""
from __future__ import annotations

import io
import json
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from browser_util import blob_bytes, boot, click_map, empty_spot, n_points, query, status, wait_idle

pytestmark = pytest.mark.usefixtures("needs_numpy")


def parse_wav(data: bytes):
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", data[:16]
    with wave.open(io.BytesIO(data)) as w:
        n, sr, ch, width = w.getnframes(), w.getframerate(), w.getnchannels(), w.getsampwidth()
        x = np.frombuffer(w.readframes(n), "<i2").astype(np.float32) / 32768
    return x, sr, ch, width


def manifest(path: Path) -> dict:
    return json.loads((path / "manifest.json").read_text())


def test_boot_to_ready(page, app_url, default_model):
    t = time.perf_counter()
    state, msg = boot(page, app_url)
    took = time.perf_counter() - t
    assert state == "ready" and msg.startswith("Ready"), msg
    m = manifest(default_model)
    assert page.inner_text("#model-name").startswith(m["name"])
    assert f"{m['latent_dim']} dims" in page.inner_text("#model-name")
    timings = page.evaluate("window.intellimixer.timings")
    assert 0 < timings["python"] < timings["runtimes"] < timings["model"] <= timings["ready"]
    assert took < 30, f"boot took {took:.1f} s"
    assert page.evaluate("crossOriginIsolated") is True
    # the standard library came as the build's bytecode (intellimixer.precompiled), Pyodide's start included:
    # one compiled from source means the build's list misses it
    assert page.evaluate("window.intellimixer.booted.stdlib_compiled") == []
    print(f"\nboot to ready: {took:.2f} s; timings (ms): {timings}")
    assert not page.errors


def test_dropdowns_hold_latent_dims(page, app_url, default_model):
    boot(page, app_url)
    m = manifest(default_model)
    d = m["latent_dim"]
    for sel, default in (("#x-dim", m["dims"][0]["index"]), ("#y-dim", m["dims"][1]["index"])):
        values = page.eval_on_selector(sel, "s => [...s.options].map(o => Number(o.value))")
        assert sorted(values) == list(range(d + 2))  # the dims, then the two similarity axes
        assert page.input_value(sel) == str(default)
        assert not page.is_disabled(sel)
    labels = page.eval_on_selector("#x-dim", "s => [...s.options].map(o => o.textContent)")
    assert labels[0].startswith(m["dims"][0]["label"])


def test_query_gives_n_points_with_hover_and_play(page, app_url, fake_freesound):
    boot(page, app_url)
    n_before = len(fake_freesound.requests)
    state, msg = query(page, "footstep", 9)
    assert state == "ready", msg
    assert n_points(page) == 9
    assert "9 sounds" in msg
    req = fake_freesound.requests[n_before]
    assert req["query"] == "footstep" and req["page_size"] == "9"
    assert {"id", "name", "username", "license", "previews", "duration"} <= set(req["fields"].split(","))
    assert "duration:[0 TO 5]" in req["filter"]
    pts = page.evaluate("window.intellimixer.points()")
    assert len(pts) == 9
    # hover shows name, author, licence
    p = pts[3]
    page.mouse.move(p["clientX"], p["clientY"])
    page.wait_for_selector("#tooltip", state="visible")
    assert page.inner_text("#tooltip-name") == p["name"]
    assert p["username"] in page.inner_text("#tooltip-user")
    assert page.inner_text("#tooltip-licence") == p["license_name"] and p["license_name"]
    # click on a point plays that source
    page.mouse.click(p["clientX"], p["clientY"])
    page.wait_for_function("document.getElementById('source-audio').src.startsWith('blob:')")
    assert p["name"] in page.inner_text("#source-info")
    src = blob_bytes(page, "#source-audio")
    assert len(src) > 1000
    assert page.get_attribute("#map", "data-generated") == "0"  # a point click does not generate


def test_click_generates_audio_of_model_duration_and_download(page, app_url, default_model):
    boot(page, app_url)
    m = manifest(default_model)
    query(page, "footstep", 8)
    nx, ny = empty_spot(page)
    t = time.perf_counter()
    click_map(page, nx, ny)
    page.wait_for_function("document.getElementById('generated-audio').src.startsWith('blob:')")
    state, msg = wait_idle(page)
    took = time.perf_counter() - t
    assert state == "ready" and "Generated sound #1" in msg, msg
    assert page.get_attribute("#map", "data-generated") == "1"
    x, sr, ch, width = parse_wav(blob_bytes(page, "#generated-audio"))
    assert (sr, ch, width) == (m["sample_rate"], 1, 2)
    assert x.size == m["n_samples"]
    rms = float(np.sqrt(np.mean(x**2)))
    assert rms > 0.005, f"generated audio is silent (rms {rms})"
    assert np.abs(x).max() > 0.5  # peak-normalised
    dur = page.evaluate("""() => new Promise(res => { const a = document.getElementById('generated-audio');
        if (a.readyState >= 1) res(a.duration); else a.addEventListener('loadedmetadata', () => res(a.duration)); })""")
    assert dur == pytest.approx(m["n_samples"] / m["sample_rate"], abs=0.01)
    # download: a valid WAV named after the query and the coordinates
    assert page.is_visible("#download")
    with page.expect_download() as dl:
        page.click("#download")
    d = dl.value
    assert d.suggested_filename.startswith("footstep_dim1_") and "_dim2_" in d.suggested_filename
    assert d.suggested_filename.endswith(".wav")
    y, sr2, _, _ = parse_wav(Path(d.path()).read_bytes())
    assert sr2 == m["sample_rate"] and np.array_equal(x, y)
    print(f"\nclick -> playable audio: {took * 1000:.0f} ms (incl. Playwright polling)")
    # another click elsewhere makes another, different sound
    click_map(page, *empty_spot(page, avoid=(nx, ny)))
    wait_idle(page)
    assert page.get_attribute("#map", "data-generated") == "2"
    x2, _, _, _ = parse_wav(blob_bytes(page, "#generated-audio"))
    assert not np.array_equal(x, x2)


def test_changing_dims_moves_points(page, app_url):
    boot(page, app_url)
    query(page, "footstep", 6)
    before = page.evaluate("window.intellimixer.points()")
    page.select_option("#x-dim", "2")
    page.wait_for_function("window.intellimixer.state.map.dims[0] === 2")
    after = page.evaluate("window.intellimixer.points()")
    assert len(after) == 6
    assert [p["clientX"] for p in before] != [p["clientX"] for p in after]
    assert "dim 3" in page.evaluate("window.intellimixer.state.map.labels[0]")
    # the same dim on both axes is warned about, and the warning goes when its cause does
    page.select_option("#y-dim", "2")
    page.wait_for_function("window.intellimixer.state.map.dims[1] === 2")
    state, msg = status(page)
    assert state == "warn" and "diagonal line" in msg
    page.select_option("#y-dim", "1")
    page.wait_for_function("window.intellimixer.state.map.dims[1] === 1")
    state, msg = status(page)
    labels = page.evaluate("window.intellimixer.state.map.labels")
    assert state == "ready" and msg == f"The map shows {labels[0]} across and {labels[1]} up.", msg


def upload(page, folder: Path, names=None):
    files = [str(p) for p in sorted(folder.iterdir()) if names is None or p.name in names]
    page.set_input_files("#model-files", files)
    page.wait_for_function("document.body.dataset.job === 'loading a model' || document.getElementById('status').dataset.state !== 'busy'")
    return wait_idle(page)


def test_upload_second_bundle_with_other_latent_size(page, app_url, bundle_factory, default_model):
    boot(page, app_url)
    query(page, "footstep", 6)
    b5 = bundle_factory("upload-d5", latent_dim=5, external_data=True, name="five")
    state, msg = upload(page, b5)
    assert state == "ready", msg
    assert "5 dims" in msg
    values = page.eval_on_selector("#x-dim", "s => [...s.options].map(o => o.value)")
    assert values == [str(k) for k in range(5 + 2)]  # the dims, then the two similarity axes
    assert page.eval_on_selector("#y-dim", "s => s.options.length") == 5 + 2
    assert page.input_value("#x-dim") == "0" and page.input_value("#y-dim") == "1"
    assert page.inner_text("#model-name").startswith("five")
    # the sounds already loaded are re-encoded with the new model and stay on the map
    assert n_points(page) == 6
    click_map(page, *empty_spot(page))
    state, msg = wait_idle(page)
    assert state == "ready", msg
    x, sr, _, _ = parse_wav(blob_bytes(page, "#generated-audio"))
    assert x.size == manifest(b5)["n_samples"]


FREEDESKTOP = Path("/usr/share/sounds/freedesktop/stereo")


def test_local_files_join_the_map_with_per_file_errors(page, app_url, tmp_path):
    from fake_freesound import DRUMKITS

    wavs = sorted(DRUMKITS.glob("*/*.wav"))[:2]
    ogas = sorted(FREEDESKTOP.glob("*.oga"))[:1]
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage" * 4)
    text = tmp_path / "notes.txt"
    text.write_text("not audio")
    boot(page, app_url)
    query(page, "footstep", 4)
    page.set_input_files("#local-files", [str(p) for p in wavs + ogas] + [str(corrupt), str(text)])
    page.wait_for_function("document.body.dataset.job === 'adding local files' || document.getElementById('status').dataset.state !== 'busy'")
    state, msg = wait_idle(page)
    ok = len(wavs) + len(ogas)
    assert state == "warn", msg
    assert f"{ok} local files added" in msg and "2 failed" in msg and "corrupt.wav" in msg and "notes.txt" in msg
    assert n_points(page) == 4 + ok
    origins = page.evaluate("window.intellimixer.state.map.points.map(p => p.origin)")
    assert origins.count("local") == ok
    # a local point plays its own file
    local = [p for p in page.evaluate("window.intellimixer.points()") if p["name"] == wavs[0].name][0]
    page.mouse.click(local["clientX"], local["clientY"])
    page.wait_for_function("document.getElementById('source-audio').src.startsWith('blob:')")
    assert blob_bytes(page, "#source-audio") == wavs[0].read_bytes()


@pytest.fixture(scope="module")
def app_url_plain(vendor_built, fake_freesound, default_model):
    """Served without COOP/COEP, like plain static hosting (no threads, no SharedArrayBuffer)."""
    from browser_util import Served, packages_dir

    s = Served(packages_dir=packages_dir(), freesound_url=fake_freesound.api_url, model_dir=default_model,
               isolate=False)
    yield s.url
    s.stop()


def test_works_without_cross_origin_isolation(page, app_url_plain):
    boot(page, app_url_plain)
    assert page.evaluate("crossOriginIsolated") is False
    state, msg = query(page, "footstep", 5)
    assert state == "ready" and n_points(page) == 5, msg
    click_map(page, *empty_spot(page))
    state, msg = wait_idle(page)
    assert state == "ready" and "Generated sound #1" in msg, msg
    x, _, _, _ = parse_wav(blob_bytes(page, "#generated-audio"))
    assert np.sqrt(np.mean(x**2)) > 0.005


def test_main_thread_never_blocks_while_python_works(page, app_url):
    """Heavy work runs in the worker: no main-thread task over 200 ms while 30 sounds are
    fetched, decoded and encoded and 3 sounds are generated (Long Tasks API)."""
    boot(page, app_url)
    page.evaluate("""window.__long = [];
        new PerformanceObserver(l => { for (const e of l.getEntries()) window.__long.push(e.duration); })
          .observe({type: 'longtask'});""")
    state, msg = query(page, "footstep", 30)
    assert state == "ready" and n_points(page) == 30, msg
    spot = None
    for k in range(3):
        spot = empty_spot(page, avoid=spot)
        click_map(page, *spot)
        page.wait_for_function(f"window.intellimixer.state.map.generated.length === {k + 1}")
        wait_idle(page)
    long = page.evaluate("window.__long")
    assert all(d < 200 for d in long), f"main thread blocked: {sorted(long)[-5:]} ms"
