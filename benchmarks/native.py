"""Native pipeline figures (CPython + numpy + onnxruntime): the reference for the browser.

Measures, on the same sounds and model as the browser benchmark:
- decode + STFT + encode of N sources (WAV files from hydrogen-drumkits, each <= 5 s);
- click -> playable audio (latent rule + decoder + Griffin-Lim + WAV bytes), p50 / p95;
- scrub: generations per second for a continuous sequence of nearby points;
- the same click and scrub through the app's own code (:class:`intellimixer.session.Session`,
  as the browser worker runs it: latent rule, decoder, Griffin-Lim, WAV with credits, map
  state, history), with onnxruntime as the backend: the like-for-like reference for the
  browser's figures. The spectrogram view is not timed: the page asks for it after the sound
  starts playing, and while scrubbing only for the last sound.

    python benchmarks/native.py [--model models/default] [--sources 50] [--clicks 50] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))
from intellimixer import audio, latent, pipeline  # noqa: E402
from intellimixer.backends import NativeBackend  # noqa: E402
from intellimixer.model import NativeModel  # noqa: E402

HYDROGEN = Path("/usr/share/hydrogen/data/drumkits")


def source_files(n: int, max_seconds: float = 5.0) -> list[Path]:
    """``n`` hydrogen-drumkits WAV files of at most ``max_seconds``, in a fixed spread-out order."""
    files = sorted(HYDROGEN.glob("*/*.wav"), key=lambda f: zlib.crc32(str(f.relative_to(HYDROGEN)).encode()))
    out = []
    for f in files:
        x, sr = audio.read_wav(f)
        if len(x) <= max_seconds * sr and not audio.is_silent(x):
            out.append(f)
        if len(out) == n:
            break
    return out


def app_pipeline(model: NativeModel, pcms: list[tuple[np.ndarray, int]], n_clicks: int, n_scrub: int,
                 seed: int = 0, view_width: int = 400) -> dict:
    """Clicks and a scrub through ``intellimixer.session.Session`` (what the worker runs)."""
    import asyncio

    from intellimixer.session import Session

    async def go() -> dict:
        s = Session()
        await s.set_model(model.manifest, NativeBackend(model))
        b = s.begin_batch("local files", origin="local")
        for k, (x, sr) in enumerate(pcms):
            await s.add_source(b, {"name": f"source {k}"}, x, sr)
        s.commit_batch(b)
        rng = np.random.default_rng(seed)
        for _ in range(3):  # warm-up, as the browser half does
            wav, info = await s.generate(rng.uniform(), rng.uniform())
        clicks, stages = [], []
        for _ in range(n_clicks):
            # click -> playable: what the worker does before the page can play the sound (the
            # page asks for the spectrogram view after playback starts, so it is not timed here)
            t = time.perf_counter()
            wav, info = await s.generate(rng.uniform(0.02, 0.98), rng.uniform(0.02, 0.98))
            clicks.append(time.perf_counter() - t)
            stages.append(info["timings_ms"])
            s.view("generated", info["number"], view_width)
        # a drag: the press makes a sound, every point passed is a preview, the release a sound
        wav, info = await s.generate(0.05, 0.5)
        t = time.perf_counter()
        for k in range(n_scrub):
            f = k / max(n_scrub - 1, 1)
            await s.preview(0.05 + 0.9 * f, 0.5)
        scrub_s = time.perf_counter() - t
        wav, info = await s.generate(0.95, 0.5)
        s.view("generated", info["number"], view_width)  # the page draws the kept one only
        return {"app_click_p50_ms": 1000 * percentile(clicks, 50), "app_click_p95_ms": 1000 * percentile(clicks, 95),
                "app_click_stages_p50_ms": stage_medians(stages),
                "app_scrub_generations_per_s": n_scrub / scrub_s}

    return asyncio.run(go())


def stage_medians(stages: list[dict]) -> dict:
    """Per-stage medians (ms) of ``Session.generate``'s ``timings_ms`` over several clicks."""
    keys = sorted({k for st in stages for k, v in st.items() if v is not None})
    return {k: round(percentile([st[k] for st in stages if st.get(k) is not None], 50), 3) for k in keys}


