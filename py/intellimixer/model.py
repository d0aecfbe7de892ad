"""Model stage: the model-bundle manifest, its validation, and native ONNX inference.

A bundle is a folder (or a set of uploaded files) holding ``manifest.json``, an encoder
and a decoder ONNX file and optionally ONNX external-data weight files (``.bin``).
The manifest is the single definition of sample rate, length, STFT parameters and
representation, shared by training (``build_onnx.py``), the CLI and the browser.
See ``docs/model-format.md`` for the format.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .spectral import REPRESENTATIONS, WINDOWS, Representation, StftParams

FORMAT = "intellimixer-model"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
MAX_LATENT_DIM = 512


class ManifestError(ValueError):
    """A manifest problem; ``field`` is the dotted path of the offending field."""

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f"model manifest: '{field}' {problem}")


@dataclass(frozen=True)
class PhaseSettings:
    """Phase reconstruction and the gate before it (:func:`intellimixer.finishing.gate`): bins
    more than ``-gate_knee_db`` dB under the decoded peak fall ``gate_ratio`` dB per dB, and
    under ``gate_floor_db`` are silence. The defaults suit a decoder whose output keeps a haze
    where its input was silent; a decoder calibrated to its corpus needs only the floor.
    While the user drags, previews use ``preview_n_iter`` iterations started from the phase
    the previous preview ended with; the sound the user keeps uses ``n_iter``."""

    algorithm: str = "fgla"
    n_iter: int = 32
    momentum: float = 0.99
    init: str = "gradient"  # the starting phase: see intellimixer.phase.initial_phase
    preview_n_iter: int = 3  # iterations of a scrub preview, warm-started from the previous one
    gate_knee_db: float = -30.0
    gate_ratio: float = 1.5
    gate_floor_db: float = -60.0


@dataclass(frozen=True)
class DimInfo:
    index: int
    label: str
    kl: float | None = None
    descriptor: str | None = None  # the audio descriptor the dim moves most (brightness, length, ...)
    correlation: float | None = None  # its rank correlation with the dim over the training corpus


@dataclass(frozen=True)
class Manifest:
    """A validated model manifest (see ``docs/model-format.md``)."""

    name: str
    latent_dim: int
    sample_rate: int
    n_samples: int
    stft: StftParams
    representation: Representation
    encoder: dict[str, Any]
    decoder: dict[str, Any]
    dims: tuple[DimInfo, ...]
    phase: PhaseSettings = PhaseSettings()
    external_data: tuple[str, ...] = ()
    description: str = ""
    license: str = ""
    credits: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        """Length of the model's sounds in seconds."""
        return self.n_samples / self.sample_rate

    @property
    def input_shape(self) -> tuple[int, int]:
        """``(n_bins, n_frames)`` of one spectrogram."""
        return self.stft.n_bins, self.stft.n_frames

    @property
    def files(self) -> tuple[str, ...]:
        """Every file the bundle needs besides the manifest."""
        return (self.encoder["file"], self.decoder["file"], *self.external_data)

    def to_dict(self) -> dict[str, Any]:
        """The manifest as JSON-ready data (round-trips through :func:`load_manifest`)."""
        d = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "description": self.description,
            "latent_dim": self.latent_dim,
            "sample_rate": self.sample_rate,
            "n_samples": self.n_samples,
            "stft": asdict(self.stft),
            "representation": asdict(self.representation),
            "encoder": self.encoder,
            "decoder": self.decoder,
            "external_data": list(self.external_data),
            "dims": [{k: v for k, v in asdict(d).items() if v is not None} for d in self.dims],
            "phase": asdict(self.phase),
            "license": self.license,
            "credits": self.credits,
        }
        d.update(self.extra)
        return d


# --- validation helpers -------------------------------------------------------------


