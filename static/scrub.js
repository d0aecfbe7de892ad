// Generation scheduling: latest wins. One request waits at most; a newer one replaces it
// (counted as dropped), so a drag never builds a queue. A request is a "generate" (a click: a
// full render, kept in the history) or a "preview" (a point passed while dragging: a quick
// render, played and not kept). One generate runs at a time; previews run two at a time, so
// that the worker reconstructs one's phase while onnxruntime-web's worker decodes the next.
// While a result is played and drawn here, the worker already works on the next request.
// Events: "sound" {reply, op, ms, more} for each sound (more: another is coming),
// "failed" {error}; document.body.dataset.generating is set while any runs. `settle(reply)`,
// if set, is awaited after the last sound of a run (the page draws its view then), so the
// next request does not compete with it.
import { setStatus } from "./status.js";
import { msg } from "./strings.js";

const BUSY_DELAY_MS = 150; // "Generating…" shows only when a generation takes longer than this

export function newStats() {
  return { scrub_requested: 0, scrub_completed: 0, scrub_dropped: 0, scrub_failed: 0, previews: 0, generate_ms: [], crossfades: 0, voices: 0 };
}

export class Scheduler extends EventTarget {
  constructor(client, stats) {
    super();
    this.client = client;
    this.stats = stats;
    this.pending = null;  // [nx, ny, op] waiting
    this.inflight = [];   // promises of the requests sent, oldest first
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
    else this.fill();
  }

  // Sends the waiting request if there is room: a preview beside at most one other preview.
  fill() {
    if (!this.pending) return;
    const n = this.inflight.length;
    if (n === 0 || (n === 1 && this.pending[2] === "preview" && this.inflight[0].op === "preview")) {
      this.inflight.push(this.start());
    }
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
    const promise = this.client.call(op, nx, ny).then((reply) => {
      clearTimeout(this.busyTimer);
      return { reply, op, ms: performance.now() - t };
    });
    promise.op = op;
    return promise;
  }

  async loop() {
    this.running = true;
    document.body.dataset.generating = "1";
    try {
      this.fill();
      while (this.inflight.length) {
        const { reply, op, ms } = await this.inflight[0];
        this.inflight.shift();
        this.fill();
        if (!reply.ok) {
          this.stats.scrub_failed++;
          this.dispatchEvent(new CustomEvent("failed", { detail: { error: reply.error } }));
          continue;
        }
        this.stats.scrub_completed++;
        if (op === "preview") this.stats.previews++;
        this.stats.generate_ms.push(ms);
        const more = Boolean(this.inflight.length || this.pending);
        this.dispatchEvent(new CustomEvent("sound", { detail: { reply, op, ms, more } }));
        if (!more && this.settle && op === "generate") await this.settle(reply);
        this.fill();
      }
    } catch (err) {
      setStatus(msg("generation_failed", { error: err?.message || err }), "error");
      await Promise.allSettled(this.inflight); // never a generation left running unseen
      this.inflight = [];
    } finally {
      this.running = false;
      delete document.body.dataset.generating;
    }
  }
}
