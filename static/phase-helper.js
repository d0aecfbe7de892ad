// The phase helper: a second Python worker (py/phase_helper.py) that does half of every
// Griffin-Lim run on another core, exchanging with the Python worker through shared memory
// (py/intellimixer/cores.py). Started once the app is ready and quiet (its boot takes a core
// for ~2 s: not beside the start, a job or a sound being made); until it is up, and wherever
// it cannot run, the Python worker does all the work.

import { pyWorker } from "./boot.js";

// Whether this page can run it: shared memory needs cross-origin isolation, and a second
// core is what it is for. `setting` is config.json's `phase_helper` ("auto" or "off").
function helperWanted(setting) {
  return setting !== "off" && globalThis.crossOriginIsolated === true && (navigator.hardwareConcurrency || 1) >= 2;
}

// The longest the helper may take to start (its Pyodide and numpy: ~2 s on a 2-core machine).
const START_LIMIT_MS = 60_000;
// How long the page must have been quiet (`busy()` false) before the helper starts.
const QUIET_MS = 1000;

function whenQuiet(busy) {
  return new Promise((resolve) => {
    let since = performance.now();
    const timer = setInterval(() => {
      if (busy()) since = performance.now();
      else if (performance.now() - since >= QUIET_MS) { clearInterval(timer); resolve(); }
    }, 100);
  });
}

// Starts the helper once `busy()` (a long job or a sound being made) has been false for
// QUIET_MS, and hands its shared buffer to `worker` (the Python worker); resolves true once
// the Python worker has it, false where the helper is not wanted or failed to start (then
// the Python worker works alone, as before: nothing is shown but a console line).
export async function startPhaseHelper(worker, setting, busy = () => false) {
  if (!helperWanted(setting)) return false;
  await whenQuiet(busy);
  let helper = null;
  let timer;
  const late = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`not up after ${START_LIMIT_MS / 1000} s`)), START_LIMIT_MS);
  });
  try {
    helper = await Promise.race([pyWorker("py/phase_helper.py"), late]);
    const sab = await Promise.race([late, new Promise((resolve, reject) => {
      helper.addEventListener("message", (e) => { if (e.data?.imx_phase_sab) resolve(e.data.imx_phase_sab); });
      helper.addEventListener("error", reject);
      helper.postMessage({ imx_phase_start: true });
    })]);
    worker.postMessage({ imx_phase_sab: sab });
    return true;
  } catch (err) {
    helper?.terminate();
    console.warn("intellimixer: the phase helper did not start; phase reconstruction stays on one core:", err);
    return false;
  } finally {
    clearTimeout(timer);
  }
}