def _get(obj: dict, key: str, path: str, kind, required: bool = True, default=None):
    full = f"{path}.{key}" if path else key
    if key not in obj:
        if required:
            raise ManifestError(full, "is missing")
        return default
    value = obj[key]
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ManifestError(full, f"must be an integer, got {value!r}")
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ManifestError(full, f"must be a finite number, got {value!r}")
        value = float(value)
    elif kind is str:
        if not isinstance(value, str):
            raise ManifestError(full, f"must be a string, got {type(value).__name__}")
    elif kind is bool:
        if not isinstance(value, bool):
            raise ManifestError(full, f"must be true or false, got {value!r}")
    elif kind is dict:
        if not isinstance(value, dict):
            raise ManifestError(full, "must be an object")
    elif kind is list:
        if not isinstance(value, list):
            raise ManifestError(full, "must be a list")
    return value


def _positive(value: int, path: str) -> int:
    if value <= 0:
        raise ManifestError(path, f"must be positive, got {value}")
    return value


def _file_name(value: str, path: str) -> str:
    if not value or "/" in value or "\\" in value or value in (".", ".."):
        raise ManifestError(path, f"must be a plain file name in the bundle, got {value!r}")
    return value


def _shape(obj: dict, key: str, path: str, expected: list[int | None]) -> list:
    """A tensor shape: list of ints or strings (symbolic axes); non-None entries of
    ``expected`` must match exactly."""
    full = f"{path}.{key}"
    shape = _get(obj, key, path, list)
    if len(shape) != len(expected):
        raise ManifestError(full, f"must have {len(expected)} axes {_fmt(expected)}, got {shape}")
    for axis, (got, want) in enumerate(zip(shape, expected)):
        if isinstance(got, str):
            if want is not None and axis != 0:
                raise ManifestError(full, f"axis {axis} must be {want}, got {got!r}")
            continue
        if isinstance(got, bool) or not isinstance(got, int) or got <= 0:
            raise ManifestError(full, f"axis {axis} must be a positive integer or a name, got {got!r}")
        if want is not None and got != want:
            raise ManifestError(full, f"axis {axis} must be {want} to match the manifest, got {got}")
    return shape


def _fmt(expected: list) -> str:
    return "[" + ", ".join("batch" if e is None else str(e) for e in expected) + "]"


def _tensor_name(obj: dict, key: str, path: str) -> str:
    name = _get(obj, key, path, str)
    if not name:
        raise ManifestError(f"{path}.{key}", "must be a non-empty tensor name")
    return name


def _no_constant(name: str):
    # Python's json module reads NaN and Infinity, browsers' JSON.parse does not
    raise ValueError(f"{name} is not a JSON value (use null)")


