"""Freesound APIv2 client: text search, result parsing, licences and credits.

The user brings their own API key (``token``).  It travels as the ``token`` query
parameter, which the API accepts for search and keeps the request a "simple" CORS GET
(an ``Authorization`` header would need a preflight); the app never logs or shares it.  HTTP goes through
``pyodide.http.pyfetch`` under Pyodide and ``urllib`` under CPython, so the same code
serves the browser and the CLI.  Everything else here is pure and testable offline.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from urllib.parse import urlencode

from .strings import msg

API_BASE = "https://freesound.org/apiv2"
FIELDS = "id,name,username,license,duration,previews,url,gen_ai_preference"
MAX_PAGE_SIZE = 150
PREVIEW_KEYS = ("preview-hq-mp3", "preview-hq-ogg", "preview-lq-mp3", "preview-lq-ogg")


# The uploader's stated preference about generative AI (the API's ``gen_ai_preference``;
# Freesound's settings AI_PREF_*): code -> (label key in strings.json, declines, non-commercial).
# Our model and app are open source, so "open-source models" preferences allow the use;
# the non-commercial one makes what is made from the sound non-commercial.
GENAI_PREFERENCES = {
    "no-additional-preferences": ("genai_none", False, False),
    "open-source-models": ("genai_open", False, False),
    "noncommercial-open-source-models": ("genai_open_nc", False, True),
    "no-gen-ai": ("genai_declined", True, False),
}
GENAI_UNSPECIFIED = "unspecified"  # absent or unknown: shown as such, not a refusal
# Search filter: only sounds whose uploaders allow generative use (the field is filterable)
GENAI_ALLOWED_FILTER = "gen_ai_preference:(" + " OR ".join(
    f'"{code}"' for code, (_, declines, _) in GENAI_PREFERENCES.items() if not declines) + ")"
# Search filter: only licences that allow commercial use, by the names Freesound gives its
# licences (CC0, and CC BY 3.0 / 4.0: "Attribution", "Attribution 4.0"); "Attribution
# NonCommercial" (3.0 and 4.0) and "Sampling+" are left out
COMMERCIAL_LICENCES = ("Creative Commons 0", "Attribution", "Attribution 4.0")
COMMERCIAL_FILTER = "license:(" + " OR ".join(f'"{name}"' for name in COMMERCIAL_LICENCES) + ")"


def genai_info(value) -> dict:
    """Read a ``gen_ai_preference`` value: ``{"code", "label", "declined", "noncommercial"}``
    (an absent or unknown value is ``"unspecified"``: neither declined nor restricted)."""
    code = value if isinstance(value, str) and value in GENAI_PREFERENCES else GENAI_UNSPECIFIED
    key, declined, nc = GENAI_PREFERENCES.get(code, ("genai_unspecified", False, False))
    return {"code": code, "label": msg(key), "declined": declined, "noncommercial": nc}


class FreesoundError(Exception):
    """A failed Freesound request, with a message meant for the status panel.

    Attributes:
        status: HTTP status, or 0 when the network could not be reached.
        kind: ``"auth"``, ``"rate_limit"``, ``"network"``, ``"bad_request"``, ``"server"``,
            ``"bad_response"`` or ``"no_results"``.
    """

    def __init__(self, kind: str, message: str, status: int = 0):
        self.kind = kind
        self.status = status
        super().__init__(message)


class NoResults(FreesoundError):
    """A search that worked and found nothing usable: information, not a failure."""

    def __init__(self, message: str):
        super().__init__("no_results", message)


def _detail(body) -> str:
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return body.strip()[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("error") or "")[:200]
    return ""


def error_for_status(status: int, body=None) -> FreesoundError:
    """The :class:`FreesoundError` for a non-2xx response."""
    detail = _detail(body)
    if status == 401:
        return FreesoundError("auth", "Freesound rejected the API token (401): check the token you entered.", status)
    if status == 403:
        return FreesoundError("auth", f"Freesound refused the request (403){': ' + detail if detail else ''}.", status)
    if status == 429:
        wait = re.search(r"(\d+)\s*second", detail)
        when = f" Try again in {wait.group(1)} s." if wait else " Try again in a minute."
        return FreesoundError("rate_limit", f"Freesound rate limit reached (429).{when}", status)
    if status == 400:
        return FreesoundError("bad_request", f"Freesound did not accept the search (400){': ' + detail if detail else ''}.", status)
    if status >= 500:
        return FreesoundError("server", f"Freesound is having trouble ({status}); try again later.", status)
    return FreesoundError("bad_response", f"Unexpected answer from Freesound ({status}){': ' + detail if detail else ''}.", status)


def search_url(
    query: str,
    page_size: int = 20,
    token: str | None = None,
    base_url: str = API_BASE,
    max_duration: float | None = 5.0,
    min_duration: float = 0.0,
    extra_filter: str = "",
) -> str:
    """URL of a text search.

    Args:
        query: keywords as typed by the user.
        page_size: results wanted (1..150; the API's maximum is 150).
        token: the user's API key (added as ``token=``), or None.
        base_url: API root, e.g. ``https://freesound.org/apiv2`` (tests use a local server).
        max_duration: only sounds up to this many seconds (``None``: no limit).
        extra_filter: further Solr filter terms, space separated.

    Raises:
        ValueError: empty query or page size out of range.
    """
    query = " ".join(query.split())
    if not query:
        raise ValueError("Type a keyword to search Freesound for.")
    if not 1 <= int(page_size) <= MAX_PAGE_SIZE:
        raise ValueError(f"The number of sounds must be between 1 and {MAX_PAGE_SIZE}.")
    filters = []
    if max_duration is not None:
        filters.append(f"duration:[{min_duration:g} TO {max_duration:g}]")
    if extra_filter:
        filters.append(extra_filter)
    params = {"query": query, "fields": FIELDS, "page_size": int(page_size)}
    if filters:
        params["filter"] = " ".join(filters)
    if token and token.strip():
        params["token"] = token.strip()
    return f"{base_url.rstrip('/')}/search/?{urlencode(params)}"


_LICENCES = (
    ("publicdomain/zero", "CC0 1.0", False, False, False),
    ("publicdomain/mark", "Public Domain Mark", False, False, False),
    ("licenses/by-nc", "CC BY-NC", True, True, False),
    ("licenses/by", "CC BY", True, False, False),
    ("sampling+", "Sampling+", True, True, True),
    ("nc-sampling+", "NC-Sampling+", True, True, True),
)


def licence_info(url: str) -> dict:
    """Classify a Freesound licence deed URL (``http`` or ``https``) or name.

    Returns:
        ``{"name", "attribution", "noncommercial", "sampling", "url"}``; unknown
        licences are treated as requiring attribution.
    """
    u = (url or "").lower()
    for key, name, attribution, noncommercial, sampling in _LICENCES:
        if key in u:
            version = re.search(r"/(\d+\.\d+)/?", u)
            full = f"{name} {version.group(1)}" if version and name.startswith("CC B") else name
            return {"name": full, "attribution": attribution, "noncommercial": noncommercial, "sampling": sampling, "url": url}
    if "creative commons 0" in u:
        return {"name": "CC0 1.0", "attribution": False, "noncommercial": False, "sampling": False, "url": url}
    return {"name": url or "unknown licence", "attribution": True, "noncommercial": False, "sampling": False, "url": url}


@dataclass(frozen=True)
class Sound:
    """One search result (only the fields the app asks for)."""

    id: int
    name: str
    username: str
    license: str
    duration: float
    preview_url: str
    url: str
    gen_ai_preference: str = GENAI_UNSPECIFIED

    @property
    def licence(self) -> dict:
        return licence_info(self.license)

    @property
    def page_url(self) -> str:
        return self.url or f"https://freesound.org/s/{self.id}/"

    def credit_line(self) -> str:
        """Freesound's own credit format: ``name by user -- URL -- License: name``."""
        return f"{self.name} by {self.username} -- {self.page_url} -- License: {self.licence['name']}"

    def to_dict(self) -> dict:
        lic = self.licence
        return {
            "id": self.id, "name": self.name, "username": self.username, "license": self.license,
            "license_name": lic["name"], "noncommercial": lic["noncommercial"], "sampling": lic["sampling"],
            "attribution": lic["attribution"], "duration": self.duration, "preview_url": self.preview_url,
            "url": self.page_url, "credit": self.credit_line(),
            "gen_ai_preference": genai_info(self.gen_ai_preference)["code"],
        }


def parse_search(obj) -> list[Sound]:
    """Parse a search response (``{count, next, previous, results: [...]}``).

    Results without a preview are skipped.  Raises :class:`FreesoundError` (``bad_response``)
    if the shape is wrong and (``no_results``) if nothing usable came back.
    """
    if isinstance(obj, (str, bytes, bytearray)):
        try:
            obj = json.loads(obj)
        except ValueError:
            raise FreesoundError("bad_response", "Freesound's answer was not valid JSON.") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("results"), list):
        raise FreesoundError("bad_response", "Freesound's answer has no result list.")
    sounds = []
    for r in obj["results"]:
        if not isinstance(r, dict):
            continue
        previews = r.get("previews") or {}
        preview = next((previews[k] for k in PREVIEW_KEYS if isinstance(previews.get(k), str)), None)
        if preview is None or "id" not in r:
            continue
        try:
            sounds.append(
                Sound(
                    id=int(r["id"]),
                    name=str(r.get("name", f"sound {r['id']}")),
                    username=str(r.get("username", "")),
                    license=str(r.get("license", "")),
                    duration=float(r.get("duration") or 0.0),
                    preview_url=preview,
                    url=str(r.get("url") or ""),
                    gen_ai_preference=genai_info(r.get("gen_ai_preference"))["code"],
                )
            )
        except (TypeError, ValueError):
            continue
    if not sounds:
        raise NoResults("No sounds found for that keyword (try another word or a longer duration).")
    return sounds


