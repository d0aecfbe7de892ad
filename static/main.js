// Audio Intellimixer — the page (main thread). Python (py/worker.py in a PyScript worker)
// holds the app state and does all the audio work; the page wires elements by id, decodes
// previews with WebAudio (main thread only), draws and plays what the worker says, and shows
// the status. Text from Freesound is always set with textContent, never as HTML.
// boot.js has started the workers before this module loads (`early`).
// Modules: worker-client (the protocol), strings (sentences and limits), status, map-view,
// scrub (generation scheduling), player, sources, history, exporter (download options),
// share, views, model-panel, sessions (saved in the browser as the user goes; store.js), drop
// (dropped files and folders), packs (sample packs), midi (a controller drives the map).
import { abs, early, onnxThreads, packageBase } from "./boot.js";
import { droppedFiles, isModelDrop } from "./drop.js";
import { Exporter } from "./exporter.js";
import { History } from "./history.js";
import { MapView } from "./map-view.js";
import { ModelPanel } from "./model-panel.js";
import { FADE_S, Player } from "./player.js";
import { Midi } from "./midi.js";
import { Packs } from "./packs.js";
import { startPhaseHelper } from "./phase-helper.js";
import { newStats, Scheduler } from "./scrub.js";
import { Sessions } from "./sessions.js";
import { Share } from "./share.js";
import { Sources } from "./sources.js";
import { jobs, setStatus } from "./status.js";
import { LIMITS, loadStrings, msg } from "./strings.js";
import { drawn, showView } from "./views.js";
import { WorkerClient } from "./worker-client.js";

const $ = (id) => document.getElementById(id);
const timings = {}; // ms since the page's navigation started
const stats = { ...newStats(), fade_ms: FADE_S * 1000 };
const app = { config: null, client: null, worker: null, booted: null }; // booted: the worker's boot reply
let mapView, scheduler, player, sources, history, share, models, exporter, sessions, packs, midi;

// --- boot --------------------------------------------------------------------------------

// The sentences, loaded first of all; a failed fetch waits for them to say what is missing.
const stringsReady = loadStrings(abs("py/intellimixer/strings.json"));

// The boot's progress bar: its steps are weighed by what they download (sizes the build
// wrote into runtime.json); within the first and longest one (Python's start) it moves on
// an estimate, the time the last start took on this device.
const BOOT_MS_KEY = "intellimixer.boot_python_ms";
function bootProgress(runtime) {
  const d = runtime.downloads || { engine: 1, onnx: 1, model: 1 };
  const mb = (bytes) => (bytes / 1e6).toFixed(1);
  const total = d.engine + d.onnx + d.model;
  let expected = 4000;
  try { expected = Number(localStorage.getItem(BOOT_MS_KEY)) || expected; } catch { /* storage blocked */ }
  const t = performance.now();
  const text = msg("boot_python", { mb: mb(d.engine + d.onnx) });
  const tick = () => { // (only while the panel still says this: other news, e.g. a queued search, stays)
    if (document.getElementById("status-message").textContent !== text) return;
    setStatus(text, "busy", Math.min(0.95, (performance.now() - t) / expected) * (d.engine + d.onnx), total, false);
  };
  setStatus(text, "busy", 0, total);
  const timer = setInterval(tick, 200);
  return {
    runtimes() {
      clearInterval(timer);
      try { localStorage.setItem(BOOT_MS_KEY, String(Math.round(performance.now() - t))); } catch { /* storage blocked */ }
      setStatus(msg("boot_runtimes"), "busy", d.engine + d.onnx, total);
    },
    model() { setStatus(msg("boot_model", { mb: mb(d.model) }), "busy", d.engine + d.onnx, total); },
    stop() { clearInterval(timer); },
  };
}

// The start files (boot.js fetched them at once); a missing one is named.
async function startFiles() {
  try { return await early.files; } catch (err) {
    if (err?.path) throw new Error(msg(err.vendored ? "missing_vendor" : "missing_file", { path: err.path, status: err.status }), { cause: err });
    throw err;
  }
}

async function boot() {
  const [protocol, config, runtime] = await startFiles();
  const progress = bootProgress(runtime);
  try { await bootSteps(protocol, config, runtime, progress); } finally { progress.stop(); }
}

