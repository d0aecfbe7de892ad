"""Audition: with the toggle on, or while A is held, hovering a source plays it and leaving it
stops it; without either, hovering plays nothing (and never stops a sound the user started)."""
from __future__ import annotations

from browser_util import boot, query


def playing(page) -> bool:
    return page.evaluate("(() => { const a = document.getElementById('source-audio'); return Boolean(a.src) && !a.paused; })()")


def test_hovering_plays_sources_only_while_auditioning(page, app_url, needs_numpy):
    boot(page, app_url)
    query(page, "footstep", 8)
    p = page.evaluate("window.intellimixer.points()")[0]
    away = (p["clientX"] + 40, p["clientY"] + 40)
    page.mouse.move(*away)
    page.mouse.move(p["clientX"], p["clientY"])
    page.wait_for_timeout(200)
    assert not playing(page)  # audition off: hovering is only the tooltip
    page.check("#audition")
    page.mouse.move(*away)
    page.mouse.move(p["clientX"], p["clientY"])
    page.wait_for_function("(() => { const a = document.getElementById('source-audio'); return a.src && !a.paused; })()")
    assert page.inner_text("#source-info").startswith(p["name"])
    page.mouse.move(*away)
    page.wait_for_function("document.getElementById('source-audio').paused")
    page.uncheck("#audition")
    # holding A does the same, and letting go stops it
    page.mouse.move(*away)
    page.keyboard.down("a")
    page.mouse.move(p["clientX"], p["clientY"])
    page.wait_for_function("!document.getElementById('source-audio').paused")
    page.keyboard.up("a")
    page.wait_for_function("document.getElementById('source-audio').paused")
    # a source started by a click keeps playing when the pointer leaves it
    page.mouse.click(p["clientX"], p["clientY"])
    page.wait_for_function("!document.getElementById('source-audio').paused")
    page.mouse.move(*away)
    page.wait_for_timeout(200)
    assert playing(page)
    assert not page.errors
