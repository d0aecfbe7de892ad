import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))
sys.path.insert(0, str(ROOT / "tests"))

from samples import drum_files  # noqa: E402


@pytest.fixture(scope="session")
def drums() -> list[Path]:
    files = drum_files()
    if len(files) < 5:
        pytest.skip("Debian package hydrogen-drumkits is not installed (apt-get install hydrogen-drumkits)")
    return files


@pytest.fixture(scope="session")
def tiny_bundle8(tmp_path_factory):
    """A tiny untrained 8-dim bundle (tests/tiny_bundle.py): real ONNX files, real shapes."""
    from tiny_bundle import make_bundle

    return make_bundle(tmp_path_factory.mktemp("bundle8"), latent_dim=8)