async function bootSteps(protocol, config, runtime, progress) {
  app.config = config;
  const threads = onnxThreads(config);
  const python = await early.python; // (boot.js started it: Pyodide boots while the page's modules load)
  app.worker = python.worker;
  app.client.attach(app.worker, protocol);
  timings.python = python.at;

  progress.runtimes();
  const booted = await app.client.call("boot", {
    packages_base: packageBase(config, runtime),
    numpy_file: runtime.packages.numpy.file_name,
    // for TF.js imports, loaded on first use: Pyodide's protobuf (or the pure-Python wheel of
    // its version, which a local package folder may hold instead) and ONNX's protobuf module
    protobuf_files: runtime.packages.protobuf
      ? [runtime.packages.protobuf.file_name, `protobuf-${runtime.packages.protobuf.version}-py3-none-any.whl`] : [],
    onnx_pb2_url: runtime.onnx_pb2 ? abs("static/vendor/" + runtime.onnx_pb2.file) : "",
    ort_client: abs("static/ort-client.js"),
    threads,
    freesound_api: config.freesound_api,
    freesound_token: config.freesound_token || "",
    max_duration: config.max_duration ?? 5.0,
    // where the model runs: "auto" (GPU when present and faster), "wasm", "webgpu", "webgl";
    // a page URL with ?backend=... overrides it
    onnx_backend: new URLSearchParams(location.search).get("backend") || config.onnx_backend || "auto",
  });
  if (!booted.ok) { setStatus(booted.error, "error"); models.none(); return; }
  app.booted = booted;
  timings.runtimes = performance.now();
  timings.numpy_after_python = 1000 * booted.numpy_s;
  timings.ort_after_python = 1000 * booted.ort_s;

  progress.model();
  const loaded = await app.client.call("load_model_url", abs(config.default_model));
  timings.model = performance.now();
  if (!loaded.ok) {
    setStatus(msg("default_model_failed", { why: loaded.error }), "error");
    models.none();
    return;
  }
  models.apply(loaded);
  setStatus(msg("ready", { seconds: (timings.model / 1000).toFixed(1) }), "ready");
  console.info("intellimixer timings (ms since main.js started):", timings);
}

// --- what the page does ------------------------------------------------------------------

function setMap(/* @protocol MapState */ map) {
  mapView.setMap(map);
  // the form shows what the map shows
  $("x-dim").value = String(map.dims[0]);
  $("y-dim").value = String(map.dims[1]);
  $("mix-commercial").checked = map.commercial_only;
  $("include-declined").checked = map.include_declined;
  history.render(map.history);
  if (map.points.length) share.replace(map.hash, mapView.scrub.active);
  sessions?.schedule();
}

async function refreshMap() {
  const r = await app.client.call("map_state");
  if (r.ok) setMap(r.map);
}

function hasToken() {
  return Boolean(sources.token || (app.config?.freesound_token || "").trim());
}

function canUseModel() {
  if (models.model) return true;
  setStatus(jobs.noModelMessage(), "warn");
  return false;
}

// op: "generate" (a sound to keep) or "preview" (a point passed while dragging)
function requestGenerate(nx, ny, op = "generate") {
  if (!canUseModel()) return;
  if (!mapView.map?.points.length) { setStatus(msg("no_sounds"), "warn"); return; }
  if (jobs.current) { setStatus(jobs.busyMessage(true), "warn"); return; }
  scheduler.request(nx, ny, op);
}

async function afterLoad(origin) {
  const pos = await share.takePoint(origin, Boolean(mapView.map?.points.length));
  if (pos) requestGenerate(pos.nx, pos.ny);
}

// Asked for while the app starts (typing and dropping need no Python): done once it is ready.
const untilReady = { search: false, files: [] };

function starting() {
  return jobs.current === "job_starting";
}

async function runQueued() {
  const { search: wanted, files } = untilReady;
  untilReady.search = false;
  untilReady.files = [];
  if (!models.model) return;
  if (files.length) await addLocalFiles(files);
  if (wanted) await search(null);
}

async function search(event) {
  event?.preventDefault();
  if (starting()) {
    untilReady.search = true;
    setStatus(msg("queued_search", { query: $("query").value.trim() }), "busy");
    return;
  }
  if (!canUseModel()) return;
  await sources.search();
  await afterLoad("freesound");
}

