"""Sample packs: many generated sounds in one ZIP (stdlib ``zipfile``), for the page and the CLI.

A pack holds, in one folder named after it:

- the sounds' WAV files (exported with the chosen rate and sample format, credits in their
  INFO chunks) and each one's ``<name>-credits.txt``;
- ``CREDITS.txt``: the pack's credits, every source that shaped any of its sounds listed once
  (with the licence flags of the pack as a whole);
- ``pack.json``: per sound its file, map coordinates, dims (1-based, as in the app), their
  labels, its latent vector and the sources' shares of its mix.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from .rules import slug
from .strings import LIMITS, msg

MAX_GRID = int(LIMITS["max_grid"])  # a grid pack is N x N sounds, N <= MAX_GRID


@dataclass
class PackItem:
    """One sound of a pack."""

    filename: str
    wav: bytes
    credits_text: str
    x: float
    y: float
    dims: tuple[int, int]  # 0-based
    labels: tuple[str, str]
    latent: list[float]
    weights: list[tuple[str, float]] = field(default_factory=list)  # (source name, share), heaviest first
    flags_text: str = ""

    def record(self) -> dict[str, Any]:
        return {"file": self.filename, "credits": self.credits_file, "x": self.x, "y": self.y,
                "dims": [self.dims[0] + 1, self.dims[1] + 1], "labels": list(self.labels),
                "latent": [float(v) for v in self.latent],
                "sources": [{"name": n, "share": round(float(w), 6)} for n, w in self.weights], "limits": self.flags_text}

    @property
    def credits_file(self) -> str:
        return self.filename.rsplit(".", 1)[0] + "-credits.txt"


def grid_cells(n: int) -> list[tuple[int, int, float, float]]:
    """An ``n x n`` grid over the map's view: ``(row, column, nx, ny)`` of each cell's centre
    (normalised), row by row from the top (the order the files are numbered in)."""
    n = int(n)
    if not 1 <= n <= MAX_GRID:
        raise ValueError(msg("pack_bad_grid", max=MAX_GRID))
    return [(r, c, (c + 0.5) / n, 1 - (r + 0.5) / n) for r in range(n) for c in range(n)]


def cell_filename(row: int, column: int, wav_name: str) -> str:
    """A grid cell's file name: its place, then the sound's own name (``r0c2_...wav``)."""
    return f"r{row}c{column}_{wav_name}"


_SOURCE_LINE = re.compile(r"^-\s+[\d.]+%\s+(.*)$")


def pack_credits(name: str, items: list[PackItem]) -> str:
    """The pack's credits text: each source once (the weight of each sound's mix is in that
    sound's own credits), then the limits any of its sounds carries."""
    seen: list[str] = []
    for item in items:
        for line in item.credits_text.splitlines():
            m = _SOURCE_LINE.match(line.strip())
            if m and m.group(1) not in seen:
                seen.append(m.group(1))
    limits = sorted({item.flags_text for item in items if item.flags_text})
    lines = [msg("pack_credits_title", name=name, count=len(items)), "", *(f"- {s}" for s in seen)]
    if limits:
        lines += ["", *limits]
    lines += ["", msg("pack_credits_each")]
    return "\n".join(lines) + "\n"


def pack_zip(name: str, items: list[PackItem]) -> bytes:
    """The pack as ZIP bytes: a folder ``name/`` with the WAVs, their credits, ``CREDITS.txt``
    and ``pack.json``."""
    folder = slug(name, "pack")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for item in items:
            z.writestr(f"{folder}/{item.filename}", item.wav, compress_type=zipfile.ZIP_STORED)  # (PCM hardly compresses)
            z.writestr(f"{folder}/{item.credits_file}", item.credits_text.rstrip("\n") + "\n")
        z.writestr(f"{folder}/CREDITS.txt", pack_credits(name, items))
        z.writestr(f"{folder}/pack.json", json.dumps({"name": name, "made_with": "Audio Intellimixer",
                                                      "sounds": [item.record() for item in items]}, indent=1))
    return buf.getvalue()
