// Sample packs: an N x N grid over the map's view, or the history's ticked sounds (all when
// none is ticked), made in the worker into one ZIP (intellimixer.packs) with the download's
// export options. The page asks for one sound at a time, so the bar moves, the page stays
// responsive and "cancel" stops it between two sounds.
import { jobs, setStatus } from "./status.js";
import { LIMITS, msg } from "./strings.js";

const $ = (id) => document.getElementById(id);

export function saveBlob(bytes, type, filename) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

export class Packs {
  // exporter: the download options; history: the History (its ticked sounds); ready(): whether
  // the map can make sounds (a model and sources), saying why not itself.
  constructor(client, { exporter, history, ready }) {
    Object.assign(this, { client, exporter, history, ready });
    this.cancelled = false;
    $("pack-grid").addEventListener("click", () => this.run("grid"));
    $("pack-history").addEventListener("click", () => this.run("history"));
    $("pack-cancel").addEventListener("click", () => { this.cancelled = true; });
  }

  // The grid sizes (once the limits have loaded).
  fill() {
    for (let n = 2; n <= LIMITS.max_grid; n++) $("pack-n").append(new Option(`${n} × ${n}`, String(n)));
    $("pack-n").value = "4";
  }

  run(kind) {
    if (kind === "grid" && !this.ready()) return undefined;
    return jobs.run("job_pack", async () => {
      const { rate, format } = this.exporter.options;
      const numbers = kind === "history" ? this.history.ticked() : [];
      const begun = await this.client.call("pack_begin", kind, Number($("pack-n").value), numbers, rate, format);
      if (!begun.ok) { setStatus(begun.error, "error"); return; }
      this.cancelled = false;
      $("pack-cancel").hidden = false;
      try {
        for (let done = 0; done < begun.total; done++) {
          if (this.cancelled) {
            const r = await this.client.call("pack_cancel", begun.pack);
            setStatus(r.message, "ready");
            return;
          }
          setStatus(msg("pack_making", { name: begun.name, done, total: begun.total }), "busy", done, begun.total, done === 0);
          const step = await this.client.call("pack_step", begun.pack);
          if (!step.ok) { setStatus(step.error, "error"); return; }
        }
        const fin = await this.client.call("pack_finish", begun.pack);
        if (!fin.ok) { setStatus(fin.error, "error"); return; }
        saveBlob(fin.zip, "application/zip", fin.filename);
        setStatus(fin.message, "ready");
      } finally {
        $("pack-cancel").hidden = true;
      }
    });
  }
}
