"""The phase helper (static/phase-helper.js, py/phase_helper.py, intellimixer/cores.py): on a
cross-origin isolated page, a click's Griffin-Lim runs on two cores and gives the sound the
one-core page gives; a page without shared memory runs it on one core and still works."""
import io
import wave

import numpy as np

from browser_util import Served, blob_bytes, boot, make_sound, wait_idle

LISTEN = """() => {
  window.__cores = [];
  window.intellimixer.client.addEventListener("call", (e) => {
    const { op, reply } = e.detail;
    if (op === "generate" && reply.ok) window.__cores.push(reply.timings_ms.phase_cores);
  });
}"""


def _pcm(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768


def _noise_wav(path, seconds=2.0, sr=22050):
    """Sustained noise: a sound whose middle (where the two cores' halves meet) is loud."""
    x = np.random.default_rng(5).standard_normal(int(seconds * sr)) * 0.3
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def _click_sound(browser, packages, model_dir, wav, isolate):
    s = Served(packages_dir=packages, model_dir=model_dir, isolate=isolate)
    ctx = browser.new_context()
    page = ctx.new_page()
    try:
        boot(page, s.url)
        helper = page.evaluate("window.intellimixer.phaseHelper")
        page.set_input_files("#local-files", [str(wav)])
        page.wait_for_function("document.getElementById('map').dataset.points === '1'")
        wait_idle(page)
        page.evaluate(LISTEN)
        make_sound(page, 1)  # (an empty spot near the one source)
        x = _pcm(blob_bytes(page, "#generated-audio"))
        return helper, page.evaluate("window.__cores"), x
    finally:
        ctx.close()
        s.stop()


def test_two_cores_give_the_one_core_sound(browser, needs_numpy, default_model, tmp_path):
    wav = _noise_wav(tmp_path / "noise.wav")
    helper, cores, two = _click_sound(browser, needs_numpy, default_model, wav, isolate=True)
    assert helper is True and cores == [2], (helper, cores)
    helper, cores, one = _click_sound(browser, needs_numpy, default_model, wav, isolate=False)
    assert helper is False and cores == [1], (helper, cores)
    assert one.shape == two.shape
    middle = one[len(one) // 2 - 2048 : len(one) // 2 + 2048]
    assert np.sqrt(np.mean(middle**2)) > 0.01  # loud where the halves meet: the exchange matters there
    # the same sound to float rounding (a 16-bit WAV: a sample may differ by its last bit)
    assert np.abs(one - two).max() <= 2 / 32768
