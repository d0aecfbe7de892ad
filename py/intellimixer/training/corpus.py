"""The training corpus: recorded sounds from Debian packages, the held-out split, and the
dataset of model inputs (with waveform augmentation)."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import audio, pipeline
from ..model import Manifest

SOURCES = {
    "hydrogen-drumkits": Path("/usr/share/hydrogen/data/drumkits"),
    "sound-theme-freedesktop": Path("/usr/share/sounds/freedesktop/stereo"),
}
AUDIO_SUFFIXES = (".wav", ".flac", ".aif", ".aiff", ".oga", ".ogg")
VELOCITY_WORDS = r"hardest|hard|medium|med|softest|soft|normal|loud|ghost|layer[0-9]*|vel[0-9]*"
HOLDOUT_FRACTION = 0.08  # of the split groups (~12 % of the files)
LICENSE = "GPL-2.0-or-later AND CC-BY-SA-3.0 AND CC-BY-3.0"
CREDITS = (
    "Trained by build_onnx.py on recorded sounds from Debian packages: hydrogen-drumkits "
    "(Hydrogen drum kits by Artemiy Pavlov, Emiliano Grilli, Marcos Guglielmetti, Glen MacArthur, "
    "Vladimir Sadovnikov & Alexander Belokurov, Luc Tanguay & Bransin James Anderson, Jim Harney, "
    "Emanuel Rumpf, Audiophob, Sineshine and others; GPL-2+, CC-BY-SA-3.0, CC-BY-3.0, CC0) and "
    "sound-theme-freedesktop (freedesktop.org sound theme; CC-BY-SA-3.0, CC-BY-3.0, GPL-2+). "
    "See /usr/share/doc/hydrogen-drumkits/copyright and /usr/share/doc/sound-theme-freedesktop/copyright."
)


@dataclass(frozen=True)
class SoundFile:
    """One recorded sound of a data source.

    Attributes:
        source: key of :data:`SOURCES`.
        rel: path relative to the source root (POSIX separators).
    """

    source: str
    rel: str

    @property
    def id(self) -> str:
        """Stable identifier ``"<source>/<rel>"`` (used for the held-out split)."""
        return f"{self.source}/{self.rel}"

    @property
    def path(self) -> Path:
        return SOURCES[self.source] / self.rel

    @property
    def split_key(self) -> str:
        """The file's group for the held-out split: its id without velocity/layer suffixes
        ("Snare-Hard.wav", "Snare-Soft.wav", "snare_03.flac" -> ".../snare"), so the layers of
        one instrument sample are all in training or all held out."""
        import re

        folder, _, name = self.id.rpartition("/")
        stem = name.rsplit(".", 1)[0].lower()
        stem = re.sub(rf"([-_ .]+({VELOCITY_WORDS}))+$", "", stem)
        return f"{folder}/{re.sub(r'[-_ .]*[0-9]+$', '', stem) or stem}"

    @property
    def group(self) -> str:
        """Colour group of the latent map: the drum kit, or ``"freedesktop"``."""
        return self.rel.split("/")[0] if self.source == "hydrogen-drumkits" else "freedesktop"


def find_sound_files(sources: dict[str, Path] = SOURCES) -> list[SoundFile]:
    """Every audio file under the source roots, sorted by id (missing roots are skipped).

    Symbolic links are skipped: the freedesktop theme links several event names to one
    sound, and a sound must not be both in training and held out.
    """
    files = []
    for source, root in sources.items():
        if root.is_dir():
            files += [
                SoundFile(source, p.relative_to(root).as_posix())
                for p in root.rglob("*")
                if p.is_file() and not p.is_symlink() and p.suffix.lower() in AUDIO_SUFFIXES
            ]
    return sorted(files, key=lambda f: f.id)


def is_held_out(split_key: str, fraction: float = HOLDOUT_FRACTION) -> bool:
    """Deterministic evaluation split: the first 32 bits of SHA-1(split key) / 2**32 < fraction
    (``split_key`` is :attr:`SoundFile.split_key`)."""
    h = int(hashlib.sha1(split_key.encode("utf-8")).hexdigest()[:8], 16)
    return h / 2**32 < fraction


def represent(y: np.ndarray, m: Manifest) -> np.ndarray:
    """Prepared signal ``[n_samples]`` (already the model's rate and length) -> model input
    float32 ``[n_bins, n_frames]`` in [0, 1] (:func:`intellimixer.pipeline.signal_to_input`)."""
    return pipeline.signal_to_input(y, m)


def load_prepared(f: SoundFile | str | Path, m: Manifest) -> tuple[np.ndarray, int, np.ndarray] | None:
    """Read a sound (a :class:`SoundFile` or any audio file path) and prepare it.

    Returns:
        ``(x [n] mono float32 at its own rate, sr, prepared [n_samples])``, or None if the
        file is unreadable, empty or silent.
    """
    try:
        x, sr = audio.read_audio(f.path if isinstance(f, SoundFile) else f)
        x = audio.to_mono(x)
        return x, sr, pipeline.model_signal(x, sr, m)
    except audio.AudioError:
        return None


@dataclass(frozen=True)
class AugmentConfig:
    """Waveform augmentation, applied before ``prepare``.

    ``prepare`` peak-normalises and starts each sound at its onset, so a single sound's gain
    and time offset are normalised away; gain and time shift therefore act on the second
    sound of a mixed pair, where they change the result.

    Attributes:
        pitch_variants: pitch-shifted copies per training file.
        max_semitones: pitch shifts are drawn uniformly from +-[1, max_semitones] semitones.
        mixes_per_file: mixed pairs per training file (on average).
        mix_gain_db: range of the second sound's gain in dB.
        max_shift_s: the second sound starts 0 .. max_shift_s seconds after the first.
    """

    pitch_variants: int = 2
    max_semitones: float = 7.0
    mixes_per_file: float = 1.5
    mix_gain_db: tuple[float, float] = (-18.0, 0.0)
    max_shift_s: float = 0.3


def pitch_shift_rate(sr: int, semitones: float) -> int:
    """Tape-speed pitch shift: the declared sample rate that makes ``prepare``'s resampler
    shift pitch (and duration) by ``semitones``; rounded to 100 Hz so the polyphase ratio
    stays small."""
    return int(round(sr * 2.0 ** (semitones / 12.0) / 100.0)) * 100


def mix_pair(a: np.ndarray, b: np.ndarray, gain_db: float, shift: int) -> np.ndarray:
    """``a + 10**(gain_db/20) * b`` delayed by ``shift`` samples; float32 ``[len(a)]``."""
    out = np.array(a, dtype=np.float32)
    n = len(out) - shift
    if n > 0:
        out[shift:] += np.float32(10.0 ** (gain_db / 20.0)) * b[:n]
    return out


@dataclass
class Dataset:
    """Model inputs with their provenance.

    Attributes:
        specs: float32 ``[N, n_bins, n_frames]`` in [0, 1].
        ids: file id per row (a mix is ``"<id a> + <id b>"``).
        groups: colour group per row (of the first sound for mixes).
        kinds: ``"original"``, ``"pitch"`` or ``"mix"`` per row.
    """

    specs: np.ndarray
    ids: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def build_dataset(files: Sequence[SoundFile], m: Manifest, aug: AugmentConfig | None, seed: int, log=print) -> Dataset:
    """Prepare and analyse ``files``, plus augmented variants if ``aug`` is given.

    Every row is ``analyze(prepare(x, sr, ...))`` of a real or augmented waveform ``x``.
    Files that cannot be read or are silent are skipped.
    """
    rng = np.random.default_rng(seed)
    rows: list[tuple[np.ndarray, str, str, str]] = []  # (prepared signal, id, group, kind)
    t0 = time.perf_counter()
    for k, f in enumerate(files):
        got = load_prepared(f, m)
        if got is None:
            log(f"  skipped {f.id} (unreadable or silent)")
            continue
        x, sr, y = got
        rows.append((y, f.id, f.group, "original"))
        for _ in range(aug.pitch_variants if aug else 0):
            st = float(rng.uniform(1.0, aug.max_semitones) * rng.choice([-1.0, 1.0]))
            try:
                rows.append((pipeline.model_signal(x, pitch_shift_rate(sr, st), m), f.id, f.group, "pitch"))
            except audio.AudioError:
                pass
        if (k + 1) % 100 == 0:
            log(f"  read {k + 1}/{len(files)} files ({time.perf_counter() - t0:.0f} s)")
    if aug:
        pool = list(rows)
        for _ in range(int(round(aug.mixes_per_file * sum(r[3] == "original" for r in pool)))):
            i, j = rng.choice(len(pool), size=2, replace=False)
            gain = float(rng.uniform(*aug.mix_gain_db))
            shift = int(rng.integers(0, int(aug.max_shift_s * m.sample_rate) + 1))
            mixed = mix_pair(pool[i][0], pool[j][0], gain, shift)
            try:
                y = pipeline.model_signal(mixed, m.sample_rate, m)
            except audio.AudioError:
                continue
            rows.append((y, f"{pool[i][1]} + {pool[j][1]}", pool[i][2], "mix"))
    specs = np.stack([represent(r[0], m) for r in rows]) if rows else np.zeros((0, *m.input_shape), np.float32)
    return Dataset(specs, [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows])


def held_out_files(manifest: Manifest) -> list[SoundFile]:
    """The evaluation files a bundle's manifest lists under ``training.held_out``."""
    ids = manifest.extra.get("training", {}).get("held_out", [])
    return [SoundFile(*i.split("/", 1)) for i in ids]



INSTRUMENTS = (  # (label, regex on the lower-case file name); first match wins; for the map's colours only
    ("kick", r"kick|kik|bass ?drum|(^|[^a-z])bd"),
    ("snare / rim", r"snare|(^|[^a-z])sd|rim|stick"),
    ("hi-hat", r"hat|(^|[^a-z])hh"),
    ("cymbal", r"crash|ride|cymbal|splash|china|(^|[^a-z])cym"),
    ("tom", r"tom"),
    ("clap", r"clap|hand"),
    ("break / loop", r"beat|break|loop"),
)


def instrument(f: SoundFile) -> str:
    """Rough instrument class from the file name (drum kits), or ``"UI / foley"`` (freedesktop)."""
    import re

    if f.source != "hydrogen-drumkits":
        return "UI / foley"
    name = f.rel.rsplit("/", 1)[-1].lower()
    return next((label for label, rx in INSTRUMENTS if re.search(rx, name)), "other percussion")


def select_files(files: Sequence[SoundFile], quick: bool) -> tuple[list[SoundFile], list[SoundFile]]:
    """Split into (training, held-out) files; ``quick`` keeps a small fixed spread of both."""
    train = [f for f in files if not is_held_out(f.split_key)]
    held = [f for f in files if is_held_out(f.split_key)]
    if quick:
        train, held = train[:: max(1, len(train) // 32)][:32], held[:: max(1, len(held) // 4)][:4]
    return train, held
