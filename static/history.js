// Generated sounds: their WAV and credits blobs, the "Generated sound" panel and the history
// list (newest first). Everything shown comes from the worker's HistoryEntry (text, flags,
// file names, share link); this module only keeps the audio and builds the elements.
// Events: "replay" {number}, "delete" {number} (from the list's buttons). Sounds can be
// dragged out of the page as files (dragOut).
import { msg } from "./strings.js";

const $ = (id) => document.getElementById(id);

// A generated sound dragged out of the page (onto the desktop or into a DAW, where the browser
// allows it: Chromium's DownloadURL drag data) lands as its WAV file under its own name.
export function dragOut(event, entry) {
  if (!entry || !event.dataTransfer) return;
  const url = new URL(entry.wavUrl, location.href).href;
  event.dataTransfer.effectAllowed = "copy";
  event.dataTransfer.setData("DownloadURL", `audio/wav:${entry.h.filename}:${url}`);
  event.dataTransfer.setData("text/plain", entry.h.filename);
}

export class History extends EventTarget {
  constructor() {
    super();
    $("download").draggable = true;
    $("download").addEventListener("dragstart", (e) => dragOut(e, this.entries.get(this.current)));
    $("history").addEventListener("dragstart", (e) => {
      const li = e.target.closest?.("li");
      if (li) dragOut(e, this.entries.get(Number(li.dataset.number)));
    });
    this.entries = new Map(); // number -> {wav, pcm, rate, wavUrl, creditsUrl, h: HistoryEntry}
    this.current = null;      // number of the sound shown in the panel
    this.intro = $("generated-info").textContent; // what the panel says before any sound
    $("history").addEventListener("click", (event) => {
      const btn = event.target.closest("button[data-action]");
      if (!btn) return;
      const number = Number(btn.closest("li").dataset.number);
      this.dispatchEvent(new CustomEvent(btn.dataset.action === "play" ? "replay" : "delete", { detail: { number } }));
    });
  }

  // A generated sound's event: keep its audio and make its download links.
  add(/* @protocol generated */ r) {
    return this.restore(r.map_update.entry, r.wav, r.pcm, r.sample_rate, r.credits_text);
  }

  // A sound's entry, WAV, samples and credits kept, with their blob URLs (a sound just made,
  // or one brought back from a stored session); returns what is kept.
  restore(/* @protocol HistoryEntry */ h, wav, pcm, rate, creditsText) {
    const wavUrl = URL.createObjectURL(new Blob([wav], { type: "audio/wav" }));
    const creditsUrl = URL.createObjectURL(new Blob([creditsText], { type: "text/plain;charset=utf-8" }));
    const e = { wav, pcm, rate, wavUrl, creditsUrl, h };
    this.entries.set(h.number, e);
    return e;
  }

  get(number) { return this.entries.get(number); }

  // The "Generated sound" panel shows entry `number`; returns its share link.
  show(number) {
    const e = this.entries.get(number);
    if (!e) return null;
    this.current = number;
    const h = e.h;
    $("generated-info").textContent = h.info;
    $("generated-flags").textContent = h.flags_text;
    $("generated-flags").hidden = !h.flags_text;
    const a = $("download");
    a.href = e.wavUrl; a.download = h.filename; a.hidden = false;
    a.textContent = msg("download_wav", { filename: h.filename });
    const c = $("download-credits");
    c.href = e.creditsUrl; c.download = h.credits_filename; c.hidden = false;
    c.setAttribute("aria-label", msg("download_credits", { number: h.number, filename: h.credits_filename }));
    for (const li of $("history").children) li.classList.toggle("current", li.dataset.number === String(number));
    return h.hash;
  }

  // The panel of a sound that went (deleted, or a new session: number null): no sound shown.
  clearPanel(number) {
    if (number !== null && this.current !== number) return;
    this.current = null;
    for (const id of ["download", "download-credits", "generated-flags", "share-link", "copy-link"]) $(id).hidden = true;
    $("generated-info").textContent = number === null ? this.intro : msg("deleted", { number });
  }

  // Forget the sounds the worker no longer keeps (their blob URLs with them).
  drop(keep) {
    for (const [n, e] of this.entries) {
      if (!keep.has(n)) { URL.revokeObjectURL(e.wavUrl); URL.revokeObjectURL(e.creditsUrl); this.entries.delete(n); }
    }
  }

  item(/* @protocol HistoryEntry */ h, e) {
    const li = document.createElement("li");
    li.dataset.number = String(h.number);
    li.id = `history-${h.number}`;
    li.draggable = true; // (dragged out as its WAV: dragOut)
    if (h.number === this.current) li.classList.add("current");
    if (!h.on_map) li.classList.add("off-map");
    const coords = document.createElement("span");
    coords.className = "coords";
    coords.textContent = h.text;
    li.append(coords);
    for (const f of h.flags) {
      const b = document.createElement("span");
      b.className = `badge ${f.kind}`;
      b.textContent = f.label;
      b.title = f.title;
      b.setAttribute("aria-label", f.title);
      li.append(b);
    }
    const button = (action, text, aria) => {
      const el = document.createElement("button");
      el.type = "button"; el.dataset.action = action; el.textContent = text;
      el.setAttribute("aria-label", aria);
      return el;
    };
    const link = (href, name, text, aria, cls) => {
      const el = document.createElement("a");
      el.className = cls; el.href = href; el.download = name; el.textContent = text;
      el.setAttribute("aria-label", aria);
      return el;
    };
    const n = { number: h.number, filename: h.filename };
    const tick = Object.assign(document.createElement("input"), { type: "checkbox", className: "pick" });
    tick.setAttribute("aria-label", msg("history_pick", n));
    li.prepend(tick);
    li.append(
      button("play", msg("button_play"), msg("history_play", n)),
      link(e.wavUrl, h.filename, msg("button_wav"), msg("history_wav", n), "button download"),
      link(e.creditsUrl, h.credits_filename, msg("button_credits"), msg("history_credits", n), "button secondary credits"),
      button("delete", msg("button_delete"), msg("history_delete", n)),
    );
    return li;
  }

  // The numbers of the sounds ticked for a pack (newest first, as listed).
  ticked() {
    return [...$("history").querySelectorAll("input.pick:checked")].map((el) => Number(el.closest("li").dataset.number));
  }

  // The whole list (after a model or query change, a deletion, a shared link).
  render(list) {
    this.drop(new Set(list.map((h) => h.number)));
    const items = [];
    for (const h of [...list].reverse()) {
      const e = this.entries.get(h.number);
      if (e) { e.h = h; items.push(this.item(h, e)); }
    }
    $("history").replaceChildren(...items);
    $("history-empty").hidden = items.length > 0;
  }

  // One new sound: its item goes on top, the ones the worker dropped go (no full rebuild per
  // sound, which grew with the history and cost the page time while dragging).
  prepend(/* @protocol HistoryEntry */ h, keep) {
    this.drop(keep);
    const ol = $("history");
    for (const li of [...ol.children]) if (!keep.has(Number(li.dataset.number))) li.remove();
    const e = this.entries.get(h.number);
    if (e) ol.prepend(this.item(h, e));
    $("history-empty").hidden = ol.children.length > 0;
  }
}
