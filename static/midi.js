// MIDI control of the map (Web MIDI, where the browser has it): "learn" maps a controller's
// two controls (CC) to the map's X and Y and a key (note) to "make a sound here". Turning the
// controls moves the map's cursor and plays previews there, as dragging does (the newest
// position wins); the key makes the sound to keep. The mapping is a setting of the session
// (the hidden #midi-map field, saved and brought back with it). Without Web MIDI the panel
// says so and the buttons stay off.
import { setStatus } from "./status.js";
import { msg } from "./strings.js";

const $ = (id) => document.getElementById(id);
const STEPS = ["x", "y", "note"]; // what learn asks for, in order

export class Midi {
  // move(nx, ny): the controls moved the cursor; make(nx, ny): the key was pressed there.
  constructor({ move, make }) {
    Object.assign(this, { move, make });
    this.access = null;
    this.learning = null; // index into STEPS while learning
    this.pos = { nx: 0.5, ny: 0.5 };
    $("midi-learn").addEventListener("click", () => this.learn());
    $("midi-clear").addEventListener("click", () => this.setMap(null));
    $("midi-map").addEventListener("change", () => this.show());
  }

  get available() { return typeof navigator.requestMIDIAccess === "function"; }

  get map() {
    try { return JSON.parse($("midi-map").value || "null"); } catch { return null; }
  }

  setMap(map) {
    $("midi-map").value = map ? JSON.stringify(map) : "";
    $("midi-map").dispatchEvent(new Event("change")); // (saved with the session)
  }

  // The panel's text: the mapping, or why there is none.
  show() {
    if (!this.available) {
      $("midi-info").textContent = msg("midi_unavailable");
      $("midi-learn").disabled = $("midi-clear").disabled = true;
      return;
    }
    const m = this.map;
    $("midi-info").textContent = m ? msg("midi_mapped", { x: m.x.cc, y: m.y.cc, note: m.note.note, ch: m.x.ch + 1 }) : msg("midi_none");
    $("midi-clear").disabled = !m;
    if (m && !this.access) this.connect().catch(() => {});
  }

  async connect() {
    if (this.access) return;
    this.access = await navigator.requestMIDIAccess();
    const attach = () => { for (const input of this.access.inputs.values()) input.onmidimessage = (e) => this.onMessage(e.data); };
    attach();
    this.access.onstatechange = attach;
  }

  async learn() {
    try { await this.connect(); } catch (err) { setStatus(msg("midi_refused", { error: err?.message || err }), "warn"); return; }
    if (![...this.access.inputs.values()].length) { setStatus(msg("midi_no_inputs"), "warn"); return; }
    this.learning = 0;
    this.learnt = {};
    setStatus(msg("midi_learn_x"), "busy");
  }

  onMessage(data) {
    const [status, a, b] = data;
    const kind = status & 0xf0, ch = status & 0x0f;
    const cc = kind === 0xb0, noteOn = kind === 0x90 && b > 0;
    if (this.learning !== null) { this.learnStep(cc, noteOn, ch, a); return; }
    const m = this.map;
    if (!m) return;
    if (cc && ch === m.x.ch && a === m.x.cc) this.pos.nx = b / 127;
    else if (cc && ch === m.y.ch && a === m.y.cc) this.pos.ny = b / 127;
    else if (noteOn && ch === m.note.ch && a === m.note.note) { this.make(this.pos.nx, this.pos.ny); return; }
    else return;
    this.move(this.pos.nx, this.pos.ny);
  }

  learnStep(cc, noteOn, ch, number) {
    const step = STEPS[this.learning];
    if (step !== "note" && cc) {
      if (step === "y" && this.learnt.x.cc === number && this.learnt.x.ch === ch) return; // (still the X control)
      this.learnt[step] = { ch, cc: number };
    } else if (step === "note" && noteOn) {
      this.learnt.note = { ch, note: number };
    } else return;
    this.learning++;
    if (this.learning < STEPS.length) { setStatus(msg(this.learning === 1 ? "midi_learn_y" : "midi_learn_note"), "busy"); return; }
    this.learning = null;
    this.setMap(this.learnt);
    setStatus(msg("midi_learnt", { x: this.learnt.x.cc, y: this.learnt.y.cc, note: this.learnt.note.note }), "ready");
  }
}
