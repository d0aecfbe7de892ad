// Audio Intellimixer — page glue (main thread).
// Python (py/worker.py in a PyScript worker) holds the app state and does all the audio
// work; this file only wires DOM elements by id, decodes previews with WebAudio (which
// exists only on the main thread), draws the map and shows the status. Text that comes
// from Freesound is always set with textContent, never as HTML.
import { PyWorker } from "./vendor/pyscript/core.js";

const $ = (id) => document.getElementById(id);
const abs = (path) => new URL(path, document.baseURI).href;
const TOKEN_KEY = "intellimixer.freesound_token";
const PREVIEW_CONCURRENCY = 4;
const PREVIEW_TIMEOUT_MS = 30000;
const BUSY_DELAY_MS = 150;   // a generation shows "Generating…" only when it takes longer than this
const FADE_S = 0.04;        // crossfade between consecutive generated sounds (WebAudio gain ramps)
const SCRUB_MIN_PX = 3;     // pointer moves shorter than this during a drag ask for nothing new
const KEY_STEP = 0.02;      // arrow-key cursor step (share of the map; Shift: x5)

const state = {
  worker: null,     // PyScript worker (its .sync holds the exported Python functions)
  config: null,     // static/config.json (as served)
  model: null,      // model info from Python
  map: null,        // map state from Python: ranges, labels, points, generated
  job: null,        // name of the long job running (boot, model, search), or null
  token: "",        // Freesound token, memory only unless "remember" is ticked
  previews: new Map(), // source key -> {bytes: Uint8Array, type}
  generating: false,
  pendingClick: null,
  hover: null,
  urls: { generated: null, source: null },
  timings: {},
  cursor: { nx: 0.5, ny: 0.5, shown: false }, // keyboard cursor on the map (normalised)
  scrub: { active: false, last: null },        // pointer held down on the map
  entries: new Map(),  // generated number -> {wav: Uint8Array, pcm: Float32Array, rate, wavUrl, creditsUrl, filename, creditsName}
  current: null,       // number of the generated sound shown
  busyTimer: null,     // delayed "Generating…" status (BUSY_DELAY_MS)
  tickets: 0,          // generate calls made; each sound comes back as a message with its ticket
  posted: new Map(),   // ticket -> resolve of the generate call waiting for that message
  audio: { ctx: null, voice: null },           // WebAudio playback of generated sounds
  pendingPoint: null,  // latent point from a shared link, made once sounds are on the map
  views: {},           // what each spectrogram canvas shows (for tests and screen readers)
};
// Counters for the scrub benchmark (benchmarks/): every generation request (click, drag,
// key, link) counts; a request replaced by a newer one before it started is "dropped".
const stats = {
  scrub_requested: 0, scrub_completed: 0, scrub_dropped: 0, scrub_failed: 0,
  generate_ms: [], crossfades: 0, fade_ms: FADE_S * 1000,
};
function resetStats() {
  Object.assign(stats, { scrub_requested: 0, scrub_completed: 0, scrub_dropped: 0, scrub_failed: 0, crossfades: 0 });
  stats.generate_ms = [];
}
const t0 = performance.now();

// --- status panel ---------------------------------------------------------------------

function setStatus(message, kind = "busy", done = null, total = null, addToLog = true) {
  $("status").dataset.state = kind;
  $("status-message").textContent = message;
  const bar = $("progress");
  if (kind === "busy" && total == null) bar.removeAttribute("value"); // indeterminate
  else { bar.max = total || 1; bar.value = total ? done : 1; }
  const log = $("status-log");
  if (addToLog && (kind !== "busy" || total == null || done === 0)) {
    const li = document.createElement("li");
    li.textContent = message;
    li.className = kind;
    log.prepend(li);
    while (log.children.length > 6) log.lastChild.remove();
  }
  if (kind === "error") console.warn("intellimixer:", message);
}

function noModelMessage() {
  return state.job === "starting" ? "The app is still starting; wait for Ready."
    : state.job === "loading a model" ? "A model is being loaded; wait for it."
    : "No model is loaded: load one with the file picker (manifest .json + .onnx files).";
}

// --- calling Python -----------------------------------------------------------------

async function py(name, ...args) {
  const raw = await state.worker.sync[name](...args);
  if (typeof raw === "string") return JSON.parse(raw);
  const out = JSON.parse(raw.json); // generate: {json, wav, pcm}; view: {json, rgba, env}
  for (const [k, v] of Object.entries(raw)) if (k !== "json") out[k] = v; // typed arrays as they came
  return out;
}

function generateCall(nx, ny) {
  // The worker posts the sound as a message with its buffers transferred (no copy); the
  // call itself returns only an error or "posted". Whichever brings the outcome first wins.
  const ticket = ++state.tickets;
  const posted = new Promise((resolve) => state.posted.set(ticket, resolve));
  const call = py("generate", nx, ny, ticket).then(
    (r) => { if (r.ok) return posted; state.posted.delete(ticket); return r; },
    (err) => { state.posted.delete(ticket); throw err; });
  return Promise.race([posted, call]);
}

function onWorkerMessage(event) {
  const d = event.data;
  if (!d || d.imx !== "generated") return;
  const resolve = state.posted.get(d.ticket);
  if (!resolve) return;
  state.posted.delete(d.ticket);
  resolve(Object.assign(JSON.parse(d.json), { wav: d.wav, pcm: d.pcm }));
}

async function job(name, fn) {
  if (state.job) {
    setStatus(`Busy ${state.job}; wait until it finishes.`, "warn");
    return;
  }
  state.job = name;
  document.body.dataset.job = name;
  try { await fn(); }
  catch (err) { setStatus(`Unexpected error while ${name}: ${err && err.message || err}`, "error"); }
  finally { state.job = null; delete document.body.dataset.job; }
}

// --- boot ---------------------------------------------------------------------------------

