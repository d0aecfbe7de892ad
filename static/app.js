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
};
const t0 = performance.now();

// --- status panel ---------------------------------------------------------------------

function setStatus(message, kind = "busy", done = null, total = null) {
  $("status").dataset.state = kind;
  $("status-message").textContent = message;
  const bar = $("progress");
  if (kind === "busy" && total == null) bar.removeAttribute("value"); // indeterminate
  else { bar.max = total || 1; bar.value = total ? done : 1; }
  const log = $("status-log");
  if (kind !== "busy" || total == null || done === 0) {
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
  const out = JSON.parse(raw.json); // generate: {json, wav}
  out.wav = raw.wav;
  return out;
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
  state.timings.python = performance.now() - t0;

  setStatus("Loading numpy and onnxruntime-web…", "busy", 1, 3);
  const threads = config.onnx_threads === "auto"
    ? (globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1)
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
  }
  console.info("intellimixer timings (ms since navigation start of app.js):", state.timings, booted);
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
  event.preventDefault();
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
      const meta = { name: f.name, username: "", license_name: "local file", origin: "local", credit: `${f.name} (local file)` };
      const added = await py("add_source", begun.batch, JSON.stringify(meta), pcm, sr);
      if (added.ok) state.previews.set(added.source.key, { bytes, type: f.type || "audio/wav" });
      else await py("fail_source", begun.batch, f.name, added.error);
    }
    const result = await py("commit_batch", begun.batch);
    if (!result.ok && result.error) { setStatus(result.error, "error"); return; }
    setMap(result.map);
    setStatus(result.message, result.ok ? (result.failed ? "warn" : "ready") : "error");
  });
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
  }
  map.generated.forEach((p, k) => {
    const [x, y] = toPixel(p.nx, p.ny);
    const last = k === map.generated.length - 1;
    g.save(); g.translate(x, y); g.rotate(Math.PI / 4);
    g.fillStyle = last ? "#ff5c8a" : "#a8536b";
    g.fillRect(-5, -5, 10, 10); g.restore();
  });
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

function onMapClick(event) {
  const p = hitTest(event);
  if (p) { playSource(p); return; }
  const r = plotRect();
  const rect = $("map").getBoundingClientRect();
  const nx = (event.clientX - rect.left - r.x) / r.w, ny = 1 - (event.clientY - rect.top - r.y) / r.h;
  if (nx < 0 || nx > 1 || ny < 0 || ny > 1) return;
  requestGenerate(nx, ny);
}

function playSource(p) {
  const cached = state.previews.get(p.key);
  $("source-info").textContent = p.credit || `${p.name}${p.username ? " by " + p.username : ""}`;
  if (!cached) { setStatus(`No audio kept for '${p.name}'.`, "warn"); return; }
  setAudio("source", new Blob([cached.bytes], { type: cached.type }));
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

// --- generation ------------------------------------------------------------------------------

function requestGenerate(nx, ny) {
  if (!state.model) {
    setStatus(noModelMessage(), "warn");
    return;
  }
  if (!state.map || !state.map.points.length) {
    setStatus("Load some sounds first: type a keyword and press go, then click the map.", "warn");
    return;
  }
  if (state.job) { setStatus(`Busy ${state.job}; click again when it finishes.`, "warn"); return; }
  state.pendingClick = [nx, ny]; // latest click wins; older pending clicks are dropped
  if (!state.generating) generateLoop();
}

async function generateLoop() {
  state.generating = true;
  document.body.dataset.generating = "1";
  try {
    while (state.pendingClick) {
      const [nx, ny] = state.pendingClick;
      state.pendingClick = null;
      setStatus("Generating: decoder + phase reconstruction…", "busy");
      const t = performance.now();
      const r = await py("generate", nx, ny);
      if (!r.ok) { setStatus(r.error, "error"); continue; }
      const ms = performance.now() - t;
      setMap(r.map);
      const url = setAudio("generated", new Blob([r.wav], { type: "audio/wav" }));
      const a = $("download");
      a.href = url; a.download = r.filename; a.hidden = false;
      a.textContent = `download ${r.filename}`;
      const mix = r.weights.map((w) => `${w.name} ${(100 * w.weight).toFixed(0)}%`).join(", ");
      $("generated-info").textContent =
        `#${r.number} at ${r.map.labels[0]} = ${r.x.toFixed(2)}, ${r.map.labels[1]} = ${r.y.toFixed(2)}. Closest sources: ${mix}`;
      setStatus(`Generated sound #${r.number} in ${ms.toFixed(0)} ms.`, "ready");
    }
  } catch (err) {
    setStatus(`Generation failed: ${err && err.message || err}`, "error");
  } finally {
    state.generating = false;
    delete document.body.dataset.generating;
  }
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
  $("map").addEventListener("mousemove", onMapMove);
  $("map").addEventListener("mouseleave", onMapLeave);
  $("map").addEventListener("click", onMapClick);
  new ResizeObserver(draw).observe($("map"));
  initToken();
  draw();
}

// Test and debugging hook: read-only views of the page state.
window.intellimixer = {
  state,
  timings: state.timings,
  points: () => (state.map?.points || []).map((p) => {
    const rect = $("map").getBoundingClientRect();
    const [x, y] = toPixel(p.nx, p.ny);
    return { key: p.key, name: p.name, username: p.username, license_name: p.license_name, clientX: rect.left + x, clientY: rect.top + y };
  }),
  toClient: (nx, ny) => { const rect = $("map").getBoundingClientRect(); const [x, y] = toPixel(nx, ny); return { x: rect.left + x, y: rect.top + y }; },
};

wire();
window.intellimixer.ready = job("starting", boot).then(() => {
  state.timings.ready = performance.now() - t0;
  document.body.dataset.ready = state.model ? "1" : "0";
});