async def _fetch_text(url: str) -> tuple[int, str]:
    """GET ``url`` -> ``(status, body)``; raises FreesoundError('network') when unreachable."""
    if sys.platform == "emscripten":  # Pyodide in the browser
        from pyodide.http import pyfetch

        try:
            resp = await pyfetch(url)
            return resp.status, await resp.string()
        except Exception as e:  # noqa: BLE001 - fetch() rejects with a JS TypeError when offline / CORS
            raise FreesoundError("network", f"Could not reach Freesound ({e}). Check your connection.") from None
    import asyncio
    import urllib.error
    import urllib.request

    def get():
        req = urllib.request.Request(url, headers={"User-Agent": "intellimixer"})
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as e:
            raise FreesoundError("network", f"Could not reach Freesound ({getattr(e, 'reason', e)}). Check your connection.") from None

    return await asyncio.get_running_loop().run_in_executor(None, get)


async def search(
    query: str,
    page_size: int = 20,
    token: str | None = None,
    base_url: str = API_BASE,
    max_duration: float | None = 5.0,
    fetch=None,
    genai_only: bool = False,
    commercial_only: bool = False,
) -> list[Sound]:
    """Run a text search and return its sounds.

    Args:
        fetch: optional ``async (url) -> (status, text)`` replacing the default transport.
        genai_only: ask only for sounds whose uploaders allow generative AI
            (:data:`GENAI_ALLOWED_FILTER`).
        commercial_only: ask only for licences that allow commercial use
            (:data:`COMMERCIAL_FILTER`); a result under another licence is dropped too.

    Raises:
        ValueError: bad query / page size (before any request).
        FreesoundError: any failed or empty search, with a user-facing message.
    """
    extra = " ".join(f for f, on in ((GENAI_ALLOWED_FILTER, genai_only), (COMMERCIAL_FILTER, commercial_only)) if on)
    url = search_url(query, page_size, token, base_url, max_duration, extra_filter=extra)
    status, body = await (fetch or _fetch_text)(url)
    if not 200 <= status < 300:
        raise error_for_status(status, body)
    sounds = parse_search(body)
    if commercial_only:
        sounds = [s for s in sounds if not (s.licence["noncommercial"] or s.licence["sampling"])]
        if not sounds:
            raise NoResults(msg("no_commercial_results", query=" ".join(query.split())))
    return sounds


