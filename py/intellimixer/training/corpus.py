"""The training corpus: recorded sounds from Debian packages, the held-out split, and the
dataset of model inputs (with waveform augmentation).

Each package is read where it lies: extracted into :data:`CORPUS_DIR` (``build/corpus/<package>``,
what :func:`fetch_package` makes with ``apt-get download`` and ``dpkg -x``; the big game-data
packages need not be installed) or, failing that, installed on this machine (its files as
``dpkg -L`` lists them, so two packages sharing a folder stay apart). Music is left out;
voice clips are thinned so they do not outnumber the foley.

Held out for evaluation, never trained on: whole packages (:data:`HELD_OUT_PACKAGES`), whole
categories of the others (``Package.held_out``: drum kits, a game faction, a voice pack) and
a deterministic sample of the remaining files (:func:`is_held_out`, by instrument group).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import audio, pipeline
from ..model import Manifest

AUDIO_SUFFIXES = (".wav", ".flac", ".aif", ".aiff", ".oga", ".ogg")
VELOCITY_WORDS = r"hardest|hard|medium|med|softest|soft|normal|loud|ghost|layer[0-9]*|vel[0-9]*"
HOLDOUT_FRACTION = 0.05  # of the split groups of the training packages (by instrument group)
CORPUS_DIR = Path(os.environ.get("INTELLIMIXER_CORPUS") or Path(__file__).resolve().parents[3] / "build" / "corpus")
MUSIC = r"(^|/)(music|musics)(/|$)|theme|_music|-music|intro|fanfare|remix|victory|gp_end"
VOICE_EVERY = 4  # one voice clip in this many is kept (by a hash of its path)


@dataclass(frozen=True)
class Package:
    """A Debian package of recorded sounds.

    Attributes:
        name: the package.
        base: where its sounds lie under the package's root (``usr/share/...``).
        licence: the licences of its sounds, from ``/usr/share/doc/<name>/copyright``.
        about: what its sounds are.
        include: a regex the path under ``base`` must match (empty: every audio file).
        exclude: a regex of paths left out (music, jingles).
        archive: a zip under ``base`` whose audio members are the sounds (warzone2100's ``base.wz``).
        voices: a regex of voice clips (one in :data:`VOICE_EVERY` is kept).
        held_out: path prefixes under ``base`` of whole categories held out for evaluation.
    """

    name: str
    base: str
    licence: str
    about: str
    include: str = ""
    exclude: str = MUSIC
    archive: str = ""
    voices: str = ""
    held_out: tuple[str, ...] = ()


PACKAGES: dict[str, Package] = {p.name: p for p in (
    Package("hydrogen-drumkits", "usr/share/hydrogen/data/drumkits", "GPL-2+, CC-BY-SA-3.0, CC-BY-3.0, CC0",
            "drum one-shots: 15 acoustic and electronic kits", exclude=r"GuitarStrums",
            held_out=("ForzeeStereo/", "circAfrique v4/")),
    Package("hydrogen-drumkits-effects", "usr/share/hydrogen/data/drumkits", "GPL-2+, CC-BY-SA-3.0, CC-BY-3.0, CC0",
            "guitar strums: chords, up and down strokes (belofilms)", held_out=("belofilms_GuitarStrums/G",)),
    Package("sound-theme-freedesktop", "usr/share/sounds/freedesktop/stereo", "CC-BY-SA-3.0, CC-BY-3.0, GPL-2+",
            "desktop UI sounds", held_out=("dialog-", "audio-channel-")),
    Package("wesnoth-1.16-data", "usr/share/games/wesnoth/1.16", "GPL-2+",
            "weapons, impacts, magic, creatures, UI (Battle for Wesnoth)", include=r"^(data/core/sounds|sounds)/"),
    Package("hedgewars-data", "usr/share/games/hedgewars/Data/Sounds", "GFDL-1.3 (sounds), GPL-2, CC-BY-SA-3.0",
            "weapons, explosions, water, UI, voice packs (Hedgewars)", voices=r"^voices/",
            held_out=("voices/Pirate/",)),
    Package("warzone2100-data", "usr/share/games/warzone2100", "GPL-2+",
            "weapons, vehicles, explosions, buildings, interface (Warzone 2100)", archive="base.wz",
            include=r"^audio/(sfx|memressp|taunts)/", voices=r"^audio/(memressp|taunts)/",
            held_out=("audio/sfx/vehicle/",)),
    Package("megaglest-data", "usr/share/games/megaglest", "CC-BY-SA-3.0",
            "footsteps, attacks, machines, creatures, ambience (MegaGlest)", voices=r"_(select|ack)[0-9]",
            held_out=("techs/megapack/factions/egypt/",)),
    Package("redeclipse-data", "usr/share/games/redeclipse/data/sounds", "CC-BY-SA-3.0+, CC-BY-3.0",
            "footsteps, weapons, impacts, ambience, voices (Red Eclipse)", exclude=MUSIC + r"|^(original|theme)",
            voices=r"^(voice|announcer)/", held_out=("weapons/sword",)),
    Package("supertuxkart-data", "usr/share/games/supertuxkart/data", "GPL-2+, CC-BY-SA-3.0, CC-BY-3.0, CC0",
            "vehicles, items, impacts, ambience (SuperTuxKart)", include=r"^(sfx|tracks)/", exclude=MUSIC + r"|speech"),
)}
HELD_OUT_PACKAGES = ("wesnoth-1.16-data",)  # never trained on: what the model makes of sounds from elsewhere
LICENSE = "GPL-2.0-or-later AND CC-BY-SA-3.0 AND CC-BY-3.0 AND GFDL-1.3-or-later"


def credits_text(counts: dict[str, int]) -> str:
    """The manifest's credits: every package, its licence and how many of its files were used."""
    parts = [f"{name} ({PACKAGES[name].about}; {PACKAGES[name].licence}; {n} files)" for name, n in counts.items()]
    return ("Trained by build_onnx.py on recorded sounds from Debian packages: " + "; ".join(parts)
            + ". See /usr/share/doc/<package>/copyright.")


@dataclass(frozen=True)
class SoundFile:
    """One recorded sound of a package.

    Attributes:
        source: the package (a key of :data:`PACKAGES`).
        rel: path under the package's sound folder (POSIX separators).
    """

    source: str
    rel: str

    @property
    def id(self) -> str:
        """Stable identifier ``"<package>/<rel>"`` (used for the held-out split)."""
        return f"{self.source}/{self.rel}"

    @property
    def path(self) -> Path:
        root = sound_root(self.source)
        if root is None:
            raise FileNotFoundError(f"package {self.source} is neither extracted in {CORPUS_DIR} nor installed")
        return root / self.rel

    @property
    def split_key(self) -> str:
        """The file's group for the held-out split: its id without velocity/layer suffixes
        ("Snare-Hard.wav", "Snare-Soft.wav", "snare_03.flac" -> ".../snare"), so the layers of
        one instrument sample are all in training or all held out."""
        folder, _, name = self.id.rpartition("/")
        stem = name.rsplit(".", 1)[0].lower()
        stem = re.sub(rf"([-_ .]+({VELOCITY_WORDS}))+$", "", stem)
        return f"{folder}/{re.sub(r'[-_ .]*[0-9]+$', '', stem) or stem}"

    @property
    def split(self) -> str:
        """``"package"`` (a held-out package), ``"category"`` (a held-out category of a training
        package), ``"file"`` (a held-out file group) or ``"train"``."""
        if self.source in HELD_OUT_PACKAGES:
            return "package"
        pkg = PACKAGES.get(self.source)
        if pkg and any(self.rel.startswith(c) for c in pkg.held_out):
            return "category"
        return "file" if is_held_out(self.split_key) else "train"

    @property
    def group(self) -> str:
        """The kind of sound (:func:`category`), for the map's colours and the figures."""
        return category(self)


def _installed(name: str) -> bool:
    if shutil.which("dpkg-query") is None:
        return False
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True)
    return r.returncode == 0 and r.stdout.split() == ["install", "ok", "installed"]


