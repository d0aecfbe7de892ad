#!/usr/bin/env python3
"""A local stand-in for the Freesound APIv2 text search, for tests and offline demos.

    python tests/fake_freesound.py [--port 8765] [--sounds-dir DIR]

Serves, on 127.0.0.1 with CORS headers (``Access-Control-Allow-Origin: *``):

- ``GET /apiv2/search/`` (and the older ``/apiv2/search/text/``): APIv2-shaped JSON
  ``{count, next, previous, results}``; honours ``query``, ``page_size`` (clamped to 150),
  ``fields``, a ``duration:[a TO b]`` filter, a ``gen_ai_preference:("a" OR "b")`` filter
  (results cycle through the four ``gen_ai_preference`` values and one without the field, which
  that filter leaves out) and a ``license:("a" OR "b")`` filter by Freesound's licence names
  (results cycle through CC0, CC BY 4.0, CC BY-NC 3.0 and Sampling+). Sounds are real drum samples from Debian's
  ``hydrogen-drumkits`` (WAV and FLAC); a query word that matches file names (``kick``,
  ``snare``, ...) selects those, any other query returns the kits in a fixed order.
- ``GET /previews/<id>.<ext>``: the sample's bytes (``audio/wav`` or ``audio/flac``).
- ``GET /_requests``: the search requests received so far (query parameters), for tests.

Failure modes, chosen per request so tests can run in parallel:

- token ``invalid-token`` (or no token): 401 ``{"detail": "Invalid token"}``
- token ``rate-limited``: 429 ``{"detail": "Request was throttled. Expected available in 37 seconds."}``
- token ``network-down``: the connection is closed without an answer (fetch fails)
- query ``nothing-at-all``: zero results
- query ``broken``: previews of every 2nd sound are 404 and of every 3rd are not audio
- query ``all-broken``: every preview is 404 or not audio
- query ``xss``: names and usernames are HTML (``<img src=x onerror=alert(1)>``)
- query ``silence``: every preview is digital silence
"""
from __future__ import annotations

import argparse
import io
import json
import re
import struct
import sys
import threading
import urllib.parse
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DRUMKITS = Path("/usr/share/hydrogen/data/drumkits")
LICENCES = (  # (deed URL, the licence's name in Freesound's search index)
    ("http://creativecommons.org/publicdomain/zero/1.0/", "Creative Commons 0"),
    ("https://creativecommons.org/licenses/by/4.0/", "Attribution 4.0"),
    ("http://creativecommons.org/licenses/by-nc/3.0/", "Attribution NonCommercial"),
    ("https://creativecommons.org/licenses/sampling+/1.0/", "Sampling+"),
)
# the uploaders' generative-AI preferences, cycled over the results (None: the field is absent)
GENAI = ("no-additional-preferences", "open-source-models", "noncommercial-open-source-models", "no-gen-ai", None)
XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_USER = "<b>bold</b>&amp;"
MAX_PAGE = 150
TOKEN_OK = "test-token"


def _duration(path: Path) -> float | None:
    try:
        if path.suffix.lower() == ".wav":
            with wave.open(str(path), "rb") as w:
                return w.getnframes() / float(w.getframerate())
        import soundfile  # FLAC headers

        info = soundfile.info(str(path))
        return info.frames / float(info.samplerate)
    except Exception:  # noqa: BLE001 - unreadable or odd files are skipped
        return None


def silent_wav(seconds: float = 0.5, sr: int = 16000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(struct.pack(f"<{int(seconds * sr)}h", *([0] * int(seconds * sr))))
    return buf.getvalue()


class Library:
    """The sounds the fake API knows: every WAV/FLAC under the drum-kit folder."""

    def __init__(self, root: Path = DRUMKITS, max_files: int = 600):
        files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".wav", ".flac") and p.is_file())
        self.sounds = []
        for k, path in enumerate(files[:max_files]):
            self.sounds.append({"id": 100000 + k, "path": path, "kit": path.parent.name})
        self._durations: dict[int, float | None] = {}

    def duration(self, s: dict) -> float | None:
        if s["id"] not in self._durations:
            self._durations[s["id"]] = _duration(s["path"])
        return self._durations[s["id"]]

    def by_id(self, sid: int) -> dict | None:
        k = sid - 100000
        return self.sounds[k] if 0 <= k < len(self.sounds) else None

    def search(self, query: str, lo: float, hi: float, limit: int) -> list[dict]:
        words = [w for w in re.split(r"\W+", query.lower()) if w]
        matching = [s for s in self.sounds if words and all(w in s["path"].stem.lower() for w in words)]
        pool = matching or self.sounds
        out = []
        # interleave kits so a page holds varied sounds
        for s in sorted(pool, key=lambda s: ((s["id"] - 100000) % 7, s["id"])):
            d = self.duration(s)
            if d is None or not (lo <= d <= hi) or d < 0.05:
                continue
            out.append(s)
            if len(out) >= limit:
                break
        return out


def parse_set_filter(field: str, flt: str) -> set[str] | None:
    """The values a ``field:("a" OR "b")`` (or ``field:"a"``) filter allows (None: no such filter)."""
    m = re.search(rf'{field}:(\(([^)]*)\)|"[^"]*")', flt or "")
    return set(re.findall(r'"([^"]+)"', m.group(1))) if m else None


def parse_genai_filter(flt: str) -> set[str] | None:
    """The preferences a ``gen_ai_preference:(...)`` filter allows (None: no such filter)."""
    return parse_set_filter("gen_ai_preference", flt)


