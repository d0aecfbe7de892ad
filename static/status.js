// The status panel: one message, a progress bar and a short log of what happened. Kinds:
// "busy" (bar indeterminate unless done/total are given), "ready", "warn", "error".
// Jobs: at most one long job (boot, model, search, local files) runs at a time.
import { msg } from "./strings.js";

const $ = (id) => document.getElementById(id);
const LOG_LINES = 6;

export function setStatus(message, kind = "busy", done = null, total = null, addToLog = true) {
  $("status").dataset.state = kind;
  $("status-message").textContent = message;
  const bar = $("progress");
  if (kind === "busy" && total == null) bar.removeAttribute("value"); // indeterminate
  else { bar.max = total || 1; bar.value = total ? done : 1; }
  const log = $("status-log");
  if (addToLog && (kind !== "busy" || total == null || done === 0)) {
    const li = document.createElement("li");
    li.textContent = message;
    li.className = kind;
    log.prepend(li);
    while (log.children.length > LOG_LINES) log.lastChild.remove();
  }
  if (kind === "error") console.warn("intellimixer:", message);
}

export const jobs = {
  current: null, // the message key of the long job running (job_starting, …), or null

  busyMessage(whenClicking = false) {
    return msg(whenClicking ? "busy_click" : "busy_wait", { job: msg(this.current) });
  },

  async run(key, fn) {
    if (this.current) { setStatus(this.busyMessage(), "warn"); return; }
    this.current = key;
    document.body.dataset.job = msg(key);
    try { await fn(); }
    catch (err) { setStatus(msg("unexpected", { job: msg(key), error: err?.message || err }), "error"); }
    finally { this.current = null; delete document.body.dataset.job; }
  },

  // why nothing can use the model yet (before one is loaded)
  noModelMessage() {
    return msg(this.current === "job_starting" ? "still_starting" : this.current === "job_model" ? "model_loading" : "no_model");
  },
};
