#!/usr/bin/env python3
"""Serve the Audio Intellimixer static app on localhost.

    python scripts/serve.py [--port 8000] [--pyodide-packages DIR] [--freesound-url URL]

Serves index.html, static/, py/ and models/ from the repository with explicit MIME types
(.wasm -> application/wasm, .mjs -> text/javascript, ...) and the cross-origin isolation
headers (COOP same-origin + COEP credentialless) that let onnxruntime-web use threads while
Freesound previews still load. Nothing else in the repository (.git, .venv, tests) is served.

`--pyodide-packages DIR` (or env INTELLIMIXER_PYODIDE_PACKAGES) serves DIR at
/pyodide-packages/ and points the app's Pyodide package base there instead of the CDN,
for offline use. `--freesound-url` (or env INTELLIMIXER_FREESOUND_URL) overrides the
Freesound APIv2 base URL (tests point it at tests/fake_freesound.py). Both overrides are
applied to /static/config.json as served; the file on disk is not changed.
"""
from __future__ import annotations

import argparse
import email.utils
import json
import os
import posixpath
import sys
import urllib.parse
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".py": "text/x-python; charset=utf-8",
    ".toml": "application/toml",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".onnx": "application/octet-stream",
    ".bin": "application/octet-stream",
    ".data": "application/octet-stream",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".tar": "application/x-tar",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".flac": "audio/flac",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}

# Top-level entries of the repository that the app needs; everything else is 404.
SERVED = {"index.html", "static", "py", "models"}
PACKAGES_PREFIX = "/pyodide-packages/"
MODEL_PREFIX = "/model-dir/"
CONFIG_PATH = "/static/config.json"


class AppHandler(SimpleHTTPRequestHandler):
    server_version = "IntellimixerServe/1.0"
    extensions_map = {"": "application/octet-stream", **MIME_TYPES}

    # set by make_server()
    packages_dir: Path | None = None
    model_dir: Path | None = None
    config_overrides: dict = {}
    isolate: bool = True
    quiet: bool = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(ROOT), **kwargs)

    def guess_type(self, path):
        ext = posixpath.splitext(str(path))[1].lower()
        return MIME_TYPES.get(ext, "application/octet-stream")

    def end_headers(self):
        if self.isolate:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "credentialless")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def _mounts(self):
        return ((PACKAGES_PREFIX, self.packages_dir), (MODEL_PREFIX, self.model_dir))

    def translate_path(self, path):
        clean = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
        for prefix, folder in self._mounts():
            if folder is not None and clean.startswith(prefix):
                rel = posixpath.normpath(clean[len(prefix):]).lstrip("/")
                if rel.startswith("..") or rel == ".":
                    return str(folder / "__denied__")
                return str(folder / rel)
        return super().translate_path(path)

    def _allowed(self) -> bool:
        clean = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if clean == "/":
            return True
        for prefix, folder in self._mounts():
            if folder is not None and clean.startswith(prefix):
                return True
        parts = [p for p in clean.split("/") if p]
        if not parts or parts[0] not in SERVED:
            return False
        return not any(p.startswith(".") or p == "__pycache__" for p in parts)

    def send_head(self):
        if not self._allowed():
            self.send_error(HTTPStatus.NOT_FOUND, "Not served")
            return None
        clean = urllib.parse.urlsplit(self.path).path
        if clean == CONFIG_PATH and self.config_overrides:
            return self._send_config()
        return super().send_head()

    def _send_config(self):
        import io

        try:
            config = json.loads((ROOT / "static" / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            config = {}
        config.update(self.config_overrides)
        body = (json.dumps(config, indent=2) + "\n").encode("utf-8")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", MIME_TYPES[".json"])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", email.utils.formatdate(usegmt=True))
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, format, *args):
        if not self.quiet:
            super().log_message(format, *args)


class Server(ThreadingHTTPServer):
    """One thread per connection, with room for a page's burst of connections: socketserver's
    listen() backlog of 5 overflows when the browser opens its parallel connections at once
    while others are still being accepted, and each connection the kernel drops is retried a
    second later (seen here: 18 requests at once took 1.0 s instead of 20 ms)."""

    daemon_threads = True
    request_queue_size = 128


def make_server(host="127.0.0.1", port=8000, packages_dir=None, freesound_url=None,
                isolate=True, quiet=False, model_dir=None) -> Server:
    overrides = {}
    pkg = Path(packages_dir).resolve() if packages_dir else None
    if pkg is not None:
        if not pkg.is_dir():
            raise SystemExit(f"serve.py: --pyodide-packages {pkg} is not a directory")
        overrides["pyodide_packages"] = PACKAGES_PREFIX.lstrip("/")
    mdir = Path(model_dir).resolve() if model_dir else None
    if mdir is not None:
        if not (mdir / "manifest.json").is_file():
            raise SystemExit(f"serve.py: --model-dir {mdir} has no manifest.json")
        overrides["default_model"] = MODEL_PREFIX.lstrip("/") + "manifest.json"
    if freesound_url:
        overrides["freesound_api"] = freesound_url.rstrip("/")
    handler = type("Handler", (AppHandler,), {
        "packages_dir": pkg, "model_dir": mdir, "config_overrides": overrides, "isolate": isolate, "quiet": quiet,
    })
    return Server((host, port), handler)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=int(os.environ.get("INTELLIMIXER_PORT", 8000)),
                    help="port (default 8000; 0 picks a free one)")
    ap.add_argument("--pyodide-packages", default=os.environ.get("INTELLIMIXER_PYODIDE_PACKAGES") or None,
                    metavar="DIR", help="local folder with Pyodide wheels (numpy ...) instead of the CDN")
    ap.add_argument("--freesound-url", default=os.environ.get("INTELLIMIXER_FREESOUND_URL") or None,
                    metavar="URL", help="Freesound APIv2 base URL, ending in /apiv2 (default https://freesound.org/apiv2; "
                                        "the test stand-in: http://127.0.0.1:8765/apiv2)")
    ap.add_argument("--model-dir", default=os.environ.get("INTELLIMIXER_MODEL_DIR") or None, metavar="DIR",
                    help="serve this model bundle as the default model instead of models/default")
    ap.add_argument("--no-isolation", action="store_true",
                    help="do not send COOP/COEP headers (single-threaded ONNX, like plain static hosting)")
    ap.add_argument("--quiet", action="store_true", help="do not log requests")
    args = ap.parse_args(argv)

    if not (ROOT / "static" / "vendor" / "runtime.json").exists():
        print("serve.py: static/vendor/ is missing: run `npm ci && npm run build` first", file=sys.stderr)
        return 2
    if args.freesound_url and not args.freesound_url.rstrip("/").endswith("/apiv2"):
        print(f"serve.py: --freesound-url {args.freesound_url} should end in /apiv2 (the API's base, "
              "e.g. http://127.0.0.1:8765/apiv2): searches go to URL/search/", file=sys.stderr)
        return 2
    httpd = make_server(args.host, args.port, args.pyodide_packages, args.freesound_url,
                        isolate=not args.no_isolation, quiet=args.quiet, model_dir=args.model_dir)
    host, port = httpd.server_address[:2]
    print(f"Audio Intellimixer: http://{host}:{port}/", flush=True)
    if args.pyodide_packages:
        print(f"  Pyodide packages from {Path(args.pyodide_packages).resolve()}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
