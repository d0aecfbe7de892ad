"""Browser pipeline figures: the served app driven in headless Chromium (Playwright).

Measures, with the same sounds and model as :mod:`benchmarks.native`:

- time to interactive (navigation start -> "Ready" with the default model), cold (fresh
  browser profile: empty HTTP and code caches) and warm (same profile, new tab), medians;
- bytes downloaded before interactive (counted by the server, per file; scipy must not be
  among them);
- decode + STFT + encode of N local sound files (the same hydrogen-drumkits WAVs as the
  native half), from the file input's ``change`` to the map showing them;
- click -> playable audio over N clicks on empty map spots: ``pointerdown`` -> the new
  sound starting in WebAudio (``AudioBufferSourceNode.start``; ``canplay`` of the
  ``<audio>`` element where WebAudio is not used), with the WAV's arrival on the main
  thread and the worker's own generate time as break-down;
- scrub: generations per second while dragging, and the share of pointer positions dropped;
- main-thread long tasks (> 50 ms, ``PerformanceObserver('longtask')``) during boot,
  encoding, clicks and scrubbing.

Needs numpy for Pyodide (``INTELLIMIXER_PYODIDE_PACKAGES``, see DEVELOPERS.md), Chromium
(``INTELLIMIXER_CHROMIUM``, default /usr/bin/chromium), Python playwright and a built
``static/vendor``; :func:`unavailable` says what is missing.

    python benchmarks/browser.py [--sources 50] [--clicks 50] [--json out.json]

benchmarks/run.py runs this together with the native half and prints the table.

(A little over 500 lines: the page-side probes are JavaScript strings kept beside the Python
that drives them, so each measurement reads in one place.)
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import native  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "browser"))
from chromium import CHROMIUM, CHROMIUM_ARGS, NUMPY_WHEEL  # noqa: E402

TIMEOUT_MS = 120_000
LONG_TASK_MS = 50.0

# Installed before any page script runs: long-task observer and a place for marks.
INIT_JS = """
(() => {
  const b = window.__bench = { longtasks: [], phases: {}, starts: [] };
  // WebAudio playback starting = the generated sound is playing
  try {
    const start = AudioBufferSourceNode.prototype.start;
    AudioBufferSourceNode.prototype.start = function (...args) { b.starts.push(performance.now()); return start.apply(this, args); };
  } catch (err) { /* no WebAudio */ }
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longtasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask", buffered: true });
    b.longtaskSupported = true;
  } catch (err) { b.longtaskSupported = false; }
})();
"""

# After "Ready": timestamps of map clicks, of the generated <audio> getting a new src
# (WAV on the main thread) and of it becoming playable (canplay); worker calls are timed
# by the page's worker client, which announces each call as a "call" event.
INSTRUMENT_JS = """
() => {
  const b = window.__bench;
  const im = window.intellimixer;
  b.clicks = []; b.downs = []; b.srcs = []; b.canplay = []; b.calls = [];
  const map = document.getElementById("map");
  const audio = document.getElementById("generated-audio");
  map.addEventListener("click", (e) => b.clicks.push(performance.now()), true);
  map.addEventListener("pointerdown", (e) => b.downs.push(performance.now()), true);
  audio.addEventListener("canplay", () => b.canplay.push(performance.now()));
  new MutationObserver(() => b.srcs.push(performance.now())).observe(audio, { attributes: true, attributeFilter: ["src"] });
  // when each generated sound reached the page (the event's own time: listeners run in order)
  b.delivered = [];
  im.state.worker.addEventListener("message", (e) => { if (e.data && e.data.imx === "generated") b.delivered.push(e.timeStamp); });
  // every worker call, timed by the page's worker client (its typed "call" events)
  im.client.addEventListener("call", (e) => {
    const { op, t0, t1, reply } = e.detail;
    const rec = { name: op, t0, t1 };
    if (op === "generate" && reply.ok) { rec.worker_s = reply.seconds; rec.timings = reply.timings_ms; }
    b.calls.push(rec);
  });
  b.wrapped = true;
  return { wrapped: b.wrapped, crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency };
}
"""

# Resolves once a click's generation is over and its sound started (WebAudio) or can play
# (<audio>). Event-driven: polling the page every few ms would take CPU from the worker
# being measured (measured: ~3 ms more per click on the 2-core machine).
WAIT_PLAYABLE_JS = """
([nStarts, nCanplay]) => new Promise((resolve, reject) => {
  const b = window.__bench;
  const audio = document.getElementById("generated-audio");
  const done = () => !document.body.dataset.generating && (b.starts.length > nStarts || b.canplay.length > nCanplay);
  let timer = null;
  const obs = new MutationObserver(() => check());
  const finish = (ok) => { obs.disconnect(); audio.removeEventListener("canplay", check); clearTimeout(timer);
                           ok ? resolve(true) : reject(new Error("no playable sound within 15 s")); };
  function check() { if (done()) finish(true); }
  obs.observe(document.body, { attributes: true, attributeFilter: ["data-generating"] });
  audio.addEventListener("canplay", check);
  timer = setTimeout(() => finish(done()), 15000);
  check();
})
"""

# Two animation frames: the page has drawn what the last action changed.
SETTLED_JS = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"

WAIT_IDLE_JS = """
() => new Promise((resolve) => {
  const idle = () => !document.body.dataset.job && !document.body.dataset.generating
    && document.getElementById("status").dataset.state !== "busy";
  const tick = () => idle() ? resolve(performance.now()) : setTimeout(tick, 2);
  tick();
})
"""


# The floor for time to interactive: a page that only boots Pyodide in a module worker (as
# the app does) and imports numpy from the same package folder, from the same server: Pyodide
# as npm ships it (the standard library as sources: `?stdlib=` names npm's archive, which the
# build keeps as python_stdlib.stock.zip), or with the build's archive (sources and bytecode,
# py/intellimixer/precompiled.py) when `?stdlib=` is empty.
BARE_PATH = "/bench/bare.html"
BARE_HTML = f"""<!doctype html><meta charset="utf-8"><title>bare Pyodide + numpy</title>
<script type="module">
const stdlib = new URLSearchParams(location.search).get("stdlib");
const url = URL.createObjectURL(new Blob([`
  import {{ loadPyodide }} from "${{location.origin}}/static/vendor/pyodide/pyodide.mjs";
  const indexURL = "${{location.origin}}/static/vendor/pyodide/";
  const py = await loadPyodide({{ indexURL, ...(${{JSON.stringify(stdlib || "")}} ? {{ stdLibURL: indexURL + ${{JSON.stringify(stdlib)}} }} : {{}}) }});
  const booted = performance.now();
  await py.loadPackage("${{location.origin}}/pyodide-packages/{NUMPY_WHEEL}", {{ checkIntegrity: false }});
  py.runPython("import numpy");
  postMessage({{ booted }});
`], {{ type: "text/javascript" }}));
const t = performance.now();
const w = new Worker(url, {{ type: "module" }});
window.bare = new Promise((resolve) => {{ w.onmessage = () => resolve({{ ready_ms: performance.now(), worker_start_ms: t }}); }});
</script>"""


def stock_stdlib(root: Path = ROOT) -> str:
    """The file name of npm's standard library archive in the build's Pyodide folder ('' if
    the build kept none: then the bare page boots with the build's own)."""
    try:
        return json.loads((root / "static" / "vendor" / "runtime.json").read_text()).get("stdlib_stock", "")
    except (OSError, ValueError):
        return ""


def _bare_boot(page, base_url: str, stdlib: str = "") -> float:
    """Navigation start -> numpy imported in a fresh worker's Pyodide, in ms; ``stdlib``: the
    standard library archive's file name in the Pyodide folder ('' for the default)."""
    page.goto(base_url.rstrip("/") + BARE_PATH + "?stdlib=" + urllib.parse.quote(stdlib), wait_until="load")
    return float(page.evaluate("window.bare.then((r) => r.ready_ms)"))


def unavailable(packages_dir: Path | None) -> str | None:
    """Why the browser half cannot run here (None if it can)."""
    if packages_dir is None:
        return ("needs numpy inside Pyodide: set INTELLIMIXER_PYODIDE_PACKAGES to a folder holding "
                f"{NUMPY_WHEEL} (the Pyodide CDN is not reachable offline; see DEVELOPERS.md)")
    if not (packages_dir / NUMPY_WHEEL).is_file():
        return f"INTELLIMIXER_PYODIDE_PACKAGES={packages_dir} has no {NUMPY_WHEEL}"
    if not (ROOT / "static" / "vendor" / "runtime.json").is_file():
        return "static/vendor is not built: run `npm ci && npm run build`"
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set INTELLIMIXER_CHROMIUM)"
    if importlib.util.find_spec("playwright") is None:
        return "Python playwright is not installed"
    return None


