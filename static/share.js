// Shareable state in the URL hash (#q=footstep&n=20&x=1&y=2&px=0.31&py=-1.2). The worker reads
// and writes the hash (intellimixer.share); this module keeps the address bar and the
// "link to this sound" in step, and replays a link once its sounds are back on the map.
import { setStatus } from "./status.js";
import { msg } from "./strings.js";

const $ = (id) => document.getElementById(id);
const HASH_DRAG_MS = 250;

export class Share {
  constructor(client) {
    this.client = client;
    this.pendingHash = null;
    this.timer = null;
    this.pendingPoint = null; // {point: [x, y] in latent units, needLocal}
  }

  // The address bar always holds the current state (no new history entry, no hashchange).
  // history.replaceState costs ~10 ms of main-thread time, so while scrubbing it is written
  // at most every HASH_DRAG_MS and on release. `sound`: the hash is a sound's, and the
  // "link to this sound" (with its copy button) shows it; a map's hash leaves them be.
  replace(hash, scrubbing = false, sound = false) {
    if (!hash) return;
    if (sound) {
      $("share-link").href = hash;
      $("share-link").hidden = false;
      $("copy-link").hidden = false;
    }
    this.pendingHash = hash;
    if (!scrubbing) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), HASH_DRAG_MS);
  }

  // The shown sound's link, absolute, to the clipboard.
  async copy(number) {
    const url = new URL($("share-link").getAttribute("href"), location.href).href;
    try {
      await navigator.clipboard.writeText(url);
      setStatus(msg("link_copied", { number }), "ready");
    } catch (err) {
      setStatus(msg("copy_failed", { error: err?.message || err }), "warn");
    }
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.pendingHash == null) return;
    const hash = this.pendingHash;
    this.pendingHash = null;
    try { window.history.replaceState(null, "", hash); } catch { /* e.g. sandboxed */ }
  }

  // Opening a link: fill the form, set the dims, rebuild the map when a token is at hand
  // (`search()`), and make the sound at its point once its sounds are on the map.
  async apply({ hasToken, setDims, search }) {
    const text = location.hash;
    if (!text || text === "#") return;
    const r = await this.client.call("parse_hash", text, hasToken);
    if (!r.ok) { setStatus(r.error, "error"); return; }
    const /* @protocol Hash */ h = r.hash;
    $("query").value = h.query;
    $("count").value = String(h.count);
    if (h.dims) await setDims(h.dims);
    this.pendingPoint = h.point ? { point: h.point, needLocal: h.local } : null;
    if (h.search) await search();
    if (h.then_message) setStatus(h.then_message, "warn");
  }

  // A shared link's point, once its map is back (after the local files, if it had some):
  // returns the normalised position to make a sound at, or null.
  async takePoint(origin, hasPoints) {
    const pending = this.pendingPoint;
    if (!pending || !hasPoints || (pending.needLocal && origin !== "local")) return null;
    this.pendingPoint = null;
    const [x, y] = pending.point;
    const r = await this.client.call("point_to_map", x, y);
    return r.ok ? { nx: r.nx, ny: r.ny } : null;
  }
}
