// Export options of the downloads: sample rate (the model's, 44.1 or 48 kHz) and sample
// format (16-bit, 24-bit, 32-bit float), the menus' values and labels from strings.json's limits. With
// the defaults a download is the WAV the worker made with the sound; otherwise the worker
// exports it again (export_sound: resampled, re-encoded, credits kept) and the page saves it.
import { saveBlob } from "./packs.js";
import { setStatus } from "./status.js";
import { LIMITS, msg } from "./strings.js";

const $ = (id) => document.getElementById(id);

export class Exporter {
  constructor(client) {
    this.client = client;
    this.modelRate = 0;
  }

  // The menus for a model whose own rate is `modelRate` (the choices are kept where they exist).
  fill(modelRate) {
    this.modelRate = modelRate;
    const keep = { rate: $("export-rate").value, format: $("export-format").value };
    const option = (value, text) => Object.assign(document.createElement("option"), { value: String(value), textContent: text });
    $("export-rate").replaceChildren(...LIMITS.export_rates.map((r) => option(r, r
      ? msg("export_rate_khz", { khz: r / 1000 }) : msg("export_rate_model", { rate: modelRate }))));
    $("export-format").replaceChildren(...Object.entries(LIMITS.export_formats).map(([f, label]) => option(f, label)));
    if (keep.rate) $("export-rate").value = keep.rate;
    if (keep.format) $("export-format").value = keep.format;
  }

  get options() {
    return { rate: Number($("export-rate").value || 0), format: $("export-format").value || Object.keys(LIMITS.export_formats)[0] };
  }

  // Whether a download is the sound's own WAV (the model's rate, the first format).
  get plain() {
    const { rate, format } = this.options;
    return (rate === 0 || rate === this.modelRate) && format === Object.keys(LIMITS.export_formats)[0];
  }

  // Sound `number` exported with the chosen options and saved under its file name.
  async save(number) {
    const { rate, format } = this.options;
    setStatus(msg("exporting", { number, rate: rate || this.modelRate, format: LIMITS.export_formats[format] }), "busy");
    const r = await this.client.call("export_sound", number, rate, format);
    if (!r.ok) { setStatus(r.error, "error"); return; }
    saveBlob(r.wav, "audio/wav", r.filename);
    setStatus(r.message, "ready");
  }
}
