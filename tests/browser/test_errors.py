"""Every error case of issue 4 gives a clear status message, and the app keeps what it had.

One page is booted and loaded with sounds once per module; each case then runs on it and
checks the message *and* that the map, the model and the drop-downs are unchanged.
Needs numpy inside Pyodide (INTELLIMIXER_PYODIDE_PACKAGES).
"""
from __future__ import annotations

import contextlib
import json
import shutil

import pytest

from browser_util import boot, click_map, empty_spot, n_points, query, status, wait_idle

pytestmark = pytest.mark.usefixtures("needs_numpy")
N = 6


@pytest.fixture(scope="module")
def loaded(browser, app_url, needs_numpy_module):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.errors, page.dialogs = [], []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    boot(page, app_url)
    state, msg = query(page, "footstep", N)
    assert state == "ready" and n_points(page) == N, msg
    yield page
    ctx.close()


@pytest.fixture(scope="module")
def needs_numpy_module():
    from browser_util import NUMPY_WHEEL, packages_dir

    d = packages_dir()
    if d is None or not (d / NUMPY_WHEEL).is_file():
        pytest.skip("needs numpy inside Pyodide: set INTELLIMIXER_PYODIDE_PACKAGES (see DEVELOPERS.md)")


def snapshot(page):
    return {
        "points": page.evaluate("window.intellimixer.points().map(p => p.key)"),
        "model": page.inner_text("#model-name"),
        "x": page.eval_on_selector("#x-dim", "s => [...s.options].map(o => o.value)"),
        "query": page.evaluate("window.intellimixer.state.map.query"),
    }


def search_error(page, word, token, count=N):
    before = snapshot(page)
    state, msg = query(page, word, count, token)
    assert snapshot(page) == before, "a failed search changed what was loaded"
    return state, msg


@pytest.mark.parametrize("word,token,count,expect", [
    ("footstep", "invalid-token", N, "rejected the API token (401)"),
    ("footstep", "rate-limited", N, "rate limit reached (429). Try again in 37 s"),
    ("footstep", "network-down", N, "Could not reach Freesound"),
    ("nothing-at-all", "test-token", N, "No sounds found"),
    ("footstep", "", N, "Enter your Freesound API token"),
    ("   ", "test-token", N, "Type a keyword"),
    ("footstep", "test-token", 0, "from 1 to 150"),
    ("footstep", "test-token", 151, "from 1 to 150"),
    ("footstep", "test-token", "2.5", "from 1 to 150"),
])
def test_search_errors_keep_the_map(loaded, fake_freesound, word, token, count, expect):
    n_req = len(fake_freesound.requests)
    shown = loaded.evaluate("window.intellimixer.state.map.query")
    state, msg = search_error(loaded, word, token, count)
    # finding nothing is information (neutral), the rest are errors
    assert state == ("ready" if expect == "No sounds found" else "error"), msg
    assert expect in msg
    # the keyword box shows the keyword of the sounds the map still shows
    assert loaded.input_value("#query") == shown
    if expect.startswith(("Enter", "Type", "from")):
        assert len(fake_freesound.requests) == n_req, "invalid input must not reach Freesound"


def test_all_previews_broken_keeps_the_map(loaded):
    state, msg = search_error(loaded, "all-broken", "test-token", 6)
    assert state == "error"
    assert "None of the 6 sounds" in msg and "previous sounds stay" in msg
    assert "HTTP 404" in msg or "could not be decoded" in msg


def test_silent_previews_are_reported(loaded):
    state, msg = search_error(loaded, "silence", "test-token", 3)
    assert state == "error" and "silent" in msg


def test_html_in_names_is_shown_as_text(loaded):
    state, msg = query(loaded, "xss", 3, "test-token")
    assert state == "ready", msg
    pts = loaded.evaluate("window.intellimixer.points()")
    p = pts[0]
    assert p["name"] == "<img src=x onerror=alert(1)>"
    loaded.mouse.move(p["clientX"], p["clientY"])
    loaded.wait_for_selector("#tooltip", state="visible")
    assert loaded.inner_text("#tooltip-name") == "<img src=x onerror=alert(1)>"
    assert loaded.inner_text("#tooltip-user") == "by <b>bold</b>&amp;"
    loaded.mouse.click(p["clientX"], p["clientY"])
    loaded.wait_for_function("document.getElementById('source-info').textContent.includes('<img')")
    assert loaded.locator("img").count() == 0
    assert loaded.locator("#controls b, #tooltip b").count() == 0
    assert not loaded.dialogs and not loaded.errors
    # restore the footstep map for the remaining tests
    query(loaded, "footstep", N, "test-token")


