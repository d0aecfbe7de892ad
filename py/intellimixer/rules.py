"""App rules shared by the browser worker, the CLI and the tests: input checks, error
wording, file names, and which uploaded file is the manifest.

Sentences and limits come from :mod:`.strings` (defined once for the engine and the page).
"""
from __future__ import annotations

import math
import re
from typing import Any

from .strings import MAX_QUERY_CHARS, MAX_SOUNDS, msg


class AppError(ValueError):
    """A user-facing problem (bad input, wrong order of actions); the message is shown as is."""


def check_count(value: Any) -> int:
    """The number of sounds asked for, as an int in ``1..MAX_SOUNDS``, or an :class:`AppError`."""
    try:
        f = float(str(value).strip())
    except (TypeError, ValueError):
        raise AppError(msg("bad_count", max=MAX_SOUNDS)) from None
    if not math.isfinite(f) or f != int(f) or not 1 <= f <= MAX_SOUNDS:
        raise AppError(msg("bad_count", max=MAX_SOUNDS))
    return int(f)


def check_query(value: Any) -> str:
    """The keyword with runs of whitespace collapsed, or an :class:`AppError`."""
    q = " ".join(str(value or "").split())
    if not q:
        raise AppError(msg("no_query"))
    if len(q) > MAX_QUERY_CHARS:
        raise AppError(msg("long_query", max=MAX_QUERY_CHARS))
    return q


def choose_token(typed: Any, configured: Any = "") -> str:
    """The Freesound token to use: the one typed on the page, else the site's configured
    one; :class:`AppError` when neither is set."""
    token = str(typed or "").strip() or str(configured or "").strip()
    if not token:
        raise AppError(msg("no_token"))
    return token


def pick_manifest(names: list[str]) -> str:
    """Which of the uploaded file ``names`` is the bundle's manifest: ``manifest.json``, or the
    only ``.json`` file; :class:`AppError` otherwise."""
    json_names = [n for n in names if n.lower().endswith(".json")]
    if not json_names:
        raise AppError(msg("model_no_manifest"))
    if "manifest.json" in json_names:
        return "manifest.json"
    if len(json_names) > 1:
        raise AppError(msg("model_many_json"))
    return json_names[0]


def slug(text: str, fallback: str = "sound") -> str:
    """A file-name-safe version of ``text`` (letters, digits, ``-``)."""
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:40]
    return s or fallback


def wav_filename(query: str, dims: tuple[int, int], x: float, y: float, names: list[str] | None = None) -> str:
    """Download name: query and map coordinates, e.g. ``footstep_dim1_0.53_dim2_-1.20.wav``
    (``names``: the axes' names, e.g. ``["similarity 1", "dim 2"]``, written without spaces)."""
    a, b = (n.replace(" ", "") for n in names) if names else (f"dim{dims[0] + 1}", f"dim{dims[1] + 1}")
    return f"{slug(query)}_{a}_{x:.2f}_{b}_{y:.2f}.wav"


def describe_error(exc: BaseException) -> str:
    """A status-panel message for any exception raised while serving the page."""
    from . import audio, freesound
    from .model import ManifestError

    if isinstance(exc, (AppError, freesound.FreesoundError, audio.AudioError)):
        return str(exc)
    if isinstance(exc, ManifestError):
        return msg("model_rejected", why=exc)
    text = str(exc) or type(exc).__name__
    return f"Unexpected error: {type(exc).__name__}: {text}"[:500]