def load_manifest(source: dict | str | bytes | Path) -> Manifest:
    """Parse and validate a manifest.

    Args:
        source: a dict, JSON text/bytes, or a path to ``manifest.json`` (or its folder).

    Returns:
        the :class:`Manifest`.

    Raises:
        ManifestError: naming the exact field and the problem.
    """
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("{")):
        path = Path(source)
        if path.is_dir():
            path = path / MANIFEST_NAME
        try:
            source = path.read_bytes()
        except OSError as e:
            raise ManifestError("manifest.json", f"cannot be read ({e.strerror or e})") from None
    if isinstance(source, (bytes, bytearray, str)):
        try:
            source = json.loads(source, parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError) as e:
            raise ManifestError("manifest.json", f"is not valid JSON ({e})") from None
    if not isinstance(source, dict):
        raise ManifestError("manifest.json", "must hold a JSON object")
    m = source

    fmt = _get(m, "format", "", str)
    if fmt != FORMAT:
        raise ManifestError("format", f"must be {FORMAT!r}, got {fmt!r}")
    version = _get(m, "format_version", "", int)
    if version != FORMAT_VERSION:
        raise ManifestError("format_version", f"must be {FORMAT_VERSION}, got {version}")
    name = _get(m, "name", "", str)
    latent_dim = _positive(_get(m, "latent_dim", "", int), "latent_dim")
    if latent_dim < 2 or latent_dim > MAX_LATENT_DIM:
        raise ManifestError("latent_dim", f"must be between 2 and {MAX_LATENT_DIM} (the map needs two dims), got {latent_dim}")
    sample_rate = _positive(_get(m, "sample_rate", "", int), "sample_rate")
    if not 1000 <= sample_rate <= 192000:
        raise ManifestError("sample_rate", f"must be between 1000 and 192000 Hz, got {sample_rate}")
    n_samples = _positive(_get(m, "n_samples", "", int), "n_samples")

    s = _get(m, "stft", "", dict)
    n_fft = _positive(_get(s, "n_fft", "stft", int), "stft.n_fft")
    if n_fft < 16 or n_fft % 2:
        raise ManifestError("stft.n_fft", f"must be an even number >= 16, got {n_fft}")
    hop = _positive(_get(s, "hop_length", "stft", int), "stft.hop_length")
    if hop > n_fft:
        raise ManifestError("stft.hop_length", f"must not exceed n_fft ({n_fft}), got {hop}")
    win = _get(s, "window", "stft", str, required=False, default="hann")
    if win not in WINDOWS:
        raise ManifestError("stft.window", f"must be one of {', '.join(WINDOWS)}, got {win!r}")
    center = _get(s, "center", "stft", bool, required=False, default=True)
    n_bins = _positive(_get(s, "n_bins", "stft", int), "stft.n_bins")
    if n_bins != n_fft // 2:
        raise ManifestError("stft.n_bins", f"must be n_fft // 2 = {n_fft // 2}, got {n_bins}")
    n_frames = _positive(_get(s, "n_frames", "stft", int), "stft.n_frames")
    if n_samples != n_frames * hop:
        raise ManifestError("n_samples", f"must equal stft.n_frames * stft.hop_length = {n_frames * hop}, got {n_samples}")
    stft = StftParams(n_fft=n_fft, hop_length=hop, window=win, center=center, n_bins=n_bins, n_frames=n_frames)

    r = _get(m, "representation", "", dict)
    rtype = _get(r, "type", "representation", str)
    if rtype not in REPRESENTATIONS:
        raise ManifestError("representation.type", f"must be one of {', '.join(REPRESENTATIONS)}, got {rtype!r}")
    db_min = _get(r, "db_min", "representation", float)
    db_max = _get(r, "db_max", "representation", float)
    if not db_max > db_min:
        raise ManifestError("representation.db_max", f"must be greater than db_min ({db_min}), got {db_max}")
    rep = Representation(type=rtype, db_min=db_min, db_max=db_max)

    spec = [None, 1, n_bins, n_frames]
    e = _get(m, "encoder", "", dict)
    encoder = {
        "file": _file_name(_get(e, "file", "encoder", str), "encoder.file"),
        "input": _tensor_name(e, "input", "encoder"),
        "input_shape": _shape(e, "input_shape", "encoder", spec),
    }
    outs = _get(e, "outputs", "encoder", dict)
    encoder["outputs"] = {k: _tensor_name(outs, k, "encoder.outputs") for k in ("mu", "logvar")}
    d = _get(m, "decoder", "", dict)
    decoder = {
        "file": _file_name(_get(d, "file", "decoder", str), "decoder.file"),
        "input": _tensor_name(d, "input", "decoder"),
        "input_shape": _shape(d, "input_shape", "decoder", [None, latent_dim]),
        "output": _tensor_name(d, "output", "decoder"),
        "output_shape": _shape(d, "output_shape", "decoder", spec),
    }
    if encoder["file"] == decoder["file"]:
        raise ManifestError("decoder.file", "must differ from encoder.file")

    ext = _get(m, "external_data", "", list, required=False, default=[])
    external = tuple(_file_name(x if isinstance(x, str) else "", f"external_data[{k}]") for k, x in enumerate(ext))

    raw_dims = _get(m, "dims", "", list, required=False, default=None)
    if raw_dims is None:
        dims = tuple(DimInfo(index=k, label=f"dim {k + 1}") for k in range(latent_dim))
    else:
        if len(raw_dims) != latent_dim:
            raise ManifestError("dims", f"must have latent_dim = {latent_dim} entries, got {len(raw_dims)}")
        items = []
        for k, item in enumerate(raw_dims):
            path = f"dims[{k}]"
            if not isinstance(item, dict):
                raise ManifestError(path, "must be an object")
            index = _get(item, "index", path, int)
            if not 0 <= index < latent_dim:
                raise ManifestError(f"{path}.index", f"must be in 0..{latent_dim - 1}, got {index}")
            label = _get(item, "label", path, str, required=False, default=f"dim {index + 1}")
            kl = _get(item, "kl", path, float, required=False, default=None)
            descriptor = _get(item, "descriptor", path, str, required=False, default=None)
            corr = _get(item, "correlation", path, float, required=False, default=None)
            items.append(DimInfo(index=index, label=label, kl=kl, descriptor=descriptor, correlation=corr))
        if sorted(x.index for x in items) != list(range(latent_dim)):
            raise ManifestError("dims", "must list every latent index exactly once")
        dims = tuple(items)

    ph = _get(m, "phase", "", dict, required=False, default={})
    algorithm = _get(ph, "algorithm", "phase", str, required=False, default="fgla")
    if algorithm != "fgla":
        raise ManifestError("phase.algorithm", f"must be 'fgla', got {algorithm!r}")
    n_iter = _get(ph, "n_iter", "phase", int, required=False, default=32)
    if not 0 <= n_iter <= 1000:
        raise ManifestError("phase.n_iter", f"must be between 0 and 1000, got {n_iter}")
    momentum = _get(ph, "momentum", "phase", float, required=False, default=0.99)
    if not 0.0 <= momentum < 2.0:
        raise ManifestError("phase.momentum", f"must be in [0, 2), got {momentum}")
    init = _get(ph, "init", "phase", str, required=False, default=PhaseSettings.init)
    if init not in ("gradient", "random", "zeros"):
        raise ManifestError("phase.init", f"must be 'gradient', 'random' or 'zeros', got {init!r}")
    preview = _get(ph, "preview_n_iter", "phase", int, required=False, default=PhaseSettings.preview_n_iter)
    if not 0 <= preview <= 1000:
        raise ManifestError("phase.preview_n_iter", f"must be between 0 and 1000, got {preview}")
    gate = {}
    for key, lo, hi in (("gate_knee_db", -200.0, 0.0), ("gate_ratio", 1.0, 10.0), ("gate_floor_db", -200.0, 0.0)):
        gate[key] = _get(ph, key, "phase", float, required=False, default=getattr(PhaseSettings, key))
        if not lo <= gate[key] <= hi:
            raise ManifestError(f"phase.{key}", f"must be in [{lo:g}, {hi:g}], got {gate[key]}")

    known = {
        "format", "format_version", "name", "description", "latent_dim", "sample_rate", "n_samples",
        "stft", "representation", "encoder", "decoder", "external_data", "dims", "phase", "license", "credits",
    }
    return Manifest(
        name=name,
        latent_dim=latent_dim,
        sample_rate=sample_rate,
        n_samples=n_samples,
        stft=stft,
        representation=rep,
        encoder=encoder,
        decoder=decoder,
        dims=dims,
        phase=PhaseSettings(algorithm=algorithm, n_iter=n_iter, momentum=momentum, init=init,
                            preview_n_iter=preview, **gate),
        external_data=external,
        description=_get(m, "description", "", str, required=False, default=""),
        license=_get(m, "license", "", str, required=False, default=""),
        credits=_get(m, "credits", "", str, required=False, default=""),
        extra={k: v for k, v in m.items() if k not in known},
    )


