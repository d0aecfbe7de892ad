// One user's session, run the same way in every browser engine (tests/browser/test_engines.py
// drives Chromium with Playwright, Firefox with puppeteer-core over WebDriver BiDi, WebKitGTK
// with Selenium over WebDriver). Two stages, because the click on the map is the driver's own
// (a trusted click: the user gesture that lets the page's AudioContext run):
//  - opts.stage "setup": boot, add local audio files (wav, mp3, ogg, flac and a bad one), click
//    the map by script (no gesture: where the engine keeps audio suspended then, the status
//    must say so) and return the report with `spot`, an empty point of the map in viewport
//    pixels;
//  - the driver clicks `spot`;
//  - opts.stage "click": check the sound played (a WebAudio voice, the AudioContext running)
//    and its download, then drag to scrub, and return the whole report.
// Every step that cannot run says why. `opts`: {stage, files: [{name, url}]}.
async (opts) => {
  const $ = (id) => document.getElementById(id);
  const status = () => [$("status").dataset.state, $("status-message").textContent];
  const until = async (test, ms = 60000) => {
    const t0 = performance.now();
    while (!test()) {
      if (performance.now() - t0 > ms) throw new Error(`timed out: ${status()[1]}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const busy = () => document.body.dataset.job || status()[0] === "busy";
  const press = (type, c) => $("map").dispatchEvent(new PointerEvent(type, { clientX: c.x, clientY: c.y, button: 0, buttons: type === "pointerup" ? 0 : 1, pointerId: 1, bubbles: true }));
  const setup = async () => {
    const report = { steps: {}, engine: navigator.userAgent };
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
    // two empty spots, in view: one clicked by script, one by the driver
    const canvas = $("map");
    canvas.scrollIntoView({ block: "center" });
    const spots = [];
    for (const ny of [0.5, 0.3, 0.7, 0.15, 0.85]) {
      for (const nx of [0.5, 0.3, 0.7, 0.15, 0.85]) {
        const c = window.intellimixer.toClient(nx, ny);
        const clear = (q) => Math.hypot(q.x - c.x, q.y - c.y) > 20;
        if (points.every((p) => clear({ x: p.clientX, y: p.clientY })) && spots.every(clear)) spots.push({ x: Math.round(c.x), y: Math.round(c.y) });
      }
    }
    // a script's click is no user gesture: where the engine then keeps audio suspended, the
    // status must say so (the sound is made all the same)
    const voices = window.intellimixer.stats.voices;
    press("pointerdown", spots[0]);
    press("pointerup", spots[0]);
    await until(() => window.intellimixer.state.map.history.length === 1);
    await until(() => !busy());
    await new Promise((r) => setTimeout(r, 2500)); // (longer than the page waits before it says so)
    const ctx = window.intellimixer.state.audio.ctx;
    report.steps.script_click = { audio: ctx ? ctx.state : "none", status: status(), voices: window.intellimixer.stats.voices - voices };
    report.spot = spots[1];
    window.__engineScenario = { report, points, voices: window.intellimixer.stats.voices };
    return report;
  };
  const afterClick = async () => {
    const { report, points, voices } = window.__engineScenario;
    const canvas = $("map");
    await until(() => window.intellimixer.state.map.history.length === 2);
    await until(() => !busy());
    const audio = window.intellimixer.state.audio;
    await until(() => audio.ctx && audio.ctx.state === "running", 3000).catch(() => {}); // (resume() settles a moment later)
    const ctx = audio.ctx;
    const wav = new Uint8Array(await (await fetch($("download").href)).arrayBuffer());
    const text = (a, b) => String.fromCharCode(...wav.subarray(a, b));
    const credits = await (await fetch($("download-credits").href)).text();
    report.steps.click = {
      status: status(), voices: window.intellimixer.stats.voices - voices, audio: ctx ? ctx.state : "none", played_s: ctx ? ctx.currentTime : 0,
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
    await until(() => window.intellimixer.state.map.history.length >= 3 && !busy());
    await new Promise((r) => setTimeout(r, 300));
    await until(() => !busy());
    report.steps.scrub = { previews: window.intellimixer.stats.previews - previews, kept: window.intellimixer.state.map.history.length, status: status() };
    return report;
  };
  return opts.stage === "click" ? afterClick() : setup();
}