async function addLocalFiles(list) {
  if (list.length && starting()) {
    untilReady.files.push(...list);
    setStatus(msg("queued_files", { count: untilReady.files.length }), "busy");
    return;
  }
  if (!list.length || !canUseModel()) return;
  await sources.addFiles(list);
  await afterLoad("local");
}

async function setDims(dims = null) {
  if (!models.model) return;
  if (dims) { $("x-dim").value = String(dims[0]); $("y-dim").value = String(dims[1]); }
  const r = await app.client.call("set_dims", $("x-dim").value, $("y-dim").value);
  if (!r.ok) { setStatus(r.error, "error"); return; }
  setMap(r.map);
  if (r.warning) setStatus(r.warning, "warn");
  else if ($("status").dataset.state === "warn" && $("status-message").textContent === msg("same_dims")) {
    // the cause of that warning is gone: say what the map shows now
    setStatus(msg("dims_shown", { x: r.map.labels[0], y: r.map.labels[1] }), "ready");
  }
}

async function setMixOptions() {
  if (!models.model) return;
  const include = $("include-declined").checked;
  const r = await app.client.call("set_mix_options", include, $("mix-commercial").checked);
  if (!r.ok) { setStatus(r.error, "error"); return; }
  setMap(r.map);
  if (r.message) setStatus(r.message, include ? "warn" : "ready");
}

// A download link of a generated sound (the panel's or a history item's): with export
// options other than the sound's own, the worker exports it and the page saves that file.
function onDownload(event) {
  const a = event.target.closest("#download, #history a.download");
  if (!a || exporter.plain) return;
  event.preventDefault();
  const number = a.id === "download" ? history.current : Number(a.closest("li").dataset.number);
  if (number != null) exporter.save(number);
}

function playSource(/* @protocol Point */ p) {
  if (!p) { setStatus(msg("no_sounds_short"), "warn"); return; }
  $("source-info").textContent = p.credit + (p.warning ? ` — ${p.warning}` : "");
  const cached = sources.previews.get(p.key);
  if (!cached) { setStatus(msg("no_preview", { name: p.name }), "warn"); return; }
  $("source-view").hidden = false; $("source-audio").hidden = false; // (shown once there is a source to show)
  player.setAudio("source", new Blob([cached.bytes], { type: cached.type }));
  showView(app.client, "source-view", "source", p.key).then((error) => error && setStatus(error, "warn"));
}

function onSound({ reply, op, ms, more }) {
  if (op === "preview") { onPreview(reply); return; }
  // The sound starts first; the blobs, links, map and text are made while it plays.
  const /* @protocol generated */ r = reply;
  const played = player.startVoice(r.pcm, r.sample_rate);
  const entry = history.add(r);
  player.playGenerated(entry, played, mapView.scrub.active);
  const u = r.map_update;
  if (mapView.merge(u)) history.prepend(u.entry, new Set(u.history));
  else refreshMap();
  share.replace(history.show(r.number), mapView.scrub.active, true);
  sessions.schedule();
  if (!more) setStatus(msg("generated", { number: r.number, ms: ms.toFixed(0) }), "ready");
  if (played) {
    const warning = msg("audio_suspended", { number: r.number });
    player.watchSilent(() => { if (!jobs.current) setStatus(warning, "warn"); }, () => {
      // (audio started late after all: the warning goes, unless something else was said since)
      if ($("status-message").textContent === warning) setStatus(msg("generated", { number: r.number, ms: ms.toFixed(0) }), "ready");
    });
  }
}

// A point passed while dragging: played (crossfaded with the last), not kept.
function onPreview(/* @protocol previewed */ r) {
  player.startVoice(r.pcm, r.sample_rate);
}

async function replay(number) {
  player.unlock();
  const entry = history.get(number);
  if (!entry) return;
  share.replace(history.show(number), false, true);
  player.playGenerated(entry);
  await showView(app.client, "generated-view", "generated", number);
}

async function remove(number) {
  const r = await app.client.call("delete_generated", number);
  if (!r.ok) { setStatus(r.error, "error"); return; }
  history.clearPanel(number);
  setMap(r.map);
  setStatus(r.message, "ready");
}

// --- wiring --------------------------------------------------------------------------------