@cache
def _package_root(name: str) -> Path | None:
    """The folder a package's paths are relative to: its extraction in :data:`CORPUS_DIR`, or
    ``/`` where it is installed; None if neither."""
    extracted = CORPUS_DIR / name
    if (extracted / "usr").is_dir():
        return extracted
    return Path("/") if _installed(name) else None


def sound_root(name: str) -> Path | None:
    """The folder of a package's sounds (for an archive: its unpacked audio in :data:`CORPUS_DIR`)."""
    root = _package_root(name)
    if root is None:
        return None
    pkg = PACKAGES[name]
    if pkg.archive:
        return _unpack_archive(root / pkg.base / pkg.archive, CORPUS_DIR / name / f"{pkg.archive}.d")
    return root / pkg.base


def _unpack_archive(archive: Path, out: Path) -> Path:
    """The audio members of a zip, unpacked once into ``out``."""
    stamp = out / ".unpacked"
    if not stamp.is_file() and archive.is_file():
        with zipfile.ZipFile(archive) as z:
            for member in z.namelist():
                if member.lower().endswith(AUDIO_SUFFIXES) and not member.startswith(("/", "..")):
                    z.extract(member, out)
        stamp.write_text(str(archive))
    return out


def fetch_package(name: str, log=print) -> Path:
    """``apt-get download`` a package and ``dpkg -x`` it into :data:`CORPUS_DIR` (once)."""
    dest = CORPUS_DIR / name
    if (dest / "usr").is_dir():
        return dest
    debs = CORPUS_DIR / "_debs"
    debs.mkdir(parents=True, exist_ok=True)
    log(f"  fetching {name} (apt-get download) ...")
    subprocess.run(["apt-get", "download", "-q", name], cwd=debs, check=True, capture_output=True)
    deb = sorted(debs.glob(f"{name}_*.deb"))[-1]
    tmp = dest.with_name(dest.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(["dpkg", "-x", str(deb), str(tmp)], check=True)
    tmp.rename(dest)
    _package_root.cache_clear()
    return dest


def _listing(name: str, root: Path) -> list[str]:
    """Paths under a package's sound folder ``root`` (files only, no symbolic links); for an
    installed package, the files dpkg lists as its own (all files under ``root`` if it lists none)."""
    paths: list[Path] = []
    if _package_root(name) == Path("/") and not PACKAGES[name].archive:
        r = subprocess.run(["dpkg-query", "-L", name], capture_output=True, text=True)
        paths = [Path(line) for line in r.stdout.splitlines() if line.startswith(str(root) + "/")]
    if not paths:
        paths = list(root.rglob("*"))
    return sorted(p.relative_to(root).as_posix() for p in paths if p.is_file() and not p.is_symlink())


def package_files(name: str) -> list[SoundFile]:
    """A package's usable sounds (empty if it is neither extracted nor installed).

    Symbolic links are skipped (the freedesktop theme links several event names to one sound,
    and a sound must not be both in training and held out)."""
    root = sound_root(name)
    if root is None or not root.is_dir():
        return []
    pkg = PACKAGES[name]
    out = []
    for rel in _listing(name, root):
        low = rel.lower()
        if not low.endswith(AUDIO_SUFFIXES):
            continue
        if (pkg.include and not re.search(pkg.include, rel)) or (pkg.exclude and re.search(pkg.exclude, low)):
            continue
        if pkg.voices and re.search(pkg.voices, rel) and zlib.crc32(rel.encode()) % VOICE_EVERY:
            continue
        out.append(SoundFile(name, rel))
    return out


def find_sound_files(packages: Sequence[str] = tuple(PACKAGES), fetch: bool = False, log=print) -> list[SoundFile]:
    """Every usable sound of ``packages``, sorted by id; with ``fetch``, packages that are
    neither extracted nor installed are fetched first (:func:`fetch_package`)."""
    files = []
    for name in packages:
        if fetch and _package_root(name) is None:
            fetch_package(name, log)
        files += package_files(name)
    return sorted(files, key=lambda f: f.id)


def is_held_out(split_key: str, fraction: float = HOLDOUT_FRACTION) -> bool:
    """Deterministic file split: the first 32 bits of SHA-1(split key) / 2**32 < fraction
    (``split_key`` is :attr:`SoundFile.split_key`)."""
    h = int(hashlib.sha1(split_key.encode("utf-8")).hexdigest()[:8], 16)
    return h / 2**32 < fraction


CATEGORIES = (  # (label, regex on the lower-case path); first match wins
    ("footsteps & movement", r"step|walk|footst|(^|[/_])run[0-9_.]|land[0-9]*\.|jump|swim"),
    ("voices", r"voice|announcer|taunt|memressp|_(select|ack)[0-9]|speech|laugh|yes[0-9]*\.|ugh"),
    ("ambience & water", r"ambien|wind|water|rain|river|wave|splash|splosh|drip|bubbl|birds|forest|cricket|hum\b|fire_?loop|tilesets"),
    ("impacts & explosions", r"explo|boom|blast|bomb|grenade|impact|hit|crash|smash|break|thud|punch|slam|debris|clang|anvil|hammer"),
    ("weapons", r"gun|shot|shoot|fire|rifle|laser|cannon|missile|rocket|pistol|weapon|sword|blade|axe|bow|arrow|spear|mace|reload"
                r"|zap|plasma|attack|magic|spell|throw"),
    ("machines & vehicles", r"engine|motor|vehicle|machine|tank|car_|kart|plane|jet|heli|drill|mech|gear|door|lift|servo|build"
                            r"|construct|factory|nitro|skid|horn"),
    ("creatures", r"(^|[-_/])die([-_ ]?[0-9]+)?\.|shriek|wail|death|scream|grunt|growl|roar|hiss|creature|monster|animal|bird|dog|wolf|horse|cow|pig|sheep"
                  r"|spider|dragon|pain|hurt|squeak"),
    ("UI", r"menu|button|click|select|beep|chat|bell|interface|interfce|alert|notify|message|dialog|window|complete|login"),
)


def category(f: SoundFile) -> str:
    """The kind of a sound: drums, guitar strums, UI, or one of :data:`CATEGORIES` by
    its path (else "other foley"); for the map's colours and the per-category figures."""
    if f.source == "hydrogen-drumkits":
        return "drums"
    if f.source == "hydrogen-drumkits-effects":
        return "guitar strums"
    if f.source == "sound-theme-freedesktop":
        return "UI"
    low = f.rel.lower()
    return next((label for label, rx in CATEGORIES if re.search(rx, low)), "other foley")


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


def held_out_files(manifest: Manifest, present: bool = False) -> list[SoundFile]:
    """The evaluation files a bundle's manifest lists under ``training.held_out`` (with
    ``present``, only those whose package is here: extracted or installed)."""
    ids = manifest.extra.get("training", {}).get("held_out", [])
    files = [SoundFile(*i.split("/", 1)) for i in ids]
    if present:
        files = [f for f in files if f.source in PACKAGES and sound_root(f.source) is not None and f.path.is_file()]
    return files



def select_files(files: Sequence[SoundFile], quick: bool) -> tuple[list[SoundFile], list[SoundFile]]:
    """Split into (training, held-out) files (:attr:`SoundFile.split`); ``quick`` keeps a
    small fixed spread of both."""
    train = [f for f in files if f.split == "train"]
    held = [f for f in files if f.split != "train"]
    if quick:
        train, held = train[:: max(1, len(train) // 32)][:32], held[:: max(1, len(held) // 4)][:4]
    return train, held
