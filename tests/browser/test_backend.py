"""Where the model runs: WebAssembly first, then WebGPU or WebGL where present and chosen
(``py/worker.py`` ``tune_backend``, config ``onnx_backend`` or the page's ``?backend=``).

The test browser runs with ``--disable-gpu``: it has no WebGPU adapter, and WebGL 2 only in
software where Chromium provides it. So these tests check the choice and every fallback, and
run a whole click on WebGL with a bundle that its backend can load.
Needs numpy inside Pyodide (INTELLIMIXER_PYODIDE_PACKAGES); skips with the reason otherwise.
"""
from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from browser_util import blob_bytes, boot, click_map, empty_spot, query, wait_idle

pytestmark = pytest.mark.usefixtures("needs_numpy")

NAMES = {"wasm": "WebAssembly", "webgpu": "WebGPU", "webgl": "WebGL"}


def backend_result(page, timeout=120_000) -> dict:
    """The outcome of the worker's backend check for the model loaded last."""
    page.wait_for_function("() => window.intellimixer.state.backend", timeout=timeout)
    r = page.evaluate("window.intellimixer.state.backend")
    assert r["ok"], r
    assert page.inner_text("#model-backend") == NAMES[r["backend"]]
    return r


def generated_samples(page) -> np.ndarray:
    with wave.open(io.BytesIO(blob_bytes(page, "#generated-audio"))) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768


def click_and_listen(page) -> np.ndarray:
    click_map(page, *empty_spot(page))
    state, msg = wait_idle(page)
    assert state == "ready" and "Generated sound" in msg, msg
    return generated_samples(page)


def test_auto_keeps_webassembly_without_a_gpu(page, app_url):
    boot(page, app_url)
    r = backend_result(page)
    assert r["requested"] == "auto"
    if r["backend"] == "wasm":  # no WebGPU adapter here: nothing else is even downloaded
        assert "WebGPU is not available" in r["note"] and r["decode_ms"] == {}
    # the check never takes over the status panel
    assert page.get_attribute("#status", "data-state") == "ready"
    query(page, "footstep", 4)
    x = click_and_listen(page)
    assert np.sqrt(np.mean(x**2)) > 0.01


def test_named_wasm_skips_the_check(page, app_url):
    boot(page, app_url + "?backend=wasm")
    r = backend_result(page)
    assert (r["requested"], r["backend"]) == ("wasm", "wasm") and "as configured" in r["note"]


def test_named_webgpu_without_an_adapter_says_so_and_keeps_working(page, app_url):
    boot(page, app_url + "?backend=webgpu")
    r = backend_result(page)
    if r["backend"] == "webgpu":
        pytest.skip("this browser has a WebGPU adapter")
    assert r["backend"] == "wasm" and "WebGPU is not available" in r["note"]
    state, msg = wait_idle(page)
    assert state == "warn" and "WebGPU is not available" in msg and "WebAssembly" in msg, msg
    query(page, "footstep", 4)
    assert np.sqrt(np.mean(click_and_listen(page) ** 2)) > 0.01


def test_named_webgl_falls_back_for_a_model_it_cannot_load_and_runs_one_it_can(page, app_url, bundle_factory):
    boot(page, app_url + "?backend=webgl")
    r = backend_result(page)
    if "WebGL 2 is not available" in r["note"]:
        pytest.skip("no WebGL 2 in this browser")
    # the default model's graphs hold int64 tensors, which the WebGL backend lacks
    assert r["backend"] == "wasm" and "WebGL could not run this model" in r["note"], r
    query(page, "footstep", 4)
    # a bundle without int64 tensors: the decoder moves to WebGL (named, so kept even if slower)
    b = bundle_factory("webgl-ok", latent_dim=4, webgl=True, name="glsafe")
    page.set_input_files("#model-files", [str(p) for p in sorted(b.iterdir())])
    page.wait_for_function("() => window.intellimixer.state.model && window.intellimixer.state.model.name === 'glsafe'"
                           " && window.intellimixer.state.backend", timeout=120_000)
    r = backend_result(page)
    assert r["backend"] == "webgl", r["note"]
    assert set(r["decode_ms"]) == {"webgl", "wasm"} and all(v > 0 for v in r["decode_ms"].values())
    assert "runs on WebGL" in r["note"]
    wait_idle(page)
    # a click now decodes on WebGL; the sound is the tiny model's (non-silent, right length)
    x = click_and_listen(page)
    assert x.size == 16384 and np.sqrt(np.mean(x**2)) > 0.01
    assert not page.errors