function wireClient() {
  const client = app.client = new WorkerClient();
  scheduler = new Scheduler(client, stats);
  scheduler.addEventListener("sound", (e) => onSound(e.detail));
  scheduler.addEventListener("failed", (e) => setStatus(e.detail.error, "error"));
  // the spectrogram view is off the click -> sound path: only the last sound of a run gets one
  scheduler.settle = (r) => showView(client, "generated-view", "generated", r.number);
  share = new Share(client);
  models = new ModelPanel(client);
  models.addEventListener("model", (e) => { exporter.fill(models.model.sample_rate); setMap(e.detail.result.map); });
  exporter = new Exporter(client);
  sources = new Sources(client, { onMap: setMap, model: () => models.model, map: () => mapView.map });
  sources.initToken();
}

function applyLimits() {
  $("count").max = String(LIMITS.max_sounds);
  if (!$("count").value) $("count").value = String(LIMITS.default_sounds);
  $("count-label").textContent = msg("count_label", { max: LIMITS.max_sounds });
  packs.fill();
  midi.show();
  $("query").maxLength = LIMITS.max_query_chars;
  if (!$("query").value) $("query").value = LIMITS.default_query;
  for (const el of document.querySelectorAll("[data-msg]")) el.textContent = msg(el.dataset.msg);
}

function wirePage() {
  player = new Player(stats);
  history = new History();
  sessions = new Sessions(app.client, {
    previews: sources.previews, history, model: () => models.model, onMap: setMap,
    busy: () => mapView.scrub.active || scheduler.running || Boolean(jobs.current),
  });
  packs = new Packs(app.client, {
    exporter, history,
    ready: () => {
      if (!canUseModel()) return false;
      if (!mapView.map?.points.length) { setStatus(msg("no_sounds"), "warn"); return false; }
      return true;
    },
  });
  // a controller's two controls move the cursor and play previews there (as a drag does); its
  // key makes the sound to keep
  midi = new Midi({
    move: (nx, ny) => { mapView.setCursor(nx, ny, false); player.unlock(); requestGenerate(nx, ny, "preview"); },
    make: (nx, ny) => { mapView.setCursor(nx, ny, false); player.unlock(); requestGenerate(nx, ny); },
  });
  // a session back: its last sound in the panel (its link in the address bar)
  sessions.addEventListener("restored", (e) => {
    const last = e.detail.map.history.at(-1);
    if (last) share.replace(history.show(last.number), false, true);
  });
  history.addEventListener("replay", (e) => replay(e.detail.number));
  history.addEventListener("delete", (e) => remove(e.detail.number));
  mapView = new MapView($("map"), {
    describe: async (nx, ny) => {
      if (!models.model) return "";
      const r = await app.client.call("describe_point", nx, ny);
      return r.ok ? r.text : "";
    },
  });
  mapView.addEventListener("play", (e) => playSource(e.detail.point));
  mapView.addEventListener("audition", (e) => {
    if (e.detail.point) { player.unlock(); playSource(e.detail.point); } else $("source-audio").pause();
  });
  $("audition").addEventListener("change", (e) => {
    mapView.auditionOn = e.target.checked;
    if (!e.target.checked && !mapView.keyHeld) mapView.audition(null);
  });
  mapView.addEventListener("generate", (e) => {
    player.unlock();
    requestGenerate(e.detail.nx, e.detail.ny, e.detail.preview ? "preview" : "generate");
  });
  mapView.addEventListener("scrub", (e) => {
    scheduler.scrubbing = e.detail.active;
    if (e.detail.active) { player.unlock(); return; }
    share.flush();
    player.syncGenerated(history.get(history.current));
  });
  $("search-form").addEventListener("submit", search);
  $("copy-link").addEventListener("click", () => share.copy(history.current));
  $("include-declined").addEventListener("change", () => setMixOptions());
  $("mix-commercial").addEventListener("change", () => setMixOptions());
  document.addEventListener("click", onDownload);
  $("x-dim").addEventListener("change", () => setDims());
  $("y-dim").addEventListener("change", () => setDims());
  for (const id of ["model-files", "model-folder"]) {
    $(id).addEventListener("change", (event) => {
      const list = [...event.target.files];
      event.target.value = ""; // the same files can be picked again
      if (list.length) uploadModel(list);
    });
  }
  $("local-files").addEventListener("change", (event) => {
    const list = [...event.target.files];
    event.target.value = "";
    addLocalFiles(list);
  });
  const pane = $("map-pane");
  pane.addEventListener("dragover", (e) => { e.preventDefault(); pane.classList.add("dragging"); });
  pane.addEventListener("dragleave", () => pane.classList.remove("dragging"));
  pane.addEventListener("drop", (e) => onDrop(e, pane));
  const modelBox = document.querySelector(".model");
  modelBox.addEventListener("dragover", (e) => { e.preventDefault(); modelBox.classList.add("dragging"); });
  modelBox.addEventListener("dragleave", () => modelBox.classList.remove("dragging"));
  modelBox.addEventListener("drop", (e) => onDrop(e, modelBox));
  window.addEventListener("hashchange", () => { if (!jobs.current) applyHash(); });
  mapView.draw();
}

