"""Audition: with the toggle on, or while A is held, hovering a source plays it and leaving it
stops it; without either, hovering plays nothing (and never stops a sound the user started).
The source player's play() and pause() calls are counted (the sounds are short: whether one
is still playing says little)."""
from __future__ import annotations

from browser_util import boot, query

COUNT = """() => {
    const a = document.getElementById('source-audio');
    window.__calls = { play: 0, pause: 0 };
    const play = a.play.bind(a), pause = a.pause.bind(a);
    a.play = () => { window.__calls.play++; return play(); };
    a.pause = () => { window.__calls.pause++; return pause(); };
}"""


def calls(page) -> dict:
    return page.evaluate("({ ...window.__calls })")


def test_hovering_plays_sources_only_while_auditioning(page, app_url, needs_numpy):
    boot(page, app_url)
    query(page, "footstep", 8)
    page.evaluate(COUNT)
    p = page.evaluate("window.intellimixer.points()")[0]
    away = (p["clientX"] + 40, p["clientY"] + 40)
    page.mouse.move(*away)
    page.mouse.move(p["clientX"], p["clientY"])
    page.mouse.move(*away)
    page.wait_for_timeout(200)
    assert calls(page) == {"play": 0, "pause": 0}  # audition off: hovering is only the tooltip
    page.check("#audition")
    page.mouse.move(p["clientX"], p["clientY"])
    page.wait_for_function("window.__calls.play === 1")
    assert page.inner_text("#source-info").startswith(p["name"])
    page.mouse.move(*away)
    page.wait_for_function("window.__calls.pause === 1")
    page.uncheck("#audition")
    # holding A does the same, and letting go stops it
    page.keyboard.down("a")
    page.mouse.move(p["clientX"], p["clientY"])
    page.wait_for_function("window.__calls.play === 2")
    page.keyboard.up("a")
    page.wait_for_function("window.__calls.pause === 2")
    # a source started by a click is not stopped when the pointer leaves it
    page.mouse.click(p["clientX"], p["clientY"])
    page.wait_for_function("window.__calls.play === 3")
    page.mouse.move(*away)
    page.wait_for_timeout(300)
    assert calls(page) == {"play": 3, "pause": 2}
    assert not page.errors