async function boot() {
  setStatus("Starting Python (Pyodide) in a worker…", "busy");
  const [config, runtime, pyConfig] = await Promise.all(
    ["static/config.json", "static/vendor/runtime.json", "py/pyscript.json"].map(async (p) => {
      const r = await fetch(abs(p), { cache: "no-cache" });
      if (!r.ok) throw new Error(`${p} is missing (HTTP ${r.status})` + (p.includes("vendor") ? ": run `npm ci && npm run build`" : ""));
      return r.json();
    }));
  state.config = config;
  const interpreter = abs("static/vendor/pyodide/pyodide.mjs");
  const files = {};
  for (const [from, to] of Object.entries(pyConfig.files || {})) files[abs("py/" + from.replace(/^\.\//, ""))] = to;
  state.worker = await PyWorker(abs("py/worker.py"), {
    config: { ...pyConfig, files, interpreter },
    version: interpreter,
  });
  state.worker.addEventListener("message", onWorkerMessage);
  state.timings.python = performance.now() - t0;

  setStatus("Loading numpy and onnxruntime-web…", "busy", 1, 3);
  // "auto": one core is left to the Python worker, whose phase reconstruction follows each
  // decoder run (ORT's threads competing with it cost more than they save on 2 cores).
  const threads = config.onnx_threads === "auto"
    ? (globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 1) - 1)) : 1)
    : Number(config.onnx_threads) || 1;
  const packages = abs(config.pyodide_packages || runtime.pyodide_cdn);
  const booted = await py("boot", JSON.stringify({
    packages_base: packages.endsWith("/") ? packages : packages + "/",
    numpy_file: runtime.packages.numpy.file_name,
    ort_base: abs("static/vendor/ort/"),
    threads,
    freesound_api: config.freesound_api,
    freesound_token: config.freesound_token || "",
    max_duration: config.max_duration ?? 5.0,
    // where the model runs: "auto" (GPU when present and faster), "wasm", "webgpu", "webgl";
    // a page URL with ?backend=... overrides it
    onnx_backend: new URLSearchParams(location.search).get("backend") || config.onnx_backend || "auto",
  }));
  if (!booted.ok) { setStatus(booted.error, "error"); $("model-name").textContent = "none"; return; }
  state.timings.runtimes = performance.now() - t0;

  setStatus("Loading the default model…", "busy", 2, 3);
  const loaded = await py("load_model_url", abs(config.default_model));
  state.timings.model = performance.now() - t0;
  if (!loaded.ok) {
    const why = loaded.error.replace(/^Model rejected, previous model kept: /, "");
    setStatus(`Default model not loaded: ${why} Load a model with the file picker.`, "error");
    $("model-name").textContent = "none";
  } else {
    applyModel(loaded);
    setStatus(`Ready (${(state.timings.model / 1000).toFixed(1)} s): type a keyword and press go.`, "ready");
    tuneBackend();
  }
  console.info("intellimixer timings (ms since navigation start of app.js):", state.timings, booted);
}

function tuneBackend() {
  // After a model loads on WebAssembly (the app is usable at once), the worker tries the GPU
  // where the config asks for it and the browser has one, and keeps the faster (or the named)
  // backend. The outcome goes to the model panel; nothing waits for it.
  $("model-backend").textContent = "WebAssembly";
  state.backend = null;
  py("tune_backend").then((r) => {
    state.backend = r;
    if (!r.ok) { console.warn("intellimixer: backend check failed:", r.error); return; }
    const names = { wasm: "WebAssembly", webgpu: "WebGPU", webgl: "WebGL" };
    $("model-backend").textContent = names[r.backend] || "WebAssembly";
    $("model-backend").title = r.note || "";
    if (r.note) console.info(`intellimixer: ${r.note}`);
    if (r.requested !== "auto" && r.requested !== r.backend && r.note) setStatus(`Backend: ${r.note}.`, "warn");
  }).catch((err) => console.warn("intellimixer: backend check failed:", err));
}

function applyModel(result) {
  state.model = result.model;
  const m = state.model;
  $("model-name").textContent = `${m.name} (${m.latent_dim} dims, ${m.sample_rate} Hz, ${m.duration.toFixed(2)} s)`;
  for (const [id, pick] of [["x-dim", m.default_dims[0]], ["y-dim", m.default_dims[1]]]) {
    const sel = $(id);
    sel.replaceChildren();
    for (const d of m.dims) {
      const opt = document.createElement("option");
      opt.value = String(d.index);
      opt.textContent = d.kl != null ? `${d.label} (KL ${d.kl.toFixed(1)})` : d.label;
      sel.append(opt);
    }
    sel.value = String(pick);
    sel.disabled = false;
  }
  setMap(result.map);
}

// --- model upload ---------------------------------------------------------------------

async function onModelFiles(event) {
  const input = event.target;
  const list = [...input.files];
  input.value = ""; // the same files can be picked again
  if (!list.length) return;
  if (state.generating) { setStatus("A sound is being generated; load the model when it is done.", "warn"); return; }
  await job("loading a model", async () => {
    setStatus(`Reading ${list.length} model file(s)…`, "busy", 0, 2);
    const files = {};
    for (const f of list) files[f.name] = new Uint8Array(await f.arrayBuffer());
    setStatus("Checking and loading the model…", "busy", 1, 2);
    const result = await py("load_model_files", files);
    if (!result.ok) { setStatus(result.error, "error"); return; }
    applyModel(result);
    tuneBackend();
    await redecode(result.stale || []);
    const dropped = result.dropped && result.dropped.length ? ` Dropped: ${result.dropped.join("; ")}.` : "";
    setStatus(`Model "${result.model.name}" loaded: ${result.model.latent_dim} dims.${dropped}`, "ready");
  });
}

async function redecode(keys) {
  for (let k = 0; k < keys.length; k++) {
    setStatus(`Re-encoding sounds for the new model ${k + 1}/${keys.length}…`, "busy", k, keys.length);
    const cached = state.previews.get(keys[k]);
    if (!cached) continue;
    try {
      const pcm = await decode(cached.bytes, state.model.sample_rate);
      const r = await py("replace_audio", keys[k], pcm, state.model.sample_rate);
      if (r.ok) setMap(r.map);
    } catch (err) { /* the source stays off the map */ }
  }
  const r = await py("map_state");
  if (r.ok) setMap(r.map);
}

// --- Freesound query ----------------------------------------------------------------------

