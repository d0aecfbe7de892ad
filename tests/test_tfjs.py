"""Import of TensorFlow.js Layers models (intellimixer.tfjs, the CLI's convert and --model):
models made and saved by TF.js itself (tests/js/make_tfjs_models.mjs, npm @tensorflow/tfjs in
node) convert to ONNX whose outputs equal TF.js's predict() within 1e-4 relative, for the
original app's architecture, both topology forms and the converter's quantised weights; every
bad input gets a message naming the file and the problem."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine_util import make_tfjs_models
from intellimixer import cli, tfjs
from intellimixer.model import load_manifest
from intellimixer.strings import msg

ROOT = Path(__file__).resolve().parents[1]
ort = pytest.importorskip("onnxruntime")
onnx_ml_pb2 = pytest.importorskip("onnx.onnx_ml_pb2")
CASES = ["original", "small", "uint8", "uint16", "float16"]


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    return make_tfjs_models(tmp_path_factory.mktemp("tfjs"))


def files_of(folder: Path, flat: bool = False) -> dict[str, bytes]:
    return {(p.name if flat else p.relative_to(folder).as_posix()): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "expected.json"}


def run(onnx_bytes: bytes, x: np.ndarray) -> dict[str, np.ndarray]:
    s = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in s.get_outputs()], s.run(None, {s.get_inputs()[0].name: x})))


@pytest.mark.parametrize("case", CASES)
def test_converted_models_compute_what_tfjs_computes(made, case):
    bundle, said = tfjs.convert(files_of(made / case), onnx_ml_pb2)
    expected = json.loads((made / case / "expected.json").read_text())
    m = load_manifest(bundle["manifest.json"])
    e = expected["encoder"]
    x = np.array(e["input"]["data"], np.float32).reshape(e["input"]["shape"])  # NHWC, one channel
    got = run(bundle["encoder.onnx"], x.transpose(0, 3, 1, 2))  # the app's [batch, 1, bins, frames]
    for out in e["outputs"]:
        want = np.array(out["data"], np.float32).reshape(out["shape"])
        mine = got["logvar" if "log" in out["name"] else "mu"]
        np.testing.assert_allclose(mine, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    d = expected["decoder"]
    z = np.array(d["input"]["data"], np.float32).reshape(d["input"]["shape"])
    want = np.array(d["outputs"][0]["data"], np.float32).reshape(d["outputs"][0]["shape"])
    mine = run(bundle["decoder.onnx"], z)["spectrogram"]
    assert mine.shape == (want.shape[0], 1, want.shape[1], want.shape[2])
    np.testing.assert_allclose(mine.transpose(0, 2, 3, 1), want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    assert m.latent_dim == z.shape[1] and (m.stft.n_bins, m.stft.n_frames) == want.shape[1:3]
    if case == "original":  # the preset, as the original app's code meant it
        assert (m.sample_rate, m.stft.n_fft, m.stft.hop_length, m.stft.n_bins, m.stft.n_frames) == (22050, 512, 248, 256, 64)
        assert (m.representation.db_min, m.representation.db_max) == (-100.0, 0.0)
        assert said == msg("tfjs_assumed", sr=22050, seconds="0.720", n_fft=512, hop=248, bins=256, frames=64, dims=4,
                           db_min=-100.0, db_max=0.0)


def test_all_files_at_once_without_folders_load_too(made):
    # the original app's six files dropped flat (its model.json files are told apart by name
    # on disk, so one is renamed here as a user's download would be)
    files = files_of(made / "original")
    flat = {("encoder.json" if k == "encoder_model/model.json" else k.rsplit("/", 1)[1]): v for k, v in files.items()}
    assert len(flat) == len(files) == 6
    bundle, _ = tfjs.convert(flat, onnx_ml_pb2)
    assert load_manifest(bundle["manifest.json"]).latent_dim == 4


def test_two_models_whose_shards_share_names_do_not_collide(made):
    files = files_of(made / "small")
    names = [k.rsplit("/", 1)[1] for k in files if k.endswith(".bin")]
    assert len(names) != len(set(names)), "both models have group1-shard1of1.bin"
    bundle, _ = tfjs.convert(files, onnx_ml_pb2)  # each model's shards are found beside it
    assert load_manifest(bundle["manifest.json"]).latent_dim == 3


def test_encoder_and_decoder_are_told_apart_by_topology_not_names(made):
    files = {k.replace("encoder_model", "b").replace("decoder_model", "a"): v for k, v in files_of(made / "small").items()}
    bundle, _ = tfjs.convert(files, onnx_ml_pb2)
    assert run(bundle["encoder.onnx"], np.zeros((1, 1, 32, 16), np.float32))["mu"].shape == (1, 3)


def test_a_manifest_in_the_drop_overrides_the_preset(made):
    files = files_of(made / "small")
    files["settings.json"] = json.dumps({"sample_rate": 16000, "representation": {"db_min": -80.0}}).encode()
    bundle, said = tfjs.convert(files, onnx_ml_pb2)
    m = load_manifest(bundle["manifest.json"])
    assert m.sample_rate == 16000 and m.representation.db_min == -80.0 and m.representation.db_max == 0.0
    assert said.startswith("Imported a TensorFlow.js model with the manifest dropped beside it: 16000 Hz")


def _model_json(files, role="encoder_model"):
    return json.loads(files[f"{role}/model.json"])


def test_bad_inputs_name_the_file_and_the_problem(made):
    good = files_of(made / "small")

    def fails(files, key, **kw):
        with pytest.raises(tfjs.TfjsError) as exc:
            tfjs.convert(files, onnx_ml_pb2)
        assert str(exc.value) == msg(key, **kw), str(exc.value)

    # a missing shard, a short one, a weight whose bytes disagree with its shape
    missing = {k: v for k, v in good.items() if k != "decoder_model/group1-shard1of1.bin"}
    fails(missing, "tfjs_missing_shard", model="decoder_model/model.json", shard="group1-shard1of1.bin")
    short = {**good, "decoder_model/group1-shard1of1.bin": good["decoder_model/group1-shard1of1.bin"][:-8]}
    with pytest.raises(tfjs.TfjsError) as exc:
        tfjs.convert(short, onnx_ml_pb2)
    assert str(exc.value).startswith("decoder_model/model.json: the weight files group1-shard1of1.bin hold")
    assert "a shard is missing or cut short" in str(exc.value)
    longer = {**good, "decoder_model/group1-shard1of1.bin": good["decoder_model/group1-shard1of1.bin"] + b"\0" * 4}
    n = len(longer["decoder_model/group1-shard1of1.bin"])
    fails(longer, "tfjs_size_mismatch", model="decoder_model/model.json", shards="group1-shard1of1.bin", need=n - 4, have=n)
    # an unsupported layer
    data = _model_json(good)
    data["modelTopology"]["config"]["layers"][2]["class_name"] = "SeparableConv2D"
    fails({**good, "encoder_model/model.json": json.dumps(data).encode()}, "tfjs_unsupported",
          model="encoder_model/model.json", layer="leaky", cls="SeparableConv2D")
    # a graph model
    graph = {"format": "graph-model", "modelTopology": {"node": []}, "weightsManifest": []}
    fails({**good, "encoder_model/model.json": json.dumps(graph).encode()}, "tfjs_graph_model", model="encoder_model/model.json")
    # two halves that are not a pair (latent 3 vs 4)
    other = files_of(made / "original")
    pair = {**{k: v for k, v in good.items() if k.startswith("encoder_model/")},
            **{k: v for k, v in other.items() if k.startswith("decoder_model/")}}
    fails(pair, "tfjs_latent_mismatch", encoder="encoder_model/model.json", d_enc=3, decoder="decoder_model/model.json", d_dec=4)
    # one half only
    enc_only = {k: v for k, v in good.items() if k.startswith("encoder_model/")}
    fails(enc_only, "tfjs_missing_role", role=msg("tfjs_decoder"), found="encoder_model/model.json")


def test_cli_convert_and_model_folder(made, tmp_path, capsys):
    out = tmp_path / "bundle"
    assert cli.main(["convert", str(made / "original"), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["decoder.onnx", "encoder.onnx", "manifest.json"]
    assert "256 bins × 64 frames" in capsys.readouterr().out
    wav = tmp_path / "a.wav"
    sounds = sorted(Path("/usr/share/sounds/freedesktop/stereo").glob("*.oga"))[:3]
    if len(sounds) < 2:
        pytest.skip("needs Debian's sound-theme-freedesktop")
    # --model takes the TF.js folder as it is
    assert cli.main(["generate", *map(str, sounds), "--model", str(made / "original"), "--point", "0", "0",
                     "-o", str(wav), "-q"]) == 0
    from intellimixer import audio

    y, sr = audio.read_wav(wav.read_bytes())
    assert sr == 22050 and y.shape[0] == 64 * 248 and np.abs(y).max() > 0
    assert cli.main(["convert", str(made / "small" / "encoder_model"), "-o", str(tmp_path / "x")]) == 2
    assert msg("tfjs_missing_role", role=msg("tfjs_decoder"), found="model.json") in capsys.readouterr().err


def test_the_page_names_tfjs_files_and_says_what_to_do(made):
    from engine_util import run as run_async
    from intellimixer.backends import open_native
    from intellimixer.rules import AppError
    from intellimixer.service import Service

    svc = Service({}, open_backend=open_native)
    files = files_of(made / "small")
    with pytest.raises(AppError) as exc:
        run_async(svc.load_model_files(files))
    assert str(exc.value) == msg("tfjs_in_browser", files="decoder_model/model.json, encoder_model/model.json")
    assert svc.session.manifest is None  # nothing was replaced


def test_the_page_converts_tfjs_files_through_the_protocol(made):
    from engine_util import run as run_async
    from intellimixer import protocol
    from intellimixer.backends import open_native
    from intellimixer.service import Service

    async def pb():
        return onnx_ml_pb2

    svc = Service({}, open_backend=open_native, onnx_pb=pb)
    # as a folder picker gives them: paths under the picked folder
    files = {f"models/{k}": v for k, v in files_of(made / "original").items()}
    reply = protocol.check_reply("load_model_files", run_async(svc.load_model_files(files)))
    assert reply["model"]["latent_dim"] == 4 and reply["model"]["sample_rate"] == 22050
    assert reply["message"].startswith(msg("tfjs_assumed", sr=22050, seconds="0.720", n_fft=512, hop=248, bins=256,
                                           frames=64, dims=4, db_min=-100.0, db_max=0.0))
    assert msg("model_loaded", name="original-intellimixer", dims=4) in reply["message"]
    # a bad pair keeps the model that is there
    with pytest.raises(tfjs.TfjsError):
        run_async(svc.load_model_files({k: v for k, v in files.items() if "decoder_model/" not in k}))
    assert svc.session.manifest.name == "original-intellimixer"
