"""Fixtures for the browser tests: the served app, a fake Freesound, headless Chromium.

Environment:
- ``INTELLIMIXER_PYODIDE_PACKAGES``: folder holding Pyodide's numpy wheel
  (``numpy-2.2.5-cp313-cp313-pyodide_2025_0_wasm32.whl``). Tests that need numpy inside
  Pyodide skip without it (the CDN is not reachable offline).
- ``INTELLIMIXER_CHROMIUM``: Chromium binary (default ``/usr/bin/chromium``).
- ``INTELLIMIXER_TEST_MODEL``: model bundle served as the default model (default:
  ``models/default`` when it exists, else a tiny generated bundle).
- ``INTELLIMIXER_REQUIRE_BROWSER=1``: a missing Chromium or an unbuilt ``static/vendor``
  fails the tests instead of skipping them (set it in CI).

Helpers the tests import live in ``browser_util.py`` (not here: two ``conftest`` modules
exist under tests/, so importing one by name is ambiguous).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_util import BOOT_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, NUMPY_WHEEL, ROOT, Served, _skip_or_fail, packages_dir  # noqa: E402
from fake_freesound import DRUMKITS, FakeFreesound  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """Mark every test under tests/browser with ``browser`` (``-m "not browser"`` skips them)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


class PageErrors(list):
    pass


@pytest.fixture
def needs_numpy():
    """Skip unless numpy for Pyodide is available locally (see DEVELOPERS.md)."""
    d = packages_dir()
    if d is None:
        pytest.skip("needs numpy inside Pyodide: set INTELLIMIXER_PYODIDE_PACKAGES to a folder holding "
                    f"{NUMPY_WHEEL} (the Pyodide CDN is not reachable offline; see DEVELOPERS.md)")
    if not (d / NUMPY_WHEEL).is_file():
        pytest.skip(f"INTELLIMIXER_PYODIDE_PACKAGES={d} has no {NUMPY_WHEEL}")
    return d


@pytest.fixture(scope="session")
def vendor_built():
    if not (ROOT / "static" / "vendor" / "runtime.json").is_file():
        _skip_or_fail("static/vendor is not built: run `npm ci && npm run build`")
    return True


@pytest.fixture(scope="session")
def fake_freesound():
    if not DRUMKITS.is_dir():
        pytest.skip("Debian package hydrogen-drumkits is not installed (previews of the fake Freesound)")
    with FakeFreesound() as fs:
        yield fs


@pytest.fixture(scope="session")
def bundle_factory(tmp_path_factory):
    from tiny_bundle import make_bundle

    base = tmp_path_factory.mktemp("bundles")

    def make(folder: str, **kwargs) -> Path:
        return make_bundle(base / folder, **kwargs)

    return make


@pytest.fixture(scope="session")
def default_model(bundle_factory) -> Path:
    env = os.environ.get("INTELLIMIXER_TEST_MODEL")
    if env:
        return Path(env)
    real = ROOT / "models" / "default"
    if (real / "manifest.json").is_file():
        return real
    return bundle_factory("default-standin", latent_dim=12)


@pytest.fixture(scope="session")
def app_url(vendor_built, fake_freesound, default_model):
    """The app with the default model, the fake Freesound and local numpy (if configured)."""
    s = Served(packages_dir=packages_dir(), freesound_url=fake_freesound.api_url, model_dir=default_model)
    yield s.url
    s.stop()


@pytest.fixture(scope="session")
def app_url_no_numpy(vendor_built, fake_freesound, default_model, tmp_path_factory):
    """The app with an empty Pyodide package folder: Python boots, numpy cannot load."""
    empty = tmp_path_factory.mktemp("no-packages")
    s = Served(packages_dir=empty, freesound_url=fake_freesound.api_url, model_dir=default_model)
    yield s.url
    s.stop()


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: Playwright's sync API keeps an asyncio loop running while it is open,
    which would break ``asyncio.run`` in the CPython tests that run after these."""
    if not Path(CHROMIUM).exists():
        _skip_or_fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("Python playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(BOOT_TIMEOUT_MS)
    errors = PageErrors()
    dialogs = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.errors = errors
    pg.dialogs = dialogs
    yield pg
    ctx.close()
