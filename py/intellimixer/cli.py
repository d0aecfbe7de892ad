"""``intellimixer`` command line: the whole pipeline natively (CPython + onnxruntime).

    intellimixer encode SOUNDS... [-o map.json]          print/save the latent map as JSON
    intellimixer generate SOUNDS... --point X Y -o a.wav  one sound from a point on the map
    intellimixer grid SOUNDS... --n 4 -o DIR              N x N sounds over the map
    intellimixer grid SOUNDS... --n 4 --zip PACK.zip      the same as a sample pack (one ZIP)
    intellimixer convert TFJS_FOLDER -o BUNDLE_DIR         TF.js Layers encoder + decoder -> a bundle

SOUNDS are audio files or folders (wav natively; flac/ogg/mp3 through soundfile), or a
map JSON written by ``encode`` (no re-encoding).  Dims are 1-based as in the app. A sound
is made as the page makes it: the same click rule (:func:`intellimixer.latent.mix_point`
over the map's axis ranges), the same finishing (fades, the level of the sources that
shaped it) and the same export options (``--rate``, ``--format``); its credits go into the
WAV's INFO chunk and a ``...-credits.txt`` beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__, audio, credits, export, finishing, latent, pipeline
from .model import ManifestError, NativeModel
from .rules import AppError
from .sources import Source

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
    list, ``level_db``: its level, what a mix's level follows) and one message per file that
    failed (the others still load).
    """
    m = model.manifest
    specs, names, levels, errors = [], [], [], []
    bar = None if quiet else Progress(len(files), "encoding")
    for k, f in enumerate(files):
        try:
            x, sr = audio.read_audio(f)
            specs.append(pipeline.model_input(x, sr, m))
            levels.append(pipeline.source_level(x, sr, m))
            names.append(str(f))
        except (audio.AudioError, OSError) as e:
            errors.append(f"{f}: {e}")
        if bar:
            bar.update(k + 1, f.name)
    sources = []
    if specs:
        mu, _ = model.encode(np.stack(specs))
        sources = [{"file": n, "latent": [round(float(v), 6) for v in z], "level_db": round(lv, 3)}
                   for n, z, lv in zip(names, mu, levels)]
    return sources, errors


@dataclass
class MapSources:
    """The sounds on the map: their files, latents ``[K, D]`` and levels (dBFS RMS, ``-inf``
    where unknown)."""

    files: list[str]
    latents: np.ndarray
    levels: np.ndarray

    def credit_sources(self) -> list[Source]:
        """Each file as a local source (for :func:`intellimixer.credits.credit_mix`)."""
        return [Source(f, {"name": Path(f).name}, np.zeros(0, np.float32), 0, "local") for f in self.files]


