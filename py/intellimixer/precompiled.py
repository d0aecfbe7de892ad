"""Python's own modules that the worker imports as it starts, as bytecode the build compiled.

Pyodide's standard library (``python313.zip``) holds sources only, so each start compiled the
modules numpy and the engine import (``pickle``, ``datetime``, ``dataclasses``,
``urllib.parse`` with ``ipaddress``, ...) afresh: measured in Pyodide 0.28.3 under node, 2-core
machine, 2026-12-03, importing numpy took 183-202 ms and the engine 189-196 ms from sources,
125-139 ms and 104-114 ms from bytecode. The build (``scripts/build_static.mjs``) writes
:func:`write_zip`'s archive into the worker's ``engine.zip``; each worker calls :func:`use`
first of all.

The archive holds each module's source and its bytecode checked against that source by hash,
as the interpreter that runs it compiled it: a source that differs is compiled afresh, never
run stale, and under any other Python (CPython: the tests, the CLI) the archive is not there.
"""
from __future__ import annotations

import os
import sys

# What numpy and the engine import from the standard library as the worker starts that
# Pyodide's own start has not imported already; a package comes whole (a module of it left
# out could not be imported). tests/browser/test_boot.py checks that nothing else is compiled.
MODULES = ("_compat_pickle", "ctypes", "dataclasses", "datetime", "hashlib", "ipaddress", "numbers",
           "pickle", "platform", "urllib", "wave")

_STATE = {"before": None, "zip": None}


def archive_name() -> str:
    """The archive's file name, tied to the bytecode's interpreter (e.g. ``stdlib-cpython-313.zip``)."""
    return f"stdlib-{sys.implementation.cache_tag}.zip"


def write_zip(stdlib_zip: str, out: str, modules=MODULES) -> list[str]:
    """Write ``modules`` of the standard library archive ``stdlib_zip`` (sources) to the zip
    ``out``: each source and its bytecode (hash-checked ``.pyc``, named as Python looks for it
    in an archive) compiled by this interpreter, with the file names of the original so that
    tracebacks read as before. Returns the archive's entry names."""
    import py_compile
    import tempfile
    import zipfile

    written = []
    with zipfile.ZipFile(stdlib_zip) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst, \
            tempfile.TemporaryDirectory() as tmp:
        names = [n for n in src.namelist() if n.endswith(".py")]
        for module in modules:
            top = module.replace(".", "/")
            chosen = [n for n in names if n == top + ".py" or n.startswith(top + "/")]
            if not chosen:
                raise ValueError(f"{module}: not in {stdlib_zip}")
            for name in chosen:
                source = os.path.join(tmp, "m.py")
                with open(source, "wb") as f:
                    f.write(src.read(name))
                pyc = os.path.join(tmp, "m.pyc")
                py_compile.compile(source, cfile=pyc, dfile=os.path.join(stdlib_zip, name), doraise=True,
                                   invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
                dst.write(source, name)
                dst.write(pyc, name[:-3] + ".pyc")
                written += [name, name[:-3] + ".pyc"]
    return written


def use(folder: str = ".") -> bool:
    """Put the archive in ``folder`` (if there is one for this interpreter) on ``sys.path``
    just before the standard library's own archive. Returns whether it did."""
    path = os.path.abspath(os.path.join(folder, archive_name()))
    _STATE["before"] = set(sys.modules)
    if not os.path.isfile(path):
        return False
    if path not in sys.path:
        at = next((i for i, p in enumerate(sys.path) if p.endswith(".zip") and p != path), len(sys.path))
        sys.path.insert(at, path)
    _STATE["zip"] = path
    return True


def compiled_from_source() -> list[str]:
    """The standard library's modules imported since :func:`use` that came from sources (the
    standard library's own archive), i.e. that the build's archive should hold."""
    if _STATE["before"] is None:
        return []
    stdlib = [p for p in sys.path if p.endswith(".zip") and p != _STATE["zip"]]
    out = []
    for name, module in list(sys.modules.items()):
        origin = getattr(getattr(module, "__spec__", None), "origin", None) or ""
        if name not in _STATE["before"] and any(origin.startswith(z + os.sep) for z in stdlib):
            out.append(name)
    return sorted(out)
