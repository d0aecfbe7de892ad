"""Model backends: the asynchronous encoder/decoder interface the session uses, its native
adapter, and the rule for which execution provider runs a model in the browser.

In the browser, ``py/ortweb.py`` wraps onnxruntime-web (WebAssembly first; WebGPU or WebGL
where present and chosen by :func:`keep_accelerator`); natively, :class:`NativeBackend`
wraps :class:`intellimixer.model.NativeModel` (onnxruntime) with the same interface.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .strings import BACKENDS, msg

if TYPE_CHECKING:  # numpy is not loaded yet when the worker imports this module
    import numpy as np

REQUESTS = ("auto", "wasm", "webgpu", "webgl")  # config ``onnx_backend`` / the page's ``?backend=``
GPU_MARGIN = 0.9  # "auto" keeps a GPU backend only when its decoder takes < 90 % of WebAssembly's


class NativeBackend:
    """:class:`intellimixer.session.Backend` over a :class:`intellimixer.model.NativeModel`
    (what ``ortweb.OrtBackend`` is in the browser). ``calls`` counts encoder/decoder runs."""

    kind = "native"

    def __init__(self, native):
        self.native = native
        self.manifest = native.manifest
        self.calls = 0

    @classmethod
    def open(cls, bundle) -> NativeBackend:
        """A backend for the bundle folder ``bundle``."""
        from .model import NativeModel

        return cls(NativeModel(bundle))

    async def encode(self, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        return self.native.encode(S)

    async def decode(self, z: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.native.decode(z)

    async def release(self) -> None:
        """Nothing to free (the onnxruntime sessions go with the object)."""


def backend_label(kind: str | None) -> str:
    """A backend's name for people (``"wasm"`` -> ``"WebAssembly"``)."""
    return BACKENDS.get(str(kind), BACKENDS["wasm"])


def normalize_request(value) -> str:
    """The configured backend request as one of :data:`REQUESTS` (unknown -> ``"auto"``)."""
    v = str(value or "auto").lower()
    return v if v in REQUESTS else "auto"


def accelerator_for(request: str) -> str | None:
    """The GPU execution provider to try for ``request``: ``"auto"`` and ``"webgpu"`` try
    WebGPU; only a named ``"webgl"`` tries WebGL (onnxruntime-web's WebGL backend is a legacy
    one that lacks common ops and int64 tensors, so it cannot load most models);
    ``"wasm"`` tries none."""
    return {"auto": "webgpu", "webgpu": "webgpu", "webgl": "webgl"}.get(request)


def keep_accelerator(request: str, kind: str, gpu_ms: float, wasm_ms: float) -> bool:
    """Whether the model moves to ``kind`` after both decoders were timed: always when it was
    named, else only when it is clearly faster (a GPU round trip costs about a millisecond,
    so a small decoder is often quicker on WebAssembly)."""
    return request == kind or gpu_ms < GPU_MARGIN * wasm_ms


def tuning_note(kind: str, kept: bool, gpu_ms: float, wasm_ms: float) -> str:
    """The model panel's note after timing both backends."""
    key = "backend_gpu_kept" if kept else "backend_wasm_kept"
    return msg(key, name=backend_label(kind), gpu_ms=f"{gpu_ms:.1f}", wasm_ms=f"{wasm_ms:.1f}")


def tuning_result(request: str, kind: str | None, note: str = "", decode_ms: dict | None = None) -> dict:
    """The ``tune_backend`` reply: the backend the model runs on, its label, the note, and a
    status warning when a backend that was named explicitly is not the one in use."""
    warn = msg("backend_warn", note=note) if note and request not in ("auto", kind) else ""
    return {"backend": kind, "label": backend_label(kind), "requested": request, "note": note,
            "warn": warn, "decode_ms": dict(decode_ms or {})}


async def open_native(manifest, files: dict[str, bytes]) -> NativeBackend:
    """A :class:`NativeBackend` for a bundle given as file name -> bytes (what the page
    uploads), written to a temporary folder for onnxruntime."""
    import tempfile
    from pathlib import Path

    from .model import MANIFEST_NAME
    from .rules import pick_manifest

    folder = Path(tempfile.mkdtemp(prefix="intellimixer-bundle-"))
    manifest_name = pick_manifest(list(files))
    for name, data in files.items():
        (folder / (MANIFEST_NAME if name == manifest_name else name)).write_bytes(bytes(data))
    return NativeBackend.open(folder)