async function onSearch(event) {
  event?.preventDefault();
  if (!state.model) {
    setStatus(noModelMessage(), "warn");
    return;
  }
  await job("loading sounds", async () => {
    const query = $("query").value;
    setStatus(`Searching Freesound for '${query.trim()}'…`, "busy");
    const found = await py("search", query, $("count").value, state.token);
    if (!found.ok) { setStatus(found.error, "error"); return; }
    const sounds = found.sounds;
    const total = sounds.length;
    let done = 0;
    const sr = state.model.sample_rate;
    const progress = () => setStatus(`Loading sounds for '${found.query}': ${done}/${total} (download, decode, encode)…`, "busy", done, total);
    progress();
    let next = 0;
    const worker = async () => {
      while (next < sounds.length) {
        const s = sounds[next++];
        let bytes, type, pcm;
        try {
          const r = await fetch(s.preview_url, { mode: "cors", credentials: "omit", signal: AbortSignal.timeout(PREVIEW_TIMEOUT_MS) });
          if (!r.ok) throw new Error(`download failed (HTTP ${r.status})`);
          type = r.headers.get("content-type") || "audio/mpeg";
          bytes = new Uint8Array(await r.arrayBuffer());
        } catch (err) {
          const why = err.name === "TimeoutError" ? "download timed out"
            : err.message.startsWith("download") ? err.message : `download failed (${err.message})`;
          await py("fail_source", found.batch, s.name, why);
          done++; progress(); continue;
        }
        try { pcm = await decode(bytes, sr); }
        catch (err) {
          await py("fail_source", found.batch, s.name, "could not be decoded");
          done++; progress(); continue;
        }
        const added = await py("add_source", found.batch, JSON.stringify({ ...s, origin: "freesound" }), pcm, sr);
        if (added.ok) state.previews.set(added.source.key, { bytes, type });
        else await py("fail_source", found.batch, s.name, added.error);
        done++; progress();
      }
    };
    await Promise.all(Array.from({ length: Math.min(PREVIEW_CONCURRENCY, total) }, worker));
    const result = await py("commit_batch", found.batch);
    if (!result.ok && result.error) { setStatus(result.error, "error"); return; }
    setMap(result.map);
    prunePreviews();
    setStatus(result.message, result.ok ? (result.failed ? "warn" : "ready") : "error");
  });
  await makePendingPoint("freesound");
}

async function decode(bytes, sampleRate) {
  // OfflineAudioContext.decodeAudioData resamples to the context's rate (the model's).
  const ctx = new OfflineAudioContext(1, 1, sampleRate);
  const buf = await ctx.decodeAudioData(bytes.slice().buffer);
  if (!buf.length) throw new Error("empty audio");
  const pcm = new Float32Array(buf.length);
  for (let c = 0; c < buf.numberOfChannels; c++) {
    const ch = buf.getChannelData(c);
    for (let i = 0; i < ch.length; i++) pcm[i] += ch[i] / buf.numberOfChannels;
  }
  return pcm;
}

function prunePreviews() {
  const keep = new Set((state.map?.points || []).map((p) => p.key));
  for (const key of state.previews.keys()) if (!keep.has(key)) state.previews.delete(key);
}

// --- local files --------------------------------------------------------------------------

async function addLocalFiles(list) {
  if (!list.length) return;
  if (!state.model) {
    setStatus(noModelMessage(), "warn");
    return;
  }
  await job("adding local files", async () => {
    const begun = await py("begin_local", "local files");
    if (!begun.ok) { setStatus(begun.error, "error"); return; }
    const sr = state.model.sample_rate;
    for (let k = 0; k < list.length; k++) {
      const f = list[k];
      setStatus(`Adding local files: ${k}/${list.length} (decode, encode)…`, "busy", k, list.length);
      let bytes, pcm;
      try { bytes = new Uint8Array(await f.arrayBuffer()); pcm = await decode(bytes, sr); }
      catch (err) { await py("fail_source", begun.batch, f.name, "could not be decoded (not audio, or corrupt)"); continue; }
      const meta = { name: f.name, username: "", license_name: "local file", origin: "local", credit: `${f.name} (local file)`,
        noncommercial: false, sampling: false };
      const added = await py("add_source", begun.batch, JSON.stringify(meta), pcm, sr);
      if (added.ok) state.previews.set(added.source.key, { bytes, type: f.type || "audio/wav" });
      else await py("fail_source", begun.batch, f.name, added.error);
    }
    const result = await py("commit_batch", begun.batch);
    if (!result.ok && result.error) { setStatus(result.error, "error"); return; }
    setMap(result.map);
    setStatus(result.message, result.ok ? (result.failed ? "warn" : "ready") : "error");
  });
  await makePendingPoint("local");
}

function onLocalFiles(event) {
  const list = [...event.target.files];
  event.target.value = "";
  addLocalFiles(list);
}

function onDrop(event) {
  event.preventDefault();
  $("map-pane").classList.remove("dragging");
  addLocalFiles([...(event.dataTransfer?.files || [])]);
}

// --- dims -------------------------------------------------------------------------------

async function onDims() {
  if (!state.model) return;
  const r = await py("set_dims", $("x-dim").value, $("y-dim").value);
  if (!r.ok) { setStatus(r.error, "error"); return; }
  setMap(r.map);
  if (r.map.dims[0] === r.map.dims[1]) setStatus("X and Y show the same dim: the map is a diagonal line.", "warn");
}

// --- map drawing -------------------------------------------------------------------------

const PAD = { left: 48, right: 16, top: 16, bottom: 40 };

function setMap(map) {
  state.map = map;
  const canvas = $("map");
  canvas.dataset.points = String(map.points.length);
  canvas.dataset.generated = String(map.generated.length);
  draw();
  renderHistory(map.history || []);
  if (map.points.length && map.hash) replaceHash(map.hash); // the map without a point
}

function mergeMapUpdate(u) {
  // A generation sends only what it changed on the map: its point, its history entry and
  // the history numbers still kept (the rest of the map state is what the page has).
  const map = state.map;
  if (!map || map.dims[0] !== u.dims[0] || map.dims[1] !== u.dims[1]) {  // the axes changed meanwhile
    py("map_state").then((r) => { if (r.ok) setMap(r.map); }).catch(() => {});
    return;
  }
  const keep = new Set(u.history);
  map.generated = map.generated.filter((g) => keep.has(g.number)).concat([u.point]);
  map.history = (map.history || []).filter((h) => keep.has(h.number)).concat([u.entry]);
  $("map").dataset.generated = String(map.generated.length);
  draw();
  addToHistory(u.entry, keep);
}

const HASH_DRAG_MS = 250;
let hashPending = null, hashTimer = null;

function replaceHash(hash) {
  // The address bar always holds the current state (no new history entry, no hashchange).
  // history.replaceState costs ~10 ms of main-thread time, so while the pointer is held on
  // the map (scrubbing) it is written at most every HASH_DRAG_MS and on release.
  $("share-link").href = hash;
  $("share-link").hidden = false;
  hashPending = hash;
  if (!state.scrub.active) flushHash();
  else if (!hashTimer) hashTimer = setTimeout(flushHash, HASH_DRAG_MS);
}

