"""Credits and licence flags of a generated sound (what the download and the page say).

A generated sound owes credit to every source with a share of its mix (the click rule gives
at most :data:`intellimixer.latent.NEIGHBOURS` of them a share, the others exactly 0);
sources under non-commercial or Sampling+ licences flag it. A flag is a badge and one short
sentence that counts the sources; which ones are listed in the credits. The sentences come
from :mod:`.strings`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import freesound
from .strings import msg


def licence_warning(noncommercial: bool, sampling: bool) -> str:
    """The one-line warning shown with a source under a restrictive licence (or ``""``)."""
    if sampling:
        return msg("licence_sampling")
    if noncommercial:
        return msg("licence_nc")
    return ""


# A generated sound's flags, in the order shown: (kind, badge title key, badge key, the key of
# its part of the one-line summary)
FLAGS = (("nc", "flag_nc", "badge_nc", "flag_nc_short"), ("sampling", "flag_sampling", "badge_sampling", "flag_sampling_short"),
         ("genai_nc", "flag_genai_nc", "badge_genai_nc", "flag_genai_nc_short"),
         ("declined", "flag_declined", "badge_declined", "flag_declined_short"))


def _flag_sentence(key: str, names: list[str]) -> str:
    return msg(key, count=len(names), s="" if len(names) == 1 else "s")


def flags_text(flagged: dict[str, list[str]]) -> str:
    """What a generated sound's flags say: one short line counting the sources of each flag
    (which ones they are is in the credits), or ``""``; ``flagged``: flag kind (see
    :data:`FLAGS`) -> source names."""
    parts = [msg(short, count=len(flagged[kind])) for kind, _, _, short in FLAGS if flagged.get(kind)]
    if not parts:
        return ""
    return msg("flags_summary", what=", ".join(parts))


def badges(flagged: dict[str, list[str]]) -> list[dict[str, str]]:
    """The history's badges: ``[{kind, label, title}]``, one per flag that is set."""
    return [{"kind": kind, "label": msg(badge), "title": _flag_sentence(key, flagged[kind])}
            for kind, key, badge, _ in FLAGS if flagged.get(kind)]


@dataclass
class Credits:
    """Credits of one generated sound."""

    text: str  # the readable credits file
    tags: dict[str, str]  # WAV INFO tags
    noncommercial: list[str] = field(default_factory=list)  # names of NC-licensed sources used
    sampling: list[str] = field(default_factory=list)  # names of Sampling+-licensed sources used
    genai_nc: list[str] = field(default_factory=list)  # sources allowing generative AI only non-commercially
    declined: list[str] = field(default_factory=list)  # sources whose uploaders declined generative AI

    @property
    def flagged(self) -> dict[str, list[str]]:
        """Flag kind -> the names of the sources that set it."""
        return {"nc": self.noncommercial, "sampling": self.sampling, "genai_nc": self.genai_nc, "declined": self.declined}


def credit_mix(used: list[tuple[Any, float]], title: str) -> Credits:
    """Credits of a sound mixed from ``used``: ``(source, weight)`` pairs, heaviest first,
    where each source has ``credit_meta()``, ``licence_flags()`` and ``public()`` (see
    :class:`intellimixer.sources.Source`)."""
    text, tags = freesound.attribution([(s.credit_meta(), w) for s, w in used], title)
    tags = {**tags, "ICMT": ("Made from: " + tags["ICMT"])[:4000]}
    c = Credits(text, tags)
    for s, _ in used:
        is_nc, is_smp = s.licence_flags()
        name = s.public()["name"]
        if is_smp:
            c.sampling.append(name)
        elif is_nc:
            c.noncommercial.append(name)
        genai = s.genai()
        if genai and genai["declined"]:
            c.declined.append(name)
        elif genai and genai["noncommercial"]:
            c.genai_nc.append(name)
    flags = flags_text(c.flagged)
    if flags:  # the restrictions travel inside the file too (the INFO chunk's copyright field)
        c.tags["ICOP"] = flags[:2000]
    return c
