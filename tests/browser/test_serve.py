"""scripts/serve.py: MIME types, isolation headers, what is (not) served, config overrides."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from browser_util import ROOT, Served, serve


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture(scope="module")
def served(vendor_built, tmp_path_factory):
    pk = tmp_path_factory.mktemp("pk")
    (pk / "numpy-test.whl").write_bytes(b"PK\x03\x04fake")
    s = Served(packages_dir=pk, freesound_url="http://127.0.0.1:9/apiv2/")
    yield s.url
    s.stop()


@pytest.mark.parametrize("path,ctype", [
    ("static/vendor/pyodide/pyodide.asm.wasm", "application/wasm"),
    ("static/vendor/ort/ort-wasm-simd-threaded.wasm", "application/wasm"),
    ("static/vendor/pyodide/pyodide.mjs", "text/javascript"),
    ("static/vendor/ort/ort.wasm.min.mjs", "text/javascript"),
    ("static/main.js", "text/javascript"),
    ("index.html", "text/html"),
    ("", "text/html"),
    ("py/worker.py", "text/x-python"),
    ("py/pyscript.json", "application/json"),
    ("static/style.css", "text/css"),
    ("pyodide-packages/numpy-test.whl", "application/zip"),
])
def test_mime_types(served, path, ctype):
    code, headers, body = get(served + path)
    assert code == 200, path
    assert headers["Content-Type"].split(";")[0] == ctype
    assert body


def test_isolation_headers(served):
    code, headers, _ = get(served)
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    # credentialless (not require-corp): Freesound previews on another origin still load
    assert headers["Cross-Origin-Embedder-Policy"] == "credentialless"
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", [
    ".git/HEAD", ".venv/pyvenv.cfg", "tests/fake_freesound.py", "pyproject.toml", "scripts/serve.py",
    "node_modules/pyodide/package.json", "py/__pycache__/x.pyc", "pyodide-packages/../serve.py",
    "pyodide-packages/%2e%2e/etc/passwd", "static/../pyproject.toml",
])
def test_only_the_app_is_served(served, path):
    code, _, body = get(served + path)
    assert code == 404, f"{path} was served"


def test_config_overrides(served):
    code, _, body = get(served + "static/config.json")
    cfg = json.loads(body)
    assert cfg["pyodide_packages"] == "pyodide-packages/"
    assert cfg["freesound_api"] == "http://127.0.0.1:9/apiv2"
    on_disk = json.loads((ROOT / "static" / "config.json").read_text())
    assert on_disk["pyodide_packages"].startswith("https://cdn.jsdelivr.net/pyodide/v0.28.3/")
    assert on_disk["freesound_api"] == "https://freesound.org/apiv2"


def test_default_config_is_served_unchanged(vendor_built):
    s = Served()
    try:
        code, _, body = get(s.url + "static/config.json")
        assert json.loads(body) == json.loads((ROOT / "static" / "config.json").read_text())
    finally:
        s.stop()


def test_cli_prints_url_and_serves(vendor_built):
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "serve.py"), "--port", "0", "--quiet"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("Audio Intellimixer: http://127.0.0.1:")
        url = line.split(": ", 1)[1]
        deadline = time.time() + 10
        while True:
            try:
                code, headers, body = get(url)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        assert code == 200 and b'id="map"' in body
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_burst_of_connections_waits_in_the_backlog(vendor_built):
    """Connections made before the server accepts any all complete their handshake at once (a
    backlog of 5 would leave the rest to the kernel's retry, a second later each)."""
    import socket

    httpd = serve.make_server(port=0, quiet=True)
    socks = []
    try:
        host, port = httpd.server_address[:2]
        for _ in range(40):
            s = socket.socket()
            s.settimeout(0.5)
            s.connect((host, port))  # completes from the listen backlog, nothing accepted yet
            socks.append(s)
        assert len(socks) == 40
    finally:
        for s in socks:
            s.close()
        httpd.server_close()