def check_bundle_files(manifest: Manifest, names) -> None:
    """Raise :class:`ManifestError` if a file the manifest names is not among ``names``."""
    have = set(names)
    for key, fname in (("encoder.file", manifest.encoder["file"]), ("decoder.file", manifest.decoder["file"])):
        if fname not in have:
            raise ManifestError(key, f"names {fname!r}, which is not among the bundle's files")
    for k, fname in enumerate(manifest.external_data):
        if fname not in have:
            raise ManifestError(f"external_data[{k}]", f"names {fname!r}, which is not among the bundle's files")


def check_io(manifest: Manifest, part: str, inputs: dict[str, list], outputs: dict[str, list]) -> None:
    """Check an ONNX graph's input/output names and shapes against the manifest.

    Args:
        part: ``"encoder"`` or ``"decoder"``.
        inputs, outputs: tensor name -> shape (ints, or str/None for symbolic axes), as
            reported by the runtime.

    Raises:
        ManifestError: on a missing tensor or a shape that contradicts the manifest.
    """
    spec = getattr(manifest, part)
    if part == "encoder":
        want_in = {spec["input"]: spec["input_shape"]}
        want_out = {spec["outputs"]["mu"]: ["batch", manifest.latent_dim], spec["outputs"]["logvar"]: ["batch", manifest.latent_dim]}
    else:
        want_in = {spec["input"]: spec["input_shape"]}
        want_out = {spec["output"]: spec["output_shape"]}
    for kind, want, got in (("input", want_in, inputs), ("output", want_out, outputs)):
        for name, shape in want.items():
            if name not in got:
                raise ManifestError(
                    f"{part}.{kind}" if kind == "input" else f"{part}.output{'s' if part == 'encoder' else ''}",
                    f"names tensor {name!r}, but {spec['file']} has {kind}s {sorted(got)}",
                )
            real = got[name]
            if real is None:
                continue
            if len(real) != len(shape):
                raise ManifestError(f"{part}.{kind}", f"tensor {name!r} has shape {real} in {spec['file']}, manifest says {shape}")
            for axis, (a, b) in enumerate(zip(real, shape)):
                if isinstance(a, int) and isinstance(b, int) and a != b:
                    raise ManifestError(
                        f"{part}.{kind}",
                        f"tensor {name!r} axis {axis} is {a} in {spec['file']}, manifest says {b}"
                        + (" (the model's latent size differs from latent_dim)" if len(shape) == 2 else ""),
                    )