function flushHash() {
  clearTimeout(hashTimer);
  hashTimer = null;
  if (hashPending == null) return;
  const hash = hashPending;
  hashPending = null;
  try { window.history.replaceState(null, "", hash); } catch { /* e.g. sandboxed */ }
}

function plotRect() {
  const c = $("map");
  return { x: PAD.left, y: PAD.top, w: c.clientWidth - PAD.left - PAD.right, h: c.clientHeight - PAD.top - PAD.bottom };
}

function toPixel(nx, ny) {
  const r = plotRect();
  return [r.x + nx * r.w, r.y + (1 - ny) * r.h];
}

function draw() {
  const canvas = $("map");
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth, H = canvas.clientHeight;
  if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
    canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
  }
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, W, H);
  const r = plotRect();
  g.fillStyle = "#12161c"; g.fillRect(r.x, r.y, r.w, r.h);
  g.strokeStyle = "#2a313b"; g.lineWidth = 1;
  g.fillStyle = "#9aa4b2"; g.font = "12px system-ui, sans-serif";
  const map = state.map;
  // tick labels with enough decimals for the span shown
  const decimals = (lo, hi) => Math.max(0, Math.min(6, Math.ceil(-Math.log10(Math.abs(hi - lo) / 4 || 1)) + 1));
  const dx = map ? decimals(...map.x_range) : 2, dy = map ? decimals(...map.y_range) : 2;
  for (let k = 0; k <= 4; k++) {
    const px = r.x + (k / 4) * r.w, py = r.y + (k / 4) * r.h;
    g.beginPath(); g.moveTo(px, r.y); g.lineTo(px, r.y + r.h); g.stroke();
    g.beginPath(); g.moveTo(r.x, py); g.lineTo(r.x + r.w, py); g.stroke();
    if (map) {
      const xv = map.x_range[0] + (k / 4) * (map.x_range[1] - map.x_range[0]);
      const yv = map.y_range[1] - (k / 4) * (map.y_range[1] - map.y_range[0]);
      g.textAlign = "center"; g.fillText(xv.toFixed(dx), px, r.y + r.h + 14);
      g.textAlign = "right"; g.fillText(yv.toFixed(dy), r.x - 4, py + 4);
    }
  }
  if (!map) return;
  g.textAlign = "center"; g.fillText(`X: ${map.labels[0]}`, r.x + r.w / 2, r.y + r.h + 32);
  g.save(); g.translate(12, r.y + r.h / 2); g.rotate(-Math.PI / 2); g.fillText(`Y: ${map.labels[1]}`, 0, 0); g.restore();
  for (const p of map.points) {
    const [x, y] = toPixel(p.nx, p.ny);
    g.beginPath(); g.arc(x, y, state.hover === p ? 7 : 5, 0, 2 * Math.PI);
    g.fillStyle = p.origin === "local" ? "#f2b35b" : "#5bc0f2"; g.fill();
    if (state.hover === p) { g.strokeStyle = "#fff"; g.lineWidth = 2; g.stroke(); }
    else if (p.noncommercial || p.sampling) { g.strokeStyle = "#f2c35b"; g.lineWidth = 1.5; g.stroke(); }
  }
  map.generated.forEach((p, k) => {
    const [x, y] = toPixel(p.nx, p.ny);
    const last = k === map.generated.length - 1;
    g.save(); g.translate(x, y); g.rotate(Math.PI / 4);
    g.fillStyle = last ? "#ff5c8a" : "#a8536b";
    g.fillRect(-5, -5, 10, 10); g.restore();
  });
  if (state.cursor.shown) {
    const [x, y] = toPixel(state.cursor.nx, state.cursor.ny);
    g.strokeStyle = "#ffffff"; g.lineWidth = 1.5;
    g.beginPath(); g.arc(x, y, 9, 0, 2 * Math.PI); g.stroke();
    g.beginPath(); g.moveTo(x - 14, y); g.lineTo(x - 4, y); g.moveTo(x + 4, y); g.lineTo(x + 14, y);
    g.moveTo(x, y - 14); g.lineTo(x, y - 4); g.moveTo(x, y + 4); g.lineTo(x, y + 14); g.stroke();
  }
}

function hitTest(event) {
  if (!state.map) return null;
  const rect = $("map").getBoundingClientRect();
  const mx = event.clientX - rect.left, my = event.clientY - rect.top;
  let best = null, bestD = 8;
  for (const p of state.map.points) {
    const [x, y] = toPixel(p.nx, p.ny);
    const d = Math.hypot(x - mx, y - my);
    if (d <= bestD) { best = p; bestD = d; }
  }
  return best;
}

function onMapMove(event) {
  const p = hitTest(event);
  if (p !== state.hover) { state.hover = p; draw(); }
  const tip = $("tooltip");
  if (!p) { tip.hidden = true; return; }
  $("tooltip-name").textContent = p.name;
  $("tooltip-user").textContent = p.username ? `by ${p.username}` : "local file";
  $("tooltip-licence").textContent = p.license_name || "";
  $("tooltip-flags").textContent = licenceWarning(p);
  $("tooltip-flags").hidden = !(p.noncommercial || p.sampling);
  tip.hidden = false;
  // keep the tooltip inside the map: flip it to the other side of the pointer near an edge
  const pane = $("map-pane").getBoundingClientRect();
  let x = event.clientX - pane.left + 12, y = event.clientY - pane.top + 12;
  if (x + tip.offsetWidth > pane.width) x -= tip.offsetWidth + 24;
  if (y + tip.offsetHeight > pane.height) y -= tip.offsetHeight + 24;
  tip.style.left = `${Math.max(0, x)}px`;
  tip.style.top = `${Math.max(0, y)}px`;
}

function onMapLeave() {
  $("tooltip").hidden = true;
  if (state.hover) { state.hover = null; draw(); }
}

function licenceWarning(p) {
  if (p.sampling) return "Sampling+ licence: transformation allowed; whole-work redistribution only non-commercially.";
  if (p.noncommercial) return "Non-commercial licence: not for commercial use.";
  return "";
}

function eventToMap(event, clamp = false) {
  const r = plotRect();
  const rect = $("map").getBoundingClientRect();
  let nx = (event.clientX - rect.left - r.x) / r.w, ny = 1 - (event.clientY - rect.top - r.y) / r.h;
  if (clamp) { nx = Math.min(1, Math.max(0, nx)); ny = Math.min(1, Math.max(0, ny)); }
  else if (nx < 0 || nx > 1 || ny < 0 || ny > 1) return null;
  return { nx, ny };
}

