"""App glue: the state of one app session, shared by the browser worker and tests.

The browser worker (``py/worker.py``) owns one :class:`Session`; it feeds it decoded audio
and a model backend (onnxruntime-web there, onnxruntime in CPython tests) and returns
what the page draws.  Nothing here touches the DOM or JavaScript, so every rule
(staging of query results, axis mapping, clicks, file names, error wording) is testable
under CPython.

Conventions: latent dims are 0-based here and 1-based in labels; map positions handed to
the page are normalised ``(nx, ny)`` in [0, 1] with ``ny = 0`` at the bottom.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlencode

import numpy as np

from . import audio, freesound, latent, phase, spectral
from .model import Manifest, ManifestError

MAX_SOUNDS = 150
DEFAULT_SOUNDS = 20
DEFAULT_QUERY = "footstep"
HISTORY_MAX = 200  # generated sounds kept (oldest dropped first): a long scrub makes many
MIN_WEIGHT = 0.005  # sources below this share of the mix are not credited


class AppError(ValueError):
    """A user-facing problem (bad input, wrong order of actions); the message is shown as is."""


class Backend(Protocol):
    """Runs a model's encoder and decoder (onnxruntime-web in the browser)."""

    async def encode(self, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``[B, n_bins, n_frames]`` -> ``(mu, logvar)`` each ``[B, D]``."""

    async def decode(self, z: np.ndarray) -> np.ndarray:
        """``[B, D]`` -> ``[B, n_bins, n_frames]``."""


@dataclass
class Source:
    """A sound on the map: where it came from, its audio and its latent."""

    key: str
    meta: dict[str, Any]
    pcm: np.ndarray  # mono float32 at ``sr`` as decoded (untrimmed), kept for model swaps
    sr: int
    origin: str = "freesound"  # or "local"
    mu: np.ndarray | None = None

    def licence_flags(self) -> tuple[bool, bool]:
        """``(noncommercial, sampling)`` of this source's licence (local files: neither)."""
        if self.origin == "local":
            return False, False
        m = self.meta
        if "noncommercial" in m or "sampling" in m:
            return bool(m.get("noncommercial")), bool(m.get("sampling"))
        lic = freesound.licence_info(str(m.get("license") or m.get("license_name") or ""))
        return lic["noncommercial"], lic["sampling"]

    def credit_meta(self) -> dict[str, Any]:
        """The meta dict :func:`freesound.attribution` takes."""
        if self.origin == "local":
            return {"name": str(self.meta.get("name", self.key)), "origin": "local"}
        return dict(self.meta)

    def public(self) -> dict[str, Any]:
        m = self.meta
        nc, sampling = self.licence_flags()
        return {
            "key": self.key,
            "origin": self.origin,
            "name": str(m.get("name", self.key)),
            "username": str(m.get("username", "")),
            "license_name": str(m.get("license_name", "")),
            "url": str(m.get("url", "")),
            "credit": str(m.get("credit", "")),
            "noncommercial": nc,
            "sampling": sampling,
        }


@dataclass
class PendingSound:
    """A click between the latent rule and the decoder (:meth:`Session.begin_generate`)."""

    manifest: Manifest
    dims: tuple[int, int]
    x: float
    y: float
    z: np.ndarray  # float32 [D], the decoder input
    weights: np.ndarray  # [K] of the sources below
    sources: list[Source]
    n_iter: int | None
    t0: float  # perf_counter at the start and after the latent rule
    t1: float


@dataclass
class Generated:
    """A sound made by a click on the map (one entry of the history)."""

    number: int
    dims: tuple[int, int]
    x: float
    y: float
    z: np.ndarray
    weights: list[tuple[str, float]]
    filename: str
    seconds: float = 0.0
    model_id: int = 0  # latents of another model cannot be placed on the current map
    labels: tuple[str, str] = ("", "")
    query: str = ""
    wave: np.ndarray | None = None  # float32 [n_samples], for the spectrogram view
    sample_rate: int = 0
    credits: str = ""  # readable attribution text (downloaded next to the WAV)
    noncommercial: list[str] = field(default_factory=list)  # names of NC-licensed sources used
    sampling: list[str] = field(default_factory=list)  # names of Sampling+-licensed sources used
    hash: str = ""  # shareable URL hash reproducing this sound

    @property
    def credits_filename(self) -> str:
        return self.filename.rsplit(".", 1)[0] + "-credits.txt"

    def public(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "dims": list(self.dims),
            "labels": list(self.labels),
            "x": self.x,
            "y": self.y,
            "query": self.query,
            "filename": self.filename,
            "credits_filename": self.credits_filename,
            "noncommercial": list(self.noncommercial),
            "sampling": list(self.sampling),
            "hash": self.hash,
        }


@dataclass
class Batch:
    """Sources of one query being loaded; they replace the previous query's sources only
    once at least one of them made it (a failed query loses nothing)."""

    id: int
    query: str
    origin: str = "freesound"  # "local": files added beside the current sounds
    count: int = DEFAULT_SOUNDS
    sources: list[Source] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def check_count(value: Any) -> int:
    """The number of sounds asked for, as an int in 1..150, or an :class:`AppError`."""
    try:
        f = float(str(value).strip())
    except (TypeError, ValueError):
        raise AppError(f"The number of sounds must be a whole number from 1 to {MAX_SOUNDS}.") from None
    if not math.isfinite(f) or f != int(f) or not 1 <= f <= MAX_SOUNDS:
        raise AppError(f"The number of sounds must be a whole number from 1 to {MAX_SOUNDS}.")
    return int(f)


def check_query(value: Any) -> str:
    q = " ".join(str(value or "").split())
    if not q:
        raise AppError("Type a keyword to search Freesound for.")
    if len(q) > 200:
        raise AppError("The keyword is too long (200 characters at most).")
    return q


def slug(text: str, fallback: str = "sound") -> str:
    """A file-name-safe version of ``text`` (letters, digits, ``-``)."""
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:40]
    return s or fallback


