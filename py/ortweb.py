"""onnxruntime-web for the PyScript worker: one ``InferenceSession`` per model part with an
explicit execution provider (``wasm`` first; WebGPU or WebGL where the browser has one and
:mod:`intellimixer.backends` says to move there).

onnxruntime-web itself runs in a worker of its own (``static/ort-worker.js``, started by the
page before Pyodide boots); ``static/ort-client.js`` gives this worker the part of its API used
here, over a MessagePort. So loading it overlaps Pyodide's boot, and a decoder run overlaps
the phase reconstruction of the sound before it.

Browser-only (it imports ``js``); the rules it follows are in the engine, where CPython
tests reach them. Every URL is absolute (the worker runs from a ``blob:`` URL). The engine's
numpy modules are imported where used: numpy is loaded only once the worker has booted.
"""
import asyncio
import json
import time

from pyodide.code import run_js
from pyodide.ffi import create_proxy, to_js

import js
from intellimixer import backends
from intellimixer.strings import msg

_CLIENT = {"module": None}  # static/ort-client.js, once connected


def js_object(value):
    """Python dict/list -> plain JS object/array (nested dicts too)."""
    return to_js(value, dict_converter=js.Object.fromEntries)


async def connect(client_url, port):
    """Import ``static/ort-client.js`` and hand it the port to the onnxruntime-web worker."""
    client = await run_js(f"import({json.dumps(client_url)})")
    client.connect(port)
    _CLIENT["module"] = client
    return client.runtime("wasm")


class Cached(bytes):
    """A file's bytes that the onnxruntime-web worker holds too, as downloaded from ``url``:
    a session for them is asked for by that URL instead of sending the bytes back."""

    url: str


async def cached(url):
    """The bytes of ``url`` (:class:`Cached`) if the onnxruntime-web worker downloaded it ahead
    of time (the default model's files: it opens their sessions while Pyodide boots), else None."""
    if _CLIENT["module"] is None:
        return None
    data = await _CLIENT["module"].cached(url)
    if data is None:
        return None
    out = Cached(data.to_bytes())
    out.url = url
    return out


async def _module(kind):
    """onnxruntime-web's API for execution provider ``kind`` (``"wasm"``, ``"webgpu"`` or
    ``"webgl"``), in the onnxruntime-web worker (which imports its build once)."""
    if _CLIENT["module"] is None:
        raise RuntimeError("onnxruntime-web is not connected")
    return _CLIENT["module"].runtime(kind)


def session_options(external=None):
    """``InferenceSession.create`` options beyond the onnxruntime-web worker's own (execution
    provider, optimisation, threads): the bundle's external-data files, name -> bytes."""
    return js_object({"externalData": [{"path": name, "data": to_js(data)} for name, data in (external or {}).items()]})


def _io_shapes(sess, kind):
    """Tensor name -> shape (ints; None for symbolic axes) from ORT-web's metadata."""
    names = list(getattr(sess, f"{kind}Names"))
    try:
        meta = getattr(sess, f"{kind}Metadata", None)
    except Exception:  # noqa: BLE001 - the WebGL backend has no metadata: names are still checked
        meta = None
    shapes = {n: None for n in names}
    if meta is not None:
        for item in meta:
            shape = getattr(item, "shape", None)
            if shape is not None and item.name in shapes:
                shapes[item.name] = [d if isinstance(d, int) else None for d in shape]
    return shapes


def _warmed_size(sess, input_name, shape, output_name):
    """How many values ``output_name`` had in the preload's run of ``sess`` (see
    static/ort-worker.js), if that run's only input was ``input_name`` of ``shape``; else None."""
    warmed = getattr(sess, "warmed", None)  # (JS undefined arrives as None)
    if warmed is None:
        return None
    warmed = warmed.to_py() if hasattr(warmed, "to_py") else warmed
    inputs, outputs = warmed.get("inputs") or {}, warmed.get("outputs") or {}
    if list(inputs) != [input_name] or tuple(inputs[input_name]) != tuple(shape) or output_name not in outputs:
        return None
    n = 1
    for d in outputs[output_name]:
        n *= int(d)
    return n


class _Settle:
    """Starts ``session.run`` in JS and hands its outcome to a Python function, without
    asyncio. One long-lived proxy dispatches every settlement by ticket: a Python-made promise
    passed into a JS function that returns a promise is a fatal error in Pyodide 0.28, and a
    new proxy per call would be registered with the JS garbage collector each time."""

    def __init__(self):
        self._pending = {}
        self._ticket = 0
        self._run = run_js(
            "(f) => (s, feeds, t) => s.run(feeds).then((v) => f(t, true, v), (e) => f(t, false, e))"
        )(create_proxy(self._dispatch))

    def _dispatch(self, ticket, ok, value):
        return self._pending.pop(ticket)(ok, value)

    def __call__(self, sess, feeds, settled):
        """The JS promise of ``settled(ok, outputs_or_error)`` once ``sess.run(feeds)`` settles."""
        self._ticket += 1
        self._pending[self._ticket] = settled
        try:
            return self._run(sess, feeds, self._ticket)
        except BaseException:
            self._pending.pop(self._ticket, None)
            raise


