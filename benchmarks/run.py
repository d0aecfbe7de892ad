#!/usr/bin/env python3
"""Performance of the web app against the native pipeline, measured in one run.

    .venv/bin/python benchmarks/run.py [--sources 50] [--clicks 50] [--boots 5] [--json FILE]

Runs :mod:`benchmarks.native` (CPython + numpy + onnxruntime) and :mod:`benchmarks.browser`
(the served app in headless Chromium) on the same sounds and model, prints one table with
the targets and writes the figures as JSON to ``benchmarks/results/<time>.json`` (gitignored)
or ``--json FILE``. The browser half needs numpy for Pyodide (``INTELLIMIXER_PYODIDE_PACKAGES``,
see DEVELOPERS.md); without it, it is skipped with the reason and the native half still runs.
The machine's load is printed with the figures: timings on a busy machine are noisy, ratios
taken in one run less so.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import browser  # noqa: E402
import native  # noqa: E402

TARGET_TTI_RATIO = 1.3  # time to interactive, cold, against bare Pyodide + numpy in the same browser
TARGET_ENCODE_S = 3.0
TARGET_CLICK_RATIO = 2.0
TARGET_SCRUB_PER_S = 30.0


def _fmt(v, unit="", digits=2):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}{unit}"
    return f"{v}{unit}"


def _ok(flag):
    return "–" if flag is None else ("yes" if flag else "NO")


def table(nat: dict, web: dict | None, skipped: str | None) -> list[tuple[str, str, str, str, str, str]]:
    """Rows: figure, browser, native, browser/native, target, met."""
    rows = []
    w = web or {}

    def ratio(a, b):
        return a / b if a is not None and b else None

    tti_c = w.get("tti_cold_ms")
    tti_c = tti_c / 1000 if tti_c is not None else None
    tti_w = w.get("tti_warm_ms")
    tti_w = tti_w / 1000 if tti_w is not None else None
    bare = w.get("bare_boot_ms")
    bare = bare / 1000 if bare is not None else None
    r_tti = ratio(tti_c, bare)
    # its "native" column: a page that only boots Pyodide in a worker and imports numpy
    rows.append(("time to interactive, cold (median; beside it: bare Pyodide + numpy as npm ships it)", _fmt(tti_c, " s"),
                 _fmt(bare, " s"), _fmt(r_tti, "×"),
                 f"≤ {TARGET_TTI_RATIO:g}× bare Pyodide + numpy", _ok(None if r_tti is None else r_tti <= TARGET_TTI_RATIO)))
    built = w.get("bare_built_boot_ms")
    if built is not None:  # the same floor with the build's standard library archive (its bytecode), as the app has it
        built /= 1000
        rows.append(("  beside it: bare Pyodide + numpy with the build's standard library (bytecode)", _fmt(tti_c, " s"),
                     _fmt(built, " s"), _fmt(ratio(tti_c, built), "×"), "reported", "–"))
    rows.append(("time to interactive, warm cache (median)", _fmt(tti_w, " s"), "–", "–", "reported", "–"))
    enc_w, enc_n = w.get("encode_s"), nat["decode_stft_encode_s"]
    rows.append((f"decode + STFT + encode, {nat['sources']} sources", _fmt(enc_w, " s"), _fmt(enc_n, " s"),
                 _fmt(ratio(enc_w, enc_n), "×", 1), f"≤ {TARGET_ENCODE_S:g} s",
                 _ok(None if enc_w is None else enc_w <= TARGET_ENCODE_S)))
    # native reference for clicks and scrubbing: the app's own Session code on CPython (same
    # work as the worker: credits, map, history, spectrogram view), so the ratio is like for like
    p50w, p50n = w.get("click_p50_ms"), nat.get("app_click_p50_ms", nat["click_p50_ms"])
    r50 = ratio(p50w, p50n)
    rows.append((f"click → playable audio p50 ({nat['sound_seconds']:.2f} s sound)", _fmt(p50w, " ms", 1),
                 _fmt(p50n, " ms", 1), _fmt(r50, "×", 1),
                 f"≤ {TARGET_CLICK_RATIO:g}× native", _ok(None if r50 is None else r50 <= TARGET_CLICK_RATIO)))
    p95w, p95n = w.get("click_p95_ms"), nat.get("app_click_p95_ms", nat["click_p95_ms"])
    rows.append(("click → playable audio p95", _fmt(p95w, " ms", 1), _fmt(p95n, " ms", 1),
                 _fmt(ratio(p95w, p95n), "×", 1), "reported", "–"))
    rows.append(("  of which: click → WAV on the main thread, p50", _fmt(w.get("click_to_wav_p50_ms"), " ms", 1),
                 "–", "–", "reported", "–"))
    rows.append(("  of which: worker generate (Python + ONNX), p50", _fmt(w.get("click_worker_generate_p50_ms"), " ms", 1),
                 _fmt(nat["click_p50_ms"], " ms", 1), "–", "reported", "–"))
    sw_, sn_ = w.get("click_stages_p50_ms") or {}, nat.get("app_click_stages_p50_ms") or {}
    for key, label in (("latent", "latent rule"), ("decode", "decoder (ONNX)"), ("decoder_run", "  of which ORT-web session.run"),
                       ("phase", "phase reconstruction"),
                       ("credits_wav_map", "credits, WAV, map state"), ("to_js", "results to JS typed arrays")):
        a, b = sw_.get(key), sn_.get(key)
        rows.append((f"    {label}, p50", _fmt(a, " ms", 2), _fmt(b, " ms", 2),
                     _fmt(ratio(a, b), "×", 1), "reported", "–"))
    sw, sn = w.get("scrub_generations_per_s"), nat.get("app_scrub_generations_per_s", nat["scrub_generations_per_s"])
    rows.append(("scrub: generations per second while dragging", _fmt(sw, "/s", 1), _fmt(sn, "/s", 1),
                 _fmt(ratio(sw, sn), "×", 2), f"≥ {TARGET_SCRUB_PER_S:g}/s",
                 _ok(None if sw is None else sw >= TARGET_SCRUB_PER_S)))
    drop = w.get("scrub_dropped_share")
    rows.append(("scrub: share of pointer positions dropped (latest wins)",
                 "–" if drop is None else f"{100 * drop:.0f} %", "–", "–", "reported", "–"))
    for key, label in (("long_tasks_encode_ms", "encoding"), ("long_tasks_scrub_ms", "scrubbing"),
                       ("long_tasks_clicks_ms", "50 clicks"), ("long_tasks_boot_cold_ms", "cold boot")):
        lt = w.get(key)
        val = "–" if lt is None else (f"{len(lt)} (max {max(lt):.0f} ms)" if lt else "0")
        target = "none" if label in ("encoding", "scrubbing") else "reported"
        met = None if lt is None or target == "reported" else not lt
        rows.append((f"main-thread long tasks (> 50 ms) during {label}", val, "–", "–", target, _ok(met)))
    b = w.get("bytes_before_interactive")
    rows.append(("bytes downloaded before interactive (cold)",
                 "–" if b is None else f"{b / 1e6:.1f} MB in {w.get('requests_before_interactive')} requests",
                 "–", "–", "reported", "–"))
    bw = w.get("bytes_warm_reload")
    rows.append(("bytes downloaded on a warm reload", "–" if bw is None else f"{bw / 1e6:.1f} MB", "–", "–", "reported", "–"))
    sc = w.get("scipy_downloaded")
    rows.append(("scipy among the downloads", "–" if sc is None else ("yes" if sc else "no"), "–", "–", "no",
                 _ok(None if sc is None else not sc)))
    return rows


def print_table(rows, out=sys.stdout):
    head = ("figure", "browser", "native", "ratio", "target", "met")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)) + " |"  # noqa: E731
    print(line(head), file=out)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=out)
    for r in rows:
        print(line(r), file=out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(ROOT / "models" / "default"))
    ap.add_argument("--sources", type=int, default=50)
    ap.add_argument("--clicks", type=int, default=50)
    ap.add_argument("--boots", type=int, default=5, help="cold and warm boots each (median reported)")
    ap.add_argument("--scrub-seconds", type=float, default=4.0)
    ap.add_argument("--no-isolation", action="store_true", help="serve without COOP/COEP (single-threaded ONNX)")
    ap.add_argument("--skip-browser", action="store_true")
    ap.add_argument("--profile", metavar="DIR",
                    help="also record main-thread CPU profiles of the clicks and the scrub (DIR/*.cpuprofile)")
    ap.add_argument("--json", help="write the figures here (default benchmarks/results/<time>.json)")
    args = ap.parse_args()

    load0 = os.getloadavg()
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    print(f"Audio Intellimixer benchmark, {started}, {os.cpu_count()} CPUs, load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
    model = Path(args.model)
    print(f"native half (CPython {platform.python_version()}, numpy + onnxruntime, 1 thread)…", flush=True)
    nat = native.run(model, args.sources, args.clicks)

    pk = os.environ.get("INTELLIMIXER_PYODIDE_PACKAGES")
    skipped = "--skip-browser" if args.skip_browser else browser.unavailable(Path(pk) if pk else None)
    web = None
    if skipped:
        print(f"browser half SKIPPED: {skipped}")
    else:
        print(f"browser half (headless Chromium, {browser.CHROMIUM})…", flush=True)
        web = browser.run(model, args.sources, args.clicks, Path(pk), n_boots=args.boots,
                          scrub_seconds=args.scrub_seconds, isolate=not args.no_isolation,
                          profile_dir=Path(args.profile) if args.profile else None,
                          log=lambda m: print(m, flush=True))
    load1 = os.getloadavg()

    rows = table(nat, web, skipped)
    print()
    print(f"model '{nat['model']}', {nat['sources']} sources (hydrogen-drumkits WAV, ≤ 5 s), "
          f"{nat['gl_iterations']} Griffin-Lim iterations; load average {load0[0]:.2f} → {load1[0]:.2f} "
          f"on {os.cpu_count()} CPUs")
    print_table(rows)
    print("native: the app's Session code on CPython + onnxruntime (1 thread) for clicks and scrubbing; "
          "the 'worker generate' row's native figure is the bare engine (decoder + Griffin-Lim + WAV)")
    if web:
        top = list(web["downloads_before_interactive"].items())[:6]
        print("largest downloads before interactive: " + ", ".join(f"{p} {n / 1e6:.2f} MB" for p, n in top))
        bt = web["boot_timings_cold_ms"]
        print("cold boot steps (ms since the navigation started): " + ", ".join(f"{k} {v}" for k, v in bt.items()))
        for key in ("profile_clicks_top_ms", "profile_scrub_top_ms"):
            if web.get(key):
                print(f"{key} (main thread, self time): " + ", ".join(f"{k} {v}" for k, v in list(web[key].items())[:8]))

    result = {"started": started, "cpus": os.cpu_count(), "load_average_before": load0, "load_average_after": load1,
              "native": nat, "browser": web, "browser_skipped": skipped,
              "table": [dict(zip(("figure", "browser", "native", "ratio", "target", "met"), r)) for r in rows]}
    path = Path(args.json) if args.json else HERE / "results" / (started.replace(":", "") + ".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(f"figures written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
