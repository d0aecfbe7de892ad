"""PyScript worker entry of the Audio Intellimixer page.

Runs in a Web Worker (started by ``static/app.js`` with PyScript's ``PyWorker``), so the page
never freezes while Python works.  It holds the app state (:class:`intellimixer.app.Session`),
runs the encoder/decoder with onnxruntime-web (one ``InferenceSession`` per model part,
explicit execution provider: ``wasm`` first, then WebGPU or WebGL where present and chosen by
:func:`tune_backend`) and exports the functions listed in ``__export__``
to the page.  Each exported function returns a JSON string ``{"ok": true, ...}`` or
``{"ok": false, "error": message}`` (``generate`` returns ``{json, wav}`` on success), so a
failure never breaks the page and the status panel always has a clear message.

The worker runs from a ``blob:`` URL: every URL it uses is absolute, given by the page.
"""
import asyncio
import json
import sys
import time
from urllib.parse import urljoin

import js
import pyodide_js
from pyodide.code import run_js
from pyodide.ffi import to_js

STATE = {"config": {}, "ort": None, "session": None, "threads": 1}


def _obj(value):
    """Python dict/list -> plain JS object/array."""
    return to_js(value, dict_converter=js.Object.fromEntries)


def _describe(exc):
    try:
        from intellimixer.app import describe_error
    except Exception:  # numpy not loaded yet
        return f"{type(exc).__name__}: {exc}"
    return describe_error(exc)


