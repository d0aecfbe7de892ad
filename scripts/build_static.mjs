#!/usr/bin/env node
// Vendors the browser runtimes from node_modules into static/vendor/ (gitignored).
// Copies only the files the app loads: Pyodide core, PyScript's dist (no source maps),
// onnxruntime-web's WASM build (and its WebGPU and WebGL builds, loaded only where used).
// Run with `npm ci && npm run build`.
import { copyFileSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const nm = join(root, "node_modules");
const out = join(root, "static", "vendor");

const pins = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).dependencies; // the runtime packages the build vendors (lint tools are devDependencies)
const version = (pkg) => JSON.parse(readFileSync(join(nm, pkg, "package.json"), "utf8")).version;
for (const pkg of Object.keys(pins)) {
  let v;
  try { v = version(pkg); } catch { fail(`${pkg} is not installed: run \`npm ci\` first`); }
  if (v !== pins[pkg]) fail(`${pkg} ${v} is installed but package.json pins ${pins[pkg]}: run \`npm ci\``);
}

function fail(msg) { console.error(`build_static: ${msg}`); process.exit(1); }

rmSync(out, { recursive: true, force: true });
let total = 0;
function copy(pkg, files, dest) {
  mkdirSync(join(out, dest), { recursive: true });
  for (const f of files) {
    const src = join(nm, pkg, f);
    const dst = join(out, dest, f.split("/").pop());
    copyFileSync(src, dst);
    total += statSync(dst).size;
  }
}

// Pyodide core: the interpreter, the stdlib and the lock file (package names, versions, hashes).
copy("pyodide", ["pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"], "pyodide");

// PyScript: every chunk of dist/ may be imported lazily by core.js; skip source maps.
const psDist = join(nm, "@pyscript", "core", "dist");
copy("@pyscript/core", readdirSync(psDist).filter((f) => !f.endsWith(".map")).map((f) => `dist/${f}`), "pyscript");

// onnxruntime-web (the full dist/ is ~140 MB): the WASM build every page loads, plus the
// WebGPU build (with its own WASM binary) and the WebGL build, which a page fetches only when
// the browser has that GPU API and the config lets the worker try it (py/worker.py tune_backend).
copy("onnxruntime-web", [
  "dist/ort.wasm.min.mjs", "dist/ort-wasm-simd-threaded.mjs", "dist/ort-wasm-simd-threaded.wasm",
  "dist/ort.webgpu.min.mjs", "dist/ort-wasm-simd-threaded.asyncify.mjs", "dist/ort-wasm-simd-threaded.asyncify.wasm",
  "dist/ort.webgl.min.mjs",
], "ort");

// idb: a small promise wrapper of IndexedDB (one ES module), where the page stores sessions.
copy("idb", ["build/index.js"], "idb");

// A small runtime description for the worker: versions and the lock entries of the packages
// it may load (numpy eagerly; scipy and its dependencies only lazily).
const lock = JSON.parse(readFileSync(join(nm, "pyodide", "pyodide-lock.json"), "utf8"));
const wanted = new Set();
const addWithDeps = (name) => {
  if (wanted.has(name) || !lock.packages[name]) return;
  wanted.add(name);
  for (const d of lock.packages[name].depends || []) addWithDeps(d);
};
["numpy", "scipy", "protobuf"].forEach(addWithDeps);
const packages = {};
for (const name of wanted) {
  const p = lock.packages[name];
  packages[name] = { file_name: p.file_name, sha256: p.sha256, depends: p.depends || [], version: p.version };
}
// ONNX's generated protobuf module (scripts/setup.sh takes it from the pinned onnx wheel into
// build/): the worker fetches it, with Pyodide's protobuf, only when TF.js models are imported.
// Its gencode version must not be newer than the protobuf Pyodide ships (else it cannot load).
const pb2Source = join(root, "build", "onnx_ml_pb2.py");
let onnxPb2 = null;
try {
  const text = readFileSync(pb2Source, "utf8");
  const gencode = (text.match(/Protobuf Python Version: ([\d.]+)/) || [])[1];
  const have = lock.packages.protobuf?.version;
  const newer = (a, b) => a.split(".").map(Number).reduce((r, v, i) => r || (v !== Number(b.split(".")[i]) ? (v > Number(b.split(".")[i]) ? 1 : -1) : 0), 0) > 0;
  if (!gencode || !have || newer(gencode, have)) {
    console.warn(`build_static: build/onnx_ml_pb2.py (gencode ${gencode}) does not suit Pyodide's protobuf ${have}: the page's TF.js import is off`);
  } else {
    mkdirSync(join(out, "py"), { recursive: true });
    copyFileSync(pb2Source, join(out, "py", "onnx_ml_pb2.py"));
    onnxPb2 = { file: "py/onnx_ml_pb2.py", gencode };
  }
} catch {
  console.warn("build_static: no build/onnx_ml_pb2.py (scripts/setup.sh fetches it): the page's TF.js import is off");
}

