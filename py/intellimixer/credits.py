"""Credits and licence flags of a generated sound (what the download and the page say).

A generated sound owes credit to every source that got at least :data:`MIN_WEIGHT` of the
mix; sources under non-commercial or Sampling+ licences flag it. The sentences come from
:mod:`.strings`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import freesound
from .strings import msg

MIN_WEIGHT = 0.005  # sources below this share of the mix are not credited


def licence_warning(noncommercial: bool, sampling: bool) -> str:
    """The one-line warning shown with a source under a restrictive licence (or ``""``)."""
    if sampling:
        return msg("licence_sampling")
    if noncommercial:
        return msg("licence_nc")
    return ""


def flags_text(noncommercial: list[str], sampling: list[str]) -> str:
    """What a generated sound's flags say, naming the sources that set them (or ``""``)."""
    parts = []
    if noncommercial:
        parts.append(msg("flag_nc", names=", ".join(noncommercial)))
    if sampling:
        parts.append(msg("flag_sampling", names=", ".join(sampling)))
    return " ".join(parts)


def badges(noncommercial: list[str], sampling: list[str]) -> list[dict[str, str]]:
    """The history's badges: ``[{kind, label, title}]`` for ``nc`` and ``sampling``."""
    out = []
    if noncommercial:
        out.append({"kind": "nc", "label": msg("badge_nc"), "title": flags_text(noncommercial, [])})
    if sampling:
        out.append({"kind": "sampling", "label": msg("badge_sampling"), "title": flags_text([], sampling)})
    return out


@dataclass
class Credits:
    """Credits of one generated sound."""

    text: str  # the readable credits file
    tags: dict[str, str]  # WAV INFO tags
    noncommercial: list[str] = field(default_factory=list)  # names of NC-licensed sources used
    sampling: list[str] = field(default_factory=list)  # names of Sampling+-licensed sources used


def credit_mix(used: list[tuple[Any, float]], title: str) -> Credits:
    """Credits of a sound mixed from ``used``: ``(source, weight)`` pairs, heaviest first,
    where each source has ``credit_meta()``, ``licence_flags()`` and ``public()`` (see
    :class:`intellimixer.sources.Source`)."""
    text, tags = freesound.attribution([(s.credit_meta(), w) for s, w in used], title)
    tags = {**tags, "ICMT": ("Made from: " + tags["ICMT"])[:4000]}
    nc, smp = [], []
    for s, _ in used:
        is_nc, is_smp = s.licence_flags()
        name = s.public()["name"]
        if is_smp:
            smp.append(name)
        elif is_nc:
            nc.append(name)
    return Credits(text, tags, nc, smp)