def attribution(entries, title: str, app_url: str = "") -> tuple[str, dict[str, str]]:
    """Credits for a generated sound: readable text and WAV INFO tags.

    Args:
        entries: ``(meta, weight)`` pairs of the sources that shaped the sound, where
            ``meta`` is a :meth:`Sound.to_dict` (Freesound) or ``{"name", "origin": "local"}``.
        title: the generated sound's title (e.g. its file name without extension).

    Returns:
        ``(text, info)``: a plain-text credit list (one line per source, heaviest first,
        with its weight and licence; sources under non-commercial or sampling licences are
        marked, each with its uploader's generative-AI preference) and ``{"INAM", "IART",
        "ICMT", "ISFT"}`` tags for :func:`audio.write_wav`.
    """
    rows = sorted(((dict(m), float(w)) for m, w in entries), key=lambda r: -r[1])
    lines = [f"{title}", "Made with Audio Intellimixer from these sounds (weight = share of the mix):", ""]
    notes = set()
    for meta, w in rows:
        if meta.get("origin") == "local":
            lines.append(f"- {w:6.1%}  {meta.get('name', 'local file')} (your local file)")
            continue
        lic = licence_info(str(meta.get("license", "")))
        flag = ""
        if lic["sampling"]:
            flag = "  [sampling licence]"
            notes.add(msg("licence_sampling"))
        elif lic["noncommercial"]:
            flag = "  [non-commercial]"
            notes.add(msg("licence_nc"))
        genai = genai_info(meta.get("gen_ai_preference"))
        if genai["declined"]:
            flag += "  [declined generative AI]"
            notes.add(msg("note_declined"))
        elif genai["noncommercial"]:
            flag += "  [gen AI: non-commercial]"
            notes.add(msg("note_genai_nc"))
        credit = meta.get("credit") or (
            f"{meta.get('name', '')} by {meta.get('username', '')} -- {meta.get('url', '')} -- License: {lic['name']}"
        )
        lines.append(f"- {w:6.1%}  {credit} -- {msg('genai_line', label=genai['label'])}{flag}")
    if notes:
        lines += ["", *sorted(notes)]
    lines += ["", "Sounds from Freesound (https://freesound.org); credit the authors above as their licences require."]
    text = "\n".join(lines) + "\n"
    authors = sorted({str(m.get("username")) for m, _ in rows if m.get("username")})
    info = {
        "INAM": title,
        "IART": ", ".join(authors)[:500] or "Audio Intellimixer",
        "ICMT": "; ".join(
            (str(m.get("credit") or m.get("name", "")) + f" (weight {w:.2f})") for m, w in rows
        )[:2000],
        "ISFT": "Audio Intellimixer" + (f" {app_url}" if app_url else ""),
    }
    return text, info