def percentile(values, q) -> float:
    return float(np.percentile(np.asarray(values), q))


def run(model_dir: Path, n_sources: int, n_clicks: int, n_scrub: int = 60, seed: int = 0) -> dict:
    model = NativeModel(model_dir, threads=1)
    m = model.manifest
    files = source_files(n_sources)
    blobs = [f.read_bytes() for f in files]
    model.encode(np.zeros((1, *m.input_shape), np.float32))  # session warm-up, as the app does
    model.decode(np.zeros((1, m.latent_dim), np.float32))

    t0 = time.perf_counter()
    specs = []
    for b in blobs:
        x, sr = audio.read_wav(b)
        specs.append(pipeline.model_input(x, sr, m))
    t1 = time.perf_counter()
    mu = np.concatenate([model.encode(s[None])[0] for s in specs])
    t2 = time.perf_counter()

    dims = (m.dims[0].index, m.dims[1].index)
    (x0, x1), (y0, y1) = latent.axis_ranges(mu, dims)
    rng = np.random.default_rng(seed)
    clicks = []
    for _ in range(n_clicks):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        t = time.perf_counter()
        z, _ = latent.mix_point(mu, dims, x, y)
        wav = audio.write_wav(pipeline.latent_to_audio(model, z), m.sample_rate)
        clicks.append(time.perf_counter() - t)
        assert len(wav) > m.n_samples * 2

    # scrub: a straight drag across the map, one generation per pointer position
    t = time.perf_counter()
    for k in range(n_scrub):
        f = k / max(n_scrub - 1, 1)
        z, _ = latent.mix_point(mu, dims, x0 + f * (x1 - x0), y0 + 0.5 * (y1 - y0))
        audio.write_wav(pipeline.latent_to_audio(model, z), m.sample_rate)
    scrub_s = time.perf_counter() - t

    pcms = []
    for b in blobs:
        x, sr = audio.read_wav(b)
        pcms.append((audio.resample(audio.to_mono(x), sr, m.sample_rate), m.sample_rate))
    app_figures = app_pipeline(model, pcms, n_clicks, n_scrub, seed)

    return {
        **app_figures,
        "model": m.name,
        "sources": len(files),
        "prepare_stft_s": t1 - t0,
        "encode_s": t2 - t1,
        "decode_stft_encode_s": t2 - t0,
        "click_p50_ms": 1000 * percentile(clicks, 50),
        "click_p95_ms": 1000 * percentile(clicks, 95),
        "scrub_generations_per_s": n_scrub / scrub_s,
        "gl_iterations": m.phase.n_iter,
        "sound_seconds": m.duration,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(ROOT / "models" / "default"))
    ap.add_argument("--sources", type=int, default=50)
    ap.add_argument("--clicks", type=int, default=50)
    ap.add_argument("--json")
    args = ap.parse_args()
    r = run(Path(args.model), args.sources, args.clicks)
    print(f"native pipeline, model '{r['model']}', {r['sources']} sources, {r['sound_seconds']:.3f} s sounds, {r['gl_iterations']} GL iterations")
    print(f"  decode + STFT + encode of {r['sources']} sources: {r['decode_stft_encode_s']:.3f} s "
          f"(prepare+STFT {r['prepare_stft_s']:.3f} s, encode {r['encode_s']:.3f} s)")
    print(f"  click -> playable audio: p50 {r['click_p50_ms']:.1f} ms, p95 {r['click_p95_ms']:.1f} ms")
    print(f"  scrub: {r['scrub_generations_per_s']:.1f} generations/s")
    print(f"  through the app's Session (credits, map, history): click p50 {r['app_click_p50_ms']:.1f} ms, "
          f"p95 {r['app_click_p95_ms']:.1f} ms; scrub {r['app_scrub_generations_per_s']:.1f} generations/s")
    print("  of a click, p50 by stage: " + ", ".join(f"{k} {v:.2f} ms" for k, v in r["app_click_stages_p50_ms"].items()))
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