_settle = None


class OrtBackend:
    """Encoder and decoder of one model bundle in onnxruntime-web, on one execution provider
    (``kind``: ``"wasm"``, ``"webgpu"`` or ``"webgl"``)."""

    def __init__(self, manifest, encoder, decoder, ort, kind="wasm", files=None):
        self.manifest = manifest
        self.encoder = encoder
        self.decoder = decoder
        self.ort = ort
        self.kind = kind
        self.files = files  # the bundle's bytes, kept until tune() has run
        self.last_run_ms = None

    @staticmethod
    async def create(manifest, files, ort, kind="wasm"):
        """Sessions for ``files`` (name -> bytes); checks names, shapes and latent size."""
        from intellimixer import model
        external = {name: files[name] for name in manifest.external_data}
        sessions = []
        try:
            for part in ("encoder", "decoder"):
                spec = getattr(manifest, part)
                try:
                    data = files[spec["file"]]
                    model_arg = data.url if isinstance(data, Cached) else to_js(data)
                    sess = await ort.InferenceSession.create(model_arg, session_options(external))
                except Exception as exc:  # noqa: BLE001 - any JS error: the bundle is rejected, naming it
                    where = "" if kind == "wasm" else f" on {backends.backend_label(kind)}"
                    raise model.ManifestError(
                        f"{part}.file", f"{spec['file']} could not be loaded by onnxruntime-web{where} ({exc})") from None
                sessions.append(sess)
                model.check_io(manifest, part, _io_shapes(sess, "input"), _io_shapes(sess, "output"))
            backend = OrtBackend(manifest, *sessions, ort=ort, kind=kind, files=files)
            await backend.smoke_test()
            return backend
        except BaseException:
            for s in sessions:
                try:
                    await s.release()
                except Exception:  # noqa: BLE001, S110 - already gone
                    pass
            raise

    async def smoke_test(self):
        """Run both parts once on zeros, batch 1: shapes must match the manifest (also warms
        up). A part whose preload already ran it on inputs of these shapes (``warmed``: see
        static/ort-worker.js) is not run again; the dims it gave are checked instead."""
        import numpy as np

        from intellimixer import model

        m = self.manifest
        dec_in, enc_in = (1, m.latent_dim), (1, 1, m.stft.n_bins, m.stft.n_frames)
        size = _warmed_size(self.decoder, m.decoder["input"], dec_in, m.decoder["output"])
        if size is None:
            size = (await self.decode(np.zeros(dec_in, np.float32))).size
        if size != m.stft.n_bins * m.stft.n_frames:
            raise model.ManifestError("decoder.output_shape", f"says {m.stft.n_bins}x{m.stft.n_frames} per sound "
                                      f"but the decoder returned {size} values")
        size = _warmed_size(self.encoder, m.encoder["input"], enc_in, m.encoder["outputs"]["mu"])
        if size is None:
            mu, _ = await self.encode(np.zeros(enc_in[:1] + enc_in[2:], np.float32))
            size = mu.size
        if size != m.latent_dim:
            raise model.ManifestError("latent_dim", f"is {m.latent_dim} but the encoder returned {size} values")

    def _feeds(self, name, x):
        """``{name: float32 tensor of x}`` for a session's ``run``."""
        import numpy as np

        x = np.ascontiguousarray(x, dtype=np.float32)
        tensor = self.ort.Tensor.new("float32", to_js(x.reshape(-1)), to_js(list(x.shape)))
        feeds = js.Object.new()
        js.Reflect.set(feeds, name, tensor)
        self._started = time.perf_counter()
        return feeds

    def _outputs(self, result, outputs):
        import numpy as np

        self.last_run_ms = 1000 * (time.perf_counter() - self._started)
        out = []
        for o in outputs:
            t = js.Reflect.get(result, o)
            data = t.data.to_py()  # a copy of the Float32Array; wrapped, not copied again
            out.append(np.frombuffer(data, dtype=np.float32).reshape([int(d) for d in t.dims]))
        return out

    @staticmethod
    def _failed(name, x, exc):
        from intellimixer import model

        return model.ManifestError("model", f"inference failed: input {name!r} of shape {list(x.shape)} was rejected ({exc})")

    async def _run(self, sess, name, x, outputs):
        try:
            result = await sess.run(self._feeds(name, x))
        except Exception as exc:  # noqa: BLE001 - any JS error: inference failed
            raise self._failed(name, x, exc) from None
        return self._outputs(result, outputs)

    async def encode(self, S):
        m = self.manifest
        x = S.reshape(-1, 1, m.stft.n_bins, m.stft.n_frames)
        mu, logvar = await self._run(self.encoder, m.encoder["input"], x,
                                     [m.encoder["outputs"]["mu"], m.encoder["outputs"]["logvar"]])
        return mu.reshape(x.shape[0], -1), logvar.reshape(x.shape[0], -1)

    async def decode(self, z):
        m = self.manifest
        (S,) = await self._run(self.decoder, m.decoder["input"], z.reshape(-1, m.latent_dim), [m.decoder["output"]])
        return S.reshape(-1, m.stft.n_bins, m.stft.n_frames)

    def decode_then(self, z, handle):
        """The decoder on ``z [batch, D]`` without asyncio: returns the JS promise of
        ``handle(spectrograms [batch, n_bins, n_frames], None)``, or of ``handle(None, error)``
        if inference fails."""
        global _settle
        m = self.manifest
        x = z.reshape(-1, m.latent_dim)

        def settled(ok, value):
            try:
                if not ok:
                    raise self._failed(m.decoder["input"], x, value)
                (S,) = self._outputs(value, [m.decoder["output"]])
                S = S.reshape(-1, m.stft.n_bins, m.stft.n_frames)
            except Exception as exc:  # noqa: BLE001 - handed to the caller
                return handle(None, exc)
            return handle(S, None)

        if _settle is None:
            _settle = _Settle()
        return _settle(self.decoder, self._feeds(m.decoder["input"], x), settled)

    async def release(self):
        for sess in (self.encoder, self.decoder):
            try:
                await sess.release()
            except Exception:  # noqa: BLE001, S110 - already gone
                pass

    async def time_decode(self, runs=12):
        """Median decoder time (ms) over ``runs`` calls, after two warm-up calls."""
        import numpy as np

        z = np.random.default_rng(0).standard_normal((1, self.manifest.latent_dim)).astype(np.float32)
        times = []
        for k in range(runs + 2):
            t = time.perf_counter()
            await self.decode(z)
            if k >= 2:
                times.append(1000 * (time.perf_counter() - t))
        return float(np.median(times))