def load_sources(model: NativeModel, inputs: list[str], quiet: bool) -> MapSources:
    """The map's sources from a map JSON or from audio files; exits on failure."""
    if len(inputs) == 1 and inputs[0].endswith(".json"):
        data = json.loads(Path(inputs[0]).read_text())
        rows = data["sources"]
        z = np.array([s["latent"] for s in rows], dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != model.manifest.latent_dim:
            sys.exit(f"error: {inputs[0]} holds latents of size {z.shape[-1]}, the model's is {model.manifest.latent_dim}")
        levels = np.array([s.get("level_db", -np.inf) for s in rows], dtype=np.float64)
        return MapSources([str(s.get("file", f"source {k + 1}")) for k, s in enumerate(rows)], z, levels)
    sources, errors = encode_files(model, expand_sources(inputs), quiet)
    for e in errors:
        print(f"warning: skipped {e}", file=sys.stderr)
    if not sources:
        sys.exit("error: none of the sounds could be used")
    return MapSources([s["file"] for s in sources], np.array([s["latent"] for s in sources], dtype=np.float32),
                      np.array([s["level_db"] for s in sources], dtype=np.float64))


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


def make_sound(model: NativeModel, src: MapSources, dims: tuple[int, int], x: float, y: float, args,
               title: str) -> tuple[bytes, str, list[tuple[str, float]], int, float, np.ndarray]:
    """One sound at ``(x, y)`` on the map of ``dims``, as the page makes it.

    Returns ``(wav bytes, credits text, [(file, weight)] of the contributing sources
    (heaviest first), the file's sample rate, seconds, the latent it was decoded from)``.
    """
    m = model.manifest
    z, w = latent.mix_point(src.latents, dims, x, y, latent.axis_ranges(src.latents, dims))
    wave = pipeline.latent_to_audio(model, z, args.iters, args.seed, level_db=finishing.mix_level_db(src.levels, w))
    order = [int(k) for k in np.argsort(-w) if w[k] > 0]
    cs = src.credit_sources()
    c = credits.credit_mix([(cs[k], float(w[k])) for k in order], title)
    wav, rate = export.export_wav(wave, m.sample_rate, args.rate, args.format, info=c.tags)
    return wav, c.text, [(src.files[k], float(w[k])) for k in order], rate, len(wave) / m.sample_rate, z


def _write_sound(path: Path, wav: bytes, text: str) -> Path:
    """The WAV and its credits file beside it (``<stem>-credits.txt``)."""
    path.write_bytes(wav)
    credits_path = path.with_name(path.stem + "-credits.txt")
    credits_path.write_text(text + "\n", encoding="utf-8")
    return credits_path


def cmd_generate(args, model: NativeModel) -> int:
    src = load_sources(model, args.sounds, args.quiet)
    dims = _dims(args, model.manifest.latent_dim)
    out = Path(args.output)
    wav, text, used, rate, seconds, _ = make_sound(model, src, dims, args.point[0], args.point[1], args, out.stem)
    credits_path = _write_sound(out, wav, text)
    if args.json:
        print(json.dumps({"output": str(out), "credits": str(credits_path), "sample_rate": rate, "seconds": seconds,
                          "sources": [{"file": f, "weight": round(w, 6)} for f, w in used]}))
    elif not args.quiet:
        print(f"wrote {out} ({seconds:.3f} s, {rate} Hz) and {credits_path.name}; mix: "
              + ", ".join(f"{Path(f).name} {w:.0%}" for f, w in used), file=sys.stderr)
    return 0


def cmd_grid(args, model: NativeModel) -> int:
    src = load_sources(model, args.sounds, args.quiet)
    dims = _dims(args, model.manifest.latent_dim)
    (x0, x1), (y0, y1) = latent.axis_ranges(src.latents, dims)
    n = args.n
    if args.zip:  # the page's grid pack: cell centres over the map, rows from the top
        from . import packs, rules

        items = []
        for row, column, nx, ny in packs.grid_cells(n):
            xv, yv = x0 + nx * (x1 - x0), y0 + ny * (y1 - y0)
            name = packs.cell_filename(row, column, rules.wav_filename("grid", dims, xv, yv))
            wav, text, used, _, _, z = make_sound(model, src, dims, xv, yv, args, name[:-4])
            items.append(packs.PackItem(name, wav, text, xv, yv, dims, (f"dim {dims[0] + 1}", f"dim {dims[1] + 1}"),
                                        [float(v) for v in z], [(Path(f).name, w) for f, w in used]))
        Path(args.zip).write_bytes(packs.pack_zip(Path(args.zip).stem, items))
        if not args.quiet:
            print(f"wrote {args.zip} ({len(items)} sounds)", file=sys.stderr)
        return 0
    if not args.output:
        sys.exit("error: grid needs -o FOLDER or --zip PACK.zip")
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    bar = None if args.quiet else Progress(n * n, "generating")
    for r, yv in enumerate(np.linspace(y0, y1, n)):
        for c, xv in enumerate(np.linspace(x0, x1, n)):
            name = f"grid_r{r}_c{c}_x{xv:+.2f}_y{yv:+.2f}.wav"
            wav, text, _, _, _, _ = make_sound(model, src, dims, float(xv), float(yv), args, name[:-4])
            _write_sound(out / name, wav, text)
            if bar:
                bar.update(r * n + c + 1, name)
    return 0


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative POSIX path -> bytes), as a folder drop gives them."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def is_tfjs_folder(folder: Path) -> bool:
    """Whether ``folder`` holds TF.js model.json files rather than a bundle manifest."""
    return folder.is_dir() and not (folder / "manifest.json").is_file() and any(folder.rglob("model.json"))


