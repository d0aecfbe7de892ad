"""``build_onnx.py``'s command line: train the default VAE, order and label its dims,
export, evaluate.

    python build_onnx.py                          # full run -> models/default (fetches the corpus once)
    python build_onnx.py --quick --out /tmp/b     # tiny smoke-test model on a few files (seconds)
    python build_onnx.py --eval-only --out models/default   # re-measure an existing bundle
"""
from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..bundle import manifest_json
from ..model import NativeModel, load_manifest
from .corpus import (
    HELD_OUT_PACKAGES,
    HOLDOUT_FRACTION,
    LICENSE,
    PACKAGES,
    AugmentConfig,
    build_dataset,
    credits_text,
    find_sound_files,
    held_out_files,
    select_files,
)
from .describe import descriptors, label_dims, spreads, sweep_dims
from .evaluate import evaluate_bundle, plot_bundle_map, round_trip_report
from .export import export_bundle
from .format import DEFAULT_OUT, DEFAULT_PLOT, ROOT, format_manifest
from .vae import (
    CalibratedDecoder,
    ModelConfig,
    TrainConfig,
    decode_all,
    encode_all,
    fit_output_calibration,
    order_latent_dims,
    require_torch,
    train_vae,
)

OUTPUT_CALIBRATION_SOUNDS = 512  # training sounds the decoder's output calibration is fitted on
SPLIT_NAMES = {"package": "held-out package", "category": "held-out category", "file": "held-out file"}


def yardstick_groups(files) -> list[tuple[str, Path]]:
    """``(group, path)`` of held-out files for :func:`round_trip_report`: grouped by how they
    were held out and by kind of sound."""
    return [(f"{SPLIT_NAMES.get(f.split, f.split)}: {f.group}", f.path) for f in files]


def evaluate(out: Path, held, log=print) -> dict[str, Any]:
    """Both measures of a bundle on its held-out files (for the manifest's ``training.eval``)."""
    result = evaluate_bundle(out, held)
    log("held out (model representation): " + format_eval(result))
    rep = round_trip_report(NativeModel(out), yardstick_groups(held))
    by_split = {}
    for split, name in SPLIT_NAMES.items():
        rows = [r for r in rep["rows"] if r["group"].startswith(name)]
        if rows:
            by_split[split] = {"n": len(rows), "lsd_mean": round(float(np.mean([r["lsd_db"] for r in rows])), 3)}
    a = rep["all"]
    log(f"held out (round trip, yardstick): {a['n']} files, LSD {a['lsd_mean']:.2f} dB "
        + " ".join(f"[{k}: {v['lsd_mean']:.2f} dB, {v['n']} files]" for k, v in by_split.items())
        + f", silent frames {a['silent_median']:.1f} dB")
    out_eval = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in result.items() if k != "files"}
    out_eval["peak_delta_db_median"] = round(result["peak_delta_db_median"], 2)
    out_eval["round_trip"] = {"all": {k: round(v, 3) if isinstance(v, float) else v for k, v in a.items()},
                              "by_split": by_split,
                              "groups": {g: {"n": v["n"], "lsd_mean": round(v["lsd_mean"], 2),
                                             "silent_median": round(v["silent_median"], 1)}
                                         for g, v in rep["groups"].items()}}
    return out_eval