class NativeModel:
    """Encoder + decoder of a bundle run by onnxruntime (CPython only; CPU provider).

    One ``InferenceSession`` per part with explicit execution providers, created once.
    """

    def __init__(self, bundle: str | Path, providers: tuple[str, ...] = ("CPUExecutionProvider",), threads: int = 0):
        import onnxruntime as ort  # imported here: not available under Pyodide

        self.dir = Path(bundle)
        self.manifest = load_manifest(self.dir)
        check_bundle_files(self.manifest, [p.name for p in self.dir.iterdir()])
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        self.encoder = ort.InferenceSession(str(self.dir / self.manifest.encoder["file"]), opts, providers=list(providers))
        self.decoder = ort.InferenceSession(str(self.dir / self.manifest.decoder["file"]), opts, providers=list(providers))
        for part, sess in (("encoder", self.encoder), ("decoder", self.decoder)):
            check_io(
                self.manifest,
                part,
                {t.name: [a if isinstance(a, int) else None for a in t.shape] for t in sess.get_inputs()},
                {t.name: [a if isinstance(a, int) else None for a in t.shape] for t in sess.get_outputs()},
            )

    def encode(self, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Spectrograms ``[B, n_bins, n_frames]`` (or one ``[n_bins, n_frames]``) ->
        ``(mu, logvar)``, each float32 ``[B, D]``."""
        m = self.manifest
        x = np.asarray(S, dtype=np.float32).reshape(-1, 1, *m.input_shape)
        mu, logvar = self.encoder.run([m.encoder["outputs"]["mu"], m.encoder["outputs"]["logvar"]], {m.encoder["input"]: x})
        return mu, logvar

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Latents ``[B, D]`` (or one ``[D]``) -> spectrograms float32 ``[B, n_bins, n_frames]``."""
        m = self.manifest
        z = np.asarray(z, dtype=np.float32).reshape(-1, m.latent_dim)
        (S,) = self.decoder.run([m.decoder["output"]], {m.decoder["input"]: z})
        return S.reshape(-1, *m.input_shape)
