"""Round-trip report: what a model makes of real sounds it never heard, on the fixed yardstick.

Each file goes encode -> decode -> render exactly as a click on that source does in the app
and the CLI (:func:`intellimixer.pipeline.round_trip`: its latent, its level) and the result
is compared with the original by :mod:`intellimixer.quality` (mono, 16 kHz, onset-aligned,
first 1.024 s, STFT 512/128 Hann, dB relative to each signal's own peak, floor -80 dB):
log-spectral distance, the made sound's level in the frames where the original is silent,
the first and last sample. Griffin-Lim alone on the true spectrogram is shown beside it (what
phase reconstruction costs without the model).

    python benchmarks/roundtrip.py [FILES_OR_FOLDERS ...] [--model DIR] [--limit N] [--json out.json]

Without files: the model's own held-out list (``training.held_out`` of its manifest), grouped
by how it was held out and by kind of sound; the packages are read where
:mod:`intellimixer.training.corpus` finds them (``build/corpus`` or installed).
Prints one row per file, a summary per group and overall.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "py"))
from intellimixer.cli import AUDIO_EXTS, default_model_dir  # noqa: E402
from intellimixer.model import NativeModel  # noqa: E402
from intellimixer.training.evaluate import round_trip_report  # noqa: E402

SPLITS = {"package": "held-out package", "category": "held-out category", "file": "held-out file"}


def held_out(model: NativeModel) -> list[tuple[str, Path]]:
    """``(group, path)`` of the files the manifest lists as held out (those present here)."""
    from intellimixer.training.corpus import held_out_files

    return [(f"{SPLITS.get(f.split, f.split)}: {f.source} · {f.group}", f.path)
            for f in held_out_files(model.manifest, present=True)]


def given(paths: list[str]) -> list[tuple[str, Path]]:
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += [(p.name, f) for f in sorted(p.rglob("*")) if f.suffix.lower() in AUDIO_EXTS and f.is_file()]
        else:
            out.append((p.parent.name, p))
    return out


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
        print("no files (fetch or install the held-out packages, or name files)", file=sys.stderr)
        return 2
    m = model.manifest
    t0 = time.perf_counter()
    if not args.quiet:
        print(f"{'file':60s} {'LSD':>6s} {'GL':>6s} {'silent':>7s} {'first':>8s} {'last':>8s}")

    def row(r):
        if not args.quiet:
            print(f"{r['file'][-60:]:60s} {r['lsd_db']:6.2f} {r['gl_lsd_db']:6.2f} {r['silent_db']:7.1f} "
                  f"{r['first']:8.4f} {r['last']:8.4f}")

    rep = round_trip_report(model, items, log=row)
    total = rep["all"]
    print(f"\n{'group':60s} {'n':>4s} {'LSD mean':>9s} {'median':>7s} {'GL':>6s} {'silent':>7s} {'GL sil.':>7s} {'max edge':>9s}")
    for name, s in [*rep["groups"].items(), ("all", total)]:
        print(f"{name[-60:]:60s} {s['n']:4d} {s['lsd_mean']:9.2f} {s['lsd_median']:7.2f} {s['gl_lsd_mean']:6.2f} "
              f"{s['silent_median']:7.1f} {s['gl_silent_median']:7.1f} {s['max_edge']:9.5f}")
    print(f"\nmodel {m.name} ({m.sample_rate} Hz, {m.duration:.3f} s); {total['n']} files in {time.perf_counter() - t0:.0f} s; "
          f"highest peak {total['peak_dbfs_max']:.2f} dBFS; first/last sample above 0.01 in {100 * total['edge_over_0.01']:.0f} %")
    if args.json:
        Path(args.json).write_text(json.dumps({"model": m.name, **rep}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