def parse_duration_filter(flt: str) -> tuple[float, float]:
    m = re.search(r"duration:\[\s*([\d.*]+)\s+TO\s+([\d.*]+)\s*\]", flt or "")
    if not m:
        return 0.0, float("inf")
    lo = 0.0 if m.group(1) == "*" else float(m.group(1))
    hi = float("inf") if m.group(2) == "*" else float(m.group(2))
    return lo, hi


class Handler(BaseHTTPRequestHandler):
    server_version = "FakeFreesound/1.0"
    library: Library
    requests_log: list
    quiet = True

    def log_message(self, format, *args):
        if not self.quiet:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, ctype: str, extra: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Headers", "Authorization")
        self.send_header("Cache-Control", "no-store")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json")

    def do_OPTIONS(self):
        self._send(204, b"", "text/plain", {"Access-Control-Allow-Methods": "GET, OPTIONS"})

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        if url.path in ("/apiv2/search/", "/apiv2/search/text/", "/apiv2/search", "/apiv2/search/text"):
            return self._search(params)
        m = re.fullmatch(r"/previews/(\d+)(?:-(\w+))?\.(\w+)", url.path)
        if m:
            return self._preview(int(m.group(1)), m.group(2) or "", m.group(3))
        if url.path == "/_requests":
            return self._json(200, self.requests_log)
        return self._json(404, {"detail": "Not found."})

    do_HEAD = do_GET

    def _search(self, params: dict) -> None:
        self.requests_log.append(params)
        token = params.get("token", "")
        auth = self.headers.get("Authorization", "")
        if not token and auth.startswith("Token "):
            token = auth[6:].strip()
        if token == "network-down":
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return None
        if token == "rate-limited":
            return self._json(429, {"detail": "Request was throttled. Expected available in 37 seconds."})
        if token != TOKEN_OK and not token.startswith("ok-"):
            return self._json(401, {"detail": "Invalid token."})
        query = params.get("query", "")
        try:
            page_size = max(1, min(MAX_PAGE, int(params.get("page_size", 15))))
        except ValueError:
            return self._json(400, {"detail": "Invalid page_size"})
        if query.strip().lower() == "nothing-at-all":
            return self._json(200, {"count": 0, "next": None, "previous": None, "results": []})
        lo, hi = parse_duration_filter(params.get("filter", ""))
        allowed = parse_genai_filter(params.get("filter", ""))
        licences = parse_set_filter("license", params.get("filter", ""))
        filtered = allowed is not None or licences is not None
        sounds = self.library.search(query, lo, hi, MAX_PAGE * 4 if filtered else page_size)
        q = query.strip().lower()
        host = f"http://{self.headers.get('Host') or '127.0.0.1'}"
        fields = params.get("fields", "id,name,tags,username,license").split(",")
        results = []
        for k, s in enumerate(sounds):
            genai = GENAI[(s["id"] - 100000) % len(GENAI)]
            licence, licence_name = LICENCES[k % len(LICENCES)]
            if (allowed is not None and genai not in allowed) or (licences is not None and licence_name not in licences):
                continue
            if len(results) >= page_size:
                break
            ext = s["path"].suffix.lower().lstrip(".")
            mode = ""
            if q in ("broken", "all-broken"):
                if k % 2 == 1 or q == "all-broken":
                    mode = "missing" if k % 4 != 3 else "garbage"
                elif k % 3 == 2:
                    mode = "garbage"
            elif q == "silence":
                mode = "silent"
            preview = f"{host}/previews/{s['id']}{'-' + mode if mode else ''}.{ext}"
            name = XSS_NAME if q == "xss" else s["path"].stem
            user = XSS_USER if q == "xss" else s["kit"].replace(" ", "_")
            full = {
                "id": s["id"],
                "name": name,
                "tags": [w for w in re.split(r"\W+", s["path"].stem.lower()) if w],
                "username": user,
                "license": licence,
                "duration": round(self.library.duration(s) or 0.0, 3),
                "previews": {
                    "preview-hq-mp3": preview, "preview-lq-mp3": preview,
                    "preview-hq-ogg": preview, "preview-lq-ogg": preview,
                },
                "url": f"https://freesound.org/people/{user}/sounds/{s['id']}/",
            }
            if genai is not None:
                full["gen_ai_preference"] = genai
            results.append({f: full[f] for f in fields if f in full})
        return self._json(200, {"count": len(results), "next": None, "previous": None, "results": results})

    def _preview(self, sid: int, mode: str, ext: str) -> None:
        s = self.library.by_id(sid)
        if s is None or mode == "missing":
            return self._json(404, {"detail": "Not found."})
        if mode == "garbage":
            return self._send(200, b"this is not audio " * 64, "audio/mpeg")
        if mode == "silent":
            return self._send(200, silent_wav(), "audio/wav")
        data = s["path"].read_bytes()
        ctype = "audio/flac" if s["path"].suffix.lower() == ".flac" else "audio/wav"
        return self._send(200, data, ctype)


class FakeFreesound:
    """Run the fake API in a background thread: ``with FakeFreesound() as fs: fs.api_url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, root: Path = DRUMKITS):
        self.library = Library(root)
        self.requests: list = []
        handler = type("H", (Handler,), {"library": self.library, "requests_log": self.requests})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base + "/apiv2"

    def start(self) -> FakeFreesound:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Fake Freesound APIv2 server for tests.")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--sounds-dir", type=Path, default=DRUMKITS)
    args = ap.parse_args(argv)
    if not args.sounds_dir.is_dir():
        print(f"fake_freesound: {args.sounds_dir} not found (apt install hydrogen-drumkits)", file=sys.stderr)
        return 2
    fs = FakeFreesound(port=args.port, root=args.sounds_dir)
    print(f"Fake Freesound API: {fs.api_url}  (token: {TOKEN_OK})", flush=True)
    try:
        fs.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
