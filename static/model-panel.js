// The model panel: which model is loaded (the worker's ModelInfo), its dims in the X/Y
// menus, replacing it with uploaded bundle files, and where it runs (WebAssembly, or a GPU
// backend the worker moved it to after timing both). Events: "model" {result} after a load.
import { jobs, setStatus } from "./status.js";
import { BACKENDS, msg } from "./strings.js";

const $ = (id) => document.getElementById(id);

export class ModelPanel extends EventTarget {
  constructor(client) {
    super();
    this.client = client;
    this.model = null;   // ModelInfo of the loaded model
    this.backend = null; // the last tune_backend reply
  }

  // Shows a loaded model (a load_model_* reply): name, dims in the menus, then tunes the backend.
  apply(/* @protocol load_model_files */ result) {
    const /* @protocol ModelInfo */ m = this.model = result.model;
    $("model-name").textContent = m.label;
    for (const [id, pick] of [["x-dim", m.default_dims[0]], ["y-dim", m.default_dims[1]]]) {
      const sel = $(id);
      sel.replaceChildren();
      for (const d of [...m.dims, ...m.similarity]) {
        const opt = document.createElement("option");
        opt.value = String(d.index);
        opt.textContent = d.option;
        sel.append(opt);
      }
      sel.value = String(pick);
      sel.disabled = false;
    }
    this.dispatchEvent(new CustomEvent("model", { detail: { result } }));
    this.tune();
  }

  none() { $("model-name").textContent = msg("no_model_name"); }

  // After a model loads on WebAssembly (the app is usable at once), the worker tries the GPU
  // the config allows and keeps the faster (or the named) backend; nothing waits for it.
  tune() {
    $("model-backend").textContent = BACKENDS.wasm;
    this.backend = null;
    this.client.call("tune_backend").then((r) => {
      this.backend = r;
      if (!r.ok) { console.warn("intellimixer: backend check failed:", r.error); return; }
      $("model-backend").textContent = r.label;
      $("model-backend").title = r.note;
      if (r.note) console.info(`intellimixer: ${r.note}`);
      if (r.warn) setStatus(r.warn, "warn");
    }).catch((err) => console.warn("intellimixer: backend check failed:", err));
  }

  // Uploaded bundle files (manifest .json + .onnx + optional .bin), or TF.js models' files
  // (model.json + .bin shards, from a folder or picked at once): Files, or {file, path} as
  // drop.js gives them; returns the reply.
  upload(list, beforeApply) {
    return jobs.run("job_model", async () => {
      setStatus(msg("reading_model", { n: list.length }), "busy", 0, 2);
      const files = {};
      // (a folder's files by their path in it: two TF.js models' same-named shards stay apart)
      for (const item of list) {
        const f = item.file || item, path = item.path || f.webkitRelativePath || f.name;
        files[path] = new Uint8Array(await f.arrayBuffer());
      }
      setStatus(msg("checking_model"), "busy", 1, 2);
      const result = await this.client.call("load_model_files", files);
      if (!result.ok) { setStatus(result.error, "error"); return; }
      this.apply(result);
      await beforeApply(result);
      setStatus(result.message, "ready");
    });
  }
}
