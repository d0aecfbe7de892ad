// The latent map: draws the worker's map state (sources, generated sounds, axes, keyboard
// cursor) on the #map canvas and turns pointer and keyboard input into typed events:
//   "play"     {point}        a source dot was pressed (or P pressed near it)
//   "generate" {nx, ny, preview} make a sound at this normalised position (click, Enter; a
//                             point passed while dragging is a preview, and where the drag
//                             ends a plain one: the sound to keep)
//   "scrub"    {active}       the pointer went down on an empty spot / was released
//   "audition" {point|null}   audition is on (the toggle, or the A key held) and the pointer
//                             came onto a source (play it) or left it (stop)
// Positions are normalised (nx, ny) in [0, 1], ny = 0 at the bottom; the worker maps them to
// latent values (the page never does), and gives the tick labels and cursor descriptions.

import { msg } from "./strings.js";

const $ = (id) => document.getElementById(id);
const PAD = { left: 48, right: 16, top: 16, bottom: 40 };
const HIT_PX = 8;
const SCRUB_MIN_PX = 3;  // pointer moves shorter than this during a drag ask for nothing new
const KEY_STEP = 0.02;   // arrow-key cursor step (share of the map; Shift: x5)
// The marks' colours are the stylesheet's (--mark-*), which the legend under the map uses too.
const MARKS = ["grid", "plot", "text", "freesound", "local", "flagged", "latest", "generated", "cursor"];
const COLOURS = {};
function readColours() {
  const css = getComputedStyle(document.documentElement);
  for (const name of MARKS) COLOURS[name] = css.getPropertyValue(`--mark-${name}`).trim() || "#ffffff";
}

