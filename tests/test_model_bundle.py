"""The committed default model bundle (models/default): format, ONNX I/O, size, dim order and
reconstruction quality on held-out real sounds.  Needs onnxruntime (not torch)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

ort = pytest.importorskip("onnxruntime")

from intellimixer.model import NativeModel, check_bundle_files, load_manifest  # noqa: E402
from intellimixer.spectral import Representation, StftParams  # noqa: E402
from intellimixer.training import cli as train_cli  # noqa: E402
from intellimixer.training import corpus, evaluate  # noqa: E402
from intellimixer.training import format as fmt  # noqa: E402
from intellimixer.training import vae as vae_lib  # noqa: E402

BUNDLE = ROOT / "models" / "default"
MAX_BUNDLE_BYTES = 5 * 1024 * 1024

# Held-out bounds (dB, mean over the held-out files CI has: the manifest's training.held_out
# files of hydrogen-drumkits and sound-theme-freedesktop, 203 real sounds: two whole drum kits,
# the freedesktop dialog / channel sounds, 5 % of the other instrument groups). Measured for
# the committed bundle (`python build_onnx.py --eval-only` gives the figures on every held-out file):
#   LSD(S, decoder(mu))                          = 3.38 dB
#   LSD(S, analyze(synthesize(decoder(mu))))     = 3.79 dB   (phase reconstruction alone: 1.00 dB)
#   round trip on the yardstick                  = 6.83 dB   (Griffin-Lim alone: 2.32 dB)
#   decoded peak against the input's, median     = -0.00 dB
# The bounds leave a modest margin (~15 %) for float/BLAS differences between machines.
MAX_MEAN_LSD_RECON_DB = 3.9
MAX_MEAN_LSD_PHASE_DB = 4.4
MAX_ROUND_TRIP_LSD_DB = 7.8  # the yardstick (intellimixer.quality), encode -> decode -> render vs the file
MAX_PEAK_DELTA_DB = 3.0  # median decoded loudest bin against the input's (issue 12: within +-3 dB)
# Ops that onnxruntime-web's WASM backend runs; the exported graphs must use only these.
WASM_SAFE_OPS = {
    "Conv", "ConvTranspose", "Relu", "LeakyRelu", "Gemm", "MatMul", "Add", "Mul", "Sigmoid",
    "Reshape", "Flatten", "Slice", "Constant", "Shape", "Gather", "Unsqueeze", "Concat", "Split",
    "ReduceMax", "Clip", "Sub", "Div", "Max", "Min",
}


@pytest.fixture(scope="module")
def manifest():
    return load_manifest(BUNDLE)


def _io(sess):
    return ({t.name: t.shape for t in sess.get_inputs()}, {t.name: t.shape for t in sess.get_outputs()})


def test_manifest_validates_and_matches_the_format(manifest):
    check_bundle_files(manifest, [p.name for p in BUNDLE.iterdir()])
    assert manifest.name == "default"
    assert manifest.sample_rate == fmt.SAMPLE_RATE >= 22050
    assert manifest.n_samples == fmt.N_SAMPLES and manifest.duration >= 1.5
    assert manifest.stft == StftParams(n_fft=512, hop_length=128, window="hann", center=True, n_bins=256,
                                       n_frames=fmt.STFT["n_frames"])
    assert manifest.representation == Representation(type="log_magnitude", db_min=-80.0, db_max=0.0)
    assert 8 <= manifest.latent_dim <= 32
    assert manifest.license and manifest.credits
    # every training package is credited with its licence and file count
    packages = manifest.extra["training"]["packages"]
    for name, info in packages.items():
        assert name in manifest.credits and info["licence"] in manifest.credits and f"{info['files']} files" in manifest.credits
    assert not set(packages) & set(corpus.HELD_OUT_PACKAGES)


def test_onnx_files_have_the_manifest_names_and_shapes(manifest):
    d, (n_bins, n_frames) = manifest.latent_dim, manifest.input_shape
    enc = ort.InferenceSession(str(BUNDLE / manifest.encoder["file"]), providers=["CPUExecutionProvider"])
    dec = ort.InferenceSession(str(BUNDLE / manifest.decoder["file"]), providers=["CPUExecutionProvider"])
    enc_in, enc_out = _io(enc)
    dec_in, dec_out = _io(dec)
    assert list(enc_in) == ["spectrogram"] and enc_in["spectrogram"][1:] == [1, n_bins, n_frames]
    assert sorted(enc_out) == ["logvar", "mu"] and all(s[1:] == [d] for s in enc_out.values())
    assert list(dec_in) == ["z"] and dec_in["z"][1:] == [d]
    assert list(dec_out) == ["spectrogram"] and dec_out["spectrogram"][1:] == [1, n_bins, n_frames]
    for shapes in (enc_in, enc_out, dec_in, dec_out):  # dynamic batch axis everywhere
        assert all(isinstance(s[0], str) for s in shapes.values())

    x = np.random.default_rng(0).random((3, 1, n_bins, n_frames), dtype=np.float32)
    mu, logvar = enc.run(["mu", "logvar"], {"spectrogram": x})
    assert mu.shape == logvar.shape == (3, d) and np.all(np.isfinite(mu)) and np.all(np.isfinite(logvar))
    (s,) = dec.run(["spectrogram"], {"z": mu})
    assert s.shape == (3, 1, n_bins, n_frames) and s.dtype == np.float32
    assert s.min() >= 0.0 and s.max() <= 1.0


def test_onnx_graphs_use_opset_17_and_wasm_safe_ops(manifest):
    onnx = pytest.importorskip("onnx")
    for part in (manifest.encoder, manifest.decoder):
        model = onnx.load(str(BUNDLE / part["file"]))
        onnx.checker.check_model(model)
        opset = {o.domain: o.version for o in model.opset_import}
        assert opset.get("", opset.get("ai.onnx", 0)) >= 17
        ops = {n.op_type for n in model.graph.node}
        assert ops <= WASM_SAFE_OPS, f"{part['file']} uses {ops - WASM_SAFE_OPS}"


def test_bundle_size(manifest):
    files = ["manifest.json", *manifest.files]
    size = sum((BUNDLE / f).stat().st_size for f in files)
    assert size <= MAX_BUNDLE_BYTES, f"bundle is {size / 1e6:.2f} MB"


def test_dims_are_ordered_by_kl_labelled_and_several_are_active(manifest):
    from intellimixer.training.describe import NAMES, WORDS

    assert [d.index for d in manifest.dims] == list(range(manifest.latent_dim))
    for i, d in enumerate(manifest.dims):  # "dim 3 · brighter →": the descriptor it moves most
        assert d.descriptor in NAMES and d.label in (f"dim {i + 1} · {w} →" for w in WORDS[d.descriptor])
        assert -1 <= d.correlation <= 1
    kl = np.array([d.kl for d in manifest.dims], dtype=float)
    assert np.all(np.diff(kl) <= 0), f"dims not ordered by KL: {kl}"
    assert np.sum(kl > 0.5) >= 4, f"too few active dims: {kl}"


CI_PACKAGES = ("hydrogen-drumkits", "sound-theme-freedesktop")  # what scripts/setup.sh installs


def _held_out(manifest):
    """The held-out files CI has: those of the packages scripts/setup.sh installs."""
    listed = corpus.held_out_files(manifest)
    assert listed, "the manifest lists no held-out files"
    assert all(f.split != "train" for f in listed)
    assert {f.split for f in listed} == {"package", "category", "file"}
    files = [f for f in corpus.held_out_files(manifest, present=True) if f.source in CI_PACKAGES]
    if len(files) < 50:
        pytest.skip("held-out sounds not installed (apt install hydrogen-drumkits sound-theme-freedesktop)")
    return files


def test_kl_order_holds_on_held_out_sounds(manifest):
    """The two map-default dims are among the most active ones on unseen sounds too."""
    files = _held_out(manifest)
    model = NativeModel(BUNDLE)
    specs = np.stack([corpus.represent(got[2], manifest)
                      for got in (corpus.load_prepared(f, manifest) for f in files) if got is not None])
    kl = vae_lib.kl_per_dim(*model.encode(specs))
    top = set(np.argsort(-kl)[: max(4, manifest.latent_dim // 3)])
    assert {0, 1} <= top, f"held-out KL per dim: {np.round(kl, 2)}"


@pytest.mark.slow
def test_held_out_reconstruction_through_phase_stays_under_bound(manifest):
    files = _held_out(manifest)
    result = evaluate.evaluate_bundle(BUNDLE, files)
    assert result["n_files"] >= len(files) - 2  # (digitally silent samples are skipped)
    assert result["mean_lsd_recon_db"] < MAX_MEAN_LSD_RECON_DB, train_cli.format_eval(result)
    assert result["mean_lsd_phase_db"] < MAX_MEAN_LSD_PHASE_DB, train_cli.format_eval(result)
    # the model, not phase reconstruction, must dominate the error (sanity of the metric)
    assert result["mean_lsd_gl_only_db"] < result["mean_lsd_phase_db"]
    # true level: the decoded loudest bin sits where the input's does
    assert abs(result["peak_delta_db_median"]) <= MAX_PEAK_DELTA_DB


@pytest.mark.slow
def test_held_out_round_trip_on_the_yardstick(manifest):
    """What a click on each held-out source makes, against the original file (mono, 16 kHz,
    onset-aligned, first 1.024 s, STFT 512/128, dB under each signal's own peak, floor -80)."""
    files = _held_out(manifest)
    rep = evaluate.round_trip_report(NativeModel(BUNDLE), [(f.group, f.path) for f in files])
    a = rep["all"]
    assert a["n"] >= len(files) - 2
    assert a["lsd_mean"] < MAX_ROUND_TRIP_LSD_DB, rep["groups"]
    assert a["silent_median"] <= -65.0 and a["max_edge"] == 0.0 and a["peak_dbfs_max"] <= -0.3 + 1e-4


ORT_WEB = ROOT / "node_modules" / "onnxruntime-web" / "dist" / "ort.mjs"
NODE_SCRIPT = """
import * as ort from %(ort)s;
import fs from 'fs';
ort.env.wasm.numThreads = 1;
const [enc, dec] = await Promise.all(['encoder', 'decoder'].map(
  (part) => ort.InferenceSession.create(fs.readFileSync(%(dir)s + '/' + part + '.onnx'), {executionProviders: ['wasm']})));
const x = new Float32Array(fs.readFileSync(%(x)s).buffer.slice(0));
const {mu} = await enc.run({spectrogram: new ort.Tensor('float32', x, [2, 1, %(bins)d, %(frames)d])});
const {spectrogram} = await dec.run({z: mu});
console.log(JSON.stringify({mu: Array.from(mu.data), s: Array.from(spectrogram.data)}));
"""


@pytest.mark.slow
def test_onnxruntime_web_wasm_gives_the_same_outputs(manifest, tmp_path):
    """The bundle runs in onnxruntime-web's WASM backend (under Node) and matches onnxruntime."""
    import json
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None or not ORT_WEB.is_file():
        pytest.skip("needs node and node_modules/onnxruntime-web (npm install)")
    x = np.random.default_rng(5).random((2, *manifest.input_shape), dtype=np.float32)
    (tmp_path / "x.f32").write_bytes(x.tobytes())
    script = tmp_path / "run.mjs"
    script.write_text(NODE_SCRIPT % {"ort": json.dumps(ORT_WEB.as_uri()), "dir": json.dumps(str(BUNDLE)),
                                     "x": json.dumps(str(tmp_path / "x.f32")), "bins": manifest.input_shape[0],
                                     "frames": manifest.input_shape[1]})
    proc = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    web = json.loads(proc.stdout)
    model = NativeModel(BUNDLE)
    mu, _ = model.encode(x)
    np.testing.assert_allclose(np.array(web["mu"]).reshape(mu.shape), mu, atol=1e-4)
    np.testing.assert_allclose(np.array(web["s"]).reshape(2, *manifest.input_shape), model.decode(mu), atol=1e-4)
