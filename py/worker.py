"""PyScript worker entry of the Audio Intellimixer page: adapts the page<->worker protocol
(``intellimixer/protocol.json``) to the engine.

It only converts: JS arguments to Python (by argument name: ``pcm``, ``files``, ``config``),
replies to the protocol's JSON envelope, and a generated sound to one ``generated`` event
with its buffers transferred. The operations themselves are :class:`intellimixer.service.Service`
methods; onnxruntime-web is :mod:`ortweb`. Each export is built from the protocol's operation
table, so an operation the protocol lacks cannot be exported, nor one it lists be missing.
"""
import asyncio
import sys
import time

import pyodide_js
from polyscript import xworker
from pyodide.ffi import to_js

import js
import ortweb
from intellimixer import precompiled, protocol
from intellimixer.strings import msg

STATE = {"service": None, "config": {}, "ort": None, "threads": 1}
ORT_PORT = asyncio.get_event_loop().create_future()  # the page's end of onnxruntime-web's worker


def _on_message(event):
    """The page's messages of its own (PyScript hands a worker the page's messages through
    ``xworker.onmessage``): the port to onnxruntime-web's worker, and the shared buffer of the
    phase helper (:mod:`intellimixer.cores`: from then on Griffin-Lim runs on two cores)."""
    data = event.data
    if data is None:
        return
    if getattr(data, "imx_ort_port", False) and event.ports.length and not ORT_PORT.done():
        ORT_PORT.set_result(event.ports[0])
    sab = getattr(data, "imx_phase_sab", None)
    if sab is not None:
        from intellimixer import cores, phase

        phase.use_splitter(cores.Splitter(cores.Channel.of(sab)))


xworker.onmessage = _on_message


def _py(value):
    """A JS value as Python (objects and arrays converted; numbers and strings are already)."""
    return value.to_py() if hasattr(value, "to_py") else value


def _pcm(value):
    import numpy as np

    return np.array(value.to_py(), dtype=np.float32)


def _files(value):
    return {n: js.Reflect.get(value, n).to_bytes() for n in js.Object.keys(value)}


CONVERT = {"pcm": _pcm, "files": _files}  # by argument name; everything else: _py


async def _fetch_bytes(url, what):
    """``url``'s bytes: from onnxruntime-web's worker if it has them already (it downloaded the
    default model while Pyodide booted), else downloaded."""
    from pyodide.http import pyfetch

    from intellimixer.rules import AppError

    data = await ortweb.cached(url)
    if data is not None:
        return data
    try:
        resp = await pyfetch(url)
    except Exception as exc:  # noqa: BLE001 - fetch() rejects: offline, CORS, bad URL
        raise AppError(msg("download_model_failed", what=what, url=url, why=exc)) from None
    if not resp.ok:
        raise AppError(msg("download_model_http", what=what, url=url, status=resp.status))
    return await resp.bytes()


# --- operations that only exist in the browser -----------------------------------------


async def boot(config):
    """Load numpy (from the configured Pyodide package base) and connect onnxruntime-web's
    worker (the page started it, and it has been loading the default model meanwhile)."""
    cfg = STATE["config"] = dict(config)
    t0 = time.perf_counter()
    threads = STATE["threads"] = int(cfg.get("threads") or 1)
    timings = {}

    async def load_numpy():
        try:
            import numpy  # noqa: F401 - already there (e.g. a warm interpreter)
        except ImportError:
            # Loaded by URL: works for the CDN and for a local folder whose wheel was built
            # elsewhere (its hash may differ from pyodide-lock.json, hence no integrity check).
            url = cfg["packages_base"] + cfg["numpy_file"]
            await pyodide_js.loadPackage(url, ortweb.js_object({"checkIntegrity": False}))
        timings["numpy_s"] = round(time.perf_counter() - t0, 3)

    async def load_ort():
        try:  # the page hands it over right after this worker has started
            port = await asyncio.wait_for(asyncio.shield(ORT_PORT), 5.0)
        except TimeoutError:
            raise RuntimeError("the page did not connect onnxruntime-web's worker") from None
        ort = await ortweb.connect(cfg["ort_client"], port)
        timings["ort_s"] = round(time.perf_counter() - t0, 3)
        return ort

    _, STATE["ort"] = await asyncio.gather(load_numpy(), load_ort())
    try:
        import numpy as np
    except ImportError:
        raise RuntimeError(msg("no_numpy", base=cfg["packages_base"], file=cfg["numpy_file"])) from None
    from intellimixer.service import Service

    STATE["service"] = Service(cfg, open_backend=_open_backend, fetch_bytes=_fetch_bytes,
                               onnx_pb=_onnx_pb if cfg.get("onnx_pb2_url") else None)
    return {"numpy": np.__version__, "python": sys.version.split()[0], "threads": threads, **timings,
            "stdlib_compiled": precompiled.compiled_from_source()}


