"""Shareable links: the map and a point in the page's URL hash, and what opening one does.

``#q=footstep&n=20&x=1&y=2&px=0.31&py=-1.2``: the query, the number of sounds, the plotted
dims (1-based, as the drop-downs show them) and a point in latent units of those dims.
"""
from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from .rules import AppError, check_count, check_query
from .strings import DEFAULT_QUERY, DEFAULT_SOUNDS, msg

MAX_COORD = 1e6
FIELDS = ("q", "n", "x", "y", "px", "py", "local", "fs")


def make_hash(query: str, count: int, dims: tuple[int, int], point: tuple[float, float] | None = None,
              local: bool = False, freesound: bool = True) -> str:
    """URL hash holding the map and a point, e.g. ``#q=footstep&n=20&x=1&y=2&px=0.31&py=-1.2``.

    ``dims`` are 0-based (written 1-based); ``point`` is in latent units of those dims;
    ``local=1`` notes that the map also held local files and ``fs=0`` that it held no
    Freesound sounds (the query is then not run on opening).
    """
    params: list[tuple[str, str]] = [("q", query), ("n", str(int(count))),
                                     ("x", str(dims[0] + 1)), ("y", str(dims[1] + 1))]
    if point is not None:
        params += [("px", f"{float(point[0]):.6g}"), ("py", f"{float(point[1]):.6g}")]
    if local:
        params.append(("local", "1"))
    if not freesound:
        params.append(("fs", "0"))
    return "#" + urlencode(params, quote_via=lambda v, *_: quote(v, safe=""))


def _dims(fields: dict[str, str], latent_dim: int | None, errors: list[str]) -> list[int] | None:
    dims = []
    for key in ("x", "y"):
        v = fields.get(key, "")
        if not re.fullmatch(r"\d{1,4}", v.strip()) or int(v) < 1:
            errors.append(f"{key}: the dim must be a whole number from 1" + (f" to {latent_dim}" if latent_dim else ""))
        elif latent_dim is not None and int(v) > latent_dim:
            errors.append(f"{key}: dim {int(v)} does not exist (this model has {latent_dim} dims)")
        else:
            dims.append(int(v) - 1)
    return dims if len(dims) == 2 else None


def _point(fields: dict[str, str], errors: list[str]) -> list[float] | None:
    pt = []
    for key in ("px", "py"):
        try:
            v = float(fields.get(key, ""))
        except ValueError:
            v = float("nan")
        if not math.isfinite(v) or abs(v) > MAX_COORD:
            errors.append(f"{key}: the point needs two finite numbers")
        else:
            pt.append(v)
    return pt if len(pt) == 2 else None


def parse_hash(text: str, latent_dim: int | None = None) -> dict[str, Any]:
    """Read a URL hash written by :func:`make_hash`; every bad field falls back to its default.

    Returns ``{"present", "query", "count", "dims" (0-based pair or None), "point" ([x, y]
    or None), "local", "freesound", "errors" (one line per bad field), "message"}``; ``message`` is
    empty when nothing was wrong, else a status-panel sentence naming the fields ignored.
    """
    raw = str(text or "").strip().lstrip("#")
    out: dict[str, Any] = {"present": bool(raw), "query": DEFAULT_QUERY, "count": DEFAULT_SOUNDS,
                           "dims": None, "point": None, "local": False, "freesound": True, "errors": [], "message": ""}
    if not raw:
        return out
    errors = out["errors"]
    try:
        fields = dict(parse_qsl(raw, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        fields = {}
        errors.append("it is not of the form key=value&...")
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        errors.append(f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)[:80]}")
    for key, check, name in (("q", check_query, "query"), ("n", check_count, "count")):
        if key in fields:
            try:
                out[name] = check(fields[key])
            except AppError as e:
                errors.append(f"{key}: {e}")
    if "x" in fields or "y" in fields:
        out["dims"] = _dims(fields, latent_dim, errors)
    if "px" in fields or "py" in fields:
        out["point"] = _point(fields, errors)
    out["local"] = fields.get("local") == "1"
    out["freesound"] = fields.get("fs") != "0"
    if errors:
        out["message"] = msg("link_partly_invalid", errors="; ".join(errors))[:600]
    return out


def link_plan(h: dict[str, Any], has_token: bool) -> dict[str, Any]:
    """What opening the link ``h`` (from :func:`parse_hash`) does: ``h`` plus ``search``
    (run the Freesound search now) and ``then_message`` (a warning for the status panel,
    after the search or instead of it; ``""`` for none)."""
    then = msg("link_then") if h["point"] else ""
    local = msg("link_local_too", then=then) if h["local"] else ""
    search, after = False, ""
    if h["message"]:
        after = h["message"]
    elif not h["freesound"]:
        after = msg("link_local_only", then=then)
    elif has_token:
        search = True
        after = msg("link_loaded", query=h["query"], local=local) if h["local"] else ""
    else:
        # (with local files too, "the sound is then made" is said once: after the files)
        after = msg("link_need_token", then="" if local else then, local=local)
    return {**h, "search": search, "then_message": after}
