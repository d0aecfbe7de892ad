// Spectrogram + waveform views of a sound, drawn from the worker's `view` reply (magma RGBA,
// min/max envelope, tick values in Hz and s, the accessible name). `drawn` records what each
// canvas shows (for tests and screen readers).

const $ = (id) => document.getElementById(id);
const VIEW_PAD = { left: 44, right: 8, top: 14, bottom: 16 };

export const drawn = {};
let scratch = null;

function scratchCanvas(w, h) {
  if (!scratch) scratch = document.createElement("canvas");
  if (scratch.width !== w || scratch.height !== h) { scratch.width = w; scratch.height = h; }
  return scratch;
}

function viewWidth(canvasId) {
  const c = $(canvasId);
  return Math.max(16, Math.round((c.clientWidth || c.width) - VIEW_PAD.left - VIEW_PAD.right));
}

// Asks the worker for the view of a source (kind "source", its key) or a generated sound
// ("generated", its number) and draws it; returns the error sentence, or null.
export async function showView(client, canvasId, kind, ident) {
  try {
    const v = await client.call("view", kind, ident, viewWidth(canvasId));
    if (!v.ok) return v.error;
    drawView(canvasId, v);
  } catch (err) { console.warn("intellimixer: view failed", err); }
  return null;
}

function drawView(canvasId, v) {
  const c = $(canvasId);
  const dpr = window.devicePixelRatio || 1;
  const W = c.clientWidth || c.width, H = c.clientHeight || c.height;
  // resizing a canvas reallocates it: only when the size changed
  if (c.width !== Math.round(W * dpr) || c.height !== Math.round(H * dpr)) { c.width = Math.round(W * dpr); c.height = Math.round(H * dpr); }
  const g = c.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, W, H);
  const P = VIEW_PAD, pw = W - P.left - P.right, inner = H - P.top - P.bottom;
  const sh = Math.round(inner * 0.68), wy = P.top + sh + 4, wh = inner - sh - 4;
  const img = new ImageData(new Uint8ClampedArray(v.rgba.buffer, v.rgba.byteOffset, v.rgba.byteLength), v.n_frames, v.n_bins);
  const off = scratchCanvas(v.n_frames, v.n_bins); // one offscreen canvas, reused
  off.getContext("2d").putImageData(img, 0, 0);
  g.imageSmoothingEnabled = true;
  g.drawImage(off, P.left, P.top, pw, sh);
  // waveform: min/max per column
  g.fillStyle = "#12161c"; g.fillRect(P.left, wy, pw, wh);
  g.strokeStyle = "#5bc0f2"; g.lineWidth = 1; g.beginPath();
  const cols = v.env.length / 2, mid = wy + wh / 2;
  for (let k = 0; k < cols; k++) {
    const x = P.left + ((k + 0.5) * pw) / cols;
    g.moveTo(x, mid - v.env[2 * k + 1] * wh / 2); g.lineTo(x, mid - v.env[2 * k] * wh / 2 + 0.5);
  }
  g.stroke();
  // axes: frequency in Hz (left), time in s (bottom)
  g.fillStyle = "#9aa4b2"; g.strokeStyle = "#9aa4b2"; g.font = "10px system-ui, sans-serif";
  g.textAlign = "right";
  for (const f of v.freq_ticks) {
    const y = P.top + sh * (1 - f / v.f_max);
    g.fillText(String(Math.round(f)), P.left - 4, Math.min(P.top + sh, Math.max(P.top + 7, y + 3)));
    g.beginPath(); g.moveTo(P.left - 2, y); g.lineTo(P.left, y); g.stroke();
  }
  g.textAlign = "left"; g.fillText("Hz", 2, P.top - 4);
  g.textAlign = "center";
  for (const t of v.time_ticks) {
    const x = P.left + pw * (t / v.duration);
    g.fillText(`${t} s`, Math.min(W - 12, x), H - 4);
    g.beginPath(); g.moveTo(x, wy + wh); g.lineTo(x, wy + wh + 2); g.stroke();
  }
  c.dataset.drawn = v.title;
  c.setAttribute("aria-label", v.label);
  drawn[canvasId] = { title: v.title, f_max: v.f_max, duration: v.duration, freq_ticks: v.freq_ticks, time_ticks: v.time_ticks,
    n_bins: v.n_bins, n_frames: v.n_frames, env_width: cols, units: { freq: "Hz", time: "s" } };
}
