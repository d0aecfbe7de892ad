"""The README's "bring your own model" example runs as written (after `pip install -e .[dev]`,
no path tricks): given a few sound files and a tiny PyTorch encoder/decoder, it exports a
bundle the engine loads."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

PRELUDE = """
from intellimixer.training.vae import VAE, ModelConfig
vae = VAE(ModelConfig(latent_dim=16).scaled(0.125), 256, 288).eval()
my_encoder, my_decoder = vae.encoder, vae.decoder
my_files = {files!r}
"""


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Bring your own model", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the section holds one Python example"
    return blocks[0]


def test_bring_your_own_model_example_runs(tmp_path, drums):
    script = tmp_path / "example.py"
    script.write_text(PRELUDE.format(files=[str(p) for p in drums[:4]]) + readme_example())
    # a fresh interpreter from another folder: the package must import without sys.path tricks
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    from intellimixer.model import NativeModel

    m = NativeModel(tmp_path / "my-model")
    assert m.manifest.latent_dim == 16 and m.manifest.name == "my-model"
    assert sorted(p.name for p in (tmp_path / "my-model").iterdir()) == [
        "decoder.bin", "decoder.onnx", "encoder.bin", "encoder.onnx", "manifest.json"]
    kl = [d.kl for d in m.manifest.dims]
    assert kl == sorted(kl, reverse=True)  # exported most-active-first
