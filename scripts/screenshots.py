#!/usr/bin/env python3
"""Remake the README's screenshots (docs/screenshot-*.png): the app served with the default
model and the local stand-in for Freesound, driven in headless Chromium; a search, two sounds
made, the last one in the panel. One picture per window size the layout is made for.

    INTELLIMIXER_PYODIDE_PACKAGES=/path/to/pyodide-packages python scripts/screenshots.py

Needs what the browser tests need (a built static/vendor, Chromium, playwright, numpy for
Pyodide, Debian's hydrogen-drumkits for the stand-in's previews).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "browser"), str(ROOT / "py")]

from browser_util import Served, boot, make_sound, query  # noqa: E402
from chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from fake_freesound import FakeFreesound  # noqa: E402

SIZES = {"1440x900": (1440, 900), "1024x640": (1024, 640), "phone": (390, 844)}


def main() -> int:
    packages = os.environ.get("INTELLIMIXER_PYODIDE_PACKAGES")
    if not packages:
        print("screenshots: set INTELLIMIXER_PYODIDE_PACKAGES (numpy for Pyodide; see DEVELOPERS.md)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    with FakeFreesound() as fs, sync_playwright() as p:
        served = Served(packages_dir=Path(packages), freesound_url=fs.api_url, model_dir=ROOT / "models" / "default")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, (w, h) in SIZES.items():
                ctx = browser.new_context(viewport={"width": w, "height": h})
                page = ctx.new_page()
                page.set_default_timeout(120_000)
                boot(page, served.url)
                query(page, "footstep", 24)
                make_sound(page, 1, at=(0.3, 0.62))
                make_sound(page, 2, at=(0.7, 0.4))
                page.evaluate("window.intellimixer.sessions.idle()")
                out = ROOT / "docs" / f"screenshot-{name}.png"
                page.screenshot(path=str(out), full_page=name == "phone")
                print(f"screenshots: {out.relative_to(ROOT)}")
                ctx.close()
        finally:
            browser.close()
            served.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