def test_some_previews_broken_loads_the_rest(loaded):
    state, msg = query(loaded, "broken", 8, "test-token")
    assert state == "warn", msg
    n = n_points(loaded)
    assert 0 < n < 8
    assert f"{n} sounds" in msg and f"{8 - n} failed" in msg
    assert "HTTP 404" in msg or "could not be decoded" in msg
    query(loaded, "footstep", N, "test-token")
    assert n_points(loaded) == N


# --- model upload errors -------------------------------------------------------------------


def upload_error(page, files):
    before = snapshot(page)
    page.set_input_files("#model-files", [str(f) for f in files])
    page.wait_for_function("document.getElementById('status-message').textContent.startsWith('Model rejected')"
                           " || document.getElementById('status').dataset.state === 'ready'")
    state, msg = wait_idle(page)
    assert snapshot(page) == before, "a rejected model changed what was loaded"
    return state, msg


def test_upload_without_manifest(loaded, bundle_factory):
    b = bundle_factory("nomanifest", latent_dim=4)
    state, msg = upload_error(loaded, [b / "encoder.onnx", b / "decoder.onnx"])
    assert state == "error" and "no manifest" in msg


def test_upload_missing_onnx_file(loaded, bundle_factory):
    b = bundle_factory("missing-enc", latent_dim=4)
    state, msg = upload_error(loaded, [b / "manifest.json", b / "decoder.onnx"])
    assert state == "error" and "encoder.onnx" in msg and "Model rejected" in msg


def test_upload_wrong_latent_size(loaded, bundle_factory):
    b = bundle_factory("wrong-d", latent_dim=4, manifest_latent_dim=7)
    state, msg = upload_error(loaded, sorted(b.iterdir()))
    assert state == "error" and "Model rejected" in msg and ("latent" in msg), msg


def test_upload_wrong_shapes(loaded, bundle_factory):
    b = bundle_factory("wrong-frames", latent_dim=4, manifest_n_frames=64)
    state, msg = upload_error(loaded, sorted(b.iterdir()))
    assert state == "error" and "Model rejected" in msg and ("axis" in msg or "shape" in msg), msg


def test_upload_invalid_manifest(loaded, bundle_factory, tmp_path):
    b = bundle_factory("bad-json", latent_dim=4)
    bad = tmp_path / "bad"
    shutil.copytree(b, bad)
    (bad / "manifest.json").write_text("{not json")
    state, msg = upload_error(loaded, sorted(bad.iterdir()))
    assert state == "error" and "not valid JSON" in msg
    m = json.loads((b / "manifest.json").read_text())
    del m["sample_rate"]
    (bad / "manifest.json").write_text(json.dumps(m))
    state, msg = upload_error(loaded, sorted(bad.iterdir()))
    assert state == "error" and "sample_rate" in msg


def test_upload_corrupt_onnx(loaded, bundle_factory, tmp_path):
    b = bundle_factory("corrupt", latent_dim=4)
    bad = tmp_path / "corrupt"
    shutil.copytree(b, bad)
    (bad / "decoder.onnx").write_bytes(b"\x00garbage" * 100)
    state, msg = upload_error(loaded, sorted(bad.iterdir()))
    assert state == "error" and "decoder.onnx" in msg


def test_app_still_generates_after_errors(loaded):
    click_map(loaded, *empty_spot(loaded))
    state, msg = wait_idle(loaded)
    assert state == "ready" and "Generated sound" in msg, msg
    assert not loaded.errors


def test_click_before_sources(page, app_url):
    boot(page, app_url)
    click_map(page, 0.5, 0.5)
    state, msg = status(page)
    assert state == "warn" and "Load some sounds first" in msg
    assert page.get_attribute("#map", "data-generated") == "0"