def _load_serve(root: Path = ROOT):
    spec = importlib.util.spec_from_file_location("intellimixer_serve", Path(root) / "scripts" / "serve.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class CountingServer:
    """scripts/serve.py on a free port, logging (path, status, body bytes) of every response."""

    def __init__(self, packages_dir: Path, model_dir: Path, isolate: bool = True, root: Path = ROOT):
        serve = _load_serve(root)
        self.httpd = serve.make_server(port=0, quiet=True, packages_dir=packages_dir, model_dir=model_dir,
                                       isolate=isolate)
        self.log: list[tuple[str, int, int]] = []
        lock = threading.Lock()
        log = self.log
        base = self.httpd.RequestHandlerClass

        class Counting(base):
            def send_response(self, code, message=None):
                self._bench_status = code
                super().send_response(code, message)

            def copyfile(self, source, outputfile):
                n = 0
                while True:
                    buf = source.read(64 * 1024)
                    if not buf:
                        break
                    outputfile.write(buf)
                    n += len(buf)
                with lock:
                    log.append((self.path, getattr(self, "_bench_status", 200), n))

            def do_GET(self):
                if self.path.split("?")[0] != BARE_PATH:
                    return super().do_GET()
                body = BARE_HTML.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                self.wfile.write(body)

            def send_head(self):
                f = super().send_head()
                if f is None:
                    with lock:
                        log.append((self.path, getattr(self, "_bench_status", 0), 0))
                return f

        self.httpd.RequestHandlerClass = Counting
        host, port = self.httpd.server_address[:2]
        self.url = f"http://{host}:{port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def mark(self) -> int:
        return len(self.log)

    def since(self, mark: int) -> list[tuple[str, int, int]]:
        return list(self.log[mark:])

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _boot(page, url) -> dict:
    page.goto(url, wait_until="load")
    tti = page.evaluate("window.intellimixer.ready.then(() => performance.now())")
    ready = page.get_attribute("body", "data-ready")
    if ready != "1":
        msg = page.inner_text("#status-message")
        raise RuntimeError(f"the app did not get ready: {msg}")
    timings = page.evaluate("({...window.intellimixer.timings})")
    return {"tti_ms": tti, "timings": timings}


def _long_tasks(page, t0: float, t1: float) -> list[float]:
    tasks = page.evaluate("window.__bench.longtasks")
    return [round(d, 1) for s, d in tasks if s + d >= t0 and s <= t1 and d > LONG_TASK_MS]


def _pick_spots(page, n: int, seed: int) -> list[tuple[float, float]]:
    """``n`` random normalised map positions at least 12 px from every source dot."""
    pts = page.evaluate("window.intellimixer.points()")
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        nx, ny = float(rng.uniform(0.02, 0.98)), float(rng.uniform(0.02, 0.98))
        c = page.evaluate("([x, y]) => window.intellimixer.toClient(x, y)", [nx, ny])
        if all((p["clientX"] - c["x"]) ** 2 + (p["clientY"] - c["y"]) ** 2 > 144 for p in pts):
            out.append((nx, ny))
    return out


def _scrub(page, seconds: float, rate_hz: float) -> dict:
    """Drag across the map for ``seconds``: pointer positions at ``rate_hz`` along a line.

    Uses the app's scrub (pointerdown / pointermove / pointerup) and its counters
    (``window.intellimixer.stats``) where they exist; otherwise dispatches one click per
    position (latest wins) and counts completed generations.
    """
    return page.evaluate(
        """async ([seconds, rate]) => {
          const im = window.intellimixer, b = window.__bench;
          const map = document.getElementById("map");
          const stats0 = im.stats ? JSON.parse(JSON.stringify(im.stats)) : null;
          const hasScrub = !!(stats0 && "scrub_requested" in stats0);
          const pts = im.points();
          const free = (x, y) => pts.every((p) => (p.clientX - x) ** 2 + (p.clientY - y) ** 2 > 100);
          // a horizontal line with the fewest dots on it
          let ny = 0.5;
          for (const cand of [0.5, 0.42, 0.58, 0.3, 0.7, 0.2, 0.8, 0.1, 0.9]) {
            let ok = true;
            for (let k = 0; k <= 40; k++) { const c = im.toClient(0.05 + 0.9 * k / 40, cand); if (!free(c.x, c.y)) { ok = false; break; } }
            if (ok) { ny = cand; break; }
          }
          const gen0 = b.calls.filter((c) => c.name === "generate").length;
          const n = Math.round(seconds * rate);
          const fire = (type, c) => map.dispatchEvent(new PointerEvent(type, {
            bubbles: true, cancelable: true, composed: true, pointerId: 1, pointerType: "mouse", isPrimary: true,
            clientX: c.x, clientY: c.y, button: 0, buttons: type === "pointerup" ? 0 : 1 }));
          const clickAt = (c) => map.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true, clientX: c.x, clientY: c.y, button: 0 }));
          // positions computed up front: reading layout during the drag would cost the page time
          const path = Array.from({ length: 120 }, (_, k) => { const f = k / 60; const tri = f <= 1 ? f : 2 - f; return im.toClient(0.05 + 0.9 * tri, ny); });
          const pos = (k) => path[k % 120];
          const t0 = performance.now();
          let requested = 0, skippedDots = 0;
          if (hasScrub) fire("pointerdown", pos(0));
          for (let k = 0; k < n; k++) {
            const target = t0 + (k * 1000) / rate;
            while (performance.now() < target) await new Promise((r) => setTimeout(r, Math.max(0, target - performance.now())));
            const c = pos(k);
            if (hasScrub) fire("pointermove", c);
            else if (free(c.x, c.y)) clickAt(c); else { skippedDots++; continue; }
            requested++;
          }
          const tEnd = performance.now();
          const statsEnd = im.stats ? JSON.parse(JSON.stringify(im.stats)) : null;
          if (hasScrub) fire("pointerup", pos(n - 1));
          // let the last generation finish
          await new Promise((resolve) => {
            const tick = () => (!document.body.dataset.generating) ? resolve() : setTimeout(tick, 2);
            tick();
          });
          const t1 = performance.now();
          const gens = b.calls.filter((c) => c.name === "generate").slice(gen0);
          const inWindow = gens.filter((c) => c.t1 <= tEnd);
          const stats1 = im.stats ? JSON.parse(JSON.stringify(im.stats)) : null;
          return { mode: hasScrub ? "scrub (pointer drag)" : "clicks (no scrub in the app yet)",
                   t0, tEnd, t1, requested, skippedDots, completed: gens.length,
                   completedInWindow: inWindow.length, seconds: (tEnd - t0) / 1000,
                   stats0, statsEnd, stats1 };
        }""",
        [seconds, rate_hz],
    )


def _save_profile(cdp, path: Path, top: int = 15) -> dict[str, float]:
    """Stop the CDP profiler, write the profile, return the top functions by self time (ms)."""
    prof = cdp.send("Profiler.stop")["profile"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(prof))
    nodes = {n["id"]: n["callFrame"] for n in prof["nodes"]}
    self_us: dict[str, float] = {}
    for sid, dt in zip(prof.get("samples", []), prof.get("timeDeltas", [])):
        f = nodes[sid]
        name = f["functionName"] or "(anonymous)"
        if f["url"]:
            name += f" {f['url'].rsplit('/', 1)[-1]}:{f['lineNumber'] + 1}"
        self_us[name] = self_us.get(name, 0.0) + dt
    ranked = sorted(((k, v) for k, v in self_us.items() if k not in ("(idle)", "(program)")), key=lambda kv: -kv[1])
    return {k: round(v / 1000, 1) for k, v in ranked[:top]}


def run(model_dir: Path, n_sources: int, n_clicks: int, packages_dir: Path, n_boots: int = 3,
        scrub_seconds: float = 4.0, scrub_rate_hz: float = 60.0, seed: int = 0, isolate: bool = True,
        profile_dir: Path | None = None, log=print) -> dict:
    """Run the browser half; with ``profile_dir``, also record main-thread CPU profiles
    (Chromium's sampling profiler over CDP) of the clicks and of the scrub there
    (``clicks.cpuprofile``, ``scrub.cpuprofile``: open them in Chromium DevTools' Performance
    panel) and put the top functions by self time in the result."""
    from playwright.sync_api import sync_playwright

    files = native.source_files(n_sources)
    srv = CountingServer(packages_dir, model_dir, isolate=isolate)
    out: dict = {"url": srv.url, "sources": len(files), "cross_origin_isolated": isolate}
    profile = Path(tempfile.mkdtemp(prefix="intellimixer-bench-"))
    try:
        with sync_playwright() as p:
            # --- time to interactive. Cold: a fresh browser profile (empty HTTP and code caches).
            # Warm: the same profile, a new tab (disk cache: a Playwright incognito context keeps
            # its cache in memory and does not keep the 9 and 14 MB .wasm files in it).
            cold, warm, bare, bare_built, downloads = [], [], [], [], None
            stock = stock_stdlib()
            ctx = None
            for k in range(n_boots):
                if ctx is not None:
                    ctx.close()
                # the floor, in a fresh profile too (cold caches), just before the app's boots:
                # Pyodide as npm ships it, then (where the build keeps npm's archive beside its
                # own) with the build's standard library archive, as the app boots it
                for stdlib, into in ((stock, bare), ("", bare_built))[:2 if stock else 1]:
                    ctx = p.chromium.launch_persistent_context(
                        str(profile / f"bare{k}{into is bare_built}"), executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                    page = ctx.pages[0] if ctx.pages else ctx.new_page()
                    page.set_default_timeout(TIMEOUT_MS)
                    into.append(_bare_boot(page, srv.url, stdlib))
                    ctx.close()
                ctx = p.chromium.launch_persistent_context(
                    str(profile / f"boot{k}"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                    viewport={"width": 1280, "height": 800})
                ctx.add_init_script(INIT_JS)
                page = ctx.pages[0] if ctx.pages else ctx.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                mark = srv.mark()
                b = _boot(page, srv.url)
                cold.append(b)
                if downloads is None:
                    time.sleep(0.2)  # let the server log the last responses
                    downloads = [e for e in srv.since(mark)]
                    out["long_tasks_boot_cold_ms"] = _long_tasks(page, 0, b["tti_ms"])
                    out["chromium"] = page.evaluate("navigator.userAgent")
                page.goto("about:blank")
                page.close()
                page = ctx.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                mark = srv.mark()
                w = _boot(page, srv.url)
                time.sleep(0.1)
                w["bytes"] = sum(n for _, _, n in srv.since(mark))
                warm.append(w)
                log(f"  boot {k + 1}/{n_boots}: cold {cold[-1]['tti_ms']:.0f} ms, warm {w['tti_ms']:.0f} ms, "
                    f"bare Pyodide + numpy {bare[-1]:.0f} ms"
                    + (f" (with the build's standard library {bare_built[-1]:.0f} ms)" if bare_built else ""))
            out["tti_cold_ms"] = float(np.median([b["tti_ms"] for b in cold]))
            out["tti_warm_ms"] = float(np.median([b["tti_ms"] for b in warm]))
            out["bare_boot_ms"] = float(np.median(bare))
            out["bare_boot_all_ms"] = [round(b) for b in bare]
            if bare_built:
                out["bare_built_boot_ms"] = float(np.median(bare_built))
                out["bare_built_boot_all_ms"] = [round(b) for b in bare_built]
            out["tti_cold_all_ms"] = [round(b["tti_ms"]) for b in cold]
            out["tti_warm_all_ms"] = [round(b["tti_ms"]) for b in warm]
            out["boot_timings_cold_ms"] = {k: round(v) for k, v in cold[len(cold) // 2]["timings"].items()}
            out["boot_timings_warm_ms"] = {k: round(v) for k, v in warm[len(warm) // 2]["timings"].items()}
            before_ready = [e for e in downloads]
            out["bytes_before_interactive"] = sum(n for _, _, n in before_ready)
            out["bytes_warm_reload"] = int(np.median([w["bytes"] for w in warm]))
            by_file: dict[str, int] = {}
            for path, _, n in before_ready:
                by_file[path] = by_file.get(path, 0) + n
            out["downloads_before_interactive"] = dict(sorted(by_file.items(), key=lambda kv: -kv[1]))
            out["requests_before_interactive"] = len(before_ready)
            out["scipy_downloaded"] = any("scipy" in path.lower() for path in by_file)

            # --- the last warm page: encode sources, clicks, scrub
            info = page.evaluate(INSTRUMENT_JS)
            out["threads_page"] = info
            out["onnx_threads"] = page.evaluate("window.intellimixer.state.config && window.intellimixer.state.config.onnx_threads")

            page.evaluate("() => document.getElementById('local-files').addEventListener('change', "
                          "() => { window.__bench.t_change = performance.now(); }, { once: true, capture: true })")
            page.set_input_files("#local-files", [str(f) for f in files])
            t_change = page.evaluate("window.__bench.t_change")
            page.wait_for_function("() => document.body.dataset.job")
            t_done = page.evaluate(WAIT_IDLE_JS)
            n_pts = int(page.get_attribute("#map", "data-points"))
            calls = page.evaluate("window.__bench.calls")
            adds = [c["t1"] - c["t0"] for c in calls if c["name"] == "add_source"]
            out["encode_s"] = (t_done - t_change) / 1000
            out["encode_points"] = n_pts
            out["encode_add_source_ms_p50"] = float(np.median(adds)) if adds else None
            out["encode_add_source_ms_sum"] = float(np.sum(adds)) if adds else None
            out["long_tasks_encode_ms"] = _long_tasks(page, t_change, t_done)
            out["encode_status"] = page.inner_text("#status-message")
            log(f"  encode {len(files)} sources: {out['encode_s']:.2f} s ({n_pts} on the map)")
            if n_pts == 0:
                raise RuntimeError(f"no sources reached the map: {out['encode_status']}")

            # --- clicks (once the phase helper, started at Ready, is up: a user's first click
            # comes after the sources load, and the helper takes ~2 s on one core)
            out["phase_helper"] = page.evaluate("window.intellimixer.phaseHelper")
            log(f"  phase helper: {'up' if out['phase_helper'] else 'not running (one core)'}")
            cdp = None
            if profile_dir is not None:
                cdp = ctx.new_cdp_session(page)
                cdp.send("Profiler.enable")
                cdp.send("Profiler.setSamplingInterval", {"interval": 200})
                cdp.send("Profiler.start")
            spots = _pick_spots(page, n_clicks + 3, seed)
            lat, lat_wav, worker_ms, call_ms, stages = [], [], [], [], []
            tc0 = page.evaluate("performance.now()")
            playable_via = set()
            samples = []
            for k, (nx, ny) in enumerate(spots):
                page.evaluate(SETTLED_JS)  # each click lands on an idle page (drawn, nothing pending)
                before = page.evaluate("(() => { const b = window.__bench; return [b.downs.length, b.clicks.length, "
                                       "b.starts.length, b.canplay.length, b.srcs.length, b.calls.length]; })()")
                c = page.evaluate("([x, y]) => window.intellimixer.toClient(x, y)", [nx, ny])
                page.mouse.click(c["x"], c["y"])
                try:
                    page.evaluate(WAIT_PLAYABLE_JS, [before[2], before[3]])
                except Exception:
                    diag = page.evaluate(
                        "(() => { const a = document.getElementById('generated-audio'); "
                        "return {status: document.getElementById('status-message').textContent, readyState: a.readyState, "
                        "err: a.error && a.error.message, gen: document.body.dataset.generating || null, "
                        "job: document.body.dataset.job || null}; })()")
                    raise RuntimeError(f"click {k} at {(nx, ny)} gave no playable audio: {diag}") from None
                page.evaluate(WAIT_IDLE_JS)
                b = page.evaluate("window.__bench")
                t_click = b["downs"][before[0]] if len(b["downs"]) > before[0] else b["clicks"][before[1]]
                if k < 3:  # warm-up clicks are not counted
                    continue
                gen = [x for x in b["calls"][before[5]:] if x["name"] == "generate"]
                # playable: WebAudio started the new sound; else (no WebAudio) the <audio> element
                # can play it. Events before this click's generate call belong to an earlier click.
                t_call = gen[0]["t0"] if gen else t_click
                got = [x for x in b.get("delivered", []) if x >= t_call]
                t_wav = got[0] if got else (gen[0]["t1"] if gen else t_click)
                for _ in range(500):
                    starts = [x for x in b["starts"][before[2]:] if x >= t_call]
                    canplay = [x for x in b["canplay"][before[3]:] if x >= t_call]
                    if starts or canplay:
                        break
                    time.sleep(0.01)
                    b = page.evaluate("window.__bench")
                else:
                    raise RuntimeError(f"click {k}: the generated sound never became playable")
                t_end, via = (starts[0], "WebAudio start") if starts else (canplay[0], "<audio> canplay")
                playable_via.add(via)
                lat.append(t_end - t_click)
                samples.append({"playable": round(t_end - t_click, 2), "via": via,
                                "call_start": round(gen[0]["t0"] - t_click, 2) if gen else None,
                                "wav": round(t_wav - t_click, 2) if gen else None,
                                "worker_s": gen[0].get("worker_s") if gen else None})
                if gen:
                    lat_wav.append(t_wav - t_click)
                    call_ms.append(t_wav - gen[0]["t0"])
                    if gen[0].get("worker_s") is not None:
                        worker_ms.append(1000 * gen[0]["worker_s"])
                    if gen[0].get("timings"):
                        stages.append(gen[0]["timings"])
            tc1 = page.evaluate("performance.now()")
            out["clicks"] = len(lat)
            out["click_p50_ms"] = native.percentile(lat, 50)
            out["click_p95_ms"] = native.percentile(lat, 95)
            out["click_playable_via"] = sorted(playable_via)
            out["click_samples_ms"] = samples
            out["click_to_wav_p50_ms"] = native.percentile(lat_wav, 50) if lat_wav else None
            out["click_worker_call_p50_ms"] = native.percentile(call_ms, 50) if call_ms else None
            out["click_worker_generate_p50_ms"] = native.percentile(worker_ms, 50) if worker_ms else None
            out["click_stages_p50_ms"] = native.stage_medians(stages)
            out["long_tasks_clicks_ms"] = _long_tasks(page, tc0, tc1)
            log(f"  clicks: p50 {out['click_p50_ms']:.1f} ms, p95 {out['click_p95_ms']:.1f} ms")

            if cdp is not None:
                out["profile_clicks_top_ms"] = _save_profile(cdp, Path(profile_dir) / "clicks.cpuprofile")
                cdp.send("Profiler.start")

            # --- scrub
            s = _scrub(page, scrub_seconds, scrub_rate_hz)
            if cdp is not None:
                out["profile_scrub_top_ms"] = _save_profile(cdp, Path(profile_dir) / "scrub.cpuprofile")
            out["scrub_mode"] = s["mode"]
            out["scrub_requested"] = s["requested"]
            out["scrub_completed"] = s["completed"]
            st0, st1, ste = s.get("stats0"), s.get("stats1"), s.get("statsEnd")
            if st0 and ste and "scrub_completed" in ste:
                done_in_window = ste["scrub_completed"] - st0.get("scrub_completed", 0)
            else:
                done_in_window = s["completedInWindow"]
            out["scrub_seconds"] = s["seconds"]
            out["scrub_generations_per_s"] = done_in_window / s["seconds"]
            if st0 and st1 and "scrub_requested" in st1:
                req = st1["scrub_requested"] - st0.get("scrub_requested", 0)
                done = st1.get("scrub_completed", 0) - st0.get("scrub_completed", 0)
                drop = st1.get("scrub_dropped", 0) - st0.get("scrub_dropped", 0)
                out["scrub_stats"] = {"requested": req, "completed": done, "dropped": drop}
                out["scrub_dropped_share"] = drop / req if req else None
            else:
                out["scrub_dropped_share"] = 1 - s["completed"] / s["requested"] if s["requested"] else None
            out["long_tasks_scrub_ms"] = _long_tasks(page, s["t0"], s["t1"])
            log(f"  scrub: {out['scrub_generations_per_s']:.1f} generations/s ({s['mode']})")
            ctx.close()
    finally:
        srv.stop()
        shutil.rmtree(profile, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(ROOT / "models" / "default"))
    ap.add_argument("--sources", type=int, default=50)
    ap.add_argument("--clicks", type=int, default=50)
    ap.add_argument("--json")
    args = ap.parse_args()
    pk = os.environ.get("INTELLIMIXER_PYODIDE_PACKAGES")
    why = unavailable(Path(pk) if pk else None)
    if why:
        print(f"browser half skipped: {why}")
        return
    r = run(Path(args.model), args.sources, args.clicks, Path(pk))
    print(json.dumps(r, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