export class MapView extends EventTarget {
  constructor(canvas, { describe }) {
    super();
    this.canvas = canvas;
    this.describe = describe; // async (nx, ny) -> text for screen readers
    this.map = null;
    this.hover = null;
    this.cursor = { nx: 0.5, ny: 0.5, shown: false };
    this.scrub = { active: false, last: null, pos: null };
    canvas.addEventListener("pointermove", (e) => this.onPointerMove(e));
    canvas.addEventListener("pointerleave", () => this.onLeave());
    canvas.addEventListener("pointerdown", (e) => this.onPointerDown(e));
    canvas.addEventListener("pointerup", (e) => this.onPointerUp(e));
    canvas.addEventListener("pointercancel", (e) => this.onPointerUp(e));
    canvas.addEventListener("keydown", (e) => this.onKey(e));
    // the keyboard cursor shows only when the map is reached by keyboard (Tab) or driven by
    // keys; a mouse click focuses the map without it
    canvas.addEventListener("focus", () => {
      if (!this.cursor.shown && canvas.matches(":focus-visible")) this.setCursor(this.cursor.nx, this.cursor.ny);
    });
    canvas.addEventListener("blur", () => { this.cursor.shown = false; this.draw(); });
    // audition: hovering plays the source under the pointer while the toggle is on or A is held
    this.auditionOn = false;
    this.keyHeld = false;
    const typing = (e) => { // (A typed into a text box is not a held audition key)
      const t = e.target;
      return t?.isContentEditable || /^(SELECT|TEXTAREA)$/.test(t?.tagName || "")
        || (t?.tagName === "INPUT" && !["checkbox", "radio", "button", "file", "range"].includes(t.type));
    };
    window.addEventListener("keydown", (e) => {
      if ((e.key === "a" || e.key === "A") && !e.repeat && !typing(e)) { this.keyHeld = true; this.audition(this.hover); }
    });
    window.addEventListener("keyup", (e) => {
      if (e.key === "a" || e.key === "A") { this.keyHeld = false; if (!this.auditionOn) this.audition(null); }
    });
    readColours();
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  setMap(/* @protocol MapState */ map) {
    this.map = map;
    this.canvas.dataset.points = String(map.points.length);
    this.canvas.dataset.generated = String(map.generated.length);
    this.draw();
  }

  // A generation sends only what it changed: its point, its history entry and the history
  // numbers still kept. Returns false when the axes changed meanwhile (ask for the whole map).
  merge(/* @protocol MapUpdate */ u) {
    const map = this.map;
    if (!map || map.dims[0] !== u.dims[0] || map.dims[1] !== u.dims[1]) return false;
    const keep = new Set(u.history);
    map.generated = map.generated.filter((g) => keep.has(g.number)).concat([u.point]);
    map.history = map.history.filter((h) => keep.has(h.number)).concat([u.entry]);
    this.canvas.dataset.generated = String(map.generated.length);
    this.draw();
    return true;
  }

  plotRect() {
    const c = this.canvas;
    return { x: PAD.left, y: PAD.top, w: c.clientWidth - PAD.left - PAD.right, h: c.clientHeight - PAD.top - PAD.bottom };
  }

  toPixel(nx, ny) {
    const r = this.plotRect();
    return [r.x + nx * r.w, r.y + (1 - ny) * r.h];
  }

  toClient(nx, ny) {
    const rect = this.canvas.getBoundingClientRect();
    const [x, y] = this.toPixel(nx, ny);
    return { x: rect.left + x, y: rect.top + y };
  }

  draw() {
    const canvas = this.canvas, dpr = window.devicePixelRatio || 1;
    const W = canvas.clientWidth, H = canvas.clientHeight;
    if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
      canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
    }
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    const r = this.plotRect();
    g.fillStyle = COLOURS.plot; g.fillRect(r.x, r.y, r.w, r.h);
    g.strokeStyle = COLOURS.grid; g.lineWidth = 1;
    g.fillStyle = COLOURS.text; g.font = "12px system-ui, sans-serif";
    const map = this.map;
    for (let k = 0; k <= 4; k++) {
      const px = r.x + (k / 4) * r.w, py = r.y + (1 - k / 4) * r.h;
      g.beginPath(); g.moveTo(px, r.y); g.lineTo(px, r.y + r.h); g.stroke();
      g.beginPath(); g.moveTo(r.x, py); g.lineTo(r.x + r.w, py); g.stroke();
    }
    if (!map) return;
    g.textAlign = "center";
    for (const t of map.x_ticks) g.fillText(t.label, r.x + t.n * r.w, r.y + r.h + 14);
    g.textAlign = "right";
    for (const t of map.y_ticks) g.fillText(t.label, r.x - 4, r.y + (1 - t.n) * r.h + 4);
    g.textAlign = "center"; g.fillText(`X: ${map.labels[0]}`, r.x + r.w / 2, r.y + r.h + 32);
    g.save(); g.translate(12, r.y + r.h / 2); g.rotate(-Math.PI / 2); g.fillText(`Y: ${map.labels[1]}`, 0, 0); g.restore();
    for (const p of map.points) {
      const [x, y] = this.toPixel(p.nx, p.ny), r = this.hover === p ? 7 : 5;
      g.beginPath(); g.arc(x, y, r, 0, 2 * Math.PI);
      g.fillStyle = p.origin === "local" ? COLOURS.local : COLOURS.freesound;
      // declined generative AI: a hollow, crossed-out dot (a reference, not mixed by default);
      // a source the mix options leave out of mixes is dimmed (it still plays)
      g.globalAlpha = p.in_mix ? 1 : 0.45;
      if (p.declined) { g.strokeStyle = g.fillStyle; g.lineWidth = 1.5; g.stroke(); } else g.fill();
      if (p.declined) { g.beginPath(); g.moveTo(x - r, y + r); g.lineTo(x + r, y - r); g.stroke(); }
      g.globalAlpha = 1;
      if (this.hover === p) { g.beginPath(); g.arc(x, y, r, 0, 2 * Math.PI); g.strokeStyle = COLOURS.cursor; g.lineWidth = 2; g.stroke(); }
      else if (p.warning && !p.declined) { g.strokeStyle = COLOURS.flagged; g.lineWidth = 1.5; g.stroke(); }
    }
    map.generated.forEach((p, k) => {
      const [x, y] = this.toPixel(p.nx, p.ny);
      g.save(); g.translate(x, y); g.rotate(Math.PI / 4);
      g.fillStyle = k === map.generated.length - 1 ? COLOURS.latest : COLOURS.generated;
      g.fillRect(-5, -5, 10, 10); g.restore();
    });
    if (this.cursor.shown) {
      const [x, y] = this.toPixel(this.cursor.nx, this.cursor.ny);
      g.strokeStyle = COLOURS.cursor; g.lineWidth = 1.5;
      g.beginPath(); g.arc(x, y, 9, 0, 2 * Math.PI); g.stroke();
      g.beginPath(); g.moveTo(x - 14, y); g.lineTo(x - 4, y); g.moveTo(x + 4, y); g.lineTo(x + 14, y);
      g.moveTo(x, y - 14); g.lineTo(x, y - 4); g.moveTo(x, y + 4); g.lineTo(x, y + 14); g.stroke();
    }
  }

  hitTest(event) {
    if (!this.map) return null;
    const rect = this.canvas.getBoundingClientRect();
    const mx = event.clientX - rect.left, my = event.clientY - rect.top;
    let best = null, bestD = HIT_PX;
    for (const p of this.map.points) {
      const [x, y] = this.toPixel(p.nx, p.ny);
      const d = Math.hypot(x - mx, y - my);
      if (d <= bestD) { best = p; bestD = d; }
    }
    return best;
  }

  nearest(nx, ny) {
    let best = null, bestD = Infinity;
    for (const p of this.map?.points || []) {
      const d = Math.hypot(p.nx - nx, p.ny - ny);
      if (d < bestD) { best = p; bestD = d; }
    }
    return best;
  }