async def _available(kind):
    """``None`` if the browser offers execution provider ``kind``, else why not."""
    if kind == "webgpu":
        gpu = getattr(js.navigator, "gpu", None)
        adapter = None
        if gpu:
            try:
                adapter = await gpu.requestAdapter()
            except Exception:  # noqa: BLE001 - treated as no adapter
                adapter = None
        return None if adapter else msg("no_webgpu")
    try:
        gl = js.OffscreenCanvas.new(1, 1).getContext("webgl2")
    except Exception:  # noqa: BLE001 - no OffscreenCanvas or no WebGL 2
        gl = None
    return None if gl else msg("no_webgl")


async def tune(session, request):
    """Where the model runs, once it is loaded on WebAssembly: try the GPU backend that
    ``request`` allows (:func:`intellimixer.backends.accelerator_for`) if the browser has
    it, time the decoder on both and keep the one :func:`~intellimixer.backends.keep_accelerator`
    picks. Returns the ``tune_backend`` reply."""
    backend = session.backend
    if backend is None:
        return backends.tuning_result(request, None)
    files, backend.files = backend.files, None
    kind = backends.accelerator_for(request)
    if kind is None or backend.kind != "wasm" or not files:
        return backends.tuning_result(request, backend.kind, msg("backend_as_configured") if request == "wasm" else "")
    why = await _available(kind)
    if why:
        return backends.tuning_result(request, "wasm", msg("backend_unavailable", why=why))
    try:
        gpu = await OrtBackend.create(backend.manifest, files, await _module(kind), kind=kind)
        await gpu.time_decode(2)  # the first runs on a GPU compile its pipelines
    except Exception as exc:  # noqa: BLE001 - the model stays on WebAssembly
        why = getattr(exc, "problem", None) or str(exc)
        return backends.tuning_result(request, "wasm", msg("backend_failed", name=backends.backend_label(kind), why=why))
    t_gpu, t_wasm = await gpu.time_decode(), await backend.time_decode()
    decode_ms = {kind: round(t_gpu, 2), "wasm": round(t_wasm, 2)}
    keep = backends.keep_accelerator(request, kind, t_gpu, t_wasm) and session.backend is backend
    if keep:  # (unless another model was loaded meanwhile)
        session.backend = gpu
        # released a little later: a click or an encoding may still be running on it
        asyncio.get_event_loop().call_later(5.0, lambda: asyncio.ensure_future(backend.release()))
    else:
        await gpu.release()
    note = backends.tuning_note(kind, keep, t_gpu, t_wasm)
    return backends.tuning_result(request, kind if keep else "wasm", note, decode_ms)
