// Sources: the Freesound search (the worker asks Freesound, the page downloads and decodes
// the previews: WebAudio exists only on the main thread) and local files (picker or drop).
// Each decoded sound goes to the worker to be encoded; the batch is committed at the end, so
// a failed search loses nothing. The previews' bytes are kept for playback and model swaps.
// The Freesound token stays in memory unless the user ticks "remember".
import { jobs, setStatus } from "./status.js";
import { msg } from "./strings.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "intellimixer.freesound_token";
const PREVIEW_CONCURRENCY = 4;
const PREVIEW_TIMEOUT_MS = 30000;

// Decoded mono float32 at `sampleRate` (OfflineAudioContext resamples to its own rate).
export async function decode(bytes, sampleRate) {
  const ctx = new OfflineAudioContext(1, 1, sampleRate);
  const buf = await ctx.decodeAudioData(bytes.slice().buffer);
  if (!buf.length) throw new Error("empty audio");
  const pcm = new Float32Array(buf.length);
  for (let c = 0; c < buf.numberOfChannels; c++) {
    const ch = buf.getChannelData(c);
    for (let i = 0; i < ch.length; i++) pcm[i] += ch[i] / buf.numberOfChannels;
  }
  return pcm;
}

export class Sources {
  // onMap(map): the worker's new map state; model(): the model info (or null); map(): the
  // map state shown now (or null).
  constructor(client, { onMap, model, map }) {
    this.client = client;
    this.onMap = onMap;
    this.model = model;
    this.map = map;
    this.previews = new Map(); // source key -> {bytes: Uint8Array, type}
    this.token = "";
  }

  initToken() {
    let saved = null;
    try { saved = localStorage.getItem(TOKEN_KEY); } catch { /* storage blocked */ }
    if (saved) { this.token = saved; $("token").value = saved; $("remember-token").checked = true; }
    const sync = () => {
      this.token = $("token").value.trim();
      try {
        if ($("remember-token").checked && this.token) localStorage.setItem(TOKEN_KEY, this.token);
        else localStorage.removeItem(TOKEN_KEY);
      } catch { /* storage blocked: memory only */ }
    };
    $("token").addEventListener("input", sync);
    $("remember-token").addEventListener("change", sync);
  }

  async download(url) {
    const r = await fetch(url, { mode: "cors", credentials: "omit", signal: AbortSignal.timeout(PREVIEW_TIMEOUT_MS) });
    if (!r.ok) throw new Error(msg("download_http", { status: r.status }));
    return { bytes: new Uint8Array(await r.arrayBuffer()), type: r.headers.get("content-type") || "audio/mpeg" };
  }

  // One sound into the batch: decode, encode; its failure is recorded (never thrown).
  async addOne(batch, name, meta, got, sr) {
    let pcm;
    try { pcm = await decode(got.bytes, sr); }
    catch { await this.client.call("fail_source", batch, name, msg("undecodable")); return; }
    const added = await this.client.call("add_source", batch, JSON.stringify(meta), pcm, sr);
    if (added.ok) this.previews.set(added.source.key, got);
    else await this.client.call("fail_source", batch, name, added.error);
  }

  async commit(batch) {
    const result = await this.client.call("commit_batch", batch);
    if (!result.ok) { setStatus(result.error, "error"); return; }
    this.onMap(result.map);
    const keep = new Set(result.map.points.map((p) => p.key));
    for (const key of this.previews.keys()) if (!keep.has(key)) this.previews.delete(key);
    setStatus(result.message, result.level);
  }

  search() {
    return jobs.run("job_search", async () => {
      const query = $("query").value;
      setStatus(msg("searching", { query: query.trim() }), "busy");
      const found = await this.client.call("search", query, $("count").value, this.token, $("genai-only").checked,
        $("commercial-only").checked);
      if (!found.ok) {
        // nothing found is information, not a failure; either way the map keeps its sounds,
        // and the keyword box goes back to the keyword of the sounds it shows
        setStatus(found.error, found.kind === "NoResults" ? "ready" : "error");
        const shown = this.map?.();
        if (shown?.points.some((p) => p.origin !== "local") && shown.query) {
          $("query").value = shown.query;
          $("count").value = String(shown.count);
        }
        return;
      }
      const sounds = found.sounds, total = sounds.length, sr = this.model().sample_rate;
      let done = 0, next = 0;
      const progress = () => setStatus(msg("loading_sounds", { query: found.query, done, total }), "busy", done, total);
      progress();
      const worker = async () => {
        while (next < sounds.length) {
          const s = sounds[next++];
          let got = null;
          try { got = await this.download(s.preview_url); }
          catch (err) {
            const why = err.name === "TimeoutError" ? msg("download_timeout")
              : err.message.startsWith("download") ? err.message : msg("download_failed", { why: err.message });
            await this.client.call("fail_source", found.batch, s.name, why);
          }
          if (got) await this.addOne(found.batch, s.name, s, got, sr);
          done++; progress();
        }
      };
      await Promise.all(Array.from({ length: Math.min(PREVIEW_CONCURRENCY, total) }, worker));
      await this.commit(found.batch);
    });
  }

  addFiles(list) {
    return jobs.run("job_local", async () => {
      const begun = await this.client.call("begin_local");
      if (!begun.ok) { setStatus(begun.error, "error"); return; }
      const sr = this.model().sample_rate;
      for (let k = 0; k < list.length; k++) {
        const f = list[k];
        setStatus(msg("adding_local", { done: k, total: list.length }), "busy", k, list.length);
        let bytes;
        try { bytes = new Uint8Array(await f.arrayBuffer()); }
        catch { await this.client.call("fail_source", begun.batch, f.name, msg("undecodable")); continue; }
        await this.addOne(begun.batch, f.name, { name: f.name }, { bytes, type: f.type || "audio/wav" }, sr);
      }
      await this.commit(begun.batch);
    });
  }

  // After a model swap: the sources at another sample rate, decoded again at the new one.
  async redecode(keys) {
    const sr = this.model().sample_rate;
    for (let k = 0; k < keys.length; k++) {
      setStatus(msg("reencoding", { k: k + 1, n: keys.length }), "busy", k, keys.length);
      const cached = this.previews.get(keys[k]);
      if (!cached) continue;
      try {
        const r = await this.client.call("replace_audio", keys[k], await decode(cached.bytes, sr), sr);
        if (r.ok) this.onMap(r.map);
      } catch { /* the source stays off the map */ }
    }
    if (keys.length) {
      const r = await this.client.call("map_state");
      if (r.ok) this.onMap(r.map);
    }
  }
}