def exported(fn):
    """Wrap an async exported function: exceptions become ``{"ok": false, "error": ...}``."""

    async def wrapper(*args):
        try:
            result = await fn(*args)
        except Exception as exc:  # noqa: BLE001 - every failure goes to the status panel
            print(f"intellimixer worker: {fn.__name__} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return json.dumps({"ok": False, "error": _describe(exc), "kind": type(exc).__name__})
        if isinstance(result, str):
            return result
        return json.dumps({"ok": True, **(result or {})})

    wrapper.__name__ = fn.__name__
    return wrapper


async def _fetch_bytes(url, what):
    from pyodide.http import pyfetch

    from intellimixer.app import AppError

    try:
        resp = await pyfetch(url)
    except Exception as exc:  # fetch() rejects: offline, CORS, bad URL
        raise AppError(f"Could not download {what} from {url} ({exc}).") from None
    if not resp.ok:
        raise AppError(f"Could not download {what}: {url} answered HTTP {resp.status}.")
    return await resp.bytes()


# --- runtime ----------------------------------------------------------------------------


@exported
async def boot(config_json):
    """Load numpy (from the configured Pyodide package base) and onnxruntime-web."""
    cfg = json.loads(config_json)
    STATE["config"] = cfg
    t0 = time.perf_counter()
    numpy_url = cfg["packages_base"] + cfg["numpy_file"]
    threads = int(cfg.get("threads") or 1)
    timings = {}

    async def load_numpy():
        try:
            import numpy  # noqa: F401 - already there (e.g. a warm interpreter)
        except ImportError:
            # Loaded by URL: works for the CDN and for a local folder whose wheel was built
            # elsewhere (its hash may differ from pyodide-lock.json, hence no integrity check).
            await pyodide_js.loadPackage(numpy_url, _obj({"checkIntegrity": False}))
        timings["numpy_s"] = round(time.perf_counter() - t0, 3)

    async def load_ort():
        ort = await run_js(f"import({json.dumps(cfg['ort_base'] + 'ort.wasm.min.mjs')})")
        ort.env.wasm.wasmPaths = cfg["ort_base"]
        ort.env.wasm.numThreads = threads
        ort.env.logLevel = "error"
        timings["ort_s"] = round(time.perf_counter() - t0, 3)
        return ort

    _, ort = await asyncio.gather(load_numpy(), load_ort())
    try:
        import numpy as np
    except ImportError:
        return {"ok": False, "error": (
            f"Could not load numpy from {cfg['packages_base']} (offline, or the package folder lacks "
            f"{cfg['numpy_file']}). Serve a local copy with scripts/serve.py --pyodide-packages DIR.")}
    STATE["ort"] = ort
    STATE["threads"] = threads
    from intellimixer.app import Session

    STATE["session"] = Session()
    return {"numpy": np.__version__, **timings, "python": sys.version.split()[0], "threads": threads}


# --- model ------------------------------------------------------------------------------


BACKEND_NAMES = {"wasm": "WebAssembly", "webgpu": "WebGPU", "webgl": "WebGL"}


class OrtBackend:
    """Encoder and decoder of one model bundle in onnxruntime-web, on one execution provider
    (``kind``: ``"wasm"``, ``"webgpu"`` or ``"webgl"``; ``ort`` is the module that runs it)."""

    def __init__(self, manifest, encoder, decoder, ort=None, kind="wasm", files=None):
        self.manifest = manifest
        self.encoder = encoder
        self.decoder = decoder
        self.ort = ort if ort is not None else STATE["ort"]
        self.kind = kind
        self.files = files  # the bundle's bytes, kept until tune_backend has run

    @staticmethod
    async def create(manifest, files, ort=None, kind="wasm"):
        """Sessions for ``files`` (name -> bytes); checks names, shapes and latent size."""
        from intellimixer import model

        ort = ort if ort is not None else STATE["ort"]
        external = [{"path": name, "data": to_js(files[name])} for name in manifest.external_data]
        options = {"executionProviders": [kind], "graphOptimizationLevel": "all"}
        if kind != "webgl":
            # ORT's intra-op threads spin-wait after each run by default: on a 2-core machine
            # that steals the core the phase reconstruction (right after the decoder) runs on.
            options["extra"] = {"session": {"intra_op": {"allow_spinning": "0"}}}
        sessions = []
        try:
            for part in ("encoder", "decoder"):
                spec = getattr(manifest, part)
                opts = _obj({**options, "externalData": []})
                if external:
                    opts.externalData = to_js(external, dict_converter=js.Object.fromEntries)
                try:
                    sess = await ort.InferenceSession.create(to_js(files[spec["file"]]), opts)
                except Exception as exc:
                    where = "" if kind == "wasm" else f" on {BACKEND_NAMES[kind]}"
                    raise model.ManifestError(f"{part}.file", f"{spec['file']} could not be loaded by onnxruntime-web{where} ({exc})") from None
                sessions.append(sess)
                model.check_io(manifest, part, _io_shapes(sess, "input"), _io_shapes(sess, "output"))
            backend = OrtBackend(manifest, *sessions, ort=ort, kind=kind, files=files)
            await backend.smoke_test()
            return backend
        except BaseException:
            for s in sessions:
                try:
                    await s.release()
                except Exception:
                    pass
            raise

    async def smoke_test(self):
        """Run both parts once on zeros: shapes must match the manifest (also warms up)."""
        import numpy as np

        from intellimixer import model

        m = self.manifest
        S = await self.decode(np.zeros((1, m.latent_dim), np.float32))
        if S.size != m.stft.n_bins * m.stft.n_frames:
            raise model.ManifestError("decoder.output_shape", f"says {m.stft.n_bins}x{m.stft.n_frames} per sound but the decoder returned {S.size} values")
        mu, _ = await self.encode(np.zeros((1, m.stft.n_bins, m.stft.n_frames), np.float32))
        if mu.size != m.latent_dim:
            raise model.ManifestError("latent_dim", f"is {m.latent_dim} but the encoder returned {mu.size} values")

    def _feeds(self, name, x):
        """``{name: float32 tensor of x}`` for a session's ``run``."""
        import numpy as np

        ort = self.ort
        x = np.ascontiguousarray(x, dtype=np.float32)
        tensor = ort.Tensor.new("float32", to_js(x.reshape(-1)), to_js(list(x.shape)))
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
        except Exception as exc:
            raise self._failed(name, x, exc) from None
        return self._outputs(result, outputs)

    async def encode(self, S):
        m = self.manifest
        x = S.reshape(-1, 1, m.stft.n_bins, m.stft.n_frames)
        mu, logvar = await self._run(self.encoder, m.encoder["input"], x,
                                     [m.encoder["outputs"]["mu"], m.encoder["outputs"]["logvar"]])
        return mu.reshape(x.shape[0], -1), logvar.reshape(x.shape[0], -1)

    async def release(self):
        for sess in (self.encoder, self.decoder):
            try:
                await sess.release()
            except Exception:  # noqa: BLE001 - already gone
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

    async def decode(self, z):
        m = self.manifest
        (S,) = await self._run(self.decoder, m.decoder["input"], z.reshape(-1, m.latent_dim), [m.decoder["output"]])
        return S.reshape(-1, m.stft.n_bins, m.stft.n_frames)

    def decode_then(self, z, handle):
        """The decoder on ``z [batch, D]`` without asyncio: returns the JS promise of
        ``handle(spectrograms [batch, n_bins, n_frames], None)``, or of ``handle(None, error)``
        if inference fails."""
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

        return _run_then(self.decoder, self._feeds(m.decoder["input"], x), settled)


_SETTLED = {}  # run_then ticket -> the Python function its promise settles


def _run_then(sess, feeds, settled):
    """``sess.run(feeds)``, settled by ``settled(ok, outputs_or_error)``: the JS promise of
    what that returns.

    The session is started in JS, and one long-lived proxy dispatches every settlement by
    ticket: a Python-made promise passed into a JS function that returns a promise is a fatal
    error in Pyodide 0.28, and a new proxy per call would be registered with the JS garbage
    collector each time (the costly part of such a call)."""
    if "run_then" not in STATE:
        from pyodide.ffi import create_proxy

        def dispatch(ticket, ok, value):
            return _SETTLED.pop(ticket)(ok, value)

        STATE["run_then"] = run_js(
            "(f) => (s, feeds, t) => s.run(feeds).then((v) => f(t, true, v), (e) => f(t, false, e))"
        )(create_proxy(dispatch))
        STATE["run_ticket"] = 0
    STATE["run_ticket"] += 1
    ticket = STATE["run_ticket"]
    _SETTLED[ticket] = settled
    try:
        return STATE["run_then"](sess, feeds, ticket)
    except BaseException:
        _SETTLED.pop(ticket, None)
        raise


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


async def _install(files, source):
    """Validate a bundle (name -> bytes) and swap it in; the old model stays on failure."""
    from intellimixer import model
    from intellimixer.app import AppError

    json_names = [n for n in files if n.lower().endswith(".json")]
    if not json_names:
        raise AppError("Model rejected, previous model kept: no manifest among the files. "
                       "Select the manifest .json together with the encoder and decoder .onnx files.")
    name = "manifest.json" if "manifest.json" in json_names else json_names[0]
    if len(json_names) > 1 and name != "manifest.json":
        raise AppError("Model rejected, previous model kept: several .json files and none is named manifest.json.")
    manifest = model.load_manifest(bytes(files[name]))
    model.check_bundle_files(manifest, [n for n in files if n != name])
    t0 = time.perf_counter()
    backend = await OrtBackend.create(manifest, files)
    session = STATE["session"]
    old = session.backend
    result = await session.set_model(manifest, backend)
    if old is not None:
        await old.release()
    result["load_s"] = round(time.perf_counter() - t0, 3)
    result["source"] = source
    result["map"] = session.map_state()
    return result


@exported
async def load_model_url(manifest_url):
    """Load the bundle whose manifest is at ``manifest_url`` (absolute)."""
    from intellimixer import model

    if STATE["session"] is None:
        raise RuntimeError("runtime not booted")
    raw = await _fetch_bytes(manifest_url, "the model manifest")
    manifest = model.load_manifest(bytes(raw))
    names = list(manifest.files)
    data = await asyncio.gather(*(_fetch_bytes(urljoin(manifest_url, f), f"model file {f}") for f in names))
    files = {"manifest.json": raw, **dict(zip(names, data))}
    return await _install(files, manifest_url)


@exported
async def load_model_files(files_obj):
    """Load an uploaded bundle: ``files_obj`` is a JS object file name -> Uint8Array."""
    names = list(js.Object.keys(files_obj))
    files = {n: js.Reflect.get(files_obj, n).to_bytes() for n in names}
    return await _install(files, "upload: " + ", ".join(sorted(names)))


async def _accelerator(requested):
    """The GPU execution provider to try for ``requested`` in this worker: ``(kind, None)``,
    or ``(None, why not)``. ``"auto"`` tries WebGPU only: onnxruntime-web's WebGL backend is
    a legacy one that lacks common ops and int64 tensors (it cannot load the default model),
    so it is used only when named. (JS ``null`` reaches Python as a falsy ``jsnull``.)"""
    if requested in ("auto", "webgpu"):
        gpu = getattr(js.navigator, "gpu", None)
        adapter = None
        if gpu:
            try:
                adapter = await gpu.requestAdapter()
            except Exception:  # noqa: BLE001 - treated as no adapter
                adapter = None
        if adapter:
            return "webgpu", None
        return None, "WebGPU is not available in this browser"
    gl = None
    try:
        gl = js.OffscreenCanvas.new(1, 1).getContext("webgl2")
    except Exception:  # noqa: BLE001 - no OffscreenCanvas or no WebGL 2
        gl = None
    if gl:
        return "webgl", None
    return None, "WebGL 2 is not available in this browser"


async def _ort_module(kind):
    """onnxruntime-web's build for ``kind`` (imported once): ``ort.webgpu.min.mjs`` (WebGPU,
    with its own WASM fallback) or ``ort.webgl.min.mjs``."""
    key = f"ort_{kind}"
    if key not in STATE:
        cfg = STATE["config"]
        ort = await run_js(f"import({json.dumps(cfg['ort_base'] + f'ort.{kind}.min.mjs')})")
        if kind == "webgpu":
            ort.env.wasm.wasmPaths = cfg["ort_base"]
            ort.env.wasm.numThreads = STATE["threads"]
        ort.env.logLevel = "error"
        STATE[key] = ort
    return STATE[key]


@exported
async def tune_backend():
    """Where the model runs: after a model is loaded on WebAssembly, try a GPU backend if the
    config allows one (``onnx_backend``: ``"auto"`` and ``"webgpu"`` try WebGPU, ``"webgl"``
    WebGL 2, ``"wasm"`` skips this) and the browser has it. The decoder is timed on both and
    ``"auto"`` keeps WebGPU only when it is at least 10 % faster (a small decoder often is not:
    a GPU round trip costs about a millisecond); a named backend is kept whenever it works."""
    session = STATE["session"]
    backend = session.backend if session else None
    requested = str(STATE["config"].get("onnx_backend") or "auto").lower()
    if requested not in ("auto", "wasm", "webgpu", "webgl"):
        requested = "auto"
    if backend is None:
        return {"backend": None, "note": "no model is loaded"}
    files, backend.files = backend.files, None
    result = {"backend": backend.kind, "requested": requested, "decode_ms": {}}
    if requested == "wasm" or backend.kind != "wasm" or not files:
        result["note"] = "WebAssembly, as configured" if requested == "wasm" else ""
        return result
    kind, why = await _accelerator(requested)
    if kind is None:
        result["note"] = f"{why}; the model runs on WebAssembly"
        return result
    name = BACKEND_NAMES[kind]
    try:
        gpu = await OrtBackend.create(backend.manifest, files, ort=await _ort_module(kind), kind=kind)
        await gpu.time_decode(2)  # the first runs on a GPU compile its pipelines
    except Exception as exc:  # noqa: BLE001 - the model stays on WebAssembly
        why = getattr(exc, "problem", None) or str(exc)
        result["note"] = f"{name} could not run this model, so it runs on WebAssembly ({why})"
        return result
    t_gpu, t_wasm = await gpu.time_decode(), await backend.time_decode()
    result["decode_ms"] = {kind: round(t_gpu, 2), "wasm": round(t_wasm, 2)}
    keep = requested == kind or t_gpu < 0.9 * t_wasm
    if keep and session.backend is backend:  # (unless another model was loaded meanwhile)
        session.backend = gpu
        # released a little later: a click or an encoding may still be running on it
        asyncio.get_event_loop().call_later(5.0, lambda: asyncio.ensure_future(backend.release()))
        result["backend"] = kind
        result["note"] = f"the model runs on {name}: decoder {t_gpu:.1f} ms per sound (WebAssembly {t_wasm:.1f} ms)"
    else:
        await gpu.release()
        result["note"] = (f"the model runs on WebAssembly: decoder {t_wasm:.1f} ms per sound, "
                          f"{name} {t_gpu:.1f} ms")
    return result


@exported
async def model_info():
    return {"model": STATE["session"].model_info()}


# --- sources ----------------------------------------------------------------------------


@exported
async def search(query, count, token):
    """Freesound text search; starts a batch. Returns the sounds to fetch."""
    from intellimixer import app, freesound

    session = STATE["session"]
    query = app.check_query(query)
    count = app.check_count(count)
    session._require_model()
    cfg = STATE["config"]
    token = (token or "").strip() or (cfg.get("freesound_token") or "").strip()
    if not token:
        raise app.AppError("Enter your Freesound API token first (get one at https://freesound.org/apiv2/apply).")
    sounds = await freesound.search(query, count, token, cfg.get("freesound_api") or freesound.API_BASE,
                                    max_duration=float(cfg.get("max_duration", 5.0)))
    batch = session.begin_batch(query, count=count)
    return {"batch": batch, "query": query, "sounds": [s.to_dict() for s in sounds][:count]}


@exported
async def begin_local(label):
    """Start a batch of local files (issue 5 uses this; same staging as a search)."""
    return {"batch": STATE["session"].begin_batch(label or "local files", origin="local")}


@exported
async def add_source(batch, meta_json, pcm, sr):
    import numpy as np

    x = np.array(pcm.to_py(), dtype=np.float32)
    meta = json.loads(meta_json)
    point = await STATE["session"].add_source(int(batch), meta, x, int(sr), meta.get("origin", "freesound"))
    return {"source": point}


@exported
async def fail_source(batch, name, reason):
    STATE["session"].fail_source(int(batch), str(name), str(reason))
    return {}


@exported
async def commit_batch(batch):
    return STATE["session"].commit_batch(int(batch))


@exported
async def replace_audio(key, pcm, sr):
    import numpy as np

    x = np.array(pcm.to_py(), dtype=np.float32)
    return {"source": await STATE["session"].replace_audio(str(key), x, int(sr)), "map": STATE["session"].map_state()}


# --- map --------------------------------------------------------------------------------


@exported
async def set_dims(i, j):
    return {"map": STATE["session"].set_dims(int(i), int(j))}


@exported
async def map_state():
    return {"map": STATE["session"].map_state()}


@exported
async def check_can_generate():
    STATE["session"].check_can_generate()
    return {}


def generate(nx, ny, ticket=None):
    """A click on the map -> (a promise of) ``{json, wav, pcm}`` or an error JSON string.

    ``wav`` (Uint8Array) is the file to download; ``pcm`` (Float32Array, mono at
    ``json.sample_rate``) is what the page plays, so it never parses the WAV back.
    The spectrogram view is not made here: the page asks for it with :func:`view` once the
    sound plays, so it stays off the click -> sound path.

    With a ``ticket`` (a number), the sound is posted to the page as a message
    ``{imx: "generated", ticket, json, wav, pcm}`` whose two buffers are transferred, not
    copied, and the call itself returns only ``json`` (what went wrong, or ``posted``): the
    message reaches the page about 0.5 ms sooner than the call's own return.

    Not a coroutine: the latent rule runs now, the decoder's promise is chained straight to
    the phase reconstruction, and the page awaits that promise. An ``async def`` would put
    asyncio's event-loop round trips (a macrotask each under Pyodide) on the click path.
    """
    t0 = time.perf_counter()
    try:
        session = STATE["session"]
        pending = session.begin_generate(float(nx), float(ny))
        backend = session.backend
        if not hasattr(backend, "decode_then"):  # any other backend: the plain coroutine
            return asyncio.ensure_future(_generate_async(session, pending, t0, ticket))
    except Exception as exc:  # noqa: BLE001
        return _generate_error(exc)

    def decoded(S, error):
        try:
            if error is not None:
                raise error
            return _generated(session, *session.finish_generate(pending, S), t0, ticket)
        except Exception as exc:  # noqa: BLE001
            return _generate_error(exc)

    try:
        return backend.decode_then(pending.z[None], decoded)
    except Exception as exc:  # noqa: BLE001
        return _generate_error(exc)


async def _generate_async(session, pending, t0, ticket=None):
    try:
        S = await session.backend.decode(pending.z[None])
        return _generated(session, *session.finish_generate(pending, S), t0, ticket)
    except Exception as exc:  # noqa: BLE001
        return _generate_error(exc)


def _generated(session, wav, info, t0, ticket=None):
    t1 = time.perf_counter()
    wav_js, pcm_js = to_js(wav), to_js(session.entry(info["number"]).wave)
    info["timings_ms"]["to_js"] = 1000 * (time.perf_counter() - t1)
    info["timings_ms"]["decoder_run"] = getattr(session.backend, "last_run_ms", None)
    info["seconds"] = round(time.perf_counter() - t0, 4)
    info["ok"] = True
    text = json.dumps(info)
    if ticket is None:
        out = _obj({"wav": wav_js, "pcm": pcm_js})
        out.json = text
        return out
    message = _obj({"imx": "generated", "ticket": ticket, "json": text, "wav": wav_js, "pcm": pcm_js})
    js.postMessage(message, to_js([wav_js.buffer, pcm_js.buffer]))
    return json.dumps({"ok": True, "posted": ticket, "seconds": info["seconds"], "timings_ms": info["timings_ms"]})


def _generate_error(exc):
    print(f"intellimixer worker: generate failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    return json.dumps({"ok": False, "error": _describe(exc), "kind": type(exc).__name__})


async def view(kind, ident, width):
    """Spectrogram + waveform of a source (``kind="source"``, its key) or a generated sound
    (``"generated"``, its number) -> ``{json, rgba, env}`` (typed arrays) or an error JSON."""
    try:
        meta, rgba, env = STATE["session"].view(str(kind), ident, int(width))
    except Exception as exc:  # noqa: BLE001
        return json.dumps({"ok": False, "error": _describe(exc), "kind": type(exc).__name__})
    meta["ok"] = True
    return _obj({"json": json.dumps(meta), "rgba": to_js(rgba.reshape(-1)), "env": to_js(env.reshape(-1))})


@exported
async def delete_generated(number):
    return {"map": STATE["session"].delete_generated(int(number))}


@exported
async def parse_hash(text):
    """The page's URL hash -> the settings it holds (see ``intellimixer.app.parse_hash``)."""
    from intellimixer import app

    session = STATE["session"]
    latent_dim = session.manifest.latent_dim if session and session.manifest else None
    return {"hash": app.parse_hash(text, latent_dim)}


@exported
async def point_to_map(x, y):
    """Latent coordinates of the plotted dims -> normalised map position."""
    nx, ny = STATE["session"].to_normalized(float(x), float(y))
    return {"nx": nx, "ny": ny}


__export__ = [
    "boot", "load_model_url", "load_model_files", "model_info",
    "search", "begin_local", "add_source", "fail_source", "commit_batch", "replace_audio",
    "set_dims", "map_state", "check_can_generate", "generate", "tune_backend",
    "view", "delete_generated", "parse_hash", "point_to_map",
]
