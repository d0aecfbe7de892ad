"""Helpers shared by the browser tests (served app, page helpers); fixtures are in conftest.py."""
from __future__ import annotations

import importlib.util
import os
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for p in (ROOT / "tests", ROOT / "tests" / "browser", ROOT / "py"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from chromium import CHROMIUM, CHROMIUM_ARGS, NUMPY_WHEEL  # noqa: E402,F401
from fake_freesound import TOKEN_OK  # noqa: E402

BOOT_TIMEOUT_MS = 60_000


def _skip_or_fail(reason: str):
    if os.environ.get("INTELLIMIXER_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _load_serve():
    spec = importlib.util.spec_from_file_location("intellimixer_serve", ROOT / "scripts" / "serve.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


serve = _load_serve()


def packages_dir() -> Path | None:
    d = os.environ.get("INTELLIMIXER_PYODIDE_PACKAGES")
    return Path(d) if d else None


class Served:
    def __init__(self, **kwargs):
        self.httpd = serve.make_server(port=0, quiet=True, **kwargs)
        host, port = self.httpd.server_address[:2]
        self.url = f"http://{host}:{port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# --- helpers used by the tests -----------------------------------------------------------------


def status(page) -> tuple[str, str]:
    return page.get_attribute("#status", "data-state"), page.inner_text("#status-message")


def wait_idle(page, timeout=BOOT_TIMEOUT_MS):
    """Wait until no long job runs, no generation is in flight and the panel is not busy."""
    page.wait_for_function(
        "() => !document.body.dataset.job && !document.body.dataset.generating"
        " && document.getElementById('status').dataset.state !== 'busy'", timeout=timeout)
    return status(page)


def boot(page, url, expect_ready=True):
    page.goto(url)
    page.evaluate("window.intellimixer.ready")
    state, msg = status(page)
    if expect_ready:
        assert page.get_attribute("body", "data-ready") == "1", f"app did not get ready: [{state}] {msg}"
    return state, msg


def query(page, word="footstep", count=8, token=TOKEN_OK):
    page.fill("#query", word)
    page.fill("#count", str(count))
    page.fill("#token", token)
    page.click("#go")
    page.wait_for_function("() => document.body.dataset.job || document.getElementById('status').dataset.state !== 'busy'")
    return wait_idle(page, timeout=120_000)


def n_points(page) -> int:
    return int(page.get_attribute("#map", "data-points"))


def click_map(page, nx, ny):
    c = page.evaluate("([x, y]) => window.intellimixer.toClient(x, y)", [nx, ny])
    page.mouse.click(c["x"], c["y"])


def empty_spot(page, avoid=None):
    """A normalised map position at least 20 px away from every point (and from ``avoid``:
    one ``(nx, ny)`` or a list of them)."""
    pts = page.evaluate("window.intellimixer.points()")
    avoid = [] if not avoid else [avoid] if isinstance(avoid[0], (int, float)) else list(avoid)
    for ny in (0.5, 0.35, 0.65, 0.2, 0.8, 0.05, 0.95):
        for nx in (0.5, 0.35, 0.65, 0.2, 0.8, 0.05, 0.95):
            if any(abs(nx - a[0]) + abs(ny - a[1]) < 0.2 for a in avoid):
                continue
            c = page.evaluate("([x, y]) => window.intellimixer.toClient(x, y)", [nx, ny])
            if all((p["clientX"] - c["x"]) ** 2 + (p["clientY"] - c["y"]) ** 2 > 400 for p in pts):
                return nx, ny
    raise AssertionError("no empty spot on the map")


def map_points(page) -> list[dict]:
    """The map's sources (the protocol's Point) as the page holds them."""
    return page.evaluate("window.intellimixer.state.map.points")


def make_sound(page, count, at=None):
    """Click the map at ``at`` (normalised; default an empty spot) and wait for the
    ``count``-th sound of the history; returns its HistoryEntry."""
    nx, ny = at or empty_spot(page)
    click_map(page, nx, ny)
    page.wait_for_function(f"window.intellimixer.state.map.history.length === {count}", timeout=60_000)
    wait_idle(page)
    return page.evaluate("window.intellimixer.state.map.history.at(-1)")


def blob_bytes(page, selector) -> bytes:
    """The bytes behind an element's blob: src (audio) or href (download link)."""
    data = page.evaluate(
        """async (sel) => {
            const el = document.querySelector(sel);
            const url = el.src || el.href;
            const buf = new Uint8Array(await (await fetch(url)).arrayBuffer());
            return Array.from(buf);
        }""", selector)
    return bytes(data)