def convert_tfjs(src: Path, out: Path) -> str:
    """TF.js encoder + decoder under ``src`` -> a bundle in ``out``; returns what was assumed."""
    from onnx import onnx_ml_pb2

    from . import tfjs

    bundle, said = tfjs.convert(folder_files(src), onnx_ml_pb2)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in bundle.items():
        (out / name).write_bytes(data)
    return said


def open_model(path: Path) -> NativeModel:
    """A bundle folder, or a folder of TF.js models (converted into a temporary bundle)."""
    if is_tfjs_folder(path):
        import tempfile

        out = Path(tempfile.mkdtemp(prefix="intellimixer-tfjs-"))
        print(convert_tfjs(path, out), file=sys.stderr)
        path = out
    return NativeModel(path)


def cmd_convert(args) -> int:
    try:
        said = convert_tfjs(Path(args.src), Path(args.output))
    except AppError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(said)
    print(f"bundle written to {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="intellimixer", description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", action="version", version=f"intellimixer {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("sounds", nargs="+", help="audio files or folders, or a map JSON from 'encode'")
    common.add_argument("--model", default=None,
                        help="model bundle folder, or a folder of TF.js encoder/decoder models (default: models/default)")
    common.add_argument("--dims", nargs=2, type=int, default=(1, 2), metavar=("X", "Y"), help="plotted dims, 1-based (default 1 2)")
    common.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    gen = argparse.ArgumentParser(add_help=False)
    gen.add_argument("--rate", type=int, default=0, choices=export.RATES,
                     help="sample rate of the WAV: 0 (the model's, default), 44100 or 48000")
    gen.add_argument("--format", default=next(iter(export.FORMATS)), choices=list(export.FORMATS),
                     help="sample format: pcm16 (default), pcm24 or float32")
    gen.add_argument("--iters", type=int, default=None, help="Griffin-Lim iterations (default: the model's)")
    gen.add_argument("--seed", type=int, default=0, help="phase-initialisation seed")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("encode", parents=[common], help="encode sounds and print the latent map as JSON")
    p.add_argument("-o", "--output", help="write the JSON here instead of stdout")
    p = sub.add_parser("generate", parents=[common, gen], help="generate a WAV from a point on the map")
    p.add_argument("--point", nargs=2, type=float, required=True, metavar=("X", "Y"))
    p.add_argument("-o", "--output", required=True, help="output WAV file (its credits go beside it)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: output, credits, sample_rate, seconds and the contributing sources")
    p = sub.add_parser("grid", parents=[common, gen], help="generate an N x N grid of WAVs over the map")
    p.add_argument("--n", type=int, default=4, help="grid size (default 4)")
    p.add_argument("-o", "--output", help="output folder")
    p.add_argument("--zip", help="write a sample pack instead: one ZIP with the WAVs, their credits, the pack's "
                                 "CREDITS.txt and pack.json (cell centres, as the page's grid pack)")
    p = sub.add_parser("convert", help="turn TF.js Layers models (encoder + decoder model.json and shards) into a bundle")
    p.add_argument("src", help="folder holding the two TF.js models (e.g. encoder_model/ and decoder_model/)")
    p.add_argument("-o", "--output", required=True, help="bundle folder to write (manifest.json, encoder.onnx, decoder.onnx)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "convert":
        return cmd_convert(args)
    try:
        model = open_model(Path(args.model) if args.model else default_model_dir())
    except (ManifestError, AppError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ImportError:
        print("error: the CLI needs onnxruntime: pip install 'intellimixer[cli]'", file=sys.stderr)
        return 2
    return {"encode": cmd_encode, "generate": cmd_generate, "grid": cmd_grid}[args.command](args, model)


if __name__ == "__main__":
    sys.exit(main())
