"""MIDI control, with navigator.requestMIDIAccess mocked (one fake controller): learn maps two
controls to X and Y and a key to "make a sound here"; the controls move the cursor and play
previews, the key makes the sound to keep; the mapping comes back with the session. Without
Web MIDI the panel says so."""
from __future__ import annotations

from browser_util import boot, query, status, wait_idle
from intellimixer.strings import msg

FAKE_MIDI = """
(() => {
  const input = { id: "fake-1", name: "Fake controller", onmidimessage: null };
  window.__midi = (bytes) => input.onmidimessage && input.onmidimessage({ data: new Uint8Array(bytes) });
  navigator.requestMIDIAccess = async () => ({ inputs: new Map([["fake-1", input]]), outputs: new Map(), onstatechange: null });
})();
"""


def test_learn_controls_and_key_then_play_the_map(page, app_url, needs_numpy):
    page.add_init_script(FAKE_MIDI)
    boot(page, app_url)
    assert page.inner_text("#midi-info") == msg("midi_none")
    query(page, "footstep", 8)
    page.click("#midi-learn")
    page.wait_for_function("(t) => document.getElementById('status-message').textContent === t", arg=msg("midi_learn_x"))
    page.evaluate("__midi([0xB0, 21, 10])")
    page.evaluate("__midi([0xB0, 21, 12])")  # the same control again: still X, not Y
    page.evaluate("__midi([0xB0, 22, 90])")
    page.evaluate("__midi([0x90, 36, 100])")
    assert status(page) == ("ready", msg("midi_learnt", x=21, y=22, note=36))
    assert page.inner_text("#midi-info") == msg("midi_mapped", x=21, y=22, note=36, ch=1)
    # the controls move the cursor (and preview there); the key makes the sound to keep
    page.evaluate("window.intellimixer.resetStats()")
    page.evaluate("__midi([0xB0, 21, 127])")
    page.evaluate("__midi([0xB0, 22, 0])")
    c = page.evaluate("window.intellimixer.cursor()")
    assert (c["nx"], c["ny"], c["shown"]) == (1.0, 0.0, True)
    page.wait_for_function("window.intellimixer.stats.previews >= 1")
    page.evaluate("__midi([0xB0, 22, 64])")
    page.evaluate("__midi([0x90, 36, 90])")
    page.wait_for_function("window.intellimixer.state.map.history.length === 1")
    wait_idle(page)
    point = page.evaluate("window.intellimixer.state.map.generated[0]")
    assert abs(point["nx"] - 1.0) < 1e-6 and abs(point["ny"] - 64 / 127) < 1e-6  # (float32 latents)
    # the mapping is part of the session: back after a reload
    page.evaluate("window.intellimixer.sessions.idle()")
    page.reload()
    page.evaluate("window.intellimixer.ready")
    assert page.inner_text("#midi-info") == msg("midi_mapped", x=21, y=22, note=36, ch=1)
    page.evaluate("__midi([0xB0, 21, 0])")
    assert page.evaluate("window.intellimixer.cursor().nx") == 0.0
    assert not page.errors


def test_without_web_midi_the_panel_says_so(page, app_url_no_numpy):
    page.add_init_script("delete Navigator.prototype.requestMIDIAccess; delete navigator.requestMIDIAccess;")
    page.goto(app_url_no_numpy, wait_until="domcontentloaded")
    page.wait_for_function("document.getElementById('midi-info').textContent !== ''")
    assert page.inner_text("#midi-info") == msg("midi_unavailable")
    assert page.is_disabled("#midi-learn") and page.is_disabled("#midi-clear")
