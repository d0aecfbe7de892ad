// onnxruntime-web in a worker of its own. The page starts it first of all, so that importing
// onnxruntime-web, compiling its WebAssembly and opening the default model's sessions run on
// another core while Pyodide boots; later, a decoder run here overlaps the phase
// reconstruction of the sound before it in the Python worker (drag previews).
//
// Messages (plain objects, typed arrays transferred; see static/ort-client.js, the other end):
//   from the page:  {op: "init", base, threads}            where onnxruntime-web lives, its threads
//                   {op: "preload", manifest}              open a bundle's sessions ahead of time
//                   {op: "connect"} + a MessagePort        the Python worker's end of the requests
//   on a port:      {id, op: "create", kind, model, options} -> {id, ok, session, inputNames, ...}
//                   {id, op: "run", session, feeds}           -> {id, ok, outputs: {name: {data, dims}}}
//                   {id, op: "release", session}              -> {id, ok}
// A "create" whose kind and model bytes equal a preloaded part's gets that session.

const env = { base: null, threads: 1 };
let configured;
const ready = new Promise((resolve) => { configured = resolve; });
const modules = new Map(); // kind -> promise of the onnxruntime-web build for it
const sessions = new Map(); // id -> {session, kind}
const preloaded = []; // {kind, bytes, session: promise}
let nextId = 1;

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
  const k = preloaded.findIndex((p) => p.kind === kind && sameBytes(p.bytes, model));
  let session;
  if (k >= 0) {
    session = await preloaded.splice(k, 1)[0].session;
  } else {
    session = await open(kind, model, options);
  }
  const id = nextId++;
  sessions.set(id, { session, kind });
  let inputMetadata; // (left undefined where the backend has none: WebGL)
  let outputMetadata;
  try { inputMetadata = meta(session.inputMetadata); outputMetadata = meta(session.outputMetadata); } catch { /* WebGL: none */ }
  return { session: id, inputNames: [...session.inputNames], outputNames: [...session.outputNames], inputMetadata, outputMetadata };
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

async function preload(manifestUrl) {
  const manifest = await (await fetch(manifestUrl)).json();
  const names = [manifest.encoder.file, manifest.decoder.file];
  const extra = (manifest.external_data || []).filter((n) => typeof n === "string");
  const fetchBytes = async (name) => new Uint8Array(await (await fetch(new URL(name, manifestUrl))).arrayBuffer());
  const [models, external] = await Promise.all([Promise.all(names.map(fetchBytes)), Promise.all(extra.map(fetchBytes))]);
  const opts = { externalData: extra.map((path, i) => ({ path, data: external[i] })) };
  for (const bytes of models) {
    const session = open("wasm", bytes, opts);
    session.catch(() => {}); // reported when the Python worker opens the model itself
    preloaded.push({ kind: "wasm", bytes, session });
  }
}

function serve(port) {
  port.onmessage = async ({ data: m }) => {
    const transfer = [];
    let reply;
    try {
      if (m.op === "create") reply = await create(m.kind, m.model, m.options);
      else if (m.op === "run") reply = await run(m.session, m.feeds, transfer);
      else if (m.op === "release") reply = await release(m.session);
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
  } else if (m.op === "connect") {
    serve(ports[0]);
  }
};
