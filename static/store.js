// Stored sessions in IndexedDB (through idb, a small promise wrapper of it). Three object
// stores: "sessions" (one record per session: its worker SessionRecord, the page's settings,
// name, dates, size), "sources" (per session and key: the worker's SourceRecord with a
// latent per model, and the audio bytes the page decoded) and "sounds" (per session and
// number: the worker's SoundRecord and its samples). Every save is one transaction: a
// failure (a full disk: QuotaExceededError) aborts all of it, so what was saved before stays.
import { openDB } from "./vendor/idb/index.js";

const NAME = "intellimixer";
const VERSION = 1;

export function isQuotaError(err) {
  return err?.name === "QuotaExceededError" || /quota/i.test(String(err?.message || ""));
}

export class Store {
  constructor(db) { this.db = db; }

  // The store, or null where the browser keeps nothing (private windows, storage blocked).
  static async open() {
    if (!globalThis.indexedDB) return null;
    try {
      const db = await openDB(NAME, VERSION, {
        upgrade(d) {
          d.createObjectStore("sessions", { keyPath: "id" });
          d.createObjectStore("sources", { keyPath: ["session", "key"] }).createIndex("session", "session");
          d.createObjectStore("sounds", { keyPath: ["session", "number"] }).createIndex("session", "session");
        },
      });
      return new Store(db);
    } catch (err) {
      console.warn("intellimixer: no storage:", err);
      return null;
    }
  }

  // Every stored session's own record, the most recently saved first.
  async sessions() {
    return (await this.db.getAll("sessions")).sort((a, b) => b.updated - a.updated);
  }

  // One session: {session, sources (in the order they were added), sounds (by number)}.
  async load(id) {
    const tx = this.db.transaction(["sessions", "sources", "sounds"]);
    const [session, sources, sounds] = await Promise.all([tx.objectStore("sessions").get(id),
      tx.objectStore("sources").index("session").getAll(id), tx.objectStore("sounds").index("session").getAll(id)]);
    await tx.done;
    sources.sort((a, b) => a.order - b.order);
    sounds.sort((a, b) => a.number - b.number);
    return { session, sources, sounds };
  }

  // One save, all or nothing: the session's record, sources and sounds to put, keys and
  // numbers to delete.
  async save(session, { sources = [], sounds = [], dropKeys = [], dropNumbers = [] }) {
    const tx = this.db.transaction(["sessions", "sources", "sounds"], "readwrite");
    tx.done.catch(() => {}); // (an aborted save's error is the one thrown below)
    try {
      const src = tx.objectStore("sources"), snd = tx.objectStore("sounds");
      await Promise.all([
        ...sources.map((r) => src.put(r)), ...sounds.map((r) => snd.put(r)),
        ...dropKeys.map((k) => src.delete([session.id, k])), ...dropNumbers.map((n) => snd.delete([session.id, n])),
        tx.objectStore("sessions").put(session),
      ]);
      await tx.done;
    } catch (err) {
      try { tx.abort(); } catch { /* already ended */ }
      throw err;
    }
  }

  // Sessions and everything stored with them, in one transaction.
  async remove(ids) {
    const tx = this.db.transaction(["sessions", "sources", "sounds"], "readwrite");
    for (const id of ids) {
      tx.objectStore("sessions").delete(id);
      for (const name of ["sources", "sounds"]) {
        const store = tx.objectStore(name);
        for (const key of await store.index("session").getAllKeys(id)) store.delete(key);
      }
    }
    await tx.done;
  }
}
