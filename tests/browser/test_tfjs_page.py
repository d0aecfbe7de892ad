"""TensorFlow.js models picked in the page (a folder holding the encoder and the decoder, as
the original app's repository has them) are converted in the worker and loaded like any
bundle: the map fills again and a click makes a sound; bad models are named and the model in
use stays. Needs numpy and protobuf for Pyodide in INTELLIMIXER_PYODIDE_PACKAGES (the
protobuf wheel of Pyodide's version: its own or PyPI's pure-Python one, see DEVELOPERS.md)."""
from __future__ import annotations

import json
import shutil

import pytest

from browser_util import ROOT, boot, make_sound, packages_dir, query, status, wait_idle
from engine_util import make_tfjs_models
from intellimixer.strings import msg


@pytest.fixture(scope="module")
def tfjs_models(tmp_path_factory):
    runtime = json.loads((ROOT / "static" / "vendor" / "runtime.json").read_text())
    if not runtime.get("onnx_pb2"):
        pytest.skip("the static build has no ONNX protobuf module (scripts/setup.sh fetches it from PyPI)")
    base = packages_dir()
    if not base or not list(base.glob("protobuf-*.whl")):
        pytest.skip("needs protobuf for Pyodide in INTELLIMIXER_PYODIDE_PACKAGES (see DEVELOPERS.md)")
    out = make_tfjs_models(tmp_path_factory.mktemp("tfjs-page"))
    for case in out.iterdir():
        (case / "expected.json").unlink()
    return out


def test_original_app_models_load_from_a_folder_and_make_sounds(page, app_url, needs_numpy, tfjs_models):
    boot(page, app_url)
    assert query(page, "footstep", 8)[0] == "ready"
    page.set_input_files("#model-folder", str(tfjs_models / "original"))
    page.wait_for_function("window.intellimixer.state.model?.name === 'original-intellimixer'", timeout=120_000)
    state, text = wait_idle(page, timeout=120_000)
    assert state == "ready", text
    assert text.startswith(msg("tfjs_assumed", sr=22050, seconds="0.720", n_fft=512, hop=248, bins=256, frames=64,
                               dims=4, db_min=-100.0, db_max=0.0))
    assert page.evaluate("window.intellimixer.state.model.latent_dim") == 4
    assert page.get_attribute("#map", "data-points") == "8"  # the sources, encoded by the new model
    entry = make_sound(page, 1)
    assert entry["on_map"] and page.evaluate("window.intellimixer.state.model.n_samples") == 64 * 248
    assert not page.errors


def test_bad_tfjs_models_are_named_and_the_model_stays(page, app_url, needs_numpy, tfjs_models, tmp_path):
    boot(page, app_url)
    assert query(page, "footstep", 6)[0] == "ready"
    before = page.evaluate("window.intellimixer.state.model.name")
    half = tmp_path / "half"
    shutil.copytree(tfjs_models / "small" / "encoder_model", half / "encoder_model")
    page.set_input_files("#model-folder", str(half))
    wait_idle(page, timeout=120_000)
    assert status(page) == ("error", msg("tfjs_missing_role", role=msg("tfjs_decoder"), found="half/encoder_model/model.json"))
    short = tmp_path / "short"
    shutil.copytree(tfjs_models / "small", short)
    shard = short / "decoder_model" / "group1-shard1of1.bin"
    shard.write_bytes(shard.read_bytes()[:-8])
    page.set_input_files("#model-folder", str(short))
    wait_idle(page, timeout=120_000)
    state, text = status(page)
    assert state == "error" and text.startswith("short/decoder_model/model.json: the weight files group1-shard1of1.bin hold")
    assert page.evaluate("window.intellimixer.state.model.name") == before
    assert page.get_attribute("#map", "data-points") == "6"  # the map stays
    assert not page.errors


def test_all_six_files_dropped_at_once_on_the_map_load(page, app_url, needs_numpy, tfjs_models):
    """The original app's six files dropped together (no folders; its encoder's model.json
    saved under another name, as two files of one name cannot sit side by side)."""
    src = tfjs_models / "original"
    files = {("encoder.json" if p.parent.name == "encoder_model" and p.name == "model.json" else p.name): p
             for p in sorted(src.rglob("*")) if p.is_file()}
    assert len(files) == 6
    page.route("**/dropped/*", lambda route: route.fulfill(body=files[route.request.url.rsplit("/", 1)[1]].read_bytes()))
    boot(page, app_url)
    page.evaluate("""async (names) => {
        const dt = new DataTransfer();
        for (const name of names) dt.items.add(new File([await (await fetch('dropped/' + name)).arrayBuffer()], name));
        document.getElementById('map-pane').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }""", list(files))
    page.wait_for_function("window.intellimixer.state.model?.name === 'original-intellimixer'", timeout=120_000)
    assert wait_idle(page, timeout=120_000)[0] == "ready"
    assert query(page, "footstep", 6)[0] == "ready"
    assert make_sound(page, 1)["on_map"]
