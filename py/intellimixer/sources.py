"""Sources on the map and the batches that load them.

A batch holds the sounds of one query (or one drop of local files) while they load; they
replace the previous query's sounds only once at least one of them made it, so a failed
query loses nothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import credits, freesound
from .strings import DEFAULT_SOUNDS, msg


@dataclass
class Source:
    """A sound on the map: where it came from, its audio and its latent."""

    key: str
    meta: dict[str, Any]
    pcm: np.ndarray  # mono float32 at ``sr`` as decoded (untrimmed), kept for model swaps
    sr: int
    origin: str = "freesound"  # or "local"
    mu: np.ndarray | None = None  # float32 [D] latent (None until encoded by the current model)
    level_db: float = -math.inf  # RMS dBFS over the model's duration from the onset (what mixes follow)

    def licence_flags(self) -> tuple[bool, bool]:
        """``(noncommercial, sampling)`` of this source's licence (local files: neither)."""
        if self.origin == "local":
            return False, False
        m = self.meta
        if "noncommercial" in m or "sampling" in m:
            return bool(m.get("noncommercial")), bool(m.get("sampling"))
        lic = freesound.licence_info(str(m.get("license") or m.get("license_name") or ""))
        return lic["noncommercial"], lic["sampling"]

    def genai(self) -> dict[str, Any] | None:
        """The uploader's generative-AI preference (:func:`freesound.genai_info`); None for
        a local file (the user's own)."""
        if self.origin == "local":
            return None
        return freesound.genai_info(self.meta.get("gen_ai_preference"))

    @property
    def commercial(self) -> bool:
        """Whether what is made from this source may be used commercially: not under a
        non-commercial or Sampling+ licence, and its uploader does not limit generative AI
        to non-commercial use (local files: yes)."""
        nc, sampling = self.licence_flags()
        g = self.genai()
        return not (nc or sampling or (g and g["noncommercial"]))

    @property
    def declined(self) -> bool:
        """Whether the uploader declined generative AI (kept out of mixes by default)."""
        g = self.genai()
        return bool(g and g["declined"])

    def credit_meta(self) -> dict[str, Any]:
        """The meta dict :func:`freesound.attribution` takes."""
        if self.origin == "local":
            return {"name": str(self.meta.get("name", self.key)), "origin": "local"}
        return dict(self.meta)

    def public(self) -> dict[str, Any]:
        """What the page shows of this source (fields of the protocol's ``Point`` but the
        map position)."""
        m = self.meta
        nc, sampling = self.licence_flags()
        local = self.origin == "local"
        name = str(m.get("name", self.key))
        genai = self.genai()
        warnings = [credits.licence_warning(nc, sampling)]
        if genai and genai["declined"]:
            warnings.append(msg("genai_declined_warning"))
        elif genai and genai["noncommercial"]:
            warnings.append(msg("genai_nc_warning"))
        return {
            "key": self.key,
            "origin": self.origin,
            "name": name,
            "username": str(m.get("username", "")),
            "license_name": msg("local_licence") if local else str(m.get("license_name", "")),
            "url": str(m.get("url", "")),
            "credit": msg("local_credit", name=name) if local else str(m.get("credit", "")),
            "noncommercial": nc,
            "sampling": sampling,
            "gen_ai": genai["label"] if genai else msg("genai_local"),
            "declined": bool(genai and genai["declined"]),
            "warning": " ".join(w for w in warnings if w),
        }


@dataclass
class Batch:
    """Sources of one query being loaded (see the module's docstring)."""

    id: int
    query: str
    origin: str = "freesound"  # "local": files added beside the current sounds
    count: int = DEFAULT_SOUNDS
    sources: list[Source] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def outcome(self, had_sources: bool, duration: float | None = None) -> tuple[str, str]:
        """``(level, message)`` for the status panel once the batch is done: ``level`` is
        ``"ready"``, ``"warn"`` (some failed) or ``"error"`` (none loaded). With the model's
        ``duration`` (s), sources longer than it are named: only that much of each is used."""
        n_ok, n_bad = len(self.sources), len(self.failures)
        detail = ""
        if self.failures:
            shown = "; ".join(self.failures[:3]) + (" ..." if n_bad > 3 else "")
            detail = msg("batch_detail", failed=n_bad, shown=shown)
        if n_ok == 0:
            key = "batch_none_local" if self.origin == "local" else "batch_none"
            text = msg(key, failed=n_bad, query=self.query, detail=detail)
            return "error", text + (msg("batch_kept") if had_sources else "")
        key = "batch_local" if self.origin == "local" else "batch_search"
        text = msg(key, loaded=n_ok, s="s" if n_ok != 1 else "", query=self.query, detail=detail)
        long = [s for s in self.sources if duration and len(s.pcm) / s.sr > duration + 0.05]
        if long:
            names = ", ".join(str(s.meta.get("name", s.key)) for s in long[:3]) + (" ..." if len(long) > 3 else "")
            text += msg("batch_trimmed", count=len(long), seconds=f"{duration:.2f}", names=names)
        return ("warn" if n_bad else "ready"), text
