"""The cross-engine suite: one user's session (engine_scenario.js) in Chromium (Playwright),
Firefox ESR (puppeteer-core over WebDriver BiDi) and WebKitGTK (Selenium over WebDriver, under
xvfb). Each boots to Ready (without numpy inside Pyodide: to the step before, saying so); with
numpy, local wav/mp3/ogg/flac files are dropped (what an engine cannot decode is named and
reported), the map fills, a click makes a sound that plays and downloads as a WAV with its
credits, and a drag scrubs. Each engine's report goes to build/engine-results/ (the README's
"Tested browsers" table: scripts/browser_table.py). Run one engine with ``-m firefox`` etc."""
from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from browser_util import ROOT, packages_dir
from chromium import NUMPY_WHEEL
from intellimixer.strings import msg

RESULTS = ROOT / "build" / "engine-results"
SCENARIO = (Path(__file__).with_name("engine_scenario.js")).read_text(encoding="utf-8")
FORMATS = ("wav", "flac", "ogg", "mp3")


def numpy_here() -> bool:
    d = packages_dir()
    return bool(d and (d / NUMPY_WHEEL).is_file())


class _Cors(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cross-Origin-Resource-Policy", "cross-origin")
        super().end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def audio_files(tmp_path_factory):
    """One sound per format (and a bad file), served with CORS: wav and flac from Debian's
    hydrogen-drumkits, ogg from sound-theme-freedesktop, mp3 encoded here with lameenc."""
    from intellimixer import audio
    from samples import FREEDESKTOP, HYDROGEN

    wavs, flacs = sorted(HYDROGEN.glob("*/*.wav")), sorted(HYDROGEN.glob("*/*.flac"))
    ogas = sorted(FREEDESKTOP.glob("*.oga"))
    if not (wavs and flacs and ogas):
        pytest.skip("needs Debian's hydrogen-drumkits and sound-theme-freedesktop")
    d = tmp_path_factory.mktemp("engine-audio")
    shutil.copy(wavs[len(wavs) // 2], d / "kick.wav")
    shutil.copy(flacs[0], d / "conga.flac")
    shutil.copy(next(p for p in ogas if p.name.startswith("bell")) if any(p.name.startswith("bell") for p in ogas) else ogas[0],
                d / "bell.ogg")
    import lameenc
    import numpy as np

    y, sr = audio.read_wav((d / "kick.wav").read_bytes())
    pcm = (np.clip(y if y.ndim == 1 else y.mean(axis=1), -1, 1) * 32767).astype("<i2").tobytes()
    enc = lameenc.Encoder()
    enc.set_bit_rate(128)
    enc.set_in_sample_rate(sr)
    enc.set_channels(1)
    (d / "tone.mp3").write_bytes(enc.encode(pcm) + enc.flush())
    (d / "bad.wav").write_bytes(b"RIFF not really a wave file" * 20)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Cors, directory=str(d)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    yield [{"name": n, "url": base + n} for n in ("kick.wav", "conga.flac", "bell.ogg", "tone.mp3", "bad.wav")]
    httpd.shutdown()


@pytest.fixture(scope="module")
def audio_sink(tmp_path_factory):
    """An audio output for engines that have none in a container (Firefox needs one for its
    AudioContext to run; Chromium and WebKit bring their own): PulseAudio with a null sink, its
    socket in a private runtime folder. Yields the environment that points a browser at it."""
    if shutil.which("pulseaudio") is None:
        pytest.skip("needs PulseAudio for an audio output (apt-get install pulseaudio; scripts/setup.sh test does)")
    run = tmp_path_factory.mktemp("pulse")
    env = {**os.environ, "XDG_RUNTIME_DIR": str(run), "HOME": str(run)}
    proc = subprocess.Popen(["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
                             "--load=module-null-sink sink_name=intellimixer", "--load=module-native-protocol-unix"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        if (run / "pulse" / "native").exists() or proc.poll() is not None:
            break
        time.sleep(0.05)
    if not (run / "pulse" / "native").exists():
        proc.kill()
        pytest.fail(f"PulseAudio did not start: {proc.stderr.read().decode()[-500:]}")
    yield env
    proc.terminate()
    proc.wait(10)


def check(engine: str, report: dict) -> dict:
    """The report's verdicts (what works, what falls back), saved for the README's table."""
    assert "failed" not in report, report.get("failed")
    boot = report["steps"]["boot"]
    # what an engine lacks, the page says, and falls back: Web MIDI (the panel), WebGPU (the model
    # runs on WebAssembly, the backend's note says why), cross-origin isolation (one thread)
    assert report["midi"] in (msg("midi_unavailable"), msg("midi_none")), report["midi"]
    out = {"engine": engine, "version": report.get("version", ""), "isolated": boot["isolated"], "backend": report["backend"],
           "backend_note": report["backend_note"], "midi": report["midi"] != msg("midi_unavailable"), "numpy": numpy_here()}
    if not numpy_here():
        # the step before Ready, saying why
        assert boot["status"][0] == "error" and "numpy" in boot["status"][1], boot
        out["reached"] = "Python started; numpy not available here (the step before Ready)"
    else:
        assert boot["ready"], boot
        files = report["steps"]["files"]
        added = files["added"]
        assert "kick.wav" in added and "conga.flac" in added, files
        assert "bad.wav" not in added and "bad.wav" in files["status"][1], files
        out["decodes"] = [f for f in FORMATS if any(a.endswith("." + f) for a in added)]
        out["cannot_decode"] = [f for f in FORMATS if f not in out["decodes"]]
        for f in out["cannot_decode"]:  # named in the status, never silently dropped
            assert any(n.endswith("." + f) and n in files["status"][1] for n in ("bell.ogg", "tone.mp3")), files
        # a script's click is no gesture: the sound is made; where the engine keeps audio
        # suspended then, the status says so (headless Chromium lets it run: no notice)
        script = report["steps"]["script_click"]
        assert script["voices"] >= 1, script
        if script["audio"] == "running":
            assert script["status"][0] == "ready", script
        else:
            assert script["status"] == ["warn", msg("audio_suspended", number=1)], script
        out["script_click"] = script["audio"]
        click = report["steps"]["click"]
        assert click["voices"] >= 1 and click["wav"]["riff"] == "RIFF" and click["wav"]["wave"] == "WAVE", click
        # the sound is heard: the driver's click (a user gesture) let the AudioContext run, and its clock moved
        assert click["audio"] == "running" and click["played_s"] > 0, click
        assert click["wav"]["info"] and click["credits_names"] >= 1 and click["download"].endswith(".wav"), click
        scrub = report["steps"]["scrub"]
        assert scrub["previews"] >= 1 and scrub["kept"] >= 2, scrub
        out["reached"] = "Ready; files, click, download, scrub"
        out["audio"] = click["audio"]
    assert not report.get("errors"), report["errors"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{engine}.json").write_text(json.dumps(out, indent=1))
    return out


def call(stage: str, opts: dict) -> str:
    """The JS expression that runs one stage of the scenario (``setup``, then ``click``)."""
    return f"({SCENARIO})({json.dumps({**opts, 'stage': stage})}).catch((e) => ({{failed: String(e)}}))"


def _run(cmd: list[str], timeout: int = 600, env: dict | None = None) -> dict:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    assert r.returncode == 0 and lines, (r.stdout[-2000:], r.stderr[-3000:])
    return json.loads(lines[-1])


@pytest.mark.chromium
def test_chromium(browser, app_url, audio_files):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.set_default_timeout(300_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(app_url)
    opts = {"files": audio_files}
    report = page.evaluate(call("setup", opts))
    if report.get("spot"):  # the driver's own (trusted) click: the user gesture that lets audio run
        page.mouse.click(report["spot"]["x"], report["spot"]["y"])
        report = page.evaluate(call("click", opts))
    report["version"] = f"Chromium {browser.version}"
    report["errors"] = errors
    ctx.close()
    check("chromium", report)


@pytest.mark.firefox
def test_firefox(app_url, audio_files, audio_sink):
    if not Path(os.environ.get("INTELLIMIXER_FIREFOX", "/usr/bin/firefox-esr")).exists():
        pytest.skip("Firefox ESR not found (apt-get install firefox-esr)")
    if shutil.which("node") is None or not (ROOT / "node_modules" / "puppeteer-core").is_dir():
        pytest.skip("needs node and `npm ci` (puppeteer-core)")
    report = _run(["node", "tests/js/firefox_scenario.mjs", app_url, json.dumps({"files": audio_files})], env=audio_sink)
    check("firefox", report)


@pytest.mark.webkit
def test_webkit(app_url, audio_files):
    if not Path("/usr/bin/WebKitWebDriver").exists() or shutil.which("xvfb-run") is None:
        pytest.skip("WebKitGTK's driver or xvfb not found (apt-get install webkit2gtk-driver xvfb)")
    pytest.importorskip("selenium")
    report = _run(["xvfb-run", "-a", sys.executable, "tests/browser/webkit_scenario.py", app_url,
                   json.dumps({"files": audio_files})])
    check("webkit", report)