def test_broken_default_model_then_upload_recovers(browser, vendor_built, fake_freesound, bundle_factory,
                                                    tmp_path, needs_numpy):
    broken = tmp_path / "broken-default"
    shutil.copytree(bundle_factory("for-broken-default", latent_dim=4), broken)
    (broken / "encoder.onnx").unlink()
    with _booted_with_default(browser, fake_freesound, needs_numpy, broken) as page:
        state, msg = status(page)
        assert state == "error" and msg.startswith("Default model not loaded") and "encoder.onnx" in msg, msg
        assert page.eval_on_selector("#x-dim", "s => s.options.length") == 0
        page.click("#go")
        assert "No model is loaded" in status(page)[1]
        _upload_good_model(page, bundle_factory, "recovery")
        state, msg = query(page, "footstep", 4)
        assert state == "ready" and n_points(page) == 4, msg


@contextlib.contextmanager
def _booted_with_default(browser, fake_freesound, needs_numpy, model_dir):
    """A page of an app served with ``model_dir`` as its default model, once it has booted."""
    from browser_util import Served

    s = Served(packages_dir=needs_numpy, freesound_url=fake_freesound.api_url, model_dir=model_dir)
    ctx = browser.new_context()
    page = ctx.new_page()
    try:
        page.goto(s.url)
        page.evaluate("window.intellimixer.ready")
        yield page
    finally:
        ctx.close()
        s.stop()


def _upload_good_model(page, bundle_factory, folder):
    """Upload a working 3-d bundle; the app is ready with it (3 dims + similarity 1, 2)."""
    good = bundle_factory(folder, latent_dim=3, name="recovered")
    page.set_input_files("#model-files", [str(p) for p in sorted(good.iterdir())])
    page.wait_for_function("document.getElementById('status').dataset.state === 'ready'")
    assert page.eval_on_selector("#x-dim", "s => s.options.length") == 3 + 2


def _decoder_doubling_frames(bundle):
    """Make the bundle's decoder give twice the frames its manifest says, in a way no shape
    inference can see (the repeat count is computed from the input's values), as the real
    default model's decoder declares its frames axis symbolic: only running it tells."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    path = bundle / "decoder.onnx"
    m = onnx.load(str(path))
    g = m.graph
    out = g.output[0]
    inner = out.name + "_once"
    for node in g.node:
        node.output[:] = [inner if o == out.name else o for o in node.output]
    g.node.extend([
        helper.make_node("Mul", ["z", "zero_f"], ["z0"]),
        helper.make_node("ReduceSum", ["z0"], ["z0sum"], keepdims=0),
        helper.make_node("Add", ["z0sum", "two_f"], ["k_f"]),
        helper.make_node("Cast", ["k_f"], ["k"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["k", "one_axis"], ["k1"]),
        helper.make_node("Concat", ["ones3", "k1"], ["repeats"], axis=0),
        helper.make_node("Tile", [inner, "repeats"], [out.name]),
    ])
    g.initializer.extend([numpy_helper.from_array(np.array(0.0, np.float32), "zero_f"),
                          numpy_helper.from_array(np.array(2.0, np.float32), "two_f"),
                          numpy_helper.from_array(np.array([1], np.int64), "one_axis"),
                          numpy_helper.from_array(np.array([1, 1, 1], np.int64), "ones3")])
    out.type.tensor_type.shape.dim[3].dim_param = "frames"
    onnx.checker.check_model(m)
    onnx.save(m, str(path))


def test_default_model_whose_decoder_gives_another_size_is_rejected(browser, vendor_built, fake_freesound,
                                                                     bundle_factory, tmp_path, needs_numpy):
    """The default model's smoke test reads the run the onnxruntime-web worker made while
    Pyodide booted (it is not run again): a decoder that gives 128 frames where the manifest
    says 64 is still refused, naming both sizes, and a model can still be loaded."""
    lying = tmp_path / "lying-default"
    shutil.copytree(bundle_factory("for-lying-default", latent_dim=4, n_frames=64), lying)
    _decoder_doubling_frames(lying)
    with _booted_with_default(browser, fake_freesound, needs_numpy, lying) as page:
        state, msg = status(page)
        assert state == "error" and msg.startswith("Default model not loaded"), msg
        assert "256x64" in msg and str(256 * 128) in msg, msg
        _upload_good_model(page, bundle_factory, "recovery-2")
