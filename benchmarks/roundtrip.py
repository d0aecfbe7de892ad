"""Round-trip report: what a model makes of real sounds it never heard, on the fixed yardstick.

Each file goes encode -> decode -> render exactly as a click on that source does in the app
and the CLI (its latent, its level; :func:`intellimixer.cli.make_sound`'s path), and the
result is compared with the original by :mod:`intellimixer.quality` (mono, 16 kHz,
onset-aligned, first 1.024 s, STFT 512/128 Hann, dB relative to each signal's own peak,
floor -80 dB): log-spectral distance, the made sound's level in the frames where the
original is silent, the first and last sample. Griffin-Lim alone on the true spectrogram is
shown beside it (what phase reconstruction costs without the model).

    python benchmarks/roundtrip.py [FILES_OR_FOLDERS ...] [--model DIR] [--limit N] [--json out.json]

Without files: the model's own held-out list (``training.held_out`` of its manifest), whose
packages are read from where Debian installs them (or from ``$INTELLIMIXER_CORPUS``).
Prints one row per file, a summary per group (the first folder below the package) and overall.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "py"))
from intellimixer import audio, pipeline, quality  # noqa: E402
from intellimixer.cli import AUDIO_EXTS, default_model_dir  # noqa: E402
from intellimixer.model import NativeModel  # noqa: E402


def held_out(model: NativeModel) -> list[tuple[str, Path]]:
    """``(group, path)`` of the files the manifest lists as held out (those present here)."""
    from intellimixer.training.corpus import held_out_files

    out = []
    for f in held_out_files(model.manifest):
        try:
            path = f.path
        except KeyError:  # a package this version of the corpus does not know
            continue
        if path.is_file():
            out.append((f"{f.source}/{f.rel.split('/')[0]}" if "/" in f.rel else f.source, path))
    return out


def given(paths: list[str]) -> list[tuple[str, Path]]:
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += [(p.name, f) for f in sorted(p.rglob("*")) if f.suffix.lower() in AUDIO_EXTS and f.is_file()]
        else:
            out.append((p.parent.name, p))
    return out


def round_trip(model: NativeModel, x: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """``(made, gl_only)``: the sound a click on this source makes, and Griffin-Lim of its
    true spectrogram (same finishing, no gate), both at the model's rate."""
    m = model.manifest
    S = pipeline.model_input(x, sr, m)
    mu, _ = model.encode(S[None])
    level = pipeline.source_level(x, sr, m)
    made = pipeline.latent_to_audio(model, mu[0], level_db=level)
    gl = pipeline.render(S, m, level_db=level, gate=False)
    return made, gl


def summary(rows: list[dict]) -> dict:
    def med(key):
        v = [r[key] for r in rows if not math.isnan(r[key])]
        return float(np.median(v)) if v else math.nan

    edge = [max(abs(r["first"]), abs(r["last"])) for r in rows]
    return {"n": len(rows), "lsd_mean": float(np.mean([r["lsd_db"] for r in rows])), "lsd_median": med("lsd_db"),
            "gl_lsd_mean": float(np.mean([r["gl_lsd_db"] for r in rows])),
            "silent_median": med("silent_db"), "gl_silent_median": med("gl_silent_db"),
            "max_edge": float(max(edge)), "edge_over_0.01": float(np.mean(np.array(edge) > 0.01)),
            "peak_dbfs_max": float(max(r["peak_dbfs"] for r in rows))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", help="audio files or folders (default: the model's held-out files)")
    ap.add_argument("--model", default=None, help="model bundle (default: models/default)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many files (spread evenly)")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--quiet", action="store_true", help="summary only")
    args = ap.parse_args()
    model = NativeModel(args.model or default_model_dir())
    items = given(args.files) if args.files else held_out(model)
    if args.limit and len(items) > args.limit:
        items = [items[int(k)] for k in np.linspace(0, len(items) - 1, args.limit)]
    if not items:
        print("no files (install the held-out packages, or name files)", file=sys.stderr)
        return 2
    m = model.manifest
    rows, t0 = [], time.perf_counter()
    if not args.quiet:
        print(f"{'file':60s} {'LSD':>6s} {'GL':>6s} {'silent':>7s} {'first':>8s} {'last':>8s}")
    for group, path in items:
        try:
            x, sr = audio.read_audio(path)
            made, gl = round_trip(model, x, sr)
        except audio.AudioError as e:
            print(f"skipped {path}: {e}", file=sys.stderr)
            continue
        r = quality.compare(x, sr, made, m.sample_rate)
        g = quality.compare(x, sr, gl, m.sample_rate)
        peak = float(np.max(np.abs(made)))
        row = {"file": str(path), "group": group, **r, "gl_lsd_db": g["lsd_db"], "gl_silent_db": g["silent_db"],
               "peak_dbfs": 20 * math.log10(peak) if peak > 0 else -math.inf}
        rows.append(row)
        if not args.quiet:
            name = str(path)[-60:]
            print(f"{name:60s} {r['lsd_db']:6.2f} {g['lsd_db']:6.2f} {r['silent_db']:7.1f} {r['first']:8.4f} {r['last']:8.4f}")
    groups = defaultdict(list)
    for r in rows:
        groups[r["group"]].append(r)
    per_group = {g: summary(v) for g, v in sorted(groups.items())}
    total = summary(rows)
    print(f"\n{'group':40s} {'n':>4s} {'LSD mean':>9s} {'median':>7s} {'GL':>6s} {'silent':>7s} {'GL sil.':>7s} {'max edge':>9s}")
    for name, s in [*per_group.items(), ("all", total)]:
        print(f"{name[-40:]:40s} {s['n']:4d} {s['lsd_mean']:9.2f} {s['lsd_median']:7.2f} {s['gl_lsd_mean']:6.2f} "
              f"{s['silent_median']:7.1f} {s['gl_silent_median']:7.1f} {s['max_edge']:9.5f}")
    print(f"\nmodel {m.name} ({m.sample_rate} Hz, {m.duration:.3f} s); {len(rows)} files in {time.perf_counter() - t0:.0f} s; "
          f"highest peak {total['peak_dbfs_max']:.2f} dBFS; first/last sample above 0.01 in {100 * total['edge_over_0.01']:.0f} %")
    if args.json:
        Path(args.json).write_text(json.dumps({"model": m.name, "rows": rows, "groups": per_group, "all": total}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
