// Generation scheduling: latest wins. At most one generation runs and one waits; a newer
// request replaces the waiting one (counted as dropped), so a drag never builds a queue.
// A request is a "generate" (a click: a full render, kept in the history) or a "preview"
// (a point passed while dragging: a quick render, played and not kept).
// While a result is played and drawn here, the worker already starts on the next request.
// Events: "sound" {reply, op, ms, more} for each sound (more: another is coming),
// "failed" {error}; document.body.dataset.generating is set while any runs. `settle(reply)`,
// if set, is awaited after the last sound of a run (the page draws its view then), so the
// next request does not compete with it.
import { setStatus } from "./status.js";
import { msg } from "./strings.js";

const BUSY_DELAY_MS = 150; // "Generating…" shows only when a generation takes longer than this

export function newStats() {
  return { scrub_requested: 0, scrub_completed: 0, scrub_dropped: 0, scrub_failed: 0, generate_ms: [], crossfades: 0 };
}

export class Scheduler extends EventTarget {
  constructor(client, stats) {
    super();
    this.client = client;
    this.stats = stats;
    this.pending = null;  // [nx, ny] waiting
    this.running = false;
    this.scrubbing = false;
    this.busyTimer = null;
    this.settle = null;
  }

  request(nx, ny, op = "generate") {
    this.stats.scrub_requested++;
    if (this.pending) this.stats.scrub_dropped++;
    this.pending = [nx, ny, op];
    if (!this.running) this.loop();
  }

  start() {
    const [nx, ny, op] = this.pending;
    this.pending = null;
    // "Generating…" shows only when a generation is slow: a quick one would flash it, and
    // repainting the page then takes CPU from the worker (2-core machines).
    clearTimeout(this.busyTimer);
    if (!this.scrubbing) {
      this.busyTimer = setTimeout(() => setStatus(msg("generating"), "busy", null, null, false), BUSY_DELAY_MS);
    }
    const t = performance.now();
    return this.client.call(op, nx, ny).then((reply) => {
      clearTimeout(this.busyTimer);
      return { reply, op, ms: performance.now() - t };
    });
  }

  async loop() {
    this.running = true;
    document.body.dataset.generating = "1";
    let next = null;
    try {
      while (next || this.pending) {
        const { reply, op, ms } = await (next || this.start());
        next = this.pending ? this.start() : null;
        if (!reply.ok) {
          this.stats.scrub_failed++;
          this.dispatchEvent(new CustomEvent("failed", { detail: { error: reply.error } }));
          continue;
        }
        this.stats.scrub_completed++;
        this.stats.generate_ms.push(ms);
        const more = Boolean(next || this.pending);
        this.dispatchEvent(new CustomEvent("sound", { detail: { reply, op, ms, more } }));
        if (!more && !this.pending && this.settle && op === "generate") await this.settle(reply);
      }
    } catch (err) {
      setStatus(msg("generation_failed", { error: err?.message || err }), "error");
      if (next) await next.catch(() => {}); // never two generations at once
    } finally {
      this.running = false;
      delete document.body.dataset.generating;
    }
  }
}
