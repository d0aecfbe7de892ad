// Sessions: what the user loads and makes is saved in this browser as they go (static/store.js)
// and comes back on a reload or when the page is opened again. The worker says what a session
// holds (intellimixer.persist: its SessionRecord, SourceRecords and SoundRecords); this module
// adds the audio the page has (the sources' bytes, the sounds' samples), saves the changes a
// short while after each one, brings the last session back at start, and runs the Sessions
// panel (new, open, delete, the storage used and its bound).
// A session is open in one tab at a time (a Web Lock per session): a second tab starts a new
// one. Events: "restored" {map} after a session came back.
import { decode } from "./sources.js";
import { isQuotaError, Store } from "./store.js";
import { jobs, setStatus } from "./status.js";
import { LIMITS, msg } from "./strings.js";

const $ = (id) => document.getElementById(id);
const SAVE_DELAY_MS = 300;
const LOCK_PREFIX = "intellimixer-session-";
const LOCK_WAIT_MS = 1500; // how long "open" waits for a session another tab is letting go
const SETTINGS = ["query", "count", "genai-only", "commercial-only", "export-rate", "export-format", "midi-map", "audition"];

export function formatSize(bytes) {
  if (bytes < 1e6) return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

// Holds the Web Lock `name` until release() is called; null when another tab holds it (after
// waiting up to `waitMs` for it: a tab being closed lets its locks go a moment later).
function holdLock(name, waitMs = 0) {
  if (!navigator.locks) return Promise.resolve(() => {});
  const how = waitMs > 0 && globalThis.AbortSignal?.timeout ? { signal: AbortSignal.timeout(waitMs) } : { ifAvailable: true };
  return new Promise((resolve) => {
    navigator.locks.request(name, how, (lock) => {
      if (!lock) { resolve(null); return null; }
      return new Promise((release) => resolve(release));
    }).catch(() => resolve(null)); // (timed out: still held elsewhere)
  });
}

async function locksHeld() {
  try { return new Set(((await navigator.locks?.query())?.held || []).map((l) => l.name)); } catch { return new Set(); }
}

function readSettings() {
  const out = {};
  for (const id of SETTINGS) { const el = $(id); out[id] = el.type === "checkbox" ? el.checked : el.value; }
  return out;
}

function applySettings(saved = {}) {
  for (const id of SETTINGS) {
    const el = $(id);
    if (!(id in saved)) continue;
    if (el.type === "checkbox") el.checked = Boolean(saved[id]);
    else if (el.tagName !== "SELECT" || [...el.options].some((o) => o.value === String(saved[id]))) el.value = String(saved[id]);
    el.dispatchEvent(new Event("change")); // (what follows a setting follows it back)
  }
}

function newId() {
  return globalThis.crypto?.randomUUID?.() || `s${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

export class Sessions extends EventTarget {
  // previews: source key -> {bytes, type}; history: the History; model(): the ModelInfo;
  // onMap(map): show a map state; busy(): whether a save must wait (a drag, a job).
  constructor(client, { previews, history, model, onMap, busy }) {
    super();
    Object.assign(this, { client, previews, history, model, onMap, busy });
    this.store = null;
    this.id = null;        // the session this tab works in
    this.release = null;   // its lock
    this.created = 0;
    this.stored = false;   // whether it has been saved at least once
    this.records = new Map(); // source key -> the stored SourceRecord (with its latents)
    this.sizes = new Map();   // "k:"+key / "n:"+number -> bytes stored
    this.numbers = new Set(); // sounds stored
    this.timer = null;
    this.saving = Promise.resolve();
    this.dirty = false;
    this.all = [];         // the stored sessions' records, newest first (for the panel)
    this.wire();
  }

  wire() {
    $("session-new").addEventListener("click", () => this.startNew());
    $("session-open").addEventListener("click", () => this.open($("session-list").value));
    $("session-delete").addEventListener("click", () => this.remove([$("session-list").value]));
    $("delete-oldest").addEventListener("click", () => this.remove(JSON.parse($("delete-oldest").dataset.ids || "[]")));
    for (const id of SETTINGS) $(id).addEventListener("change", () => this.schedule());
    // a tab being hidden or closed saves at once (what a reload would otherwise lose)
    document.addEventListener("visibilitychange", () => { if (document.hidden) this.flush(); });
    window.addEventListener("pagehide", () => this.flush());
  }

  // --- start ----------------------------------------------------------------------------

  // The store, and the last session back (when no other tab has it open). Sets
  // this.restoreFailed: the last session could not come back (it stays stored, named in the status).
  async start() {
    this.store = await Store.open();
    if (!this.store) { setStatus(msg("storage_unavailable"), "warn"); this.render(); return; }
    const [last] = await this.store.sessions();
    const release = last ? await holdLock(LOCK_PREFIX + last.id) : null;
    if (last && release) {
      this.take(last.id, release, last.created, true);
      try { await this.restore(last.id); } catch (err) {
        // kept as it is in the store (under Sessions); this tab works in a new one
        setStatus(msg("restore_failed", { error: err?.message || err }), "error");
        this.restoreFailed = true;
        await this.client.call("reset_session");
        this.emptyPage();
        await this.fresh();
      }
    } else {
      await this.fresh();
      if (last) setStatus(msg("session_locked"), "warn");
    }
    await this.render();
  }

  // The page's side of an empty session: no source audio, no history, no sound in the panel.
  emptyPage() {
    this.previews.clear();
    this.history.render([]);
    this.history.clearPanel(null);
  }

  take(id, release, created, stored) {
    this.release?.();
    Object.assign(this, { id, release, created, stored });
    this.records.clear(); this.sizes.clear(); this.numbers.clear();
  }

  async fresh() {
    const id = newId();
    this.take(id, await holdLock(LOCK_PREFIX + id), Date.now(), false);
  }

  // Brings stored session `id` back into the worker and the page (both emptied first).
  async restore(id) {
    const data = await this.store.load(id);
    const sr = this.model().sample_rate;
    const total = data.sources.length + data.sounds.length;
    let done = 0;
    const step = () => setStatus(msg("restoring", { done, total }), "busy", done, total);
    step();
    this.emptyPage(); // (what the page showed was the other session's)
    const begun = await this.client.call("restore_begin", data.session.record);
    if (!begun.ok) throw new Error(begun.error);
    const failed = [];
    for (const s of data.sources) {
      let pcm = null;
      try { pcm = await decode(s.audio.bytes, sr); } catch { failed.push(`${s.record.meta?.name ?? s.key}: ${msg("undecodable")}`); }
      const r = pcm && await this.client.call("restore_source", s.record, pcm, sr);
      if (r?.ok) {
        this.previews.set(s.key, s.audio);
        this.records.set(s.key, s.record);
        this.sizes.set(`k:${s.key}`, s.bytes);
      }
      done++; step();
    }
    for (const s of data.sounds) {
      const r = await this.client.call("restore_sound", s.record, s.pcm);
      if (r.ok) {
        this.history.restore(r.entry, r.wav, s.pcm, r.sample_rate, r.credits_text);
        this.numbers.add(s.number);
        this.sizes.set(`n:${s.number}`, s.bytes);
      }
      done++; step();
    }
    const end = await this.client.call("restore_end");
    if (!end.ok) throw new Error(end.error);
    applySettings(data.session.settings);
    this.onMap(end.map);
    const text = failed.length ? `${end.message} ${msg("restored_failed", { list: failed.join("; ") })}` : end.message;
    setStatus(text, failed.length ? "warn" : "ready");
    this.dispatchEvent(new CustomEvent("restored", { detail: { map: end.map } }));
  }

  // --- saving -----------------------------------------------------------------------------

  // Something changed: saved a short while later (after a drag or a job ends).
  schedule() {
    if (!this.store || !this.id) return;
    this.dirty = true;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.busy()) { this.schedule(); return; }
      this.flush();
    }, SAVE_DELAY_MS);
  }

  // Saves now (after any save under way); resolves when what was dirty is stored.
  flush() {
    clearTimeout(this.timer);
    if (!this.dirty || !this.store) return this.saving;
    this.dirty = false;
    this.saving = this.saving.then(() => this.save()).catch((err) => this.failed(err));
    return this.saving;
  }

  // Resolves once nothing is waiting to be saved (tests; leaving the page).
  async idle() {
    if (this.dirty) await this.flush();
    await this.saving;
  }

  async save() {
    this.timer = null;
    const got = await this.client.call("session_record");
    if (!got.ok) return;
    const /* @protocol SessionRecord */ rec = got.session;
    if (!this.stored && !rec.source_keys.length && !rec.numbers.length) return; // nothing worth a session yet
    const id = this.id;
    const keys = new Set(rec.source_keys), numbers = new Set(rec.numbers);
    const need = rec.source_keys.filter((k) => !this.records.get(k)?.latents?.[rec.model] && this.previews.has(k));
    const sources = [];
    if (need.length) {
      const found = await this.client.call("source_records", need);
      if (!found.ok) return;
      for (const /* @protocol SourceRecord */ one of found.sources) {
        const old = this.records.get(one.key);
        const latents = { ...(old?.latents || {}) };
        if (one.latent) latents[one.model] = one.latent;
        const record = { ...one, latents };
        const audio = this.previews.get(one.key);
        sources.push({ session: id, key: one.key, order: rec.source_keys.indexOf(one.key), record, audio,
          bytes: audio.bytes.byteLength + JSON.stringify(record).length });
      }
    }
    const sounds = [];
    for (const n of rec.numbers) {
      if (this.numbers.has(n) || !this.history.get(n)) continue;
      const made = await this.client.call("sound_record", n);
      if (!made.ok) continue;
      const pcm = this.history.get(n).pcm;
      sounds.push({ session: id, number: n, record: made.sound, pcm, bytes: pcm.byteLength + JSON.stringify(made.sound).length });
    }
    const dropKeys = [...this.records.keys()].filter((k) => !keys.has(k));
    const dropNumbers = [...this.numbers].filter((n) => !numbers.has(n));
    const sizes = new Map(this.sizes);
    for (const item of sources) sizes.set(`k:${item.key}`, item.bytes);
    for (const item of sounds) sizes.set(`n:${item.number}`, item.bytes);
    for (const k of dropKeys) sizes.delete(`k:${k}`);
    for (const n of dropNumbers) sizes.delete(`n:${n}`);
    const size = [...sizes.values()].reduce((a, b) => a + b, 0);
    const session = { id, name: rec.query || msg("session_untitled"), created: this.created, updated: Date.now(),
      record: rec, settings: readSettings(), size, sources: keys.size, sounds: numbers.size };
    await this.store.save(session, { sources, sounds, dropKeys, dropNumbers });
    if (id !== this.id) return; // (another session was opened meanwhile)
    // saved: what the page remembers of the store follows
    this.stored = true;
    this.sizes = sizes;
    for (const item of sources) this.records.set(item.key, item.record);
    for (const k of dropKeys) this.records.delete(k);
    for (const item of sounds) this.numbers.add(item.number);
    for (const n of dropNumbers) this.numbers.delete(n);
    await this.render();
  }

  failed(err) {
    this.dirty = true; // tried again with the next change
    setStatus(isQuotaError(err) ? msg("save_quota") : msg("save_failed", { error: err?.message || err }), "error");
    this.render();
  }

  // --- the panel ----------------------------------------------------------------------------

  async startNew() {
    if (!this.store) return;
    await jobs.run("job_session", async () => {
      await this.flush();
      const r = await this.client.call("reset_session");
      if (!r.ok) { setStatus(r.error, "error"); return; }
      this.emptyPage();
      await this.fresh();
      this.onMap(r.map);
      setStatus(`${r.message} ${msg("session_reset_map")}`, "ready");
      await this.render();
    });
  }

  async open(id) {
    if (!this.store) return;
    if (!id) { setStatus(msg("session_none_chosen"), "warn"); return; }
    if (id === this.id) return;
    await jobs.run("job_session", async () => {
      await this.flush();
      const release = await holdLock(LOCK_PREFIX + id, LOCK_WAIT_MS);
      if (!release) { setStatus(msg("session_opened_elsewhere"), "warn"); return; }
      const target = (await this.store.sessions()).find((s) => s.id === id);
      if (!target) { release(); await this.render(); return; }
      this.take(id, release, target.created, true);
      try { await this.restore(id); } catch (err) {
        setStatus(msg("restore_failed", { error: err?.message || err }), "error");
        await this.fresh();
      }
      await this.render();
    });
  }

  async remove(ids) {
    if (!this.store || !ids.length || !ids[0]) { setStatus(msg("session_none_chosen"), "warn"); return; }
    if (ids.includes(this.id)) { setStatus(msg("session_delete_current"), "warn"); return; }
    const held = await locksHeld();
    if (ids.some((id) => held.has(LOCK_PREFIX + id))) { setStatus(msg("session_delete_open"), "warn"); return; }
    const gone = this.all.filter((s) => ids.includes(s.id));
    await this.store.remove(ids);
    const size = formatSize(gone.reduce((a, s) => a + (s.size || 0), 0));
    setStatus(gone.length === 1 ? msg("session_deleted", { name: gone[0].name, size })
      : msg("session_deleted_many", { count: gone.length, size }), "ready");
    await this.render();
  }

  async render() {
    if (!this.store) {
      $("session-info").textContent = msg("storage_unavailable");
      for (const id of ["session-new", "session-open", "session-delete", "session-list"]) $(id).disabled = true;
      return;
    }
    this.all = await this.store.sessions();
    const held = await locksHeld();
    const mine = this.all.find((s) => s.id === this.id);
    $("session-info").textContent = mine
      ? msg("session_this", { name: mine.name, sources: mine.sources, sounds: mine.sounds, size: formatSize(mine.size) })
      : msg("session_unsaved");
    const list = $("session-list"), chosen = list.value;
    list.replaceChildren(...this.all.map((s) => {
      const o = document.createElement("option");
      const vars = { name: s.name, date: new Date(s.updated).toLocaleString(), size: formatSize(s.size || 0) };
      o.value = s.id;
      o.textContent = msg(s.id === this.id ? "session_option_current" : held.has(LOCK_PREFIX + s.id) ? "session_option_open" : "session_option", vars);
      return o;
    }));
    if ([...list.options].some((o) => o.value === chosen)) list.value = chosen;
    const used = this.all.reduce((a, s) => a + (s.size || 0), 0), limit = LIMITS.max_store_mb * 1e6;
    $("storage-info").textContent = msg("storage_info", { used: formatSize(used), limit: formatSize(limit) });
    // over the bound: the oldest sessions (not open anywhere) that bring it back under, offered
    const offer = [];
    let freed = 0;
    for (const s of [...this.all].reverse()) {
      if (used - freed <= limit) break;
      if (s.id === this.id || held.has(LOCK_PREFIX + s.id)) continue;
      offer.push(s.id); freed += s.size || 0;
    }
    const button = $("delete-oldest");
    button.hidden = !(used > limit && offer.length);
    button.dataset.ids = JSON.stringify(offer);
    button.textContent = msg("delete_oldest", { count: offer.length, size: formatSize(freed) });
    $("storage-info").dataset.over = String(used > limit);
    if (used > limit && !this.warned) { this.warned = true; setStatus(msg("storage_over", { used: formatSize(used), limit: formatSize(limit) }), "warn"); }
    if (used <= limit) this.warned = false;
  }
}