def wav_filename(query: str, dims: tuple[int, int], x: float, y: float) -> str:
    """Download name: query and map coordinates, e.g. ``footstep_dim1_0.53_dim2_-1.20.wav``."""
    return f"{slug(query)}_dim{dims[0] + 1}_{x:.2f}_dim{dims[1] + 1}_{y:.2f}.wav"


def describe_error(exc: BaseException) -> str:
    """A status-panel message for any exception raised while serving the page."""
    from . import freesound

    if isinstance(exc, (AppError, freesound.FreesoundError)):
        return str(exc)
    if isinstance(exc, ManifestError):
        return f"Model rejected, previous model kept: {exc}"
    if isinstance(exc, audio.AudioError):
        return str(exc)
    text = str(exc) or type(exc).__name__
    return f"Unexpected error: {type(exc).__name__}: {text}"[:500]


def axis_ticks(hi: float, target: int = 5) -> list[float]:
    """Round tick values from 0 to ``hi`` (steps of 1, 2 or 5 x 10^k, about ``target`` ticks)."""
    hi = float(hi)
    if not math.isfinite(hi) or hi <= 0:
        return [0.0]
    raw = hi / max(1, target)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(k * mag for k in (1, 2, 5, 10) if k * mag >= raw)
    n = int(math.floor(hi / step + 1e-9))
    return [round(k * step, 10) for k in range(n + 1)]