def build(args: argparse.Namespace, log=print) -> dict[str, Any]:
    """Train, order and label dims, export, evaluate; returns the manifest written to ``args.out``."""
    t_start = time.perf_counter()
    mcfg = ModelConfig(latent_dim=args.latent_dim)
    if getattr(args, "dec_channels", None):
        mcfg = replace(mcfg, dec_channels=tuple(args.dec_channels))
    mcfg = mcfg.scaled(args.width)
    tcfg = TrainConfig(epochs=args.epochs, beta=args.beta, lr=args.lr, seed=args.seed, loud_weight=args.loud_weight)
    aug = AugmentConfig(pitch_variants=1, mixes_per_file=0.5) if args.quick else AugmentConfig()
    fmt = format_manifest()
    files = find_sound_files(fetch=not args.quick, log=log)
    train_files, held = select_files(files, args.quick)
    if not train_files:
        raise SystemExit("no training sounds found: apt install hydrogen-drumkits sound-theme-freedesktop "
                         "(a full run fetches the other packages itself)")
    counts = Counter(f.source for f in train_files)
    log(f"data: {len(train_files)} training files ("
        + ", ".join(f"{n} {name}" for name, n in counts.items()) + f"), {len(held)} held out")
    data = build_dataset(train_files, fmt, aug, args.seed, log)
    t_data = time.perf_counter() - t_start
    log(f"dataset: {len(data)} spectrograms ({', '.join(f'{data.kinds.count(k)} {k}' for k in ('original', 'pitch', 'mix'))}) "
        f"in {t_data:.0f} s")
    model, history = train_vae(data, mcfg, tcfg, log)
    t_train = history[-1]["time_s"]
    dim_kl = order_latent_dims(model, data.specs)
    log("per-dim KL (nats): " + " ".join(f"{k:.2f}" for k in dim_kl))
    originals = np.flatnonzero(np.array(data.kinds) == "original")
    mu, _ = encode_all(model.encoder, data.specs[originals])
    sample = np.random.default_rng(args.seed).permutation(len(originals))[:OUTPUT_CALIBRATION_SOUNDS]
    output_maps = fit_output_calibration(decode_all(model.decoder, mu[sample]), data.specs[originals[sample]])
    decoder = CalibratedDecoder(model.decoder, output_maps["peak"], output_maps["relative"]).eval()
    desc = [descriptors(data.specs[k], fmt) for k in originals]
    moves = sweep_dims(lambda z: decode_all(decoder, z), mu, fmt, spreads(desc))
    labels = label_dims(mu, desc, moves)
    log("dims: " + "; ".join(f"{d['label']} (r = {d['correlation']:+.2f})" for d in labels))
    n_params = sum(p.numel() for p in model.parameters())
    training = {
        "packages": {name: {"licence": PACKAGES[name].licence, "files": n} for name, n in counts.items()},
        "held_out": [f.id for f in held],
        "held_out_rule": (f"whole packages {', '.join(HELD_OUT_PACKAGES)}; whole categories (corpus.PACKAGES held_out); "
                          f"of the rest, int(sha1(split_key)[:8], 16) / 2**32 < {HOLDOUT_FRACTION}, split_key = "
                          "'<package>/<folder>/<file stem without velocity words and trailing number>'"),
        "n_train_files": data.kinds.count("original"),
        "n_train_rows": len(data),
        "augment": asdict(aug),
        "model": {**asdict(mcfg), "parameters": n_params},
        "train": asdict(tcfg),
        "final": {k: round(float(history[-1][k]), 3) for k in ("recon", "kl")},
        "calibration": {k: [[round(v, 5) for v in axis] for axis in knots] for k, knots in output_maps.items()},
        "time_s": {"data": round(t_data, 1), "train": round(t_train, 1)},
    }
    kind = "quick smoke-test" if args.quick else "default"
    manifest = export_bundle(
        model.encoder, decoder, args.out, mcfg.latent_dim, dim_kl=dim_kl, dim_labels=labels,
        name="quick" if args.quick else "default",
        description=f"Convolutional VAE ({kind}), {mcfg.latent_dim}-d latent, trained on drums, guitar strums, UI "
                    "sounds and game foley (footsteps, weapons, impacts, machines, creatures, ambience, voices).",
        license=LICENSE, credits=credits_text(dict(counts)), external_data=args.external_data,
        extra={"training": training},
    )
    if args.plot:
        plot_bundle_map(args.out, train_files, args.plot)
        log(f"latent map -> {args.plot}")
    if not args.no_eval and held:
        manifest["training"]["eval"] = evaluate(Path(args.out), held, log)
    manifest["training"]["time_s"]["total"] = round(time.perf_counter() - t_start, 1)
    load_manifest(manifest)
    (Path(args.out) / "manifest.json").write_text(manifest_json(manifest))
    size = sum(p.stat().st_size for p in Path(args.out).iterdir() if p.is_file())
    log(f"bundle {args.out}: {size / 1e6:.2f} MB, {n_params} parameters, "
        f"total {manifest['training']['time_s']['total']:.0f} s")
    return manifest


def format_eval(result: dict[str, Any]) -> str:
    """One-line summary of :func:`evaluate_bundle`'s result."""
    return (f"{result['n_files']} files: LSD recon {result['mean_lsd_recon_db']:.2f} dB, "
            f"recon + phase {result['mean_lsd_phase_db']:.2f} dB (max {result['max_lsd_phase_db']:.2f}), "
            f"phase only {result['mean_lsd_gl_only_db']:.2f} dB")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train the default Audio Intellimixer VAE and export it as an ONNX model bundle.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="bundle folder to write")
    p.add_argument("--quick", action="store_true",
                   help="tiny model on a few files for smoke tests (< 2 min); implies small defaults")
    p.add_argument("--epochs", type=int, help=f"training epochs (default {TrainConfig.epochs}, quick 30)")
    p.add_argument("--width", type=float, help="channel-count multiplier (default 1, quick 0.25)")
    p.add_argument("--latent-dim", type=int, default=ModelConfig.latent_dim, help="latent size D")
    p.add_argument("--dec-channels", type=lambda v: [int(c) for c in v.split(",")],
                   help="decoder channels, comma-separated, before --width (default "
                        + ",".join(map(str, ModelConfig.dec_channels)) + ")")
    p.add_argument("--beta", type=float, default=TrainConfig.beta, help="KL weight after warm-up")
    p.add_argument("--lr", type=float, default=TrainConfig.lr, help="peak learning rate")
    p.add_argument("--loud-weight", type=float, default=TrainConfig.loud_weight,
                   help="extra weight of loud bins in the reconstruction loss (1 + w * target)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--external-data", action="store_true", help="write weights as encoder.bin / decoder.bin")
    p.add_argument("--plot", type=Path, help="write the training-set latent map PNG here "
                   f"(default for a full run into {DEFAULT_OUT.relative_to(ROOT)}: {DEFAULT_PLOT.relative_to(ROOT)})")
    p.add_argument("--no-eval", action="store_true", help="skip the held-out evaluation")
    p.add_argument("--eval-only", action="store_true", help="only evaluate the bundle in --out on its held-out files")
    args = p.parse_args(argv)
    if args.epochs is None:
        args.epochs = 30 if args.quick else TrainConfig.epochs
    if args.width is None:
        args.width = 0.25 if args.quick else 1.0
    if args.plot is None and not args.quick and args.out.resolve() == DEFAULT_OUT:
        args.plot = DEFAULT_PLOT
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.eval_only:
        m = load_manifest(args.out)
        held = held_out_files(m, present=True)
        evaluate(args.out, held)
        if args.plot:
            held = set(m.extra.get("training", {}).get("held_out", []))
            plot_bundle_map(args.out, [f for f in find_sound_files() if f.id not in held], args.plot)
            print(f"latent map -> {args.plot}")
        return 0
    require_torch()
    build(args, log=lambda s: print(s, flush=True))
    return 0


