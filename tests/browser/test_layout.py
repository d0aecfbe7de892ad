"""The layout (issue: the output in reach): at 1440x900 and 1024x640 the map, the current
sound's player, its download and the status are all inside the window without scrolling,
and the history scrolls on its own; a phone-sized window stacks them. The map explains
itself (a legend for every mark), the keyboard cursor shows only after keyboard use, Tab
from the form reaches the map, and the link to a sound (with its copy button) shows only
once there is a sound."""
from __future__ import annotations

import pytest

from browser_util import boot, click_map, make_sound, query
from intellimixer.strings import msg

SIZES = [(1440, 900), (1024, 640)]


def inside(page, selector):
    box = page.locator(selector).bounding_box()
    vw, vh = page.viewport_size["width"], page.viewport_size["height"]
    assert box is not None, f"{selector} is not shown"
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= vw + 0.5 and box["y"] + box["height"] <= vh + 0.5, \
        f"{selector} at {box} is outside the {vw}x{vh} window"
    return box


def no_page_scroll(page):
    sizes = page.evaluate("[document.documentElement.scrollHeight, innerHeight, document.documentElement.scrollWidth, innerWidth]")
    assert sizes[0] <= sizes[1] and sizes[2] <= sizes[3], sizes


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_map_player_export_and_status_fit_the_window(page, app_url_no_numpy, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(app_url_no_numpy, wait_until="domcontentloaded")
    page.wait_for_selector("#map", state="visible")
    for sel in ("#map", "#status", "#generated-audio", "#export-format", "#legend", "#query", "#go"):
        inside(page, sel)
    no_page_scroll(page)
    m, s = page.locator("#map").bounding_box(), page.locator("#status").bounding_box()
    assert m["width"] >= 0.38 * size[0] and m["height"] >= 0.8 * size[1]
    assert s["x"] >= m["x"] + m["width"] - 1  # the output column is right of the map
    assert page.is_hidden("#share-link") and page.is_hidden("#copy-link")  # no sound yet


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_sound_made_can_be_heard_and_downloaded_without_scrolling(browser, app_url, needs_numpy, size):
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    boot(page, app_url)
    query(page, "footstep", 30)
    for k in range(8):
        make_sound(page, k + 1)
    for sel in ("#map", "#status", "#generated-audio", "#download", "#download-credits", "#copy-link"):
        inside(page, sel)
    no_page_scroll(page)
    # the history is a scrolling list of its own (eight sounds do not fit at these sizes)
    h = page.evaluate("(() => { const o = document.getElementById('history'); const s = getComputedStyle(o);"
                      " return [s.overflowY, o.scrollHeight, o.clientHeight]; })()")
    assert h[0] == "auto" and h[1] > h[2] > 0, h
    ctx.close()


def test_a_phone_sized_window_stacks_form_map_output_settings(page, app_url_no_numpy):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(app_url_no_numpy, wait_until="domcontentloaded")
    page.wait_for_selector("#map", state="visible")
    ys = [page.locator(sel).bounding_box() for sel in ("#query", "#map", "#status", "#generated-audio", "#x-dim", "#sessions")]
    assert [b["y"] for b in ys] == sorted(b["y"] for b in ys)
    for b in ys:
        assert b["x"] >= 0 and b["x"] + b["width"] <= 390.5
    assert ys[1]["height"] > 300 and ys[1]["width"] > 350  # the map keeps most of the width
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_legend_names_every_mark_in_the_map_colours(page, app_url_no_numpy):
    page.goto(app_url_no_numpy, wait_until="domcontentloaded")
    page.wait_for_function("document.querySelector('#legend li span[data-msg]').textContent !== ''")
    texts = page.eval_on_selector_all("#legend [data-msg]", "els => els.map((e) => [e.dataset.msg, e.textContent])")
    assert len(texts) == 8 and all(text == msg(key) for key, text in texts)
    # each mark is drawn in the colour the map uses for it (one definition: the stylesheet)
    colours = page.evaluate("""() => {
        const css = getComputedStyle(document.documentElement), v = (n) => css.getPropertyValue('--mark-' + n).trim();
        const bg = (sel) => getComputedStyle(document.querySelector(sel)).backgroundColor;
        const probe = document.createElement('div'); document.body.append(probe);
        const rgb = (c) => { probe.style.color = c; return getComputedStyle(probe).color; };
        return { freesound: [bg('#legend .mark.dot.freesound'), rgb(v('freesound'))], local: [bg('#legend .mark.dot.local'), rgb(v('local'))],
                 latest: [bg('#legend .mark.diamond.latest'), rgb(v('latest'))], generated: [bg('#legend .mark.diamond.generated'), rgb(v('generated'))] };
    }""")
    for name, (shown, defined) in colours.items():
        assert shown == defined, name


def test_keyboard_cursor_only_after_keyboard_use_and_tab_reaches_the_map(page, app_url_no_numpy):
    page.goto(app_url_no_numpy, wait_until="domcontentloaded")
    page.wait_for_selector("#map", state="visible")
    # a mouse click on the map: focus, but no keyboard cursor
    click_map(page, 0.3, 0.3)
    assert page.evaluate("document.activeElement.id") == "map"
    assert page.evaluate("window.intellimixer.cursor().shown") is False
    # from the form, Tab reaches the map (before the output and the settings)
    page.focus("#query")
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.id"))
        if seen[-1] == "map":
            break
    assert seen[-1] == "map", seen
    assert "x-dim" not in seen and "download" not in seen
    assert page.evaluate("window.intellimixer.cursor().shown") is True  # reached by keyboard: the cursor shows
    page.keyboard.press("ArrowRight")
    assert page.evaluate("window.intellimixer.cursor().nx") > 0.5


def test_copy_link_copies_the_shown_sound(browser, app_url, needs_numpy):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"])
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    boot(page, app_url)
    query(page, "footstep", 8)
    assert page.is_hidden("#copy-link")  # a map, but no sound yet
    entry = make_sound(page, 1)
    page.click("#copy-link")
    page.wait_for_function("document.getElementById('status-message').textContent.startsWith('Link to sound')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == app_url + entry["hash"]
    assert page.inner_text("#status-message") == msg("link_copied", number=entry["number"])
    ctx.close()