// Press on a dot: play it. Press elsewhere: generate there; keep pressing and drag to scrub
// (a new sound under the pointer as fast as the worker makes them, latest wins).
function onMapPointerDown(event) {
  if (event.button !== 0) return;
  const p = hitTest(event);
  if (p) { playSource(p); return; }
  const pos = eventToMap(event);
  if (!pos) return;
  audioContext(); // inside the user gesture: lets WebAudio play
  if (!requestGenerate(pos.nx, pos.ny)) return;
  state.scrub = { active: true, last: [event.clientX, event.clientY] };
  document.body.dataset.scrubbing = "1";
  try { $("map").setPointerCapture(event.pointerId); } catch { /* synthetic events */ }
}

function onMapPointerMove(event) {
  if (!state.scrub.active) { onMapMove(event); return; }
  const [lx, ly] = state.scrub.last;
  if (Math.hypot(event.clientX - lx, event.clientY - ly) < SCRUB_MIN_PX) return;
  state.scrub.last = [event.clientX, event.clientY];
  const pos = eventToMap(event, true);
  requestGenerate(pos.nx, pos.ny);
}

function onMapPointerUp(event) {
  if (!state.scrub.active) return;
  state.scrub = { active: false, last: null };
  delete document.body.dataset.scrubbing;
  try { $("map").releasePointerCapture(event.pointerId); } catch { /* not captured */ }
  flushHash();
  syncGeneratedAudio();
}

// --- keyboard cursor ---------------------------------------------------------------------------

function nearestPoint(nx, ny) {
  let best = null, bestD = Infinity;
  for (const p of state.map?.points || []) {
    const d = Math.hypot(p.nx - nx, p.ny - ny);
    if (d < bestD) { best = p; bestD = d; }
  }
  return best;
}

function setCursor(nx, ny, announce = true) {
  state.cursor = { nx: Math.min(1, Math.max(0, nx)), ny: Math.min(1, Math.max(0, ny)), shown: true };
  draw();
  if (!announce || !state.map) return;
  const m = state.map;
  const x = m.x_range[0] + state.cursor.nx * (m.x_range[1] - m.x_range[0]);
  const y = m.y_range[0] + state.cursor.ny * (m.y_range[1] - m.y_range[0]);
  const near = nearestPoint(state.cursor.nx, state.cursor.ny);
  $("map-cursor-info").textContent = `Cursor at ${m.labels[0]} = ${x.toFixed(2)}, ${m.labels[1]} = ${y.toFixed(2)}.`
    + (near ? ` Nearest sound: ${near.name}${near.license_name ? ` (${near.license_name})` : ""}.` : "");
}

function onMapKey(event) {
  const step = event.shiftKey ? 5 * KEY_STEP : KEY_STEP;
  const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
  const c = state.cursor;
  if (moves[event.key]) {
    event.preventDefault();
    setCursor(c.nx + moves[event.key][0], c.ny + moves[event.key][1]);
  } else if (event.key === "Home") {
    event.preventDefault();
    setCursor(0.5, 0.5);
  } else if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    audioContext();
    setCursor(c.nx, c.ny, false);
    requestGenerate(c.nx, c.ny);
  } else if (event.key === "p" || event.key === "P") {
    const p = nearestPoint(c.nx, c.ny);
    if (p) playSource(p); else setStatus("No sounds on the map yet.", "warn");
  }
}

function onMapFocus() {
  if (!state.cursor.shown) setCursor(state.cursor.nx, state.cursor.ny);
}

function onMapBlur() {
  state.cursor.shown = false;
  draw();
}

function playSource(p) {
  const cached = state.previews.get(p.key);
  const warning = licenceWarning(p);
  $("source-info").textContent = (p.credit || `${p.name}${p.username ? " by " + p.username : ""}`) + (warning ? ` — ${warning}` : "");
  if (!cached) { setStatus(`No audio kept for '${p.name}'.`, "warn"); return; }
  setAudio("source", new Blob([cached.bytes], { type: cached.type }));
  showView("source-view", "source", p.key, p.name);
}

// --- spectrogram + waveform views ----------------------------------------------------------------

const VIEW_PAD = { left: 44, right: 8, top: 14, bottom: 16 };

function viewWidth() {
  const c = $("generated-view");
  return Math.max(16, Math.round((c.clientWidth || c.width) - VIEW_PAD.left - VIEW_PAD.right));
}

async function showView(canvasId, kind, ident, title) {
  try {
    const r = await py("view", kind, ident, viewWidth());
    if (r.ok) drawView(canvasId, r, title); else setStatus(r.error, "warn");
  } catch (err) { console.warn("intellimixer: view failed", err); }
}

let viewCanvas = null;
function viewScratch(w, h) {
  if (!viewCanvas) viewCanvas = document.createElement("canvas");
  if (viewCanvas.width !== w || viewCanvas.height !== h) { viewCanvas.width = w; viewCanvas.height = h; }
  return viewCanvas;
}

