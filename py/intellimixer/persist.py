"""What of a session the page stores in the browser (IndexedDB), and how it comes back.

The page keeps the stored records (``static/store.js``); this module decides what they hold
and how a :class:`~intellimixer.session.Session` is rebuilt from them, so the same rules run
under CPython in the tests. Three kinds of record, all JSON (arrays as lists of numbers;
the audio travels beside them as typed arrays, never inside the JSON):

- the session's own (:func:`session_record`): query, count, dims, mix options, the model it
  was made with (:func:`model_key`) and the number the next sound takes;
- a source's (:func:`source_record`): its key, origin, metadata and its latent under the
  current model (the page merges these into a ``latents`` object: model key -> latent, so a
  source keeps one per model it met); its audio is the page's (the bytes it decoded);
- a generated sound's (:func:`sound_record`): everything its history entry, share link,
  credits and export need, but its samples (the page stores them as a Float32Array).

Every record carries :data:`STORE_VERSION`. A record from a newer version is refused with a
reason; older ones are upgraded here (none exist yet). A session made with another model is
kept: its sources are encoded again by the loaded model, and its sounds stay in the history,
off the map (as after a model swap).
"""
from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from . import __version__, audio, credits
from .rules import AppError
from .strings import msg

STORE_VERSION = 1  # the layout of the records below; bump it (and upgrade here) when it changes


def model_key(manifest: bytes, files: dict[str, bytes]) -> str:
    """A model's identity in stored sessions: a hash of its manifest's bytes and of its other
    files (name and bytes, the names being those the manifest gives), so any change to its
    weights or its representation makes another key, whatever the manifest file is called."""
    h = hashlib.sha256(bytes(manifest))
    for name in sorted(files):
        data = bytes(files[name])
        h.update(name.encode("utf-8") + b"\0" + len(data).to_bytes(8, "little") + data)
    return h.hexdigest()[:20]


def _floats(a: Any) -> list[float]:
    return [float(v) for v in np.asarray(a, dtype=np.float64).reshape(-1)]


def check_version(record: dict[str, Any], what: str) -> dict[str, Any]:
    """``record`` upgraded to :data:`STORE_VERSION`; AppError for one this version cannot read."""
    version = record.get("version")
    if not isinstance(version, int) or version < 1:
        raise AppError(msg("store_unreadable", what=what))
    if version > STORE_VERSION:
        raise AppError(msg("store_newer", what=what, version=version, ours=STORE_VERSION))
    return record


def session_record(session) -> dict[str, Any]:
    """The protocol's ``SessionRecord`` of ``session``."""
    m = session.manifest
    return {
        "version": STORE_VERSION, "app": __version__,
        "model": session.model_key, "model_name": m.name if m else "",
        "query": session.query, "count": session.count, "dims": list(session.dims),
        "include_declined": session.include_declined, "commercial_only": session.commercial_only,
        "next_number": session.generated_total,
        "source_keys": [s.key for s in session.sources],
        "numbers": [g.number for g in session.history],
    }


def source_record(session, src) -> dict[str, Any]:
    """The protocol's ``SourceRecord`` of one source (its latent under the loaded model)."""
    return {"version": STORE_VERSION, "key": src.key, "origin": src.origin, "meta": dict(src.meta),
            "model": session.model_key, "latent": _floats(src.mu) if src.mu is not None else None}


def sound_record(g) -> dict[str, Any]:
    """The protocol's ``SoundRecord`` of one generated sound (its samples apart)."""
    c = g.credits
    return {
        "version": STORE_VERSION, "number": g.number, "dims": list(g.dims), "x": g.x, "y": g.y,
        "z": _floats(g.z), "weights": [[n, float(w)] for n, w in g.weights], "filename": g.filename,
        "labels": list(g.labels), "query": g.query, "sample_rate": g.sample_rate, "hash": g.hash,
        "model": g.model_key,
        "credits": {"text": c.text, "tags": dict(c.tags), "noncommercial": list(c.noncommercial),
                    "sampling": list(c.sampling), "genai_nc": list(c.genai_nc), "declined": list(c.declined)},
    }


def stored_latent(record: dict[str, Any], key: str, latent_dim: int) -> np.ndarray | None:
    """The latent a stored source has under model ``key`` (its ``latents`` object, or the
    record's own ``latent`` when its ``model`` is ``key``), or None: encode it again."""
    latents = dict(record.get("latents") or {})
    if record.get("latent") is not None and record.get("model"):
        latents.setdefault(str(record["model"]), record["latent"])
    value = latents.get(key)
    if value is None:
        return None
    mu = np.asarray(value, dtype=np.float32).reshape(-1)
    if mu.shape != (latent_dim,) or not np.all(np.isfinite(mu)):
        return None
    return mu


def credits_from(record: dict[str, Any]) -> credits.Credits:
    c = record.get("credits") or {}
    return credits.Credits(str(c.get("text", "")), {str(k): str(v) for k, v in (c.get("tags") or {}).items()},
                           list(c.get("noncommercial", [])), list(c.get("sampling", [])),
                           list(c.get("genai_nc", [])), list(c.get("declined", [])))


def sound_wav(g) -> bytes:
    """The WAV file of a restored sound (as :meth:`Session.finish_generate` writes it)."""
    return audio.write_wav(g.wave, g.sample_rate, info=g.credits.tags)


def finite(value: Any, default: float = 0.0) -> float:
    v = float(value)
    return v if math.isfinite(v) else default
