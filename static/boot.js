// The start of everything that needs neither the page's modules nor Python yet. index.html
// runs this module first and on its own (no static imports: it does not wait for main.js's
// module graph), so that at once, beside each other:
//  - the files the start needs are fetched (protocol, config, runtime: index.html preloads them);
//  - onnxruntime-web's worker starts (importing it, downloading the default model and opening
//    its sessions on another core; on two cores or fewer, opening them once Python is up: below);
//  - PyScript loads and starts the Python worker: Pyodide boots, with the numpy wheel
//    downloading meanwhile (Pyodide's `packages` option, passed through by PyScript).
// main.js takes over from `early` and reports every failure in the status panel.

export const abs = (path) => new URL(path, document.baseURI).href;

// <link rel=...> for each of a vendored folder's files named in runtime.json, once it is read.
function linkWhenKnown(rel, folder, names, attrs = {}) {
  files.then(([, , runtime]) => {
    for (const name of names(runtime) || []) {
      document.head.append(Object.assign(document.createElement("link"), { rel, ...attrs, href: abs(`static/vendor/${folder}/${name}`) }));
    }
  }, () => {});
}

// A start file as JSON; a missing one rejects with what main.js needs to name it. (index.html
// preloads them: a request of the same mode and cache setting takes the preload's response.)
async function fetchJson(path, vendored = false) {
  const r = await fetch(abs(path));
  if (!r.ok) throw Object.assign(new Error(`${path}: HTTP ${r.status}`), { path, status: r.status, vendored });
  return r.json();
}

// The ONNX threads: "auto" leaves one core to the Python worker, whose phase reconstruction
// follows each decoder run (ORT's threads competing with it cost more than they save on 2 cores).
export function onnxThreads(config) {
  if (config.onnx_threads !== "auto") return Number(config.onnx_threads) || 1;
  return globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 1) - 1)) : 1;
}

// Where numpy's wheel comes from: the configured package base (the Pyodide CDN by default, or
// a local folder), else the CDN the build recorded.
export function packageBase(config, runtime) {
  const base = abs(config.pyodide_packages || runtime.pyodide_cdn);
  return base.endsWith("/") ? base : base + "/";
}

const files = Promise.all([fetchJson("py/intellimixer/protocol.json"), fetchJson("static/config.json"),
  fetchJson("static/vendor/runtime.json", true)]);
files.catch(() => {}); // (main.js reports it)

// PyScript's core and the plugins it loads as it starts, fetched beside it (not one after another)
linkWhenKnown("modulepreload", "pyscript", (runtime) => runtime.pyscript_start);

// onnxruntime-web's worker; the Python worker gets the other end of `channel` (ort-client.js).
const ortWorker = new Worker(abs("static/ort-worker.js"), { type: "module" });
const channel = new MessageChannel();
ortWorker.postMessage({ op: "connect" }, [channel.port1]);
files.then(([, config]) => {
  ortWorker.postMessage({ op: "init", base: abs("static/vendor/ort/"), threads: onnxThreads(config) });
  ortWorker.postMessage({ op: "preload", manifest: abs(config.default_model) });
}, () => {});

// The worker's modules: one zip with their sources and bytecode (the build's; the bytecode is
// checked against the source when imported), asked for as soon as runtime.json names it, so
// that PyScript, which fetches it once Python is up, finds it in the HTTP cache.
const engineZip = files.then(([, , runtime]) => {
  const url = abs("static/vendor/" + runtime.engine);
  fetch(url).catch(() => {}); // (a failure shows where PyScript fetches it)
  return url;
});
engineZip.catch(() => {}); // (main.js reports the start files' failure)

// A PyScript worker running `script` with the engine and numpy (asked for with Pyodide's
// boot); resolves once its Python is up. Should numpy's download fail, Pyodide only logs it:
// the worker's boot tries again and names what is missing.
export async function pyWorker(script) {
  const [core, [, config, runtime], zip] = await Promise.all([import("./vendor/pyscript/core.js"), files, engineZip]);
  const interpreter = abs("static/vendor/pyodide/pyodide.mjs");
  const packages = [packageBase(config, runtime) + runtime.packages.numpy.file_name];
  return core.PyWorker(abs(script), {
    config: { files: { [zip]: "./*" }, interpreter, packages, packages_cache: "passthrough" }, version: interpreter,
  });
}

// The Python worker.
async function startPython() {
  const worker = await pyWorker("py/worker.py");
  worker.postMessage({ imx_ort_port: true }, [channel.port2]);
  return { worker, at: performance.now() };
}
const python = startPython();
python.catch(() => {}); // (main.js reports it)

// Pyodide's interpreter is up (PyScript's "py:progress" event that says so: a cross-origin
// isolated page gets its worker's progress; elsewhere, once the Python worker is up). That is
// ~0.1 s before the worker's own start-up (PyScript's files, worker.py's imports) is done.
const PYODIDE_UP = "Loaded interpreter";
const pyodideUp = new Promise((resolve) => {
  const seen = (e) => {
    if (e.detail !== PYODIDE_UP) return;
    removeEventListener("py:progress", seen);
    resolve();
  };
  addEventListener("py:progress", seen);
  python.finally(() => { removeEventListener("py:progress", seen); resolve(); }).catch(() => {});
});

// When the default model's sessions open (its files download at once either way). On two cores
// or fewer, once Pyodide is up: opening them beside Pyodide's boot (instantiating onnxruntime-web's
// WebAssembly, its first runs: ~0.8 s of CPU) delays Python's start by ~0.4 s there, more than
// it saves; onnxruntime-web's files are prefetched meanwhile (at low priority). Measured on a
// 2-core machine, 2026-12-03, 8 cold boots each, two sets: ready 4.23 / 3.88 s against 4.36 /
// 4.01 s opening them at once (bare Pyodide + numpy 3.06 / 2.95 s).
const onnxWaitsForPython = (navigator.hardwareConcurrency || 1) <= 2;
if (onnxWaitsForPython) linkWhenKnown("prefetch", "ort", (runtime) => runtime.ort_start, { crossOrigin: "anonymous" });
(onnxWaitsForPython ? pyodideUp : files).finally(() => ortWorker.postMessage({ op: "open" })).catch(() => {});

export const early = { files, ortWorker, python };