function drawView(canvasId, v, title) {
  // v: {n_bins, n_frames, duration (s), f_max (Hz), time_ticks, freq_ticks, rgba: Uint8Array, env: Float32Array}
  const c = $(canvasId);
  const dpr = window.devicePixelRatio || 1;
  const W = c.clientWidth || c.width, H = c.clientHeight || c.height;
  // resizing a canvas reallocates it: only when the size changed (as draw() does)
  if (c.width !== Math.round(W * dpr) || c.height !== Math.round(H * dpr)) { c.width = Math.round(W * dpr); c.height = Math.round(H * dpr); }
  const g = c.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, W, H);
  const P = VIEW_PAD, pw = W - P.left - P.right, inner = H - P.top - P.bottom;
  const sh = Math.round(inner * 0.68), wy = P.top + sh + 4, wh = inner - sh - 4;
  const img = new ImageData(new Uint8ClampedArray(v.rgba.buffer, v.rgba.byteOffset, v.rgba.byteLength), v.n_frames, v.n_bins);
  const off = viewScratch(v.n_frames, v.n_bins); // one offscreen canvas, reused
  off.getContext("2d").putImageData(img, 0, 0);
  g.imageSmoothingEnabled = true;
  g.drawImage(off, P.left, P.top, pw, sh);
  // waveform: min/max per column
  g.fillStyle = "#12161c"; g.fillRect(P.left, wy, pw, wh);
  g.strokeStyle = "#5bc0f2"; g.lineWidth = 1; g.beginPath();
  const cols = v.env.length / 2, mid = wy + wh / 2;
  for (let k = 0; k < cols; k++) {
    const x = P.left + ((k + 0.5) * pw) / cols;
    g.moveTo(x, mid - v.env[2 * k + 1] * wh / 2); g.lineTo(x, mid - v.env[2 * k] * wh / 2 + 0.5);
  }
  g.stroke();
  // axes: frequency in Hz (left), time in s (bottom)
  g.fillStyle = "#9aa4b2"; g.strokeStyle = "#9aa4b2"; g.font = "10px system-ui, sans-serif";
  g.textAlign = "right";
  for (const f of v.freq_ticks) {
    const y = P.top + sh * (1 - f / v.f_max);
    g.fillText(String(Math.round(f)), P.left - 4, Math.min(P.top + sh, Math.max(P.top + 7, y + 3)));
    g.beginPath(); g.moveTo(P.left - 2, y); g.lineTo(P.left, y); g.stroke();
  }
  g.textAlign = "left"; g.fillText("Hz", 2, P.top - 4);
  g.textAlign = "center";
  for (const t of v.time_ticks) {
    const x = P.left + pw * (t / v.duration);
    g.fillText(`${t} s`, Math.min(W - 12, x), H - 4);
    g.beginPath(); g.moveTo(x, wy + wh); g.lineTo(x, wy + wh + 2); g.stroke();
  }
  c.dataset.drawn = title;
  c.setAttribute("aria-label", `Spectrogram (0 to ${Math.round(v.f_max)} Hz) and waveform (0 to ${v.duration.toFixed(2)} s) of ${title}`);
  state.views[canvasId] = { title, f_max: v.f_max, duration: v.duration, freq_ticks: v.freq_ticks, time_ticks: v.time_ticks,
    n_bins: v.n_bins, n_frames: v.n_frames, env_width: cols, units: { freq: "Hz", time: "s" } };
}

function setAudio(which, blob) {
  if (state.urls[which]) URL.revokeObjectURL(state.urls[which]);
  const url = URL.createObjectURL(blob);
  state.urls[which] = url;
  const el = $(`${which}-audio`);
  el.src = url;
  el.play().catch(() => { /* autoplay may be refused; the controls stay */ });
  return url;
}

// --- WebAudio playback with crossfades -------------------------------------------------------------

function audioContext() {
  try {
    if (!state.audio.ctx) state.audio.ctx = new (window.AudioContext || window.webkitAudioContext)();
    if (state.audio.ctx.state === "suspended") state.audio.ctx.resume().catch(() => {});
  } catch { return null; }
  return state.audio.ctx;
}

function playCrossfaded(pcm, rate) {
  // The new sound fades in over FADE_S while the one playing fades out over the same time.
  // pcm: the worker's float32 samples (no WAV parsing or decodeAudioData on this path).
  const ctx = audioContext();
  if (!ctx) return false;
  const buffer = ctx.createBuffer(1, pcm.length, rate);
  buffer.copyToChannel(pcm, 0);
  const now = ctx.currentTime;
  const gain = ctx.createGain();
  gain.gain.setValueAtTime(0, now);
  gain.gain.linearRampToValueAtTime(1, now + FADE_S);
  const src = ctx.createBufferSource();
  src.buffer = buffer;
  src.connect(gain).connect(ctx.destination);
  src.start(now);
  const old = state.audio.voice;
  if (old) {
    old.gain.gain.cancelScheduledValues(now);
    old.gain.gain.setValueAtTime(old.gain.gain.value, now);
    old.gain.gain.linearRampToValueAtTime(0, now + FADE_S);
    try { old.src.stop(now + FADE_S + 0.005); } catch { /* already stopped */ }
    stats.crossfades++;
  }
  const voice = { src, gain };
  state.audio.voice = voice;
  src.onended = () => { if (state.audio.voice === voice) state.audio.voice = null; };
  return true;
}

function startVoice(pcm, rate) {
  // WebAudio playback of float32 samples; false where WebAudio is not available.
  try { return playCrossfaded(pcm, rate); } catch (err) { console.warn("intellimixer: WebAudio playback failed", err); return false; }
}

function playGenerated(number, played = null) {
  // Plays sound `number` (unless `played` says WebAudio already started it) and points the
  // <audio> element at it; without WebAudio, the element plays it.
  const e = state.entries.get(number);
  if (!e) return;
  const el = $("generated-audio");
  el.pause();
  // While scrubbing, WebAudio plays each sound and the <audio> element (a media pipeline
  // per new src) gets the latest one when the pointer is released (syncGeneratedAudio).
  if (!state.scrub.active && el.src !== e.wavUrl) el.src = e.wavUrl;
  if (played === null) played = startVoice(e.pcm, e.rate);
  if (!played) {
    if (el.src !== e.wavUrl) el.src = e.wavUrl;
    el.play().catch(() => { /* autoplay may be refused; the controls stay */ });
  }
}

function syncGeneratedAudio() {
  const e = state.entries.get(state.current);
  const el = $("generated-audio");
  if (e && el.src !== e.wavUrl) el.src = e.wavUrl;
}

// --- generation ------------------------------------------------------------------------------

function requestGenerate(nx, ny) {
  // Latest wins: at most one generation runs and one waits; a newer request replaces the
  // waiting one (counted as dropped), so a drag never builds a queue.
  if (!state.model) {
    setStatus(noModelMessage(), "warn");
    return false;
  }
  if (!state.map || !state.map.points.length) {
    setStatus("Load some sounds first: type a keyword and press go (or drop audio files on the map), then click the map.", "warn");
    return false;
  }
  if (state.job) { setStatus(`Busy ${state.job}; click again when it finishes.`, "warn"); return false; }
  stats.scrub_requested++;
  if (state.pendingClick) stats.scrub_dropped++;
  state.pendingClick = [nx, ny];
  if (!state.generating) generateLoop();
  return true;
}