def spectrogram_view(x: np.ndarray, m: Manifest, width: int, sample_rate: int | None = None
                     ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """What the page draws for a sound ``x`` (float32 mono at ``sample_rate``, default the
    model's; the model's STFT settings are used either way).

    Returns ``(rgba, env, meta)``: ``rgba`` uint8 ``[n_bins, n_frames, 4]`` (the model's
    representation through magma, row 0 = highest frequency), ``env`` float32 ``[width, 2]``
    and ``meta`` = ``{width, n_bins, n_frames, sample_rate, duration (s), f_max (Hz),
    time_ticks (s), freq_ticks (Hz)}``.
    """
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    S = spectral.analyze(x, m.stft, m.representation)
    rgba = spectral.to_rgba(S)
    env = audio.envelope(x, int(width))
    sr = int(sample_rate or m.sample_rate)
    duration = x.size / float(sr)
    f_max = m.stft.n_bins * sr / float(m.stft.n_fft)
    meta = {
        "width": int(width), "n_bins": int(rgba.shape[0]), "n_frames": int(rgba.shape[1]),
        "sample_rate": sr, "duration": duration, "f_max": f_max,
        "time_ticks": axis_ticks(duration, 4), "freq_ticks": axis_ticks(f_max, 4),
    }
    return rgba, env, meta


# --- shareable state (URL hash) ---------------------------------------------------------

MAX_COORD = 1e6


def make_hash(query: str, count: int, dims: tuple[int, int], point: tuple[float, float] | None = None,
              local: bool = False, freesound: bool = True) -> str:
    """URL hash holding the map and a point, e.g. ``#q=footstep&n=20&x=1&y=2&px=0.31&py=-1.2``.

    ``dims`` are 0-based (written 1-based, as the drop-downs show them); ``point`` is in
    latent units of those dims; ``local=1`` notes that the map also held local files and
    ``fs=0`` that it held no Freesound sounds (the query is then not run on opening).
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


def parse_hash(text: str, latent_dim: int | None = None) -> dict[str, Any]:
    """Read a URL hash written by :func:`make_hash`; every bad field falls back to its default.

    Returns ``{"present", "query", "count", "dims" (0-based pair or None), "point" ([x, y]
    or None), "local", "freesound", "errors" (one line per bad field), "message"}``; ``message`` is empty
    when nothing was wrong, else a status-panel sentence naming the fields ignored.
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
    known = {"q", "n", "x", "y", "px", "py", "local", "fs"}
    unknown = sorted(set(fields) - known)
    if unknown:
        errors.append(f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)[:80]}")
    if "q" in fields:
        try:
            out["query"] = check_query(fields["q"])
        except AppError as e:
            errors.append(f"q: {e}")
    if "n" in fields:
        try:
            out["count"] = check_count(fields["n"])
        except AppError as e:
            errors.append(f"n: {e}")
    if "x" in fields or "y" in fields:
        dims = []
        for key in ("x", "y"):
            v = fields.get(key, "")
            if not re.fullmatch(r"\d{1,4}", v.strip()) or int(v) < 1:
                errors.append(f"{key}: the dim must be a whole number from 1" + (f" to {latent_dim}" if latent_dim else ""))
            elif latent_dim is not None and int(v) > latent_dim:
                errors.append(f"{key}: dim {int(v)} does not exist (this model has {latent_dim} dims)")
            else:
                dims.append(int(v) - 1)
        out["dims"] = dims if len(dims) == 2 else None
    if "px" in fields or "py" in fields:
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
        out["point"] = pt if len(pt) == 2 else None
    out["local"] = fields.get("local") == "1"
    out["freesound"] = fields.get("fs") != "0"
    if errors:
        out["message"] = ("The link's settings are partly invalid (" + "; ".join(errors)
                          + "); defaults are used for those.")[:600]
    return out


