"""Browser tests that need no numpy inside Pyodide: they run everywhere (CI included)."""
from __future__ import annotations

import time

from browser_util import boot, click_map, status, wait_idle


def test_ui_shows_at_once_with_defaults(page, app_url_no_numpy):
    t = time.perf_counter()
    page.goto(app_url_no_numpy, wait_until="domcontentloaded")
    page.wait_for_selector("#map", state="visible")
    # the defaults come with the page's sentences and limits (strings.json), long before Python
    page.wait_for_function("document.getElementById('count').value !== ''")
    shown = time.perf_counter() - t
    assert shown < 5, f"UI took {shown:.1f} s to show"
    # the runtime is still starting: controls are there already, with their defaults
    assert page.input_value("#query") == "footstep"
    assert page.input_value("#count") == "20"
    assert page.get_attribute("#count", "max") == "150"
    assert page.get_attribute("#token", "type") == "password"
    assert page.input_value("#token") == ""
    assert not page.is_checked("#remember-token")
    for sel in ("#x-dim", "#y-dim"):
        assert page.eval_on_selector(sel, "s => s.options.length") == 0
        assert page.is_disabled(sel)
    assert page.get_attribute("#model-files", "multiple") is not None
    assert page.is_visible("#status-message") and page.is_visible("#progress")
    assert page.inner_text("#status-message").strip()
    assert not page.is_visible("#download")


def test_python_boots_and_missing_numpy_is_a_clear_error(page, app_url_no_numpy):
    state, msg = boot(page, app_url_no_numpy, expect_ready=False)
    assert state == "error"
    assert "Could not load numpy" in msg and "--pyodide-packages" in msg
    # the page stays usable and says why actions cannot run
    page.fill("#query", "kick")
    page.click("#go")
    state, msg = status(page)
    assert state == "warn" and "model" in msg.lower()
    click_map(page, 0.5, 0.5)
    state, msg = status(page)
    assert state == "warn" and ("model" in msg.lower() or "starting" in msg.lower())
    assert page.get_attribute("#map", "data-generated") == "0"
    assert not page.errors


def test_clicks_while_starting_are_answered(page, app_url_no_numpy):
    page.goto(app_url_no_numpy, wait_until="domcontentloaded")
    page.wait_for_function("window.intellimixer && document.body.dataset.job === 'starting'")
    click_map(page, 0.4, 0.4)
    state, msg = status(page)
    assert state == "warn" and "starting" in msg.lower()
    page.click("#go")  # a search waits for the app (see test_features: it runs once ready)
    state, msg = status(page)
    assert state == "busy" and "starts as soon as the app is ready" in msg
    page.evaluate("window.intellimixer.ready")


def test_token_kept_in_memory_unless_remembered(page, app_url_no_numpy):
    page.goto(app_url_no_numpy, wait_until="domcontentloaded")
    page.fill("#token", "secret-1")
    assert page.evaluate("window.intellimixer.state.token") == "secret-1"
    assert page.evaluate("localStorage.length") == 0
    page.check("#remember-token")
    assert page.evaluate("localStorage.getItem('intellimixer.freesound_token')") == "secret-1"
    page.reload(wait_until="domcontentloaded")
    assert page.input_value("#token") == "secret-1" and page.is_checked("#remember-token")
    page.uncheck("#remember-token")
    assert page.evaluate("localStorage.length") == 0
    page.reload(wait_until="domcontentloaded")
    assert page.input_value("#token") == "" and not page.is_checked("#remember-token")


def test_the_boot_says_what_it_downloads_and_its_bar_moves(page, app_url_no_numpy):
    import json

    from intellimixer.strings import msg

    page.goto(app_url_no_numpy, wait_until="domcontentloaded")
    sizes = page.evaluate("fetch('static/vendor/runtime.json').then((r) => r.json()).then((r) => r.downloads)")
    first = msg("boot_python", mb=f"{(sizes['engine'] + sizes['onnx']) / 1e6:.1f}")
    page.wait_for_function("(t) => document.getElementById('status-message').textContent === t", arg=first)
    assert "Pyodide" not in first and "MB" in first
    seen = []
    for _ in range(12):  # (the bar and the sentence read together: the step may end in between)
        v, m, text = page.evaluate("(() => { const p = document.getElementById('progress');"
                                   " return [p.value, p.max, document.getElementById('status-message').textContent]; })()")
        if text != first:
            break
        seen.append([v, m])
        time.sleep(0.15)
    values = [v for v, _ in seen]
    total = sizes["engine"] + sizes["onnx"] + sizes["model"]
    assert all(m == total for _, m in seen), json.dumps(seen)
    assert len(set(values)) >= 3 and values == sorted(values), values  # it moves, forwards only
    wait_idle(page)
    log = page.eval_on_selector_all("#status-log li", "els => els.map(e => e.textContent)")
    assert first in log
