// Runs benchmarks/engine_timing.py under Pyodide in Node: the engine steps of one click,
// timed in the same WebAssembly numpy the browser worker uses (compare with
// `python benchmarks/engine_timing.py`, the same file under CPython).
//
//   INTELLIMIXER_PYODIDE_PACKAGES=/path/to/wheels node benchmarks/pyodide_engine.mjs
//
// Needs `npm ci` (node_modules/pyodide) and Pyodide's numpy wheel (see DEVELOPERS.md).
import { readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const wheels = process.env.INTELLIMIXER_PYODIDE_PACKAGES;
const wheel = "numpy-2.2.5-cp313-cp313-pyodide_2025_0_wasm32.whl";
if (!wheels || !existsSync(join(wheels, wheel))) {
  console.log(`skipped: set INTELLIMIXER_PYODIDE_PACKAGES to a folder holding ${wheel} (see DEVELOPERS.md)`);
  process.exit(0);
}
const { loadPyodide } = await import(join(root, "node_modules", "pyodide", "pyodide.mjs"));
const py = await loadPyodide({ indexURL: join(root, "node_modules", "pyodide") + "/", stdout: console.log, stderr: console.error });
await py.loadPackage(join(wheels, wheel), { checkIntegrity: false, messageCallback: () => {} });
py.FS.mkdirTree("/app");
for (const d of ["py", "models", "benchmarks"]) {
  py.FS.mkdirTree(`/app/${d}`);
  py.mountNodeFS(`/app/${d}`, join(root, d));
}
py.runPython("import os; os.environ['INTELLIMIXER_ROOT'] = '/app'");
await py.runPythonAsync(readFileSync(join(root, "benchmarks", "engine_timing.py"), "utf8"));
await py.runPythonAsync("await main()");