class Session:
    """Everything one page holds: model, sources, dims, generated sounds."""

    def __init__(self) -> None:
        self.manifest: Manifest | None = None
        self.backend: Backend | None = None
        self.sources: list[Source] = []
        self.dims: tuple[int, int] = (0, 1)
        self.query: str = DEFAULT_QUERY
        self.count: int = DEFAULT_SOUNDS
        self.history: list[Generated] = []  # every generated sound, oldest first
        self._model_id = 0
        self._batch: Batch | None = None
        self._batches = 0
        self._generated_count = 0
        self._keys = 0

    # --- model ------------------------------------------------------------------------

    def model_info(self) -> dict[str, Any] | None:
        m = self.manifest
        if m is None:
            return None
        return {
            "name": m.name,
            "description": m.description,
            "latent_dim": m.latent_dim,
            "sample_rate": m.sample_rate,
            "n_samples": m.n_samples,
            "duration": m.duration,
            "dims": [
                {"index": d.index, "label": d.label or f"dim {d.index + 1}", "kl": d.kl} for d in m.dims
            ],
            "default_dims": self.default_dims(m),
            "license": m.license,
        }

    @staticmethod
    def default_dims(m: Manifest) -> list[int]:
        """Default X/Y: the manifest's first two entries of ``dims`` (the most active)."""
        return [m.dims[0].index, m.dims[1].index]

    async def set_model(self, manifest: Manifest, backend: Backend) -> dict[str, Any]:
        """Swap in a validated model; re-encode the sources it can take as they are.

        Returns ``{"model": info, "stale": [keys needing audio at the new rate],
        "dropped": [messages]}``.  Sources at another sample rate are left out of the map
        until :meth:`replace_audio` gives their audio at the new rate.
        """
        old_sources = self.sources
        self.manifest, self.backend = manifest, backend
        self.dims = tuple(self.default_dims(manifest))  # type: ignore[assignment]
        self._model_id += 1  # earlier sounds stay in the history but leave the map
        self._batch = None
        stale, dropped, kept = [], [], []
        for s in old_sources:
            s.mu = None
            if s.sr != manifest.sample_rate:
                stale.append(s.key)
                kept.append(s)
                continue
            try:
                s.mu = await self._encode_pcm(s.pcm, s.sr)
                kept.append(s)
            except audio.AudioError as e:
                dropped.append(f"{s.public()['name']}: {describe_error(e)}")
        self.sources = kept
        return {"model": self.model_info(), "stale": stale, "dropped": dropped}

    async def replace_audio(self, key: str, pcm: np.ndarray, sr: int) -> dict[str, Any]:
        """New decoded audio for a source (e.g. at a new model's rate); re-encodes it."""
        src = self._find(key)
        try:
            src.mu = await self._encode_pcm(pcm, sr)
        except audio.AudioError:
            self.sources.remove(src)
            raise
        src.pcm, src.sr = np.asarray(pcm, dtype=np.float32), int(sr)
        return src.public()

    def _require_model(self) -> Manifest:
        if self.manifest is None or self.backend is None:
            raise AppError("The model is still loading; wait for 'Ready' in the status panel.")
        return self.manifest

    async def _encode_pcm(self, pcm: np.ndarray, sr: int) -> np.ndarray:
        m = self._require_model()
        x = audio.prepare(np.asarray(pcm, dtype=np.float32), int(sr), m.sample_rate, m.n_samples)
        S = spectral.analyze(x, m.stft, m.representation)
        mu, _ = await self.backend.encode(S[None])
        mu = np.asarray(mu, dtype=np.float32).reshape(-1)
        if mu.shape != (m.latent_dim,):
            raise ManifestError("latent_dim", f"is {m.latent_dim} but the encoder returned {mu.size} values")
        if not np.all(np.isfinite(mu)):
            raise audio.CorruptAudioError("the encoder returned non-finite values for this sound")
        return mu

    # --- sources ----------------------------------------------------------------------

    @property
    def generated(self) -> list[Generated]:
        """The history entries made with the current model (drawn on the map)."""
        return [g for g in self.history if g.model_id == self._model_id]

    def begin_batch(self, query: str, origin: str = "freesound", count: int | None = None) -> int:
        """Start loading the sounds of a query (or, with ``origin="local"``, of local files);
        returns the batch id."""
        self._require_model()
        self._batches += 1
        label = check_query(query) if origin == "freesound" else (" ".join(str(query).split()) or "local files")
        self._batch = Batch(self._batches, label, origin, check_count(count) if count is not None else self.count)
        return self._batch.id

    def _current(self, batch_id: int) -> Batch:
        if self._batch is None or self._batch.id != batch_id:
            raise AppError("That search was replaced by a newer one.")
        return self._batch

    async def add_source(
        self, batch_id: int, meta: dict[str, Any], pcm: np.ndarray, sr: int, origin: str = "freesound"
    ) -> dict[str, Any]:
        """Encode one decoded sound into the batch. Raises AudioError for unusable audio."""
        batch = self._current(batch_id)
        mu = await self._encode_pcm(pcm, sr)
        batch = self._current(batch_id)  # a newer search may have started meanwhile
        self._keys += 1
        key = f"{origin[0]}{meta.get('id', self._keys)}-{self._keys}"
        src = Source(key, dict(meta), np.asarray(pcm, dtype=np.float32), int(sr), origin, mu)
        batch.sources.append(src)
        return src.public()

    def fail_source(self, batch_id: int, name: str, reason: str) -> None:
        """Record a sound of the batch that could not be loaded (download/decode)."""
        self._current(batch_id).failures.append(f"{name}: {reason}")

    def commit_batch(self, batch_id: int) -> dict[str, Any]:
        """Finish a batch: its sources replace the previous query's if any loaded.

        Returns ``{"loaded", "failed", "failures", "kept_previous", "message", "map"}``.
        """
        batch = self._current(batch_id)
        self._batch = None
        n_ok, n_bad = len(batch.sources), len(batch.failures)
        detail = ""
        if batch.failures:
            shown = "; ".join(batch.failures[:3]) + (" ..." if n_bad > 3 else "")
            detail = f" ({n_bad} failed: {shown})"
        if n_ok == 0:
            kept = bool(self.sources)
            if batch.origin == "local":
                msg = f"None of the {n_bad} files could be loaded{detail}."
            else:
                msg = f"None of the {n_bad} sounds for '{batch.query}' could be loaded{detail}."
            if kept:
                msg += " The previous sounds stay on the map."
            return {"loaded": 0, "failed": n_bad, "failures": batch.failures, "kept_previous": kept,
                    "message": msg, "ok": False, "map": self.map_state()}
        if batch.origin == "local":
            self.sources = self.sources + batch.sources
            msg = f"Ready: {n_ok} local file{'s' if n_ok != 1 else ''} added to the map{detail}. Click the map to make a sound."
        else:
            self.sources = [s for s in self.sources if s.origin != "freesound"] + batch.sources
            self.query = batch.query
            self.count = batch.count
            msg = f"Ready: {n_ok} sound{'s' if n_ok != 1 else ''} for '{batch.query}' on the map{detail}. Click the map to make a sound."
        return {"loaded": n_ok, "failed": n_bad, "failures": batch.failures, "kept_previous": False,
                "message": msg, "ok": True, "map": self.map_state()}

    def _find(self, key: str) -> Source:
        for s in self.sources:
            if s.key == key:
                return s
        raise AppError("That sound is no longer on the map.")

    def source_audio(self, key: str) -> tuple[np.ndarray, int]:
        s = self._find(key)
        return s.pcm, s.sr

    # --- map --------------------------------------------------------------------------

    def set_dims(self, i: int, j: int) -> dict[str, Any]:
        m = self._require_model()
        i, j = int(i), int(j)
        if not (0 <= i < m.latent_dim and 0 <= j < m.latent_dim):
            raise AppError(f"Dims must be between 1 and {m.latent_dim}.")
        self.dims = (i, j)
        return self.map_state()

    def _encoded(self) -> list[Source]:
        return [s for s in self.sources if s.mu is not None]

    def latents(self) -> np.ndarray | None:
        """Source latents ``[K, D]`` (read-only; rebuilt only when a source's latent changes)."""
        mus = tuple(s.mu for s in self._encoded())
        cached = getattr(self, "_latents_cache", None)
        if cached is None or len(cached[0]) != len(mus) or any(a is not b for a, b in zip(cached[0], mus)):
            lat = np.stack(mus) if mus else None
            if lat is not None:
                lat.setflags(write=False)
            cached = self._latents_cache = (mus, lat, {})
        return cached[1]

    def _latents64(self) -> np.ndarray:
        """:meth:`latents` as float64 (what the latent rule computes in), cached with it."""
        lat = self.latents()
        memo = self._latents_cache[2]
        if "f64" not in memo:
            memo["f64"] = lat.astype(np.float64)
        return memo["f64"]

    def ranges(self) -> tuple[tuple[float, float], tuple[float, float]]:
        lat = self.latents()
        memo = self._latents_cache[2]
        key = tuple(self.dims)
        if key not in memo:
            memo[key] = latent.axis_ranges(lat, self.dims)
        return memo[key]

    def map_state(self) -> dict[str, Any]:
        """What the page draws: axis ranges, points in normalised coordinates."""
        (x0, x1), (y0, y1) = self.ranges()
        i, j = self.dims

        def norm(x: float, y: float) -> tuple[float, float]:
            return (x - x0) / (x1 - x0), (y - y0) / (y1 - y0)

        points = []
        for s in self._encoded():
            x, y = float(s.mu[i]), float(s.mu[j])
            nx, ny = norm(x, y)
            points.append({**s.public(), "x": x, "y": y, "nx": nx, "ny": ny})
        gen = []
        for g in self.generated:
            x, y = float(g.z[i]), float(g.z[j])
            nx, ny = norm(x, y)
            gen.append({"number": g.number, "x": x, "y": y, "nx": nx, "ny": ny, "filename": g.filename})
        has_local = any(s.origin == "local" for s in self.sources)
        labels = {d.index: d.label for d in self.manifest.dims} if self.manifest else {}
        return {
            "dims": [i, j],
            "labels": [labels.get(i, f"dim {i + 1}"), labels.get(j, f"dim {j + 1}")],
            "x_range": [x0, x1],
            "y_range": [y0, y1],
            "points": points,
            "generated": gen,
            "history": [{**g.public(), "on_map": g.model_id == self._model_id} for g in self.history],
            "query": self.query,
            "count": self.count,
            "local": has_local,
            "hash": make_hash(self.query, self.count, (i, j), None, local=has_local,
                              freesound=any(s.origin != "local" for s in self.sources)),
        }

    def map_update(self, g: Generated) -> dict[str, Any]:
        """The map-state change that generating ``g`` made: its point (as in
        ``map_state()["generated"]``), its history entry, and the history numbers still kept
        (older ones drop out at ``HISTORY_MAX``)."""
        i, j = self.dims
        nx, ny = self.to_normalized(float(g.z[i]), float(g.z[j]))
        return {
            "dims": [i, j],
            "point": {"number": g.number, "x": float(g.z[i]), "y": float(g.z[j]), "nx": nx, "ny": ny,
                      "filename": g.filename},
            "entry": {**g.public(), "on_map": g.model_id == self._model_id},
            "history": [h.number for h in self.history],
        }

    def to_latent(self, nx: float, ny: float) -> tuple[float, float]:
        (x0, x1), (y0, y1) = self.ranges()
        return x0 + float(nx) * (x1 - x0), y0 + float(ny) * (y1 - y0)

    def to_normalized(self, x: float, y: float) -> tuple[float, float]:
        """Latent coordinates of the plotted dims -> normalised map position (inverse of
        :meth:`to_latent`; may fall outside [0, 1] for points beyond the sources)."""
        (x0, x1), (y0, y1) = self.ranges()
        return (float(x) - x0) / (x1 - x0), (float(y) - y0) / (y1 - y0)

    # --- generation -------------------------------------------------------------------

    def check_can_generate(self) -> tuple[Manifest, list[Source]]:
        """The model and the encoded sources a click would use; AppError if either is missing."""
        m = self._require_model()
        enc = self._encoded()
        if not enc:
            raise AppError("Load some sounds first: type a keyword and press go, then click the map.")
        return m, enc

    async def generate(self, nx: float, ny: float, n_iter: int | None = None) -> tuple[bytes, dict[str, Any]]:
        """A click at normalised map position ``(nx, ny)`` -> WAV bytes and what to show.

        :meth:`begin_generate`, the decoder, then :meth:`finish_generate` (the browser worker
        calls the three itself, so that no asyncio round trip sits on the click path)."""
        pending = self.begin_generate(nx, ny, n_iter)
        S = await self.backend.decode(pending.z[None])
        return self.finish_generate(pending, S)

    def begin_generate(self, nx: float, ny: float, n_iter: int | None = None) -> PendingSound:
        """First half of :meth:`generate`: checks and the latent rule; the decoder input is
        ``result.z [D]``."""
        t0 = time.perf_counter()
        m, enc = self.check_can_generate()
        if not (math.isfinite(float(nx)) and math.isfinite(float(ny))):
            raise AppError("Click inside the map.")
        x, y = self.to_latent(nx, ny)
        dims = self.dims
        z, w = latent.idw_point(self._latents64(), dims, x, y)
        return PendingSound(m, dims, x, y, z.astype(np.float32), w, enc, n_iter, t0, time.perf_counter())

    def finish_generate(self, pending: PendingSound, S: np.ndarray) -> tuple[bytes, dict[str, Any]]:
        """Second half of :meth:`generate`: the decoder output ``S`` -> phase reconstruction,
        credits, history entry; returns the WAV bytes and what to show."""
        m, dims, x, y, z, w, enc = pending.manifest, pending.dims, pending.x, pending.y, pending.z, pending.weights, pending.sources
        t0, t1 = pending.t0, pending.t1
        t2 = time.perf_counter()
        S = np.asarray(S, dtype=np.float32).reshape(m.stft.n_bins, m.stft.n_frames)
        wave = phase.synthesize(S, m, n_iter=pending.n_iter)
        t3 = time.perf_counter()
        order = np.argsort(-w)[:5]
        weights = [(enc[k].public()["name"], float(w[k])) for k in order if w[k] > MIN_WEIGHT]
        used = [(enc[k], float(w[k])) for k in np.argsort(-w) if w[k] > MIN_WEIGHT]
        flags = [(s.public()["name"], *s.licence_flags()) for s, _ in used]  # (name, nc, sampling)
        title = f"{self.query}, dim {dims[0] + 1} = {x:.3f}, dim {dims[1] + 1} = {y:.3f}"
        text, tags = freesound.attribution([(s.credit_meta(), wt) for s, wt in used], title)
        self._generated_count += 1
        labels = self.map_state_labels()
        g = Generated(self._generated_count, dims, x, y, z, weights, wav_filename(self.query, dims, x, y),
                      model_id=self._model_id, labels=labels, query=self.query,
                      wave=np.asarray(wave, dtype=np.float32), sample_rate=m.sample_rate, credits=text,
                      noncommercial=[name for name, nc, smp in flags if nc and not smp],
                      sampling=[name for name, _, smp in flags if smp],
                      hash=make_hash(self.query, self.count, dims, (x, y),
                                     local=any(s.origin == "local" for s in enc),
                                     freesound=any(s.origin != "local" for s in enc)))
        self.history.append(g)
        del self.history[:-HISTORY_MAX]
        info = {
            "number": g.number,
            "dims": list(dims),
            "x": x,
            "y": y,
            "filename": g.filename,
            "weights": [{"name": n, "weight": wt} for n, wt in weights],
            "duration": m.duration,
            "sample_rate": m.sample_rate,
            "peak": float(np.max(np.abs(wave))) if wave.size else 0.0,
            # what changed on the map (the page keeps the rest): sending the whole map state
            # would grow with the history (~45 KB of JSON after 50 sounds, 120 KB at 200)
            "map_update": self.map_update(g),
        }
        info["entry"] = g.public()
        info["credits_text"] = text
        tags = {**tags, "ICMT": ("Made from: " + tags["ICMT"])[:4000]}
        wav = audio.write_wav(wave, m.sample_rate, info=tags)
        # where this click's time went (ms): shown by the benchmarks next to the native figures
        info["timings_ms"] = {"latent": 1000 * (t1 - t0), "decode": 1000 * (t2 - t1),
                              "phase": 1000 * (t3 - t2), "credits_wav_map": 1000 * (time.perf_counter() - t3)}
        return wav, info

    def map_state_labels(self) -> tuple[str, str]:
        labels = {d.index: d.label for d in self.manifest.dims} if self.manifest else {}
        i, j = self.dims
        return labels.get(i, f"dim {i + 1}"), labels.get(j, f"dim {j + 1}")

    # --- history ----------------------------------------------------------------------

    def entry(self, number: int) -> Generated:
        for g in self.history:
            if g.number == int(number):
                return g
        raise AppError(f"Sound #{number} is no longer in the history.")

    def delete_generated(self, number: int) -> dict[str, Any]:
        """Remove one sound from the history (and the map); returns the map state."""
        self.history.remove(self.entry(number))
        return self.map_state()

    # --- views ------------------------------------------------------------------------

    def view(self, kind: str, ident: Any, width: int) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
        """Spectrogram and waveform of a source (``kind="source"``, ``ident`` its key) or a
        generated sound (``kind="generated"``, ``ident`` its number).

        Returns ``(meta, rgba, env)``: ``rgba`` uint8 ``[n_bins, n_frames, 4]`` (magma, row 0 =
        highest frequency), ``env`` float32 ``[width, 2]`` (min/max per pixel column), and
        ``meta`` with the image size, ``sample_rate``, ``duration`` (s), ``f_max`` (Hz) and
        tick values for both axes (``time_ticks`` in s, ``freq_ticks`` in Hz).
        """
        m = self._require_model()
        width = max(16, min(4000, int(width)))
        if kind == "source":
            src = self._find(str(ident))
            x = audio.prepare(src.pcm, src.sr, m.sample_rate, m.n_samples)
            title = src.public()["name"]
        elif kind == "generated":
            g = self.entry(int(ident))
            if g.wave is None:
                raise AppError(f"Sound #{g.number} has no audio kept.")
            x, title, sr = g.wave, f"#{g.number}", g.sample_rate
        else:
            raise AppError(f"Unknown view {kind!r}.")
        if kind == "source":
            sr = m.sample_rate
        rgba, env, meta = spectrogram_view(x, m, width, sr)
        meta["title"] = title
        return meta, rgba, env