  eventToMap(event, clamp = false) {
    const r = this.plotRect(), rect = this.canvas.getBoundingClientRect();
    let nx = (event.clientX - rect.left - r.x) / r.w, ny = 1 - (event.clientY - rect.top - r.y) / r.h;
    if (clamp) { nx = Math.min(1, Math.max(0, nx)); ny = Math.min(1, Math.max(0, ny)); }
    else if (nx < 0 || nx > 1 || ny < 0 || ny > 1) return null;
    return { nx, ny };
  }

  showTooltip(event, /* @protocol Point */ p) {
    const tip = $("tooltip");
    if (!p) { tip.hidden = true; return; }
    $("tooltip-name").textContent = p.name;
    $("tooltip-user").textContent = p.username ? msg("by_user", { user: p.username }) : p.license_name;
    $("tooltip-licence").textContent = p.username ? p.license_name : "";
    $("tooltip-genai").textContent = p.origin === "local" ? "" : msg("genai_line", { label: p.gen_ai });
    $("tooltip-flags").textContent = p.warning;
    $("tooltip-flags").hidden = !p.warning;
    tip.hidden = false;
    // keep the tooltip inside the map: flip it to the other side of the pointer near an edge
    const pane = $("map-pane").getBoundingClientRect();
    let x = event.clientX - pane.left + 12, y = event.clientY - pane.top + 12;
    if (x + tip.offsetWidth > pane.width) x -= tip.offsetWidth + 24;
    if (y + tip.offsetHeight > pane.height) y -= tip.offsetHeight + 24;
    tip.style.left = `${Math.max(0, x)}px`;
    tip.style.top = `${Math.max(0, y)}px`;
  }

  onLeave() {
    $("tooltip").hidden = true;
    if (this.hover) { this.hover = null; this.draw(); this.audition(null); }
  }

  get auditioning() { return this.auditionOn || this.keyHeld; }

  // Audition: play `point` (a source) or stop (null), once per change, while it is on.
  audition(point) {
    if (point && !this.auditioning) point = null;
    if (point === (this.auditioned ?? null)) return;
    this.auditioned = point;
    this.emit("audition", { point });
  }

  // Press on a dot: play it. Press elsewhere: generate there; keep pressing and drag to scrub.
  onPointerDown(event) {
    if (event.button !== 0) return;
    if (this.cursor.shown) { this.cursor.shown = false; this.draw(); } // the mouse took over from the keys
    const p = this.hitTest(event);
    if (p) { this.emit("play", { point: p }); return; }
    const pos = this.eventToMap(event);
    if (!pos) return;
    this.scrub = { active: true, last: [event.clientX, event.clientY], pos: null };
    document.body.dataset.scrubbing = "1";
    this.emit("scrub", { active: true });
    try { this.canvas.setPointerCapture(event.pointerId); } catch { /* synthetic events */ }
    this.emit("generate", pos);
  }

  onPointerMove(event) {
    if (!this.scrub.active) {
      const p = this.hitTest(event);
      if (p !== this.hover) { this.hover = p; this.draw(); this.audition(p); }
      this.showTooltip(event, p);
      return;
    }
    const [lx, ly] = this.scrub.last;
    if (Math.hypot(event.clientX - lx, event.clientY - ly) < SCRUB_MIN_PX) return;
    this.scrub.last = [event.clientX, event.clientY];
    this.scrub.pos = this.eventToMap(event, true);
    this.emit("generate", { ...this.scrub.pos, preview: true });
  }

  onPointerUp(event) {
    if (!this.scrub.active) return;
    this.endScrub();
    try { this.canvas.releasePointerCapture(event.pointerId); } catch { /* not captured */ }
  }

  endScrub() {
    const pos = this.scrub.pos;
    this.scrub = { active: false, last: null, pos: null };
    delete document.body.dataset.scrubbing;
    this.emit("scrub", { active: false });
    if (pos) this.emit("generate", pos); // where a drag ends, the sound to keep
  }

  async setCursor(nx, ny, announce = true) {
    this.cursor = { nx: Math.min(1, Math.max(0, nx)), ny: Math.min(1, Math.max(0, ny)), shown: true };
    this.draw();
    if (!announce || !this.map) return;
    const text = await this.describe(this.cursor.nx, this.cursor.ny);
    if (text) $("map-cursor-info").textContent = text;
  }

  onKey(event) {
    const step = event.shiftKey ? 5 * KEY_STEP : KEY_STEP;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    const c = this.cursor;
    if (moves[event.key]) {
      event.preventDefault();
      this.setCursor(c.nx + moves[event.key][0], c.ny + moves[event.key][1]);
    } else if (event.key === "Home") {
      event.preventDefault();
      this.setCursor(0.5, 0.5);
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.setCursor(c.nx, c.ny, false);
      this.emit("generate", { nx: c.nx, ny: c.ny });
    } else if (event.key === "p" || event.key === "P") {
      this.emit("play", { point: this.nearest(c.nx, c.ny) });
    }
  }
}
