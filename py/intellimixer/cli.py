"""``intellimixer`` command line: the whole pipeline natively (CPython + onnxruntime).

    intellimixer encode SOUNDS... [-o map.json]          print/save the latent map as JSON
    intellimixer generate SOUNDS... --point X Y -o a.wav  one sound from a point on the map
    intellimixer grid SOUNDS... --n 4 -o DIR              N x N sounds over the map

SOUNDS are audio files or folders (wav natively; flac/ogg/mp3 through soundfile), or a
map JSON written by ``encode`` (no re-encoding).  Dims are 1-based as in the app.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import __version__, audio, latent, pipeline
from .model import ManifestError, NativeModel

AUDIO_EXTS = {".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff"}


def default_model_dir() -> Path:
    """``$INTELLIMIXER_MODEL``, else the repository's ``models/default``."""
    env = os.environ.get("INTELLIMIXER_MODEL")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "models" / "default"


class Progress:
    """A one-line text progress bar on stderr."""

    def __init__(self, total: int, label: str, stream=sys.stderr, width: int = 30):
        self.total, self.label, self.stream, self.width = max(total, 1), label, stream, width
        self.start = time.perf_counter()

    def update(self, done: int, note: str = "") -> None:
        frac = done / self.total
        bar = "#" * round(frac * self.width)
        self.stream.write(f"\r{self.label} [{bar:<{self.width}}] {done}/{self.total} {note[:40]:<40}")
        if done >= self.total:
            self.stream.write(f"\n{self.label}: done in {time.perf_counter() - self.start:.1f} s\n")
        self.stream.flush()