// The chunks PyScript's core imports as it starts (its core and the plugins it always loads),
// which the page asks for at once (static/boot.js) instead of one import after another.
const PYSCRIPT_START = /^(core|deprecations-manager|donkey|error|py-editor|py-game|py-terminal)-[\w-]+\.js$/;
const pyscriptStart = readdirSync(psDist).filter((f) => PYSCRIPT_START.test(f));

const runtime = {
  pyodide: version("pyodide"),
  pyscript_start: pyscriptStart,
  pyscript: version("@pyscript/core"),
  onnxruntime_web: version("onnxruntime-web"),
  pyodide_cdn: `https://cdn.jsdelivr.net/pyodide/v${version("pyodide")}/full/`,
  packages,
  onnx_pb2: onnxPb2,
};
// The worker's modules (py/pyscript.json's files) in one zip (runtime.json's "engine"), which
// PyScript unpacks where Python looks for them: one download, which the page starts at once,
// instead of one per file after Python is up. With each source its bytecode, compiled by the
// Python the page runs (Pyodide's) and checked against the source by hash when imported: the
// worker then skips compiling them at start-up (measured: importing the engine 218 -> 137 ms
// in Pyodide), and a file whose source changed is compiled afresh, never used stale.
// Likewise the standard library: Pyodide's archive holds sources only, and the page's Pyodide
// mounts one with the bytecode of what its start, numpy and the engine import beside them
// (py/intellimixer/precompiled.py; npm's stays beside it as python_stdlib.stock.zip).
const { loadPyodide } = await import(join(nm, "pyodide", "pyodide.mjs"));
const py = await loadPyodide({ indexURL: join(nm, "pyodide") + "/" });
py.FS.mkdirTree("/src");
py.FS.mkdirTree("/out");
py.mountNodeFS("/src", join(root, "py"));
py.mountNodeFS("/out", out);
const targets = Object.values(JSON.parse(readFileSync(join(root, "py", "pyscript.json"), "utf8")).files)
  .map((f) => f.replace(/^\.\//, ""));
runtime.engine = "engine.zip";
runtime.stdlib_stock = "python_stdlib.stock.zip";
renameSync(join(out, "pyodide", "python_stdlib.zip"), join(out, "pyodide", runtime.stdlib_stock));
py.runPython(`
import sys
sys.path.insert(0, "/src")
from intellimixer import precompiled
stdlib = next(p for p in sys.path if p.endswith(".zip"))  # npm's archive, as Pyodide mounts it
precompiled.write_stdlib(stdlib, "/out/pyodide/python_stdlib.zip", modules=precompiled.compiled_from_source())
import json, os, py_compile, zipfile
with zipfile.ZipFile("/out/engine.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for rel in json.loads(${JSON.stringify(JSON.stringify(targets))}):
        z.write("/src/" + rel, rel)
        if not rel.endswith(".py"):
            continue
        folder, name = os.path.split(rel)
        pyc = os.path.join(folder, "__pycache__", f"{name[:-3]}.{sys.implementation.cache_tag}.pyc")
        py_compile.compile("/src/" + rel, cfile="/tmp/x.pyc", dfile="/home/pyodide/" + rel, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
        z.write("/tmp/x.pyc", pyc)
`);
total += statSync(join(out, "pyodide", "python_stdlib.zip")).size;
total += statSync(join(out, "engine.zip")).size;
// What a first visit downloads, in bytes, so the boot can say it up front: the sound engine
// (Pyodide and the app's modules; numpy comes from the package base, its size unknown here),
// onnxruntime-web's WebAssembly build and the default model.
const size = (...parts) => statSync(join(...parts)).size;
const config = JSON.parse(readFileSync(join(root, "static", "config.json"), "utf8"));
const modelDir = dirname(join(root, config.default_model));
// onnxruntime-web's files for its WebAssembly backend (what its first session loads), which
// the page may prefetch (static/boot.js)
runtime.ort_start = ["ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"];
runtime.downloads = {
  engine: ["pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip"].reduce((a, f) => a + size(out, "pyodide", f), 0)
    + size(out, "engine.zip"),
  onnx: runtime.ort_start.reduce((a, f) => a + size(out, "ort", f), 0),
  model: readdirSync(modelDir).reduce((a, f) => a + size(modelDir, f), 0), // (the bundle's folder)
};
writeFileSync(join(out, "runtime.json"), JSON.stringify(runtime, null, 2) + "\n");
console.log(`build_static: vendored Pyodide ${runtime.pyodide}, PyScript ${runtime.pyscript}, onnxruntime-web ${runtime.onnxruntime_web} into static/vendor/ (${(total / 1e6).toFixed(1)} MB)`);
