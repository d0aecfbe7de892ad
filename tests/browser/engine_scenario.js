// One user's session, run the same way in every browser engine (tests/browser/test_engines.py
// drives Chromium with Playwright, Firefox with puppeteer-core over WebDriver BiDi, WebKitGTK
// with Selenium over WebDriver): boot, add local audio files (wav, mp3, ogg, flac and a bad
// one), click the map, check the sound played and its download, drag to scrub. Returns a
// report; every step that cannot run says why. `opts`: {files: [{name, url}], numpy: bool}.
async (opts) => {
  const $ = (id) => document.getElementById(id);
  const report = { steps: {}, engine: navigator.userAgent };
  const status = () => [$("status").dataset.state, $("status-message").textContent];
  const until = async (test, ms = 60000) => {
    const t0 = performance.now();
    while (!test()) {
      if (performance.now() - t0 > ms) throw new Error(`timed out: ${status()[1]}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const busy = () => document.body.dataset.job || status()[0] === "busy";
  await until(() => window.intellimixer); // (a driver may run this before the page's modules)
  await window.intellimixer.ready;
  report.steps.boot = { ready: document.body.dataset.ready === "1", status: status(), isolated: self.crossOriginIsolated };
  report.backend = $("model-backend").textContent;
  report.backend_note = $("model-backend").title;
  report.midi = $("midi-info").textContent;
  if (!report.steps.boot.ready) return report; // (no numpy inside Pyodide: the step before Ready)
  // local files, picked at once (the file input: synthetic drops carry no files in WebKit):
  // each format decoded by the engine, the bad one named
  const dt = new DataTransfer();
  for (const f of opts.files) dt.items.add(new File([await (await fetch(f.url)).arrayBuffer()], f.name));
  $("local-files").files = dt.files;
  $("local-files").dispatchEvent(new Event("change", { bubbles: true }));
  await until(() => document.body.dataset.job);
  await until(() => !busy());
  const points = window.intellimixer.points();
  report.steps.files = { status: status(), added: points.map((p) => p.name) };
  if (!points.length) return report;
  // a click on an empty spot: the sound plays (a WebAudio voice) and downloads as a WAV with credits
  const canvas = $("map");
  let spot = null;
  for (const ny of [0.5, 0.3, 0.7, 0.15, 0.85]) {
    for (const nx of [0.5, 0.3, 0.7, 0.15, 0.85]) {
      const c = window.intellimixer.toClient(nx, ny);
      if (!spot && points.every((p) => Math.hypot(p.clientX - c.x, p.clientY - c.y) > 20)) spot = c;
    }
  }
  const press = (type, c) => canvas.dispatchEvent(new PointerEvent(type, { clientX: c.x, clientY: c.y, button: 0, buttons: type === "pointerup" ? 0 : 1, pointerId: 1, bubbles: true }));
  const voices = window.intellimixer.stats.voices;
  press("pointerdown", spot);
  press("pointerup", spot);
  await until(() => window.intellimixer.state.map.history.length === 1);
  await until(() => !busy());
  const ctx = window.intellimixer.state.audio.ctx;
  const wav = new Uint8Array(await (await fetch($("download").href)).arrayBuffer());
  const text = (a, b) => String.fromCharCode(...wav.subarray(a, b));
  const credits = await (await fetch($("download-credits").href)).text();
  report.steps.click = {
    status: status(), voices: window.intellimixer.stats.voices - voices, audio: ctx ? ctx.state : "none",
    wav: { riff: text(0, 4), wave: text(8, 12), info: new TextDecoder().decode(wav).includes("INFO"), bytes: wav.length },
    download: $("download").download, credits_names: points.filter((p) => credits.includes(p.name)).length,
  };
  // drag to scrub: previews while moving, the sound to keep where it ends
  const previews = window.intellimixer.stats.previews;
  const start = window.intellimixer.toClient(0.2, 0.2);
  press("pointerdown", start);
  for (let k = 1; k <= 12; k++) {
    canvas.dispatchEvent(new PointerEvent("pointermove", { clientX: start.x + 15 * k, clientY: start.y - 8 * k, buttons: 1, pointerId: 1, bubbles: true }));
    await new Promise((r) => setTimeout(r, 60));
  }
  press("pointerup", { x: start.x + 180, y: start.y - 96 });
  await until(() => window.intellimixer.state.map.history.length >= 2 && !busy());
  await new Promise((r) => setTimeout(r, 300));
  await until(() => !busy());
  report.steps.scrub = { previews: window.intellimixer.stats.previews - previews, kept: window.intellimixer.state.map.history.length, status: status() };
  return report;
}