def expand_sources(paths: list[str]) -> list[Path]:
    """Files as given, folders expanded to their audio files (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.suffix.lower() in AUDIO_EXTS))
        else:
            out.append(p)
    return out


def encode_files(model: NativeModel, files: list[Path], quiet: bool = False) -> tuple[list[dict], list[str]]:
    """Read, prepare, analyse and encode ``files``.

    Returns ``(sources, errors)``: one dict per usable file (``file``, ``latent`` = mu as a
    list) and one message per file that failed (the others still load).
    """
    m = model.manifest
    specs, names, errors = [], [], []
    bar = None if quiet else Progress(len(files), "encoding")
    for k, f in enumerate(files):
        try:
            x, sr = audio.read_audio(f)
            specs.append(pipeline.model_input(x, sr, m))
            names.append(str(f))
        except (audio.AudioError, OSError) as e:
            errors.append(f"{f}: {e}")
        if bar:
            bar.update(k + 1, f.name)
    sources = []
    if specs:
        mu, _ = model.encode(np.stack(specs))
        sources = [{"file": n, "latent": [round(float(v), 6) for v in z]} for n, z in zip(names, mu)]
    return sources, errors


def load_sources(model: NativeModel, inputs: list[str], quiet: bool) -> np.ndarray:
    """Latents ``[K, D]`` from a map JSON or from audio files; exits on failure."""
    if len(inputs) == 1 and inputs[0].endswith(".json"):
        data = json.loads(Path(inputs[0]).read_text())
        z = np.array([s["latent"] for s in data["sources"]], dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != model.manifest.latent_dim:
            sys.exit(f"error: {inputs[0]} holds latents of size {z.shape[-1]}, the model's is {model.manifest.latent_dim}")
        return z
    sources, errors = encode_files(model, expand_sources(inputs), quiet)
    for e in errors:
        print(f"warning: skipped {e}", file=sys.stderr)
    if not sources:
        sys.exit("error: none of the sounds could be used")
    return np.array([s["latent"] for s in sources], dtype=np.float32)


def _dims(args, d: int) -> tuple[int, int]:
    i, j = args.dims
    for k in (i, j):
        if not 1 <= k <= d:
            sys.exit(f"error: dims are 1..{d} for this model, got {k}")
    return i - 1, j - 1


def cmd_encode(args, model: NativeModel) -> int:
    sources, errors = encode_files(model, expand_sources(args.sounds), args.quiet)
    for e in errors:
        print(f"warning: skipped {e}", file=sys.stderr)
    if not sources:
        print("error: none of the sounds could be used", file=sys.stderr)
        return 1
    dims = _dims(args, model.manifest.latent_dim)
    z = np.array([s["latent"] for s in sources])
    (x0, x1), (y0, y1) = latent.axis_ranges(z, dims)
    for s in sources:
        s["x"], s["y"] = s["latent"][dims[0]], s["latent"][dims[1]]
    doc = {
        "model": model.manifest.name,
        "latent_dim": model.manifest.latent_dim,
        "dims": [dims[0] + 1, dims[1] + 1],
        "x_range": [x0, x1],
        "y_range": [y0, y1],
        "sources": sources,
        "errors": errors,
    }
    text = json.dumps(doc, indent=1)
    if args.output:
        Path(args.output).write_text(text)
    else:
        print(text)
    return 0


def cmd_generate(args, model: NativeModel) -> int:
    z_src = load_sources(model, args.sounds, args.quiet)
    dims = _dims(args, model.manifest.latent_dim)
    z, w = latent.idw_point(z_src, dims, args.point[0], args.point[1], power=args.power)
    y = pipeline.latent_to_audio(model, z, args.iters, args.seed)
    Path(args.output).write_bytes(audio.write_wav(y, model.manifest.sample_rate))
    if not args.quiet:
        top = np.argsort(w)[::-1][:3]
        print(f"wrote {args.output} ({len(y) / model.manifest.sample_rate:.3f} s); weights of nearest sources: "
              + ", ".join(f"#{k}: {w[k]:.2f}" for k in top), file=sys.stderr)
    return 0


def cmd_grid(args, model: NativeModel) -> int:
    z_src = load_sources(model, args.sounds, args.quiet)
    dims = _dims(args, model.manifest.latent_dim)
    (x0, x1), (y0, y1) = latent.axis_ranges(z_src, dims)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    n = args.n
    bar = None if args.quiet else Progress(n * n, "generating")
    for r, yv in enumerate(np.linspace(y0, y1, n)):
        for c, xv in enumerate(np.linspace(x0, x1, n)):
            z, _ = latent.idw_point(z_src, dims, xv, yv, power=args.power)
            name = f"grid_r{r}_c{c}_x{xv:+.2f}_y{yv:+.2f}.wav"
            (out / name).write_bytes(audio.write_wav(pipeline.latent_to_audio(model, z, args.iters, args.seed),
                                                          model.manifest.sample_rate))
            if bar:
                bar.update(r * n + c + 1, name)
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="intellimixer", description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", action="version", version=f"intellimixer {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("sounds", nargs="+", help="audio files or folders, or a map JSON from 'encode'")
    common.add_argument("--model", default=None, help="model bundle folder (default: models/default)")
    common.add_argument("--dims", nargs=2, type=int, default=(1, 2), metavar=("X", "Y"), help="plotted dims, 1-based (default 1 2)")
    common.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    gen = argparse.ArgumentParser(add_help=False)
    gen.add_argument("--power", type=float, default=2.0, help="inverse-distance power (default 2)")
    gen.add_argument("--iters", type=int, default=None, help="Griffin-Lim iterations (default: the model's)")
    gen.add_argument("--seed", type=int, default=0, help="phase-initialisation seed")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("encode", parents=[common], help="encode sounds and print the latent map as JSON")
    p.add_argument("-o", "--output", help="write the JSON here instead of stdout")
    p = sub.add_parser("generate", parents=[common, gen], help="generate a WAV from a point on the map")
    p.add_argument("--point", nargs=2, type=float, required=True, metavar=("X", "Y"))
    p.add_argument("-o", "--output", required=True, help="output WAV file")
    p = sub.add_parser("grid", parents=[common, gen], help="generate an N x N grid of WAVs over the map")
    p.add_argument("--n", type=int, default=4, help="grid size (default 4)")
    p.add_argument("-o", "--output", required=True, help="output folder")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        model = NativeModel(args.model or default_model_dir())
    except ManifestError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ImportError:
        print("error: the CLI needs onnxruntime: pip install 'intellimixer[cli]'", file=sys.stderr)
        return 2
    return {"encode": cmd_encode, "generate": cmd_generate, "grid": cmd_grid}[args.command](args, model)


if __name__ == "__main__":
    sys.exit(main())
