// onnxruntime-web in a worker of its own. The page starts it first of all, so that importing
// onnxruntime-web, downloading the default model and opening its sessions run on another core
// while Pyodide boots (on two cores or fewer the page says "open" only once Python is up:
// static/boot.js); later, a decoder run here overlaps the phase reconstruction of the sound
// before it in the Python worker (drag previews).
//
// Messages (plain objects, typed arrays transferred; see static/ort-client.js, the other end):
//   from the page:  {op: "init", base, threads}            where onnxruntime-web lives, its threads
//                   {op: "preload", manifest}              download a bundle at once, to open its sessions ahead of time
//                   {op: "open"}                           ... from now on (not before: see static/boot.js)
//                   {op: "connect"} + a MessagePort        the Python worker's end of the requests
//   on a port:      {id, op: "create", kind, model, options} -> {id, ok, session, inputNames, ..., warmed}
//                     (model: the bytes, or the URL of a file "cached" handed over)
//                   {id, op: "run", session, feeds}           -> {id, ok, outputs: {name: {data, dims}}}
//                   {id, op: "release", session}              -> {id, ok}
//                   {id, op: "cached", url}                   -> {id, ok, data: Uint8Array | null}
//   to the port, unasked: {op: "file", url, data}   a file the preload downloaded (below)
// A "create" whose kind and model bytes equal a preloaded part's gets that session, and with
// it `warmed`: the dims of the run the preload made on zeros of its declared input shapes (the
// Python worker's smoke test reads them instead of running the model again). A copy of each
// file the preload downloads (the manifest, a model file) goes to the port as soon as it is
// there, once, so the Python worker neither downloads the default model a second time nor
// waits for it behind this worker's session opening; "cached" hands over one the port has
// not had yet (its download still under way).

const env = { base: null, threads: 1 };
let configured;
const ready = new Promise((resolve) => { configured = resolve; });
const modules = new Map(); // kind -> promise of the onnxruntime-web build for it
const sessions = new Map(); // id -> {session, kind}
const preloaded = []; // {kind, url, bytes, session: promise of {session, warmed}}
const downloads = new Map(); // absolute URL -> promise of the preload's Uint8Array
let openNow;
const openGate = new Promise((resolve) => { openNow = resolve; }); // the page's "open"
let nextId = 1;
let pyPort = null; // the Python worker's end

function runtime(kind) {
  if (!modules.has(kind)) {
    modules.set(kind, ready.then(async () => {
      const ort = await import(`${env.base}ort.${kind}.min.mjs`);
      if (kind !== "webgl") {
        ort.env.wasm.wasmPaths = env.base;
        ort.env.wasm.numThreads = env.threads;
      }
      ort.env.logLevel = "error";
      return ort;
    }));
  }
  return modules.get(kind);
}

