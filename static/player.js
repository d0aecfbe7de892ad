// Playback. Generated sounds play through WebAudio from the worker's float32 samples (no WAV
// parsing, no decodeAudioData), each new one crossfaded over FADE_S with the one playing;
// the <audio> elements hold the WAV / the source preview for the user's own controls.
// Counters (crossfades) go to the shared stats object.

const $ = (id) => document.getElementById(id);
export const FADE_S = 0.04; // crossfade between consecutive generated sounds (WebAudio gain ramps)
const SILENT_CHECK_MS = 1500; // how long an AudioContext may take to start running after a gesture

export class Player {
  constructor(stats) {
    this.stats = stats;
    this.ctx = null;
    this.voice = null;
    this.silentWarned = false; // the "not playing audio" notice was shown (watchSilent)
    this.urls = { generated: null, source: null };
  }

  // Creates / resumes the AudioContext: call inside a user gesture (click, key, pointerdown).
  unlock() {
    try {
      if (!this.ctx) this.ctx = new (window.AudioContext || window.webkitAudioContext)();
      if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
    } catch { return null; }
    return this.ctx;
  }

  // Calls onSilent() when the AudioContext is still not running SILENT_CHECK_MS after a voice
  // started (the browser refused to start audio, or there is no output device); once until audio
  // has run again. Should it start running after all (a slow output device, a busy machine),
  // onRunning() is called then, so that the warning does not outlive its cause.
  watchSilent(onSilent, onRunning = () => {}) {
    const ctx = this.ctx;
    if (!ctx || ctx.state === "running") { this.silentWarned = false; return; }
    setTimeout(() => {
      if (ctx.state === "running") { this.silentWarned = false; return; }
      if (this.silentWarned) return;
      this.silentWarned = true;
      onSilent();
      const started = () => {
        if (ctx.state !== "running") return;
        ctx.removeEventListener("statechange", started);
        this.silentWarned = false;
        onRunning();
      };
      ctx.addEventListener("statechange", started);
    }, SILENT_CHECK_MS);
  }

  // The new sound fades in over FADE_S while the one playing fades out over the same time;
  // false where WebAudio is not available (the <audio> element plays it then).
  startVoice(pcm, rate) {
    try {
      const ctx = this.unlock();
      if (!ctx) return false;
      const buffer = ctx.createBuffer(1, pcm.length, rate);
      buffer.copyToChannel(pcm, 0);
      const now = ctx.currentTime;
      const gain = ctx.createGain();
      gain.gain.setValueAtTime(0, now);
      gain.gain.linearRampToValueAtTime(1, now + FADE_S);
      const src = ctx.createBufferSource();
      src.buffer = buffer;
      src.connect(gain).connect(ctx.destination);
      src.start(now);
      this.stats.voices++;
      const old = this.voice;
      if (old) {
        old.gain.gain.cancelScheduledValues(now);
        old.gain.gain.setValueAtTime(old.gain.gain.value, now);
        old.gain.gain.linearRampToValueAtTime(0, now + FADE_S);
        try { old.src.stop(now + FADE_S + 0.005); } catch { /* already stopped */ }
        this.stats.crossfades++;
      }
      const voice = { src, gain };
      this.voice = voice;
      src.onended = () => { if (this.voice === voice) this.voice = null; };
      return true;
    } catch (err) {
      console.warn("intellimixer: WebAudio playback failed", err);
      return false;
    }
  }

  // Points the generated-sound <audio> element at `entry` (while scrubbing only on release:
  // a media pipeline per new src costs main-thread time) and plays it there unless WebAudio
  // already does (`played`; null: start it now).
  playGenerated(entry, played = null, scrubbing = false) {
    const el = $("generated-audio");
    el.pause();
    if (!scrubbing && el.src !== entry.wavUrl) el.src = entry.wavUrl;
    if (played === null) played = this.startVoice(entry.pcm, entry.rate);
    if (!played) {
      if (el.src !== entry.wavUrl) el.src = entry.wavUrl;
      el.play().catch(() => { /* autoplay may be refused; the controls stay */ });
    }
  }

  syncGenerated(entry) {
    const el = $("generated-audio");
    if (entry && el.src !== entry.wavUrl) el.src = entry.wavUrl;
  }

  // `which`: "source" or "generated"; plays `blob` in that <audio> element.
  setAudio(which, blob) {
    if (this.urls[which]) URL.revokeObjectURL(this.urls[which]);
    const url = URL.createObjectURL(blob);
    this.urls[which] = url;
    const el = $(`${which}-audio`);
    el.src = url;
    el.play().catch(() => { /* autoplay may be refused; the controls stay */ });
    return url;
  }
}