async function generateLoop() {
  state.generating = true;
  document.body.dataset.generating = "1";
  const request = () => {
    const [nx, ny] = state.pendingClick;
    state.pendingClick = null;
    // "Generating…" shows only when a generation is slow: a quick one would flash it for a
    // frame or two, and repainting the page then takes CPU from the worker (2-core machines).
    clearTimeout(state.busyTimer);
    if (!state.scrub.active) {
      state.busyTimer = setTimeout(() => setStatus("Generating: decoder + phase reconstruction…", "busy", null, null, false),
        BUSY_DELAY_MS);
    }
    const t = performance.now();
    return generateCall(nx, ny).then((r) => {
      clearTimeout(state.busyTimer);
      return { r, ms: performance.now() - t };
    });
  };
  let next = null;
  try {
    while (next || state.pendingClick) {
      const { r, ms } = await (next || request());
      // The worker starts on the latest waiting request now, while this result is played
      // and drawn here (the two overlap; still at most one generation runs at a time).
      next = state.pendingClick ? request() : null;
      if (!r.ok) { stats.scrub_failed++; setStatus(r.error, "error"); continue; }
      stats.scrub_completed++;
      stats.generate_ms.push(ms);
      // The sound starts first; the blobs, links, map and text are made while it plays.
      const played = startVoice(r.pcm, r.sample_rate);
      addEntry(r);
      playGenerated(r.number, played);
      mergeMapUpdate(r.map_update);
      showEntry(r.number, r);
      if (!next) setStatus(`Generated sound #${r.number} in ${ms.toFixed(0)} ms.`, "ready");
      // The spectrogram view is off the click -> sound path: it is asked for once the sound
      // plays, and only for the latest sound (a drag skips the views of sounds it has passed).
      if (!next && !state.pendingClick) await showView("generated-view", "generated", r.number, `sound #${r.number}`);
    }
  } catch (err) {
    setStatus(`Generation failed: ${err && err.message || err}`, "error");
    if (next) await next.catch(() => {}); // never two generations at once
  } finally {
    state.generating = false;
    delete document.body.dataset.generating;
  }
}

// --- history -----------------------------------------------------------------------------------

function addEntry(r) {
  const wavUrl = URL.createObjectURL(new Blob([r.wav], { type: "audio/wav" }));
  const creditsUrl = URL.createObjectURL(new Blob([r.credits_text], { type: "text/plain;charset=utf-8" }));
  state.entries.set(r.number, { wav: r.wav, pcm: r.pcm, rate: r.sample_rate, wavUrl, creditsUrl, filename: r.filename,
    creditsName: r.entry.credits_filename, entry: r.entry, weights: r.weights });
}

function flagText(entry) {
  const parts = [];
  if (entry.noncommercial.length) parts.push(`Uses sounds under non-commercial licences (not for commercial use): ${entry.noncommercial.join(", ")}.`);
  if (entry.sampling.length) parts.push(`Uses Sampling+ sounds (whole-work redistribution only non-commercially): ${entry.sampling.join(", ")}.`);
  return parts.join(" ");
}

function showEntry(number, r = null) {
  // The "Generated sound" panel shows entry `number`: text, flags, download links, share link.
  const e = state.entries.get(number);
  if (!e) return;
  state.current = number;
  const en = e.entry;
  const mix = e.weights.map((w) => `${w.name} ${(100 * w.weight).toFixed(0)}%`).join(", ");
  $("generated-info").textContent =
    `#${en.number} at ${en.labels[0]} = ${en.x.toFixed(2)}, ${en.labels[1]} = ${en.y.toFixed(2)}. Closest sources: ${mix}`;
  const flags = flagText(en);
  $("generated-flags").textContent = flags;
  $("generated-flags").hidden = !flags;
  const a = $("download");
  a.href = e.wavUrl; a.download = e.filename; a.hidden = false;
  a.textContent = `download ${e.filename}`;
  const c = $("download-credits");
  c.href = e.creditsUrl; c.download = e.creditsName; c.hidden = false;
  c.setAttribute("aria-label", `download the credits of sound #${en.number} (${e.creditsName})`);
  if (en.hash) replaceHash(en.hash);
  for (const li of $("history").children) li.classList.toggle("current", li.dataset.number === String(number));
}

function dropEntries(keep) {
  // Forget the sounds the worker no longer keeps (their blob URLs with them).
  for (const [n, e] of state.entries) {
    if (!keep.has(n)) { URL.revokeObjectURL(e.wavUrl); URL.revokeObjectURL(e.creditsUrl); state.entries.delete(n); }
  }
}

function historyItem(h, e) {
  const li = document.createElement("li");
  li.dataset.number = String(h.number);
  li.id = `history-${h.number}`;
  if (h.number === state.current) li.classList.add("current");
  if (!h.on_map) li.classList.add("off-map");
  const coords = document.createElement("span");
  coords.className = "coords";
  coords.textContent = `#${h.number} ${h.labels[0]} = ${h.x.toFixed(2)}, ${h.labels[1]} = ${h.y.toFixed(2)} · ${h.query}`
    + (h.on_map ? "" : " (earlier model)");
  li.append(coords);
  for (const [kind, names, label] of [["nc", h.noncommercial, "NC"], ["sampling", h.sampling, "Sampling+"]]) {
    if (!names.length) continue;
    const b = document.createElement("span");
    b.className = `badge ${kind}`;
    b.textContent = label;
    b.title = flagText({ noncommercial: kind === "nc" ? names : [], sampling: kind === "sampling" ? names : [] });
    b.setAttribute("aria-label", b.title);
    li.append(b);
  }
  const button = (action, text, aria) => {
    const el = document.createElement("button");
    el.type = "button"; el.dataset.action = action; el.textContent = text;
    el.setAttribute("aria-label", aria);
    return el;
  };
  const link = (href, name, text, aria, cls) => {
    const el = document.createElement("a");
    el.className = cls; el.href = href; el.download = name; el.textContent = text;
    el.setAttribute("aria-label", aria);
    return el;
  };
  li.append(
    button("play", "play", `Replay sound #${h.number}`),
    link(e.wavUrl, e.filename, "WAV", `Download sound #${h.number} as ${e.filename}`, "button download"),
    link(e.creditsUrl, e.creditsName, "credits", `Download the credits of sound #${h.number}`, "button secondary credits"),
    button("delete", "delete", `Delete sound #${h.number}`),
  );
  return li;
}

function renderHistory(list) {
  // The whole list, newest first (after a model or query change, a deletion, a shared link).
  dropEntries(new Set(list.map((h) => h.number)));
  const items = [];
  for (const h of [...list].reverse()) {
    const e = state.entries.get(h.number);
    if (e) items.push(historyItem(h, e));
  }
  $("history").replaceChildren(...items);
  $("history-empty").hidden = items.length > 0;
}

