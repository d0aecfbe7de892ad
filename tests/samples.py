"""Real recorded sounds from Debian packages, used as test inputs (never committed)."""
import zlib
from pathlib import Path

HYDROGEN = Path("/usr/share/hydrogen/data/drumkits")
FREEDESKTOP = Path("/usr/share/sounds/freedesktop/stereo")


def drum_files(modulo: int = 20) -> list[Path]:
    """A fixed, spread-out subset of the hydrogen-drumkits WAV samples (by CRC of the path)."""
    files = sorted(HYDROGEN.glob("*/*.wav"))
    return [f for f in files if zlib.crc32(str(f.relative_to(HYDROGEN)).encode()) % modulo == 0]