// A drop on the map or the model panel: model files (a bundle, or TF.js models: folders or
// all files at once) replace the model; sounds join the map.
async function onDrop(event, target) {
  event.preventDefault();
  target.classList.remove("dragging");
  const items = await droppedFiles(event.dataTransfer);
  if (isModelDrop(items)) uploadModel(items);
  else addLocalFiles(items.map(({ file }) => file));
}

// Model files picked or dropped (Files or {file, path}): loaded unless sounds are being made;
// the sources at another rate are decoded again for it.
function uploadModel(items) {
  if (scheduler.running) { setStatus(msg("busy_generating_model"), "warn"); return; }
  models.upload(items, (result) => sources.redecode(result.stale));
}

async function applyHash() {
  if (!models.model) return;
  await share.apply({ hasToken: hasToken(), setDims, search: () => search(null) });
}

// Test and debugging hook: read-only views of the page's state.
function exposeForTests() {
  window.intellimixer = {
    state: {
      get map() { return mapView.map; },
      get model() { return models?.model ?? null; },
      get backend() { return models?.backend ?? null; },
      get token() { return sources?.token ?? ""; },
      get config() { return app.config; },
      get worker() { return app.worker; },
      audio: { get ctx() { return player.ctx; } },
    },
    get client() { return app.client; },
    stats,
    resetStats() { Object.assign(stats, newStats(), { fade_ms: FADE_S * 1000 }); },
    timings,
    get booted() { return app.booted; },
    cursor: () => ({ ...mapView.cursor }),
    views: () => drawn,
    points: () => (mapView.map?.points || []).map((p) => {
      const c = mapView.toClient(p.nx, p.ny);
      return { key: p.key, name: p.name, username: p.username, license_name: p.license_name, clientX: c.x, clientY: c.y };
    }),
    toClient: (nx, ny) => mapView.toClient(nx, ny),
    sessions: { idle: () => sessions.idle(), get id() { return sessions.id; } },
  };
}

async function start() {
  await stringsReady;
  applyLimits();
  await jobs.run("job_starting", () => boot());
  timings.ready = performance.now();
  // the second core's half of phase reconstruction, started once the page is quiet
  const busy = () => Boolean(jobs.current || document.body.dataset.generating);
  window.intellimixer.phaseHelper = app.worker ? startPhaseHelper(app.worker, app.config?.phase_helper, busy) : Promise.resolve(false);
  // the last session comes back (what it holds is already usable while it does)
  if (models.model) await jobs.run("job_restore", () => sessions.start());
  document.body.dataset.ready = models.model ? "1" : "0";
  // (the address the page was reloaded with is its own: the session already holds it)
  const own = new Set([mapView.map?.hash, ...(mapView.map?.history || []).map((h) => h.hash)]);
  if (!own.has(location.hash) && !sessions.restoreFailed) { // (after a failed restore, its own address)
    try { await applyHash(); } catch (err) { setStatus(msg("link_failed", { error: err?.message || err }), "warn"); }
  }
  await runQueued(); // (after the link the page was opened with: what was queued comes later)
}

// Everything that needs no Python (nor the sentences) is wired at once: typing, the token,
// the map's events; what is asked of the worker before it is up gets a clear answer.
wireClient();
wirePage();
exposeForTests();
window.intellimixer.ready = start().catch((err) => {
  // (strings.json itself may be what failed: then the bare error is all there is to show)
  let text = String(err?.message || err);
  try { text = msg("page_failed", { error: text }); } catch { /* no sentences loaded */ }
  setStatus(text, "error");
});