function addToHistory(h, keep) {
  // One new sound: its item goes on top, the ones the worker dropped go (no full rebuild per
  // sound, which grew with the history and cost the page time while dragging).
  dropEntries(keep);
  const ol = $("history");
  for (const li of [...ol.children]) if (!keep.has(Number(li.dataset.number))) li.remove();
  const e = state.entries.get(h.number);
  if (e) ol.prepend(historyItem(h, e));
  $("history-empty").hidden = ol.children.length > 0;
}

async function onHistoryClick(event) {
  const btn = event.target.closest("button[data-action]");
  if (!btn) return;
  const number = Number(btn.closest("li").dataset.number);
  if (btn.dataset.action === "play") {
    audioContext();
    showEntry(number);
    await playGenerated(number);
    await showView("generated-view", "generated", number, `sound #${number}`);
  } else if (btn.dataset.action === "delete") {
    const r = await py("delete_generated", number);
    if (!r.ok) { setStatus(r.error, "error"); return; }
    if (state.current === number) {
      state.current = null;
      $("download").hidden = true; $("download-credits").hidden = true;
      $("generated-flags").hidden = true;
      $("generated-info").textContent = `Sound #${number} deleted.`;
    }
    setMap(r.map);
    setStatus(`Sound #${number} deleted from the history.`, "ready");
  }
}

// --- shareable state (URL hash) -----------------------------------------------------------------

async function applyHash() {
  // #q=footstep&n=20&x=1&y=2&px=0.31&py=-1.2: fill the form, set the dims, rebuild the map
  // (when a token is at hand) and make the sound at the point once sounds are on the map.
  const text = location.hash;
  if (!state.model || !text || text === "#") return;
  const r = await py("parse_hash", text);
  if (!r.ok) { setStatus(r.error, "error"); return; }
  const h = r.hash;
  $("query").value = h.query;
  $("count").value = String(h.count);
  if (h.dims) {
    $("x-dim").value = String(h.dims[0]); $("y-dim").value = String(h.dims[1]);
    await onDims();
  }
  state.pendingPoint = h.point ? { point: h.point, needLocal: h.local } : null;
  if (h.message) { setStatus(h.message, "warn"); return; }
  const token = state.token || (state.config.freesound_token || "").trim();
  const then = h.point ? "; the sound at its point is then made" : "";
  const local = h.local ? ` Its map also held local files: drop the same files on the map${then}.` : "";
  if (!h.freesound) {
    setStatus(`This link's map was made of local files: drop the same files on the map to rebuild it${then}.`, "warn");
  } else if (token) {
    await onSearch(null);
    if (h.local) setStatus(`Shared link: the sounds for '${h.query}' are loaded.${local}`, "warn");
  } else {
    setStatus("This link holds a map: enter your Freesound API token and press go (or drop audio files on the map) "
      + `to rebuild it${h.point ? "; the sound at its point is then made" : ""}.${local}`, "warn");
  }
}

async function makePendingPoint(origin) {
  // A shared link's point is made once its map is back (after the local files, if it had some).
  const pending = state.pendingPoint;
  if (!pending || !state.map?.points.length || (pending.needLocal && origin !== "local")) return;
  const [x, y] = pending.point;
  state.pendingPoint = null;
  const r = await py("point_to_map", x, y);
  if (r.ok) requestGenerate(r.nx, r.ny);
}

// --- token ----------------------------------------------------------------------------------

function initToken() {
  let saved = null;
  try { saved = localStorage.getItem(TOKEN_KEY); } catch { /* storage blocked */ }
  if (saved) { state.token = saved; $("token").value = saved; $("remember-token").checked = true; }
  const sync = () => {
    state.token = $("token").value.trim();
    try {
      if ($("remember-token").checked && state.token) localStorage.setItem(TOKEN_KEY, state.token);
      else localStorage.removeItem(TOKEN_KEY);
    } catch { /* storage blocked: memory only */ }
  };
  $("token").addEventListener("input", sync);
  $("remember-token").addEventListener("change", sync);
}

// --- wiring --------------------------------------------------------------------------------

function wire() {
  $("search-form").addEventListener("submit", onSearch);
  $("x-dim").addEventListener("change", onDims);
  $("y-dim").addEventListener("change", onDims);
  $("model-files").addEventListener("change", onModelFiles);
  $("local-files").addEventListener("change", onLocalFiles);
  $("map-pane").addEventListener("dragover", (e) => { e.preventDefault(); $("map-pane").classList.add("dragging"); });
  $("map-pane").addEventListener("dragleave", () => $("map-pane").classList.remove("dragging"));
  $("map-pane").addEventListener("drop", onDrop);
  $("map").addEventListener("pointermove", onMapPointerMove);
  $("map").addEventListener("pointerleave", onMapLeave);
  $("map").addEventListener("pointerdown", onMapPointerDown);
  $("map").addEventListener("pointerup", onMapPointerUp);
  $("map").addEventListener("pointercancel", onMapPointerUp);
  $("map").addEventListener("keydown", onMapKey);
  $("map").addEventListener("focus", onMapFocus);
  $("map").addEventListener("blur", onMapBlur);
  $("history").addEventListener("click", onHistoryClick);
  window.addEventListener("hashchange", () => { if (!state.job) applyHash(); });
  new ResizeObserver(draw).observe($("map"));
  initToken();
  draw();
}

// Test and debugging hook: read-only views of the page state.
window.intellimixer = {
  state,
  stats,
  resetStats,
  timings: state.timings,
  cursor: () => ({ ...state.cursor }),
  views: () => state.views,
  points: () => (state.map?.points || []).map((p) => {
    const rect = $("map").getBoundingClientRect();
    const [x, y] = toPixel(p.nx, p.ny);
    return { key: p.key, name: p.name, username: p.username, license_name: p.license_name, clientX: rect.left + x, clientY: rect.top + y };
  }),
  toClient: (nx, ny) => { const rect = $("map").getBoundingClientRect(); const [x, y] = toPixel(nx, ny); return { x: rect.left + x, y: rect.top + y }; },
};

wire();
window.intellimixer.ready = job("starting", boot).then(async () => {
  state.timings.ready = performance.now() - t0;
  document.body.dataset.ready = state.model ? "1" : "0";
  try { await applyHash(); } catch (err) { setStatus(`Could not apply the link's settings: ${err && err.message || err}`, "warn"); }
});