async def _onnx_pb():
    """ONNX's generated protobuf module, loaded on first use (a TF.js import): Pyodide's
    ``protobuf`` from the package base (its own wheel, else the pure-Python one of the same
    version), then the module the build took from the onnx wheel."""
    import types

    if "onnx_ml_pb2" in sys.modules:
        return sys.modules["onnx_ml_pb2"]
    cfg = STATE["config"]
    try:
        import google.protobuf  # noqa: F401
    except ImportError:
        for name in cfg["protobuf_files"]:
            try:
                await pyodide_js.loadPackage(cfg["packages_base"] + name, ortweb.js_object({"checkIntegrity": False}))
                import google.protobuf  # noqa: F401, F811
                break
            except Exception:  # noqa: BLE001 - not in this package base: the next name
                continue
        else:
            from intellimixer.rules import AppError

            raise AppError(msg("tfjs_no_protobuf", base=cfg["packages_base"], files=", ".join(cfg["protobuf_files"])))
    source = await _fetch_bytes(cfg["onnx_pb2_url"], "ONNX's protobuf module")
    module = types.ModuleType("onnx_ml_pb2")
    exec(compile(bytes(source), "onnx_ml_pb2.py", "exec"), module.__dict__)  # noqa: S102 - the build's own file
    sys.modules["onnx_ml_pb2"] = module
    return module


async def _open_backend(manifest, files):
    return await ortweb.OrtBackend.create(manifest, files, STATE["ort"], "wasm")


async def tune_backend():
    from intellimixer import backends

    cfg = STATE["config"]
    request = backends.normalize_request(cfg.get("onnx_backend"))
    return await ortweb.tune(STATE["service"].session, request)


def _make(event, nx, ny, ticket):
    """A sound for map position (nx, ny), posted once as ``event`` (``generated``: a click,
    kept in the history; ``previewed``: a point passed while dragging), its buffers
    transferred, not copied.

    Not a coroutine: the latent rule runs now, the decoder's promise is chained straight to
    the phase reconstruction. An ``async def`` would put asyncio's event-loop round trips (a
    macrotask each under Pyodide) on the click path."""
    t0 = time.perf_counter()

    def post(fields, buffers=None):
        t = time.perf_counter()
        arrays = {name: to_js(value) for name, value in (buffers or {}).items()}
        if "timings_ms" in fields:
            fields["timings_ms"]["to_js"] = 1000 * (time.perf_counter() - t)
        message = ortweb.js_object({protocol.TAG: event, "json": protocol.event_json(event, fields, arrays)})
        for name, arr in arrays.items():
            js.Reflect.set(message, name, arr)
        js.postMessage(message, to_js([arr.buffer for arr in arrays.values()]))

    def failed(exc):
        post({"ticket": ticket, **protocol.error_fields(exc)})
        print(f"intellimixer worker: {event} failed: {type(exc).__name__}: {exc}", file=sys.stderr)

    def decoded(S, error):
        from intellimixer.phase import splitter as phase_splitter

        try:
            if error is not None:
                raise error
            service = STATE["service"]
            if event == "previewed":
                pcm, info = service.session.finish_preview(pending, S)
                fields, buffers = service.previewed_event(info, pcm, t0, ticket)
            else:
                wav, info = service.session.finish_generate(pending, S)
                fields, buffers = service.generated_event(info, wav, t0, ticket)
            fields["timings_ms"]["decoder_run"] = backend.last_run_ms
            fields["timings_ms"]["phase_cores"] = 2 if getattr(phase_splitter(), "last_split", False) else 1
            post(fields, buffers)
        except Exception as exc:  # noqa: BLE001 - every failure goes to the status panel
            failed(exc)

    try:
        session = STATE["service"].session
        pending = session.begin_generate(float(nx), float(ny))
        backend = session.backend
        backend.decode_then(pending.z[None], decoded)
    except Exception as exc:  # noqa: BLE001
        failed(exc)


def generate(nx, ny, ticket):
    """A click on the map: the ``generated`` event (see :func:`_make`)."""
    _make("generated", nx, ny, ticket)


def preview(nx, ny, ticket):
    """A point passed while dragging: the ``previewed`` event (see :func:`_make`)."""
    _make("previewed", nx, ny, ticket)


# --- the exports, built from the protocol ----------------------------------------------


BROWSER_ONLY = {"boot": boot, "tune_backend": tune_backend}


def _handler(op):
    return BROWSER_ONLY[op] if op in BROWSER_ONLY else getattr(STATE["service"], op)


def _export(op):
    names = protocol.args_of(op)
    has_buffers = "buffers" in protocol.OPERATIONS[op]

    async def call(*args):
        try:
            if len(args) != len(names):
                raise TypeError(f"{op} takes {len(names)} arguments ({', '.join(names)}), got {len(args)}")
            result = await _handler(op)(*(CONVERT.get(n, _py)(a) for n, a in zip(names, args)))
        except Exception as exc:  # noqa: BLE001 - every failure goes to the status panel
            return protocol.error_json(op, exc)
        if not has_buffers:
            return protocol.ok_json(op, result or {})
        fields, buffers = result
        out = ortweb.js_object({name: to_js(value) for name, value in buffers.items()})
        out.json = protocol.ok_json(op, fields, buffers)
        return out

    call.__name__ = op
    return call


EVENT_OPS = {"generate": generate, "preview": preview}  # answered by an event, not a reply
for _op, _spec in protocol.OPERATIONS.items():
    globals()[_op] = EVENT_OPS[_op] if "event" in _spec else _export(_op)

__export__ = list(protocol.OPERATIONS)
