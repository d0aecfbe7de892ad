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

# Held-out bounds (dB, mean over the manifest's training.held_out files: 78 real sounds).
# Measured for the committed bundle (`python build_onnx.py --eval-only --out models/default`):
#   LSD(S, decoder(mu))                          = 3.05 dB
#   LSD(S, analyze(synthesize(decoder(mu))))     = 7.27 dB   (phase reconstruction alone: 0.74 dB)
# The bounds leave a modest margin (~15 %) for float/BLAS differences between machines.
MAX_MEAN_LSD_RECON_DB = 3.6
MAX_MEAN_LSD_PHASE_DB = 8.5
# Ops that onnxruntime-web's WASM backend runs; the exported graphs must use only these.
WASM_SAFE_OPS = {
    "Conv", "ConvTranspose", "Relu", "LeakyRelu", "Gemm", "MatMul", "Add", "Mul", "Sigmoid",
    "Reshape", "Flatten", "Slice", "Constant", "Shape", "Gather", "Unsqueeze", "Concat", "Split",
}


@pytest.fixture(scope="module")
def manifest():
    return load_manifest(BUNDLE)


def _io(sess):
    return ({t.name: t.shape for t in sess.get_inputs()}, {t.name: t.shape for t in sess.get_outputs()})


def test_manifest_validates_and_matches_the_format(manifest):
    check_bundle_files(manifest, [p.name for p in BUNDLE.iterdir()])
    assert manifest.name == "default"
    assert manifest.sample_rate == fmt.SAMPLE_RATE == 16000
    assert manifest.n_samples == fmt.N_SAMPLES == 16384
    assert manifest.stft == StftParams(n_fft=512, hop_length=128, window="hann", center=True, n_bins=256, n_frames=128)
    assert manifest.representation == Representation(type="log_magnitude", db_min=-80.0, db_max=0.0)
    assert 8 <= manifest.latent_dim <= 16
    assert manifest.license and manifest.credits


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


def test_dims_are_ordered_by_kl_and_several_are_active(manifest):
    assert [d.index for d in manifest.dims] == list(range(manifest.latent_dim))
    assert [d.label for d in manifest.dims] == [f"dim {i + 1}" for i in range(manifest.latent_dim)]
    kl = np.array([d.kl for d in manifest.dims], dtype=float)
    assert np.all(np.diff(kl) <= 0), f"dims not ordered by KL: {kl}"
    assert np.sum(kl > 0.5) >= 4, f"too few active dims: {kl}"


def _held_out(manifest):
    files = corpus.held_out_files(manifest)
    assert files, "the manifest lists no held-out files"
    assert all(corpus.is_held_out(f.split_key) for f in files)
    if not all(f.path.is_file() for f in files):
        pytest.skip("held-out sounds not installed (apt install hydrogen-drumkits sound-theme-freedesktop)")
    return files


def test_kl_order_holds_on_held_out_sounds(manifest):
    """The two map-default dims are among the most active ones on unseen sounds too."""
    files = _held_out(manifest)
    model = NativeModel(BUNDLE)
    specs = np.stack([corpus.represent(got[2], manifest)
                      for got in (corpus.load_prepared(f, manifest) for f in files) if got is not None])
    kl = vae_lib.kl_per_dim(*model.encode(specs))
    top = set(np.argsort(-kl)[:4])
    assert {0, 1} <= top, f"held-out KL per dim: {np.round(kl, 2)}"


@pytest.mark.slow
def test_held_out_reconstruction_through_phase_stays_under_bound(manifest):
    files = _held_out(manifest)
    result = evaluate.evaluate_bundle(BUNDLE, files)
    assert result["n_files"] == len(files)
    assert result["mean_lsd_recon_db"] < MAX_MEAN_LSD_RECON_DB, train_cli.format_eval(result)
    assert result["mean_lsd_phase_db"] < MAX_MEAN_LSD_PHASE_DB, train_cli.format_eval(result)
    # the model, not phase reconstruction, must dominate the error (sanity of the metric)
    assert result["mean_lsd_gl_only_db"] < result["mean_lsd_phase_db"]


ORT_WEB = ROOT / "node_modules" / "onnxruntime-web" / "dist" / "ort.mjs"
NODE_SCRIPT = """
import * as ort from %(ort)s;
import fs from 'fs';
ort.env.wasm.numThreads = 1;
const [enc, dec] = await Promise.all(['encoder', 'decoder'].map(
  (part) => ort.InferenceSession.create(fs.readFileSync(%(dir)s + '/' + part + '.onnx'), {executionProviders: ['wasm']})));
const x = new Float32Array(fs.readFileSync(%(x)s).buffer.slice(0));
const {mu} = await enc.run({spectrogram: new ort.Tensor('float32', x, [2, 1, 256, 128])});
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
                                     "x": json.dumps(str(tmp_path / "x.f32"))})
    proc = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    web = json.loads(proc.stdout)
    model = NativeModel(BUNDLE)
    mu, _ = model.encode(x)
    np.testing.assert_allclose(np.array(web["mu"]).reshape(mu.shape), mu, atol=1e-4)
    np.testing.assert_allclose(np.array(web["s"]).reshape(2, *manifest.input_shape), model.decode(mu), atol=1e-4)
