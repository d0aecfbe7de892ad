"""The X/Y menus offer the similarity axes after the dims; the map then shows the sources'
principal plane, a click there makes a sound at that point, and a click on a source plays it."""
from __future__ import annotations

from browser_util import boot, make_sound, query, wait_idle
from intellimixer.strings import msg


def test_the_similarity_map_from_the_menus(page, app_url, needs_numpy):
    boot(page, app_url)
    query(page, "footstep", 12)
    d = page.evaluate("window.intellimixer.state.model.latent_dim")
    options = page.eval_on_selector_all("#x-dim option", "os => os.map((o) => [o.value, o.textContent])")
    assert options[-2:] == [[str(d), msg("similarity_option", k=1)], [str(d + 1), msg("similarity_option", k=2)]]
    page.select_option("#x-dim", str(d))
    wait_idle(page)
    page.select_option("#y-dim", str(d + 1))
    wait_idle(page)
    m = page.evaluate("window.intellimixer.state.map")
    assert m["dims"] == [d, d + 1] and m["labels"] == [msg("similarity_label", k=1), msg("similarity_label", k=2)]
    entry = make_sound(page, 1, at=None)
    assert entry["on_map"] and entry["filename"].count("similarity") == 2
    p = page.evaluate("window.intellimixer.points()")[0]
    page.mouse.click(p["clientX"], p["clientY"])
    page.wait_for_function("document.getElementById('source-audio').src.startsWith('blob:')")
    assert not page.errors