function sameBytes(a, b) {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

// The session options (what the caller gives, e.g. externalData, added): one execution
// provider, all graph optimisations, and intra-op threads that sleep after a run (by default
// they spin-wait, stealing the core the Python worker's phase reconstruction runs on).
function sessionOptions(kind, given) {
  const options = { executionProviders: [kind], graphOptimizationLevel: "all", ...given };
  if (kind !== "webgl") options.extra = { session: { intra_op: { allow_spinning: "0" } } };
  return options;
}

async function open(kind, model, options) {
  const ort = await runtime(kind);
  return ort.InferenceSession.create(model, sessionOptions(kind, options));
}

function meta(list) {
  return (list || []).map((m) => ({ name: m.name, shape: m.shape ? [...m.shape] : undefined }));
}

async function create(kind, model, options) {
  const k = preloaded.findIndex((p) => p.kind === kind && (typeof model === "string" ? p.url === model : sameBytes(p.bytes, model)));
  let session;
  let warmed;
  if (k >= 0) {
    ({ session, warmed } = await preloaded.splice(k, 1)[0].session);
  } else {
    session = await open(kind, model, options);
  }
  const id = nextId++;
  sessions.set(id, { session, kind });
  let inputMetadata; // (left undefined where the backend has none: WebGL)
  let outputMetadata;
  try { inputMetadata = meta(session.inputMetadata); outputMetadata = meta(session.outputMetadata); } catch { /* WebGL: none */ }
  return { session: id, inputNames: [...session.inputNames], outputNames: [...session.outputNames], inputMetadata, outputMetadata, warmed };
}

async function run(id, feeds, transfer) {
  const entry = sessions.get(id);
  if (!entry) throw new Error("the model session was released");
  const { session, kind } = entry;
  const ort = await runtime(kind);
  const inputs = {};
  for (const [name, t] of Object.entries(feeds)) inputs[name] = new ort.Tensor(t.type, t.data, t.dims);
  const results = await session.run(inputs);
  const outputs = {};
  for (const [name, t] of Object.entries(results)) {
    const data = t.location && t.location !== "cpu" ? await t.getData(true) : t.data;
    outputs[name] = { data, dims: [...t.dims] };
    transfer.push(data.buffer);
  }
  return { outputs };
}

async function release(id) {
  const entry = sessions.get(id);
  sessions.delete(id);
  if (entry) await entry.session.release();
  return {};
}

// One run on zeros of the session's declared input shapes (a symbolic axis as 1): warms it up
// and tells the Python worker the dims it gave. Float inputs only; otherwise no run.
async function warmUp(session) {
  const ort = await runtime("wasm");
  const feeds = {};
  for (const m of session.inputMetadata) {
    if (!m.isTensor || m.type !== "float32") return undefined;
    const dims = m.shape.map((d) => (typeof d === "number" ? d : 1));
    feeds[m.name] = new ort.Tensor("float32", new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
  }
  const results = await session.run(feeds);
  const dims = (record) => Object.fromEntries(Object.entries(record).map(([n, t]) => [n, [...t.dims]]));
  return { inputs: dims(feeds), outputs: dims(results) };
}

async function preload(manifestUrl) {
  const download = (url) => {
    if (!downloads.has(url)) {
      const p = fetch(url).then(async (r) => {
        if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
        return new Uint8Array(await r.arrayBuffer());
      });
      p.catch(() => {}); // (the Python worker downloads it again and reports the error)
      downloads.set(url, p);
      p.then(() => { if (pyPort) handOver(url); }, () => {});
    }
    return downloads.get(url);
  };
  const manifest = JSON.parse(new TextDecoder().decode(await download(manifestUrl)));
  const names = [manifest.encoder.file, manifest.decoder.file];
  const extra = (manifest.external_data || []).filter((n) => typeof n === "string");
  const url = (name) => new URL(name, manifestUrl).href;
  const [models, external] = await Promise.all([Promise.all(names.map((n) => download(url(n)))), Promise.all(extra.map((n) => download(url(n))))]);
  const opts = { externalData: extra.map((path, i) => ({ path, data: external[i] })) };
  models.forEach((bytes, i) => {
    const session = openGate.then(() => open("wasm", bytes, opts))
      .then(async (s) => ({ session: s, warmed: await warmUp(s).catch(() => undefined) }));
    session.catch(() => {}); // reported when the Python worker opens the model itself
    preloaded.push({ kind: "wasm", url: url(names[i]), bytes, session });
  });
}

// A file the preload downloaded, sent to the Python worker unasked (a copy: the preload keeps
// the model files' own bytes until their sessions are claimed, to match "create" against).
async function handOver(url) {
  const download = downloads.get(url);
  if (!download) return;
  downloads.delete(url);
  const data = (await download).slice();
  pyPort.postMessage({ op: "file", url, data }, [data.buffer]);
}

// A copy of a file the preload downloaded, or null; handed over once.
async function cached(url) {
  const download = downloads.get(url);
  downloads.delete(url);
  try {
    return { data: download ? (await download).slice() : null };
  } catch {
    return { data: null };
  }
}

function serve(port) {
  pyPort = port;
  for (const [url, download] of downloads) download.then(() => handOver(url), () => {});
  port.onmessage = async ({ data: m }) => {
    const transfer = [];
    let reply;
    try {
      if (m.op === "create") reply = await create(m.kind, m.model, m.options);
      else if (m.op === "run") reply = await run(m.session, m.feeds, transfer);
      else if (m.op === "release") reply = await release(m.session);
      else if (m.op === "cached") {
        reply = await cached(m.url);
        if (reply.data) transfer.push(reply.data.buffer);
      }
      else throw new Error(`ort-worker: no operation '${m.op}'`);
      port.postMessage({ id: m.id, ok: true, ...reply }, transfer);
    } catch (err) {
      port.postMessage({ id: m.id, ok: false, error: String(err?.message || err) });
    }
  };
}

self.onmessage = ({ data: m, ports }) => {
  if (m.op === "init") {
    env.base = m.base;
    env.threads = m.threads || 1;
    configured();
    runtime("wasm").catch(() => {}); // import it now; an error shows where it is used
  } else if (m.op === "preload") {
    preload(m.manifest).catch(() => {});
  } else if (m.op === "open") {
    openNow();
  } else if (m.op === "connect") {
    serve(ports[0]);
  }
};
