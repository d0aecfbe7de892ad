"""The state of one app session: model, sources, plotted dims and generated sounds.

The browser worker (through :mod:`.service`) and the CPython tests own one
:class:`Session`; it is fed decoded audio and a model backend (onnxruntime-web in the
browser, onnxruntime natively: :class:`intellimixer.backends.NativeBackend`). Nothing here
touches the DOM or JavaScript.

Conventions: latent dims are 0-based here and 1-based in labels; map positions are
normalised ``(nx, ny)`` in [0, 1] with ``ny = 0`` at the bottom.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from . import audio, credits, export, finishing, latent, packs, persist, pipeline, views
from .model import Manifest, ManifestError
from .rules import AppError, check_count, check_query, describe_error, wav_filename
from .share import make_hash
from .sources import Batch, Source
from .strings import DEFAULT_QUERY, DEFAULT_SOUNDS, HISTORY_MAX, msg


class Backend(Protocol):
    """Runs a model's encoder and decoder (onnxruntime-web in the browser)."""

    async def encode(self, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``[B, n_bins, n_frames]`` -> ``(mu, logvar)`` each ``[B, D]``."""

    async def decode(self, z: np.ndarray) -> np.ndarray:
        """``[B, D]`` -> ``[B, n_bins, n_frames]``."""


def dim_name(label: str) -> str:
    """A dim's name in coordinates ("dim 1 = 0.42"): its label without what it moves
    ("dim 1 · brighter →" -> "dim 1"); the axes and menus show the whole label."""
    return label.split(" · ", 1)[0]


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
    level_db: float | None  # the mix's level (finishing.mix_level_db), None without levels
    n_iter: int | None
    t0: float  # perf_counter at the start and after the latent rule
    t1: float

    def timings_ms(self, t2: float, t3: float) -> dict[str, float]:
        """Where its time went (ms): the latent rule, the decoder (until ``t2``) and phase
        reconstruction (until ``t3``); shown by the benchmarks beside native figures."""
        return {"latent": 1000 * (self.t1 - self.t0), "decode": 1000 * (t2 - self.t1), "phase": 1000 * (t3 - t2)}


@dataclass
class Generated:
    """A sound made by a click on the map (one entry of the history)."""

    number: int
    dims: tuple[int, int]
    x: float
    y: float
    z: np.ndarray
    weights: list[tuple[str, float]]  # the heaviest sources (name, share), for the page
    filename: str
    model_id: int = 0  # latents of another model cannot be placed on the current map
    labels: tuple[str, str] = ("", "")
    query: str = ""
    wave: np.ndarray | None = None  # float32 [n_samples], for the spectrogram view
    sample_rate: int = 0
    credits: credits.Credits = field(default_factory=lambda: credits.Credits("", {}))
    hash: str = ""  # shareable URL hash reproducing this sound
    model_key: str = ""  # the model it was made with (:func:`persist.model_key`), for stored sessions

    @property
    def credits_filename(self) -> str:
        return self.filename.rsplit(".", 1)[0] + "-credits.txt"

    def public(self, on_map: bool) -> dict[str, Any]:
        """The protocol's ``HistoryEntry``."""
        c = self.credits
        mix = ", ".join(f"{name} {100 * w:.0f}%" for name, w in self.weights)
        coords = dict(x_label=dim_name(self.labels[0]), x=f"{self.x:.2f}", y_label=dim_name(self.labels[1]), y=f"{self.y:.2f}")
        return {
            "number": self.number, "dims": list(self.dims), "labels": list(self.labels),
            "x": self.x, "y": self.y, "query": self.query,
            "filename": self.filename, "credits_filename": self.credits_filename,
            "noncommercial": list(c.noncommercial), "sampling": list(c.sampling),
            "genai_nc": list(c.genai_nc), "declined": list(c.declined),
            "flags": credits.badges(c.flagged),
            "flags_text": credits.flags_text(c.flagged),
            "text": (f"#{self.number} {coords['x_label']} = {coords['x']}, {coords['y_label']} = {coords['y']}"
                     f" · {self.query}" + ("" if on_map else msg("earlier_model"))),
            "info": msg("generated_info", number=self.number, mix=mix, **coords),
            "hash": self.hash, "on_map": on_map,
        }


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
        self.include_declined = False  # mix sources whose uploaders declined generative AI
        self.commercial_only = False  # mix only sources whose results may be used commercially
        self._model_id = 0
        self.model_key = ""  # the loaded model's identity in stored sessions (persist.model_key)
        self._restoring: dict[str, Any] | None = None  # counts while a stored session comes back
        self._batch: Batch | None = None
        self._batches = 0
        self._generated_count = 0
        self._preview_phase: np.ndarray | None = None  # where the last scrub preview ended (complex)
        self._keys = 0
        self._latents_cache: tuple[tuple, np.ndarray | None, dict] | None = None

    # --- model ------------------------------------------------------------------------

    def model_info(self) -> dict[str, Any] | None:
        """The protocol's ``ModelInfo`` (None without a model)."""
        m = self.manifest
        if m is None:
            return None
        dims = []
        for d in m.dims:
            label = d.label or f"dim {d.index + 1}"
            plain = label == f"dim {d.index + 1}"  # no descriptor: the menu says how active it is
            dims.append({"index": d.index, "label": label,
                         "option": f"{label} (KL {d.kl:.1f})" if d.kl is not None and plain else label})
        return {
            "name": m.name, "description": m.description, "latent_dim": m.latent_dim,
            "sample_rate": m.sample_rate, "n_samples": m.n_samples, "duration": m.duration,
            "dims": dims, "default_dims": self.default_dims(m), "license": m.license,
            "similarity": [{"index": m.latent_dim + k, "label": msg("similarity_label", k=k + 1),
                            "option": msg("similarity_option", k=k + 1)} for k in range(latent.SIMILARITY)],
            "label": f"{m.name} ({m.latent_dim} dims, {m.sample_rate} Hz, {m.duration:.2f} s)",
        }

    @staticmethod
    def default_dims(m: Manifest) -> list[int]:
        """Default X/Y: the manifest's first two entries of ``dims`` (the most active)."""
        return [m.dims[0].index, m.dims[1].index]

    async def set_model(self, manifest: Manifest, backend: Backend, key: str = "") -> dict[str, Any]:
        """Swap in a validated model; re-encode the sources it can take as they are.

        Returns ``{"model": info, "stale": [keys needing audio at the new rate],
        "dropped": [messages], "effects": [sentences]}``.  Sources at another sample rate are
        left out of the map until :meth:`replace_audio` gives their audio at the new rate.
        ``effects`` says what the swap changed on the map (axes, sounds re-encoded, sounds
        that left it), for the status panel.
        """
        old_sources = self.sources
        had_model = self.manifest is not None
        old_dims = self.dims
        on_map = len(self.generated) if had_model else 0
        self.manifest, self.backend, self.model_key = manifest, backend, str(key)
        self.dims = tuple(self.default_dims(manifest))  # type: ignore[assignment]
        self._model_id += 1  # earlier sounds stay in the history but leave the map
        self._preview_phase = None  # (another model's spectrogram: no warm start from it)
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
                s.level_db = pipeline.source_level(s.pcm, s.sr, manifest)
                kept.append(s)
            except audio.AudioError as e:
                dropped.append(f"{s.public()['name']}: {describe_error(e)}")
        self.sources = kept
        effects = []
        if had_model and tuple(old_dims) != tuple(self.dims):
            effects.append(msg("swap_axes", x=self.dims[0] + 1, y=self.dims[1] + 1))
        encoded = len(kept) - len(stale)
        if encoded:
            effects.append(msg("swap_reencoded", count=encoded))
        if stale:
            effects.append(msg("swap_stale", count=len(stale)))
        if on_map:
            effects.append(msg("swap_history", count=on_map))
        return {"model": self.model_info(), "stale": stale, "dropped": dropped, "effects": effects}

    async def replace_audio(self, key: str, pcm: np.ndarray, sr: int) -> dict[str, Any]:
        """New decoded audio for a source (e.g. at a new model's rate); re-encodes it."""
        src = self._find(key)
        try:
            src.mu = await self._encode_pcm(pcm, sr)
        except audio.AudioError:
            self.sources.remove(src)
            raise
        src.pcm, src.sr = np.asarray(pcm, dtype=np.float32), int(sr)
        src.level_db = pipeline.source_level(src.pcm, src.sr, self.manifest)
        return self.point(src)

    def require_model(self) -> Manifest:
        if self.manifest is None or self.backend is None:
            raise AppError(msg("no_model_yet"))
        return self.manifest

    async def _encode_pcm(self, pcm: np.ndarray, sr: int) -> np.ndarray:
        m = self.require_model()
        mu, _ = await self.backend.encode(pipeline.model_input(pcm, sr, m)[None])
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
        self.require_model()
        self._batches += 1
        label = check_query(query) if origin == "freesound" else (" ".join(str(query).split()) or msg("local_label"))
        self._batch = Batch(self._batches, label, origin, check_count(count) if count is not None else self.count)
        return self._batch.id

    def _current(self, batch_id: int) -> Batch:
        if self._batch is None or self._batch.id != batch_id:
            raise AppError(msg("batch_replaced"))
        return self._batch

    async def add_source(self, batch_id: int, meta: dict[str, Any], pcm: np.ndarray, sr: int) -> dict[str, Any]:
        """Encode one decoded sound into the batch (its origin is the batch's). Raises
        AudioError for unusable audio."""
        self._current(batch_id)
        mu = await self._encode_pcm(pcm, sr)
        batch = self._current(batch_id)  # a newer search may have started meanwhile
        self._keys += 1
        key = f"{batch.origin[0]}{meta.get('id', self._keys)}-{self._keys}"
        src = Source(key, dict(meta), np.asarray(pcm, dtype=np.float32), int(sr), batch.origin, mu,
                     pipeline.source_level(pcm, int(sr), self.manifest))
        batch.sources.append(src)
        return self.point(src)

    def fail_source(self, batch_id: int, name: str, reason: str) -> None:
        """Record a sound of the batch that could not be loaded (download/decode)."""
        self._current(batch_id).failures.append(f"{name}: {reason}")

    def commit_batch(self, batch_id: int) -> dict[str, Any]:
        """Finish a batch: its sources replace the previous query's if any loaded.

        Returns ``{"loaded", "failed", "level", "message", "map"}``.
        """
        batch = self._current(batch_id)
        self._batch = None
        level, message = batch.outcome(bool(self.sources), self.manifest.duration if self.manifest else None)
        if batch.sources and batch.origin == "local":
            self.sources = self.sources + batch.sources
        elif batch.sources:
            self.sources = [s for s in self.sources if s.origin != "freesound"] + batch.sources
            self.query, self.count = batch.query, batch.count
        return {"loaded": len(batch.sources), "failed": len(batch.failures), "level": level,
                "message": message, "map": self.map_state()}

    def _find(self, key: str) -> Source:
        for s in self.sources:
            if s.key == key:
                return s
        raise AppError(msg("gone_source"))

    # --- map --------------------------------------------------------------------------

    def set_dims(self, i: int, j: int) -> dict[str, Any]:
        """Plot dims ``i`` and ``j`` (0-based; ``D`` and ``D + 1`` are the similarity axes,
        :func:`latent.principal_axes`); returns ``{"map", "warning"}``."""
        m = self.require_model()
        i, j = int(i), int(j)
        top = m.latent_dim + latent.SIMILARITY
        if not (0 <= i < top and 0 <= j < top):
            raise AppError(msg("bad_dims", max=m.latent_dim))
        self.dims = (i, j)
        return {"map": self.map_state(), "warning": msg("same_dims") if i == j else ""}

    def _encoded(self) -> list[Source]:
        return [s for s in self.sources if s.mu is not None]

    def latents(self) -> np.ndarray | None:
        """Source latents ``[K, D]`` (read-only; rebuilt only when a source's latent changes)."""
        mus = tuple(s.mu for s in self._encoded())
        cached = self._latents_cache
        if cached is None or len(cached[0]) != len(mus) or any(a is not b for a, b in zip(cached[0], mus)):
            lat = np.stack(mus) if mus else None
            if lat is not None:
                lat.setflags(write=False)
            cached = self._latents_cache = (mus, lat, {})
        return cached[1]

    def _memo(self) -> dict:
        self.latents()
        return self._latents_cache[2]

    def in_mix(self, s: Source) -> bool:
        """Whether the mix options let ``s`` into mixes: sources whose uploaders declined
        generative AI only with :attr:`include_declined`; with :attr:`commercial_only`, only
        :attr:`Source.commercial` ones."""
        return (self.include_declined or not s.declined) and (not self.commercial_only or s.commercial)

    def _mixable(self) -> tuple[list[Source], np.ndarray, np.ndarray]:
        """The sources a click mixes (:meth:`in_mix`), their latents as float64 (what the
        latent rule computes in) and their levels, cached with :meth:`latents`."""
        memo, key = self._memo(), ("mix", self.include_declined, self.commercial_only)
        if key not in memo:
            enc = self._encoded()
            keep = [k for k, s in enumerate(enc) if self.in_mix(s)]
            memo[key] = ([enc[k] for k in keep], self.latents()[keep].astype(np.float64) if keep else None,
                         np.array([enc[k].level_db for k in keep], dtype=np.float64))
        return memo[key]

    def set_mix_options(self, include_declined: bool, commercial_only: bool) -> dict[str, Any]:
        """The mix options: whether sources whose uploaders declined generative AI enter
        mixes (for private study; what is made from them is flagged), and whether only
        sources that allow commercial use do (the others stay on the map, dimmed, and still
        play). Returns ``{"map", "message"}``, the message saying what changed."""
        said = []
        if bool(include_declined) != self.include_declined:
            said.append(msg("mix_declined_on" if include_declined else "mix_declined_off"))
        if bool(commercial_only) != self.commercial_only:
            said.append(msg("mix_commercial_on" if commercial_only else "mix_commercial_off"))
        self.include_declined, self.commercial_only = bool(include_declined), bool(commercial_only)
        return {"map": self.map_state(), "message": " ".join(said)}

    def projection(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The plotted axes ``(A [D, 2], offsets [2])`` when a similarity axis is among them
        (:func:`latent.projection`, over the sources' principal directions), else None (two
        latent dims: a vector's coordinates are two of its entries)."""
        d = self.manifest.latent_dim if self.manifest else 0
        if all(axis < d for axis in self.dims):
            return None
        memo, key = self._memo(), ("projection", tuple(self.dims))
        if key not in memo:
            mean, comps = latent.principal_axes(self.latents(), d)
            memo[key] = latent.projection(self.dims, d, mean, comps)
        return memo[key]

    def xy(self, z: np.ndarray) -> tuple[float, float]:
        """A latent vector's coordinates on the map's axes."""
        proj = self.projection()
        if proj is None:
            return float(z[self.dims[0]]), float(z[self.dims[1]])
        c = np.asarray(z, dtype=np.float64) @ proj[0] - proj[1]
        return float(c[0]), float(c[1])

    def ranges(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """``((x0, x1), (y0, y1))``: the span of the plotted axes."""
        memo, key = self._memo(), tuple(self.dims)
        if key not in memo:
            proj, lat = self.projection(), self.latents()
            memo[key] = (latent.axis_ranges(lat, self.dims) if proj is None
                         else latent.coord_ranges(None if lat is None else lat @ proj[0] - proj[1]))
        return memo[key]

    def axis_names(self) -> list[str]:
        """The plotted axes' names (:func:`dim_name` of their labels), as coordinates and
        file names give them."""
        return [dim_name(label) for label in self.labels()]

    def labels(self) -> tuple[str, str]:
        names = {d.index: d.label for d in self.manifest.dims} if self.manifest else {}
        d = self.manifest.latent_dim if self.manifest else 0
        return tuple(names.get(a) or (msg("similarity_label", k=a - d + 1) if d and a >= d else f"dim {a + 1}")
                     for a in self.dims)  # type: ignore[return-value]

    def point(self, src: Source) -> dict[str, Any]:
        """The protocol's ``Point`` of a source (its position on the current map)."""
        out = src.public()
        out["in_mix"] = self.in_mix(src)
        if not out["in_mix"]:
            out["warning"] = " ".join(w for w in (out["warning"], msg("left_out_mix")) if w)
        if src.mu is not None:
            x, y = self.xy(src.mu)
            nx, ny = self.to_normalized(x, y)
            out.update(x=x, y=y, nx=nx, ny=ny)
        else:
            out.update(x=None, y=None, nx=None, ny=None)
        return out

    def _generated_point(self, g: Generated) -> dict[str, Any]:
        x, y = self.xy(g.z)
        nx, ny = self.to_normalized(x, y)
        return {"number": g.number, "x": x, "y": y, "nx": nx, "ny": ny, "filename": g.filename}

    def map_state(self) -> dict[str, Any]:
        """The protocol's ``MapState``: what the page draws."""
        (x0, x1), (y0, y1) = self.ranges()
        has_local = any(s.origin == "local" for s in self.sources)
        return {
            "dims": list(self.dims), "labels": list(self.labels()),
            "x_range": [x0, x1], "y_range": [y0, y1],
            "x_ticks": views.map_ticks(x0, x1), "y_ticks": views.map_ticks(y0, y1),
            "points": [self.point(s) for s in self._encoded()],
            "generated": [self._generated_point(g) for g in self.generated],
            "history": [g.public(g.model_id == self._model_id) for g in self.history],
            "query": self.query, "count": self.count, "local": has_local, "include_declined": self.include_declined,
            "commercial_only": self.commercial_only,
            "hash": make_hash(self.query, self.count, self.dims, None, local=has_local,
                              freesound=any(s.origin != "local" for s in self.sources)),
        }

    def map_update(self, g: Generated) -> dict[str, Any]:
        """The protocol's ``MapUpdate``: what generating ``g`` changed on the map (its point,
        its history entry, and the history numbers still kept; older ones drop out at
        ``HISTORY_MAX``)."""
        return {"dims": list(self.dims), "point": self._generated_point(g),
                "entry": g.public(g.model_id == self._model_id),
                "history": [h.number for h in self.history]}

    def to_latent(self, nx: float, ny: float) -> tuple[float, float]:
        """Normalised map position -> latent coordinates of the plotted dims."""
        (x0, x1), (y0, y1) = self.ranges()
        return x0 + float(nx) * (x1 - x0), y0 + float(ny) * (y1 - y0)

    def to_normalized(self, x: float, y: float) -> tuple[float, float]:
        """Latent coordinates of the plotted dims -> normalised map position (inverse of
        :meth:`to_latent`; may fall outside [0, 1] for points beyond the sources)."""
        (x0, x1), (y0, y1) = self.ranges()
        return (float(x) - x0) / (x1 - x0), (float(y) - y0) / (y1 - y0)

    def describe_point(self, nx: float, ny: float) -> str:
        """What the keyboard cursor at ``(nx, ny)`` is over: its coordinates and the nearest
        source (a sentence for screen readers)."""
        x, y = self.to_latent(nx, ny)
        xl, yl = self.labels()
        text = msg("cursor_at", x_label=dim_name(xl), x=f"{x:.2f}", y_label=dim_name(yl), y=f"{y:.2f}")
        best, best_d = None, math.inf
        for s in self._encoded():
            px, py = self.to_normalized(*self.xy(s.mu))
            d = math.hypot(px - float(nx), py - float(ny))
            if d < best_d:
                best, best_d = s, d
        if best is not None:
            p = best.public()
            text += (msg("nearest_licence", name=p["name"], licence=p["license_name"]) if p["license_name"]
                     else msg("nearest", name=p["name"]))
        return text

    # --- generation -------------------------------------------------------------------

    def check_can_generate(self) -> tuple[Manifest, list[Source], np.ndarray, np.ndarray]:
        """The model, the sources a click would mix, their latents and levels; AppError if
        either is missing (saying which mix option left every source out)."""
        m = self.require_model()
        enc = self._encoded()
        if not enc:
            raise AppError(msg("no_sounds"))
        mix, lat, levels = self._mixable()
        if not mix:
            allowed = [s for s in enc if self.include_declined or not s.declined]
            raise AppError(msg("none_commercial" if allowed else "all_declined"))
        return m, mix, lat, levels

    async def preview(self, nx: float, ny: float) -> tuple[np.ndarray, dict[str, Any]]:
        """A point passed while dragging -> samples and what to show (:meth:`finish_preview`)."""
        pending = self.begin_generate(nx, ny)
        S = await self.backend.decode(pending.z[None])
        return self.finish_preview(pending, S)

    async def generate(self, nx: float, ny: float, n_iter: int | None = None) -> tuple[bytes, dict[str, Any]]:
        """A click at normalised map position ``(nx, ny)`` -> WAV bytes and what to show:
        :meth:`begin_generate`, the decoder, then :meth:`finish_generate` (the browser
        worker calls the halves itself, so that no asyncio round trip sits on the click path)."""
        pending = self.begin_generate(nx, ny, n_iter)
        S = await self.backend.decode(pending.z[None])
        return self.finish_generate(pending, S)

    def begin_generate(self, nx: float, ny: float, n_iter: int | None = None) -> PendingSound:
        """First half of :meth:`generate`: checks and the latent rule; the decoder input is
        ``result.z [D]``."""
        t0 = time.perf_counter()
        m, enc, lat, levels = self.check_can_generate()
        if not (math.isfinite(float(nx)) and math.isfinite(float(ny))):
            raise AppError(msg("click_inside"))
        x, y = self.to_latent(nx, ny)
        proj = self.projection()
        z, w = (latent.mix_point(lat, self.dims, x, y, self.ranges()) if proj is None
                else latent.mix_projected(lat, proj[0], proj[1], x, y, self.ranges()))
        return PendingSound(m, self.dims, x, y, z.astype(np.float32), w, enc, finishing.mix_level_db(levels, w),
                            n_iter, t0, time.perf_counter())

    def finish_generate(self, pending: PendingSound, S: np.ndarray) -> tuple[bytes, dict[str, Any]]:
        """Second half of :meth:`generate`: the decoder output ``S`` -> audio (phase
        reconstruction), then the history entry and its WAV; returns the WAV bytes and the
        fields of the protocol's ``generated`` event."""
        t2 = time.perf_counter()
        wave = pipeline.render(S, pending.manifest, n_iter=pending.n_iter, level_db=pending.level_db)
        t3 = time.perf_counter()
        g = self._record(pending, wave)
        wav = audio.write_wav(wave, pending.manifest.sample_rate, info=g.credits.tags)
        info = {
            "number": g.number, "sample_rate": g.sample_rate, "duration": pending.manifest.duration,
            "peak": float(np.max(np.abs(wave))) if wave.size else 0.0,
            "weights": [{"name": n, "weight": w} for n, w in g.weights],
            "credits_text": g.credits.text,
            # what changed on the map (the page keeps the rest): the whole map state would
            # grow with the history (~45 KB of JSON after 50 sounds, 120 KB at 200)
            "map_update": self.map_update(g),
            "timings_ms": {**pending.timings_ms(t2, t3), "credits_wav_map": 1000 * (time.perf_counter() - t3)},
        }
        return wav, info

    def finish_preview(self, pending: PendingSound, S: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """Like :meth:`finish_generate`, for a point passed while dragging: the manifest's
        ``phase.preview_n_iter`` iterations, started from the phase the previous preview ended
        with (neighbouring points sound alike, so few iterations suffice), and nothing kept in
        the history. Returns the samples and the fields of the ``previewed`` event."""
        t2 = time.perf_counter()
        m = pending.manifest
        keep: list = []
        wave = pipeline.render(S, m, n_iter=m.phase.preview_n_iter, level_db=pending.level_db,
                               init=self._preview_phase, keep_phase=keep)
        self._preview_phase = keep[-1] if keep else None
        t3 = time.perf_counter()
        info = {"sample_rate": m.sample_rate, "peak": float(np.max(np.abs(wave))) if wave.size else 0.0,
                "timings_ms": pending.timings_ms(t2, t3)}
        return wave, info

    @staticmethod
    def _used(pending: PendingSound) -> list[tuple[Source, float]]:
        """The sources with a share of a mix, heaviest first."""
        w = pending.weights
        return [(pending.sources[k], float(w[k])) for k in np.argsort(-w) if w[k] > 0]

    def pack_item(self, pending: PendingSound, S: np.ndarray, rate: Any, sample_format: str, filename: str) -> packs.PackItem:
        """A sound for a pack (:mod:`.packs`) from a decoded grid point: rendered as a click's,
        exported with the pack's options, and not kept in the history."""
        m = pending.manifest
        wave = pipeline.render(S, m, n_iter=pending.n_iter, level_db=pending.level_db)
        used = self._used(pending)
        c = credits.credit_mix(used, filename.rsplit(".", 1)[0])
        wav, _ = export.export_wav(wave, m.sample_rate, rate, sample_format, info=c.tags)
        return packs.PackItem(filename, wav, c.text, pending.x, pending.y, pending.dims, self.labels(),
                              [float(v) for v in pending.z], [(s.public()["name"], wt) for s, wt in used],
                              credits.flags_text(c.flagged))

    def history_pack_item(self, number: int, rate: Any, sample_format: str) -> packs.PackItem:
        """A sound of the history for a pack, exported with the pack's options."""
        g = self.entry(number)
        wav, _ = export.export_wav(g.wave, g.sample_rate, rate, sample_format, info=g.credits.tags)
        return packs.PackItem(g.filename, wav, g.credits.text, g.x, g.y, g.dims, g.labels, [float(v) for v in g.z],
                              list(g.weights), credits.flags_text(g.credits.flagged))

    def _record(self, pending: PendingSound, wave: np.ndarray) -> Generated:
        """The history entry of a generated sound: its credits (every source with a share of
        the mix: at most :data:`latent.NEIGHBOURS`), name and share link."""
        dims, x, y, enc = pending.dims, pending.x, pending.y, pending.sources
        used = self._used(pending)
        names = self.axis_names()
        title = f"{self.query}, {names[0]} = {x:.3f}, {names[1]} = {y:.3f}"
        self._generated_count += 1
        g = Generated(
            self._generated_count, dims, x, y, pending.z,
            [(s.public()["name"], wt) for s, wt in used[:5]], wav_filename(self.query, dims, x, y, names),
            model_id=self._model_id, labels=self.labels(), query=self.query, model_key=self.model_key,
            wave=np.asarray(wave, dtype=np.float32), sample_rate=pending.manifest.sample_rate,
            credits=credits.credit_mix(used, title),
            hash=make_hash(self.query, self.count, dims, (x, y), local=any(s.origin == "local" for s in enc),
                           freesound=any(s.origin != "local" for s in enc)))
        self.history.append(g)
        del self.history[:-HISTORY_MAX]
        return g

    # --- history and views ------------------------------------------------------------

    def entry(self, number: int) -> Generated:
        for g in self.history:
            if g.number == int(number):
                return g
        raise AppError(msg("gone_sound", number=number))

    def export(self, number: int, rate: Any, sample_format: Any) -> tuple[dict[str, Any], bytes]:
        """Sound ``number`` as a WAV at ``rate`` (0: the model's; 44100 or 48000) in
        ``sample_format`` (pcm16, pcm24, float32), its credits in the INFO chunk (see
        :mod:`.export`). Returns ``({"filename", "sample_rate", "sample_format", "message"},
        wav bytes)``."""
        g = self.entry(number)
        if g.wave is None:
            raise AppError(msg("gone_sound", number=g.number))
        try:
            wav, out_sr = export.export_wav(g.wave, g.sample_rate, rate, sample_format, info=g.credits.tags)
        except ValueError as e:
            raise AppError(msg("export_failed", error=e)) from None
        label = export.FORMATS[str(sample_format)]
        return {"filename": g.filename, "sample_rate": out_sr, "sample_format": str(sample_format),
                "message": msg("exported", number=g.number, filename=g.filename, rate=out_sr, format=label)}, wav

    def delete_generated(self, number: int) -> dict[str, Any]:
        """Remove one sound from the history (and the map); returns ``{"map", "message"}``."""
        self.history.remove(self.entry(number))
        return {"map": self.map_state(), "message": msg("deleted_status", number=int(number))}

    def view(self, kind: str, ident: Any, width: int) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
        """Spectrogram and waveform of a source (``kind="source"``, ``ident`` its key) or a
        generated sound (``kind="generated"``, ``ident`` its number).

        Returns ``(meta, rgba, env)`` as :func:`views.spectrogram_view`, with ``title`` and
        ``label`` (the view's accessible name) in ``meta``.
        """
        m = self.require_model()
        width = max(16, min(4000, int(width)))
        if kind == "source":
            src = self._find(str(ident))
            x, title, sr = pipeline.model_signal(src.pcm, src.sr, m), src.public()["name"], m.sample_rate
        elif kind == "generated":
            g = self.entry(int(ident))
            if g.wave is None:
                raise AppError(f"Sound #{g.number} has no audio kept.")
            x, title, sr = g.wave, f"sound #{g.number}", g.sample_rate
        else:
            raise AppError(f"Unknown view {kind!r}.")
        rgba, env, meta = views.spectrogram_view(x, m, width, sr)
        meta["title"] = title
        meta["label"] = views.view_label(meta, title)
        return meta, rgba, env

    # --- stored sessions (see :mod:`.persist`) --------------------------------------------

    @property
    def generated_total(self) -> int:
        """How many sounds this session has made (the next one is number ``+ 1``)."""
        return self._generated_count

    def reset(self) -> None:
        """A new, empty session with the same model: no sources, no history, default dims,
        query and mix options."""
        self.sources, self.history = [], []
        self._batch, self._preview_phase, self._latents_cache = None, None, None
        self._generated_count = 0
        self.query, self.count = DEFAULT_QUERY, DEFAULT_SOUNDS
        self.include_declined = self.commercial_only = False
        if self.manifest is not None:
            self.dims = tuple(self.default_dims(self.manifest))  # type: ignore[assignment]

    def restore_begin(self, record: dict[str, Any]) -> dict[str, Any]:
        """Start bringing back a stored session (its ``SessionRecord``): this session is
        emptied and takes the record's settings; its sources and sounds follow
        (:meth:`restore_source`, :meth:`restore_sound`), then :meth:`restore_end`.
        Returns ``{"same_model"}``: whether it was made with the loaded model."""
        rec = persist.check_version(dict(record), msg("store_what_session"))
        m = self.require_model()
        self.reset()
        try:
            self.query = check_query(rec.get("query") or DEFAULT_QUERY)
            self.count = check_count(rec.get("count", DEFAULT_SOUNDS))
        except AppError:
            pass  # (a stored value outside today's limits: the defaults)
        self.include_declined, self.commercial_only = bool(rec.get("include_declined")), bool(rec.get("commercial_only"))
        self._generated_count = max(0, int(rec.get("next_number") or 0))
        same = bool(self.model_key) and rec.get("model") == self.model_key
        dims = rec.get("dims")
        top = m.latent_dim + latent.SIMILARITY
        if same and isinstance(dims, list) and len(dims) == 2 and all(isinstance(d, int) and 0 <= d < top for d in dims):
            self.dims = (dims[0], dims[1])
        self._restoring = {"same": same, "model_name": str(rec.get("model_name") or "?"), "encoded": 0, "off_map": 0,
                           "failed": []}
        return {"same_model": same}

    def _restore_state(self) -> dict[str, Any]:
        if self._restoring is None:
            raise AppError(msg("store_not_restoring"))
        return self._restoring

    async def restore_source(self, record: dict[str, Any], pcm: np.ndarray, sr: int) -> dict[str, Any]:
        """One stored source, its audio decoded again at ``sr``: its stored latent under the
        loaded model if it has one, else encoded now. Returns ``{"source", "encoded"}``."""
        state = self._restore_state()
        rec = persist.check_version(dict(record), msg("store_what_source"))
        m = self.require_model()
        key = str(rec["key"])
        mu = persist.stored_latent(rec, self.model_key, m.latent_dim)
        encoded = mu is None
        name = str((rec.get("meta") or {}).get("name", key))
        try:
            if encoded:
                mu = await self._encode_pcm(pcm, sr)
        except audio.AudioError as e:
            state["failed"].append(f"{name}: {describe_error(e)}")
            raise
        pcm = np.asarray(pcm, dtype=np.float32)
        src = Source(key, dict(rec.get("meta") or {}), pcm, int(sr), "local" if rec.get("origin") == "local" else "freesound",
                     mu, pipeline.source_level(pcm, int(sr), m))
        self.sources = [s for s in self.sources if s.key != key] + [src]
        tail = key.rsplit("-", 1)[-1]
        if tail.isdigit():  # keys made later in this session must not repeat a stored one
            self._keys = max(self._keys, int(tail))
        state["encoded"] += int(encoded)
        return {"source": self.point(src), "encoded": encoded}

    def restore_sound(self, record: dict[str, Any], wave: np.ndarray) -> tuple[dict[str, Any], bytes]:
        """One stored generated sound and its samples: back in the history (on the map when
        made with the loaded model). Returns its ``HistoryEntry`` fields and its WAV bytes."""
        state = self._restore_state()
        rec = persist.check_version(dict(record), msg("store_what_sound"))
        m = self.require_model()
        z = np.asarray(rec.get("z") or [], dtype=np.float32)
        on_map = bool(self.model_key) and rec.get("model") == self.model_key and z.shape == (m.latent_dim,)
        dims = tuple(int(d) for d in rec.get("dims", (0, 1)))[:2]
        labels = tuple(str(v) for v in rec.get("labels", ("", "")))[:2]
        g = Generated(int(rec["number"]), dims, persist.finite(rec.get("x")), persist.finite(rec.get("y")), z,
                      [(str(n), float(w)) for n, w in rec.get("weights", [])], str(rec.get("filename") or "sound.wav"),
                      model_id=self._model_id if on_map else -1, labels=labels, query=str(rec.get("query", "")),
                      wave=np.asarray(wave, dtype=np.float32), sample_rate=int(rec.get("sample_rate") or m.sample_rate),
                      credits=persist.credits_from(rec), hash=str(rec.get("hash", "")), model_key=str(rec.get("model", "")))
        self.history = sorted([h for h in self.history if h.number != g.number] + [g], key=lambda h: h.number)
        self._generated_count = max(self._generated_count, g.number)
        state["off_map"] += int(not on_map)
        return {"entry": g.public(on_map), "credits_text": g.credits.text, "sample_rate": g.sample_rate}, persist.sound_wav(g)

    def restore_end(self) -> dict[str, Any]:
        """Finish bringing back a stored session: ``{"map", "message"}``, the message saying
        what came back and what changed on the way (another model, sources that failed)."""
        state = self._restore_state()
        self._restoring = None
        del self.history[:-HISTORY_MAX]
        parts = [msg("restored", query=self.query, sources=len(self.sources), sounds=len(self.history))]
        if not state["same"] and (self.sources or self.history):
            parts.append(msg("restored_other_model", model=state["model_name"], current=self.manifest.name))
        if state["encoded"] and state["same"]:
            parts.append(msg("restored_encoded", count=state["encoded"]))
        if state["off_map"]:
            parts.append(msg("restored_off_map", count=state["off_map"]))
        if state["failed"]:
            parts.append(msg("restored_failed", list="; ".join(state["failed"])))
        return {"map": self.map_state(), "message": " ".join(parts)}
