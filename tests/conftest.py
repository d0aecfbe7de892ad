import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))
sys.path.insert(0, str(ROOT / "tests"))

HYDROGEN = Path("/usr/share/hydrogen/data/drumkits")
FREEDESKTOP = Path("/usr/share/sounds/freedesktop/stereo")


def drum_files(modulo: int = 20) -> list[Path]:
    """A fixed, spread-out subset of the hydrogen-drumkits WAV samples (by CRC of the path)."""
    files = sorted(HYDROGEN.glob("*/*.wav"))
    return [f for f in files if zlib.crc32(str(f.relative_to(HYDROGEN)).encode()) % modulo == 0]


@pytest.fixture(scope="session")
def drums() -> list[Path]:
    files = drum_files()
    if len(files) < 5:
        pytest.skip("Debian package hydrogen-drumkits is not installed (apt-get install hydrogen-drumkits)")
    return files


@pytest.fixture(scope="session")
def linear_bundle(tmp_path_factory):
    from bundles import make_linear_bundle

    return make_linear_bundle(tmp_path_factory.mktemp("bundle8"), latent_dim=8)
