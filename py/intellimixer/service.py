"""The app's operations as the page calls them (see ``protocol.json``), with no browser in
sight: the worker adapts JS values to these methods and their replies back.

Everything the browser itself does is injected:

- ``open_backend(manifest, files) -> awaitable backend``: runs a validated bundle
  (onnxruntime-web in the worker; :func:`intellimixer.backends.open_native` natively);
- ``fetch_bytes(url, what) -> awaitable bytes``: downloads a model file (pyfetch in the
  worker), raising :class:`AppError` with a sentence naming ``what`` on failure.

So every operation but ``boot`` and ``tune_backend`` (which only exist in a browser) runs
under CPython in the tests, and its reply is checked against the protocol there.
"""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Awaitable, Callable
from urllib.parse import urljoin

import numpy as np

from . import export, freesound, latent, model, packs, persist, rules, share
from .session import Session
from .strings import msg


class Service:
    """One page's operations over one :class:`Session`."""

    def __init__(self, config: dict[str, Any], open_backend: Callable[..., Awaitable[Any]],
                 fetch_bytes: Callable[[str, str], Awaitable[bytes]] | None = None, search_fetch=None,
                 onnx_pb: Callable[[], Awaitable[Any]] | None = None):
        self.config = dict(config)
        self.session = Session()
        self._open_backend = open_backend
        self._fetch_bytes = fetch_bytes
        self._onnx_pb = onnx_pb  # -> ONNX's generated protobuf module (TF.js import); None: not here
        self._packs = 0  # sample packs begun so far (a pack's id)
        self._pack: dict[str, Any] | None = None  # the one being made
        self._search_fetch = search_fetch  # Freesound transport override (tests); None: the default

    # --- model ------------------------------------------------------------------------

    async def install(self, files: dict[str, bytes], source: str) -> dict[str, Any]:
        """Validate a bundle (file name -> bytes) and swap it in; the old model stays on failure."""
        name = rules.pick_manifest(list(files))
        manifest = model.load_manifest(bytes(files[name]))
        model.check_bundle_files(manifest, [n for n in files if n != name])
        t0 = time.perf_counter()
        # (the key first: the default model's sessions are still opening in onnxruntime-web's worker)
        key = persist.model_key(files[name], {n: b for n, b in files.items() if n != name})
        backend = await self._open_backend(manifest, files)
        session = self.session
        old = session.backend
        result = await session.set_model(manifest, backend, key)
        if old is not None and hasattr(old, "release"):
            await old.release()
        effects = result.pop("effects", [])
        message = msg("model_loaded", name=manifest.name, dims=manifest.latent_dim)
        if effects:
            message += " " + " ".join(effects)
        if result["dropped"]:
            message += msg("model_dropped", list="; ".join(result["dropped"]))
        return {**result, "load_s": round(time.perf_counter() - t0, 3), "source": source,
                "map": session.map_state(), "message": message}

    async def load_model_url(self, manifest_url: str) -> dict[str, Any]:
        raw = await self._fetch_bytes(manifest_url, "the model manifest")
        manifest = model.load_manifest(bytes(raw))
        names = list(manifest.files)
        data = await asyncio.gather(*(self._fetch_bytes(urljoin(manifest_url, f), f"model file {f}") for f in names))
        return await self.install({"manifest.json": raw, **dict(zip(names, data))}, manifest_url)

    async def load_model_files(self, files: dict[str, bytes]) -> dict[str, Any]:
        """An uploaded bundle, or TF.js Layers models (the original app's format: converted to
        a bundle first, :mod:`.tfjs`)."""
        from . import tfjs

        found = tfjs.layers_models(files)
        if not found:  # (a bundle picked as a folder: its files by their own names)
            files = {name.rsplit("/", 1)[-1]: data for name, data in files.items()}
            return await self.install(files, "upload: " + ", ".join(sorted(files)))
        if self._onnx_pb is None:  # (no ONNX schema here: say what the files are and what to do)
            raise rules.AppError(msg("tfjs_in_browser", files=", ".join(found)))
        bundle, said = tfjs.convert(files, await self._onnx_pb())
        result = await self.install(bundle, "TensorFlow.js: " + ", ".join(found))
        return {**result, "message": f"{said} {result['message']}"}

    # --- sources ----------------------------------------------------------------------

    async def search(self, query: Any, count: Any, token: Any, genai_only: Any = False,
                     commercial_only: Any = False) -> dict[str, Any]:
        """Freesound text search; starts a batch. Returns the sounds to fetch. ``genai_only``:
        ask Freesound only for sounds whose uploaders allow generative AI;
        ``commercial_only``: only licences that allow commercial use (CC0, CC BY)."""
        query, count = rules.check_query(query), rules.check_count(count)
        self.session.require_model()
        cfg = self.config
        token = rules.choose_token(token, cfg.get("freesound_token"))
        sounds = await freesound.search(query, count, token, cfg.get("freesound_api") or freesound.API_BASE,
                                        max_duration=float(cfg.get("max_duration", 5.0)), fetch=self._search_fetch,
                                        genai_only=bool(genai_only), commercial_only=bool(commercial_only))
        batch = self.session.begin_batch(query, count=count)
        return {"batch": batch, "query": query, "sounds": [s.to_dict() for s in sounds][:count]}

    async def begin_local(self) -> dict[str, Any]:
        return {"batch": self.session.begin_batch(msg("local_label"), origin="local")}

    async def add_source(self, batch: Any, meta: str | dict, pcm: np.ndarray, sr: Any) -> dict[str, Any]:
        meta = json.loads(meta) if isinstance(meta, str) else dict(meta)
        return {"source": await self.session.add_source(int(batch), meta, pcm, int(sr))}

    async def fail_source(self, batch: Any, name: Any, reason: Any) -> dict[str, Any]:
        self.session.fail_source(int(batch), str(name), str(reason))
        return {}

    async def commit_batch(self, batch: Any) -> dict[str, Any]:
        return self.session.commit_batch(int(batch))

    async def replace_audio(self, key: Any, pcm: np.ndarray, sr: Any) -> dict[str, Any]:
        source = await self.session.replace_audio(str(key), pcm, int(sr))
        return {"source": source, "map": self.session.map_state()}

    # --- map --------------------------------------------------------------------------

    async def set_dims(self, x: Any, y: Any) -> dict[str, Any]:
        return self.session.set_dims(int(x), int(y))

    async def set_mix_options(self, include_declined: Any, commercial_only: Any) -> dict[str, Any]:
        return self.session.set_mix_options(bool(include_declined), bool(commercial_only))

    async def map_state(self) -> dict[str, Any]:
        return {"map": self.session.map_state()}

    async def describe_point(self, nx: Any, ny: Any) -> dict[str, Any]:
        return {"text": self.session.describe_point(float(nx), float(ny))}

    async def point_to_map(self, x: Any, y: Any) -> dict[str, Any]:
        nx, ny = self.session.to_normalized(float(x), float(y))
        return {"nx": nx, "ny": ny}

    async def parse_hash(self, text: Any, has_token: Any) -> dict[str, Any]:
        m = self.session.manifest
        h = share.parse_hash(str(text or ""), m.latent_dim + latent.SIMILARITY if m else None)
        has = bool(has_token) or bool(str(self.config.get("freesound_token") or "").strip())
        return {"hash": share.link_plan(h, has)}

    # --- stored sessions (the page stores the records: see intellimixer.persist) ---------

    async def session_record(self) -> dict[str, Any]:
        return {"session": persist.session_record(self.session)}

    async def source_records(self, keys: Any) -> dict[str, Any]:
        wanted = {str(k) for k in (keys or [])}
        s = self.session
        return {"sources": [persist.source_record(s, src) for src in s.sources if src.key in wanted]}

    async def sound_record(self, number: Any) -> dict[str, Any]:
        return {"sound": persist.sound_record(self.session.entry(int(number)))}

    async def restore_begin(self, record: Any) -> dict[str, Any]:
        return self.session.restore_begin(_dict(record))

    async def restore_source(self, record: Any, pcm: np.ndarray, sr: Any) -> dict[str, Any]:
        return await self.session.restore_source(_dict(record), pcm, int(sr))

    async def restore_sound(self, record: Any, pcm: np.ndarray) -> tuple[dict[str, Any], dict[str, bytes]]:
        fields, wav = self.session.restore_sound(_dict(record), pcm)
        return fields, {"wav": wav}

    async def restore_end(self) -> dict[str, Any]:
        return self.session.restore_end()

    async def reset_session(self) -> dict[str, Any]:
        self.session.reset()
        return {"map": self.session.map_state(), "message": msg("session_new")}

    # --- sample packs (intellimixer.packs): begun, stepped by the page (which shows the
    # progress and may cancel between steps), finished into one ZIP ------------------------

    async def pack_begin(self, kind: Any, n: Any, numbers: Any, sample_rate: Any, sample_format: Any) -> dict[str, Any]:
        s = self.session
        try:
            rate, fmt = export.check_options(sample_rate, str(sample_format))
        except ValueError as e:
            raise rules.AppError(msg("export_failed", error=e)) from None
        if kind == "grid":
            try:
                cells = packs.grid_cells(int(n))
            except ValueError as e:
                raise rules.AppError(str(e)) from None
            s.check_can_generate()
            todo = [("grid", *cell) for cell in cells]
            name = msg("pack_grid_name", query=s.query, n=int(n), x=s.dims[0] + 1, y=s.dims[1] + 1)
        elif kind == "history":
            wanted = [int(v) for v in (numbers or [])] or [g.number for g in s.history]
            if not wanted:
                raise rules.AppError(msg("pack_empty"))
            for number in wanted:
                s.entry(number)  # (each must still be there)
            todo = [("history", number) for number in wanted]
            name = msg("pack_history_name", query=s.query, count=len(wanted))
        else:
            raise rules.AppError(f"Unknown pack kind {kind!r}.")
        self._packs += 1
        self._pack = {"id": self._packs, "todo": todo, "items": [], "name": name, "rate": rate, "format": fmt,
                      "dims": s.dims}
        return {"pack": self._packs, "total": len(todo), "name": name}

    def _pack_of(self, pack: Any) -> dict[str, Any]:
        p = self._pack
        if p is None or p["id"] != int(pack):
            raise rules.AppError(msg("pack_gone"))
        return p

    async def pack_step(self, pack: Any) -> dict[str, Any]:
        p, s = self._pack_of(pack), self.session
        job = p["todo"][len(p["items"])]
        if job[0] == "grid":
            if s.dims != p["dims"]:
                raise rules.AppError(msg("pack_gone"))
            _, row, column, nx, ny = job
            pending = s.begin_generate(nx, ny)
            S = await s.backend.decode(pending.z[None])
            name = packs.cell_filename(row, column, rules.wav_filename(s.query, pending.dims, pending.x, pending.y,
                                                                       s.axis_names()))
            p["items"].append(s.pack_item(pending, S, p["rate"], p["format"], name))
        else:
            p["items"].append(s.history_pack_item(job[1], p["rate"], p["format"]))
        return {"done": len(p["items"]), "total": len(p["todo"])}

    async def pack_finish(self, pack: Any) -> tuple[dict[str, Any], dict[str, bytes]]:
        p = self._pack_of(pack)
        if len(p["items"]) != len(p["todo"]):
            raise rules.AppError(msg("pack_unfinished", done=len(p["items"]), total=len(p["todo"])))
        self._pack = None
        data = packs.pack_zip(p["name"], p["items"])
        filename = rules.slug(p["name"], "pack") + ".zip"
        return ({"filename": filename, "message": msg("pack_done", filename=filename, count=len(p["items"]),
                                                        size=f"{len(data) / 1e6:.1f}")}, {"zip": data})

    async def pack_cancel(self, pack: Any) -> dict[str, Any]:
        p = self._pack
        if p is not None and p["id"] == int(pack):
            self._pack = None
        return {"message": msg("pack_cancelled")}

    # --- sounds -----------------------------------------------------------------------

    async def view(self, kind: Any, ident: Any, width: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The reply fields and the buffers (``rgba``, ``env``) of a view."""
        meta, rgba, env = self.session.view(str(kind), ident, int(width))
        return meta, {"rgba": rgba.reshape(-1), "env": env.reshape(-1)}

    async def export_sound(self, number: Any, sample_rate: Any, sample_format: Any) -> tuple[dict[str, Any], dict[str, bytes]]:
        """The reply fields and the buffer (``wav``) of a sound exported with the page's
        export options."""
        meta, wav = self.session.export(int(number), sample_rate, str(sample_format))
        return meta, {"wav": wav}

    async def delete_generated(self, number: Any) -> dict[str, Any]:
        return self.session.delete_generated(int(number))

    async def generate(self, nx: Any, ny: Any, ticket: Any = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The ``generated`` event's fields and buffers for a click (the worker runs the
        halves itself; this is the same thing in one coroutine, for CPython)."""
        t0 = time.perf_counter()
        wav, info = await self.session.generate(float(nx), float(ny))
        return self.generated_event(info, wav, t0, ticket)

    async def preview(self, nx: Any, ny: Any, ticket: Any = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The ``previewed`` event's fields and buffers for a point passed while dragging."""
        t0 = time.perf_counter()
        pcm, info = await self.session.preview(float(nx), float(ny))
        return self.previewed_event(info, pcm, t0, ticket)

    @staticmethod
    def previewed_event(info: dict[str, Any], pcm: np.ndarray, t0: float, ticket: Any
                        ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The ``previewed`` event of a finished preview: ``(fields, buffers)``."""
        info = {**info, "ticket": ticket, "ok": True, "seconds": round(time.perf_counter() - t0, 4)}
        return info, {"pcm": np.asarray(pcm, dtype=np.float32)}

    def generated_event(self, info: dict[str, Any], wav: bytes, t0: float, ticket: Any
                        ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The ``generated`` event of a finished generation: ``(fields, buffers)``."""
        g = self.session.entry(info["number"])
        info = {**info, "ticket": ticket, "ok": True, "seconds": round(time.perf_counter() - t0, 4)}
        return info, {"wav": wav, "pcm": g.wave}


def _dict(value: Any) -> dict[str, Any]:
    """A record as the page sends it: an object (already converted) or its JSON text."""
    return json.loads(value) if isinstance(value, str) else dict(value)

