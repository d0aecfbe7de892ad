"""The standard library the page's Pyodide runs, with its bytecode: what the build writes.

Pyodide's standard library (``python_stdlib.zip`` from npm, mounted as ``/lib/python313.zip``)
holds sources only, so every start compiled each module it imports afresh: Pyodide's own start
(``asyncio``, ``typing``, ``inspect``, ``pathlib``, ``zipfile``, ... 119 modules), then those
numpy and the engine import (``pickle``, ``datetime``, ``dataclasses``, ``urllib.parse`` with
``ipaddress``, ...). Measured on the 2-core machine, 2026-12-04: Pyodide's start under node
took 1.58-1.63 s from sources and 0.66-0.70 s with bytecode; the app's cold boot in headless
Chromium 3.87 s against 2.83 s, its Python up at 3.16 against 1.85 s (medians of 5, interleaved).

The build (``scripts/build_static.mjs``, in Pyodide's own Python) writes
:func:`write_stdlib`'s archive as ``static/vendor/pyodide/python_stdlib.zip``, the one the page's
Pyodide mounts: npm's archive entry for entry (the same bytes), and beside each module Pyodide's
start imports (:func:`compiled_from_source` as the build's Pyodide starts) and each module of
the packages in :data:`MODULES`, its bytecode as that interpreter compiled it, checked against
the source by hash when imported: a source that differs is compiled afresh, never run stale.
npm's archive stays beside it as ``python_stdlib.stock.zip`` (the benchmark's bare Pyodide).
"""
from __future__ import annotations

import os
import sys

# What a page's worker imports from the standard library as it starts beyond what Pyodide's own
# start imports (under node, at build time): Pyodide's package loader installing numpy's wheel
# and PyScript unpacking the engine's zip (``email``, ``encodings.cp437``, ``importlib.metadata``,
# ``tarfile``), then numpy and the engine. A package comes whole. The boot reply's
# `stdlib_compiled` (:func:`compiled_from_source`) names any module still compiled from source
# (tests/browser/test_workflow.py checks there is none).
MODULES = ("__future__", "_compat_pickle", "ctypes", "dataclasses", "datetime", "email", "encodings.cp437",
           "hashlib", "importlib.metadata", "ipaddress", "numbers", "pickle", "platform", "tarfile", "urllib",
           "wave")


def module_name(entry: str) -> str:
    """The module an archive entry holds: ``json/__init__.py`` -> ``json``, ``a/b.py`` -> ``a.b``."""
    name = entry[:-3].replace("/", ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def write_stdlib(stdlib_zip: str, out: str, modules=(), packages=MODULES) -> list[str]:
    """Write the archive ``out``: every entry of ``stdlib_zip`` as it is, and beside the source
    of each of ``modules`` and of every module of ``packages`` (whole) its hash-checked
    bytecode, named as Python looks for it in an archive (``json/__init__.pyc``), compiled by
    this interpreter with the source's own file name (as mounted: ``stdlib_zip``), so that
    tracebacks read as before. Raises ValueError for a module or package the archive lacks.
    Returns the bytecode's entry names."""
    import py_compile
    import tempfile
    import zipfile

    def wanted(name):
        return name in modules or any(name == p or name.startswith(p + ".") for p in packages)

    written = []
    with zipfile.ZipFile(stdlib_zip) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst, \
            tempfile.TemporaryDirectory() as tmp:
        infos = src.infolist()
        names = {i.filename for i in infos}
        found = {module_name(n) for n in names if n.endswith(".py")}
        missing = [m for m in modules if m not in found]
        missing += [p for p in packages if not any(m == p or m.startswith(p + ".") for m in found)]
        if missing:
            raise ValueError(f"not in {stdlib_zip}: {', '.join(missing)}")
        for info in infos:
            data = src.read(info.filename)
            dst.writestr(info, data, compress_type=info.compress_type)
            if (not info.filename.endswith(".py") or info.filename[:-3] + ".pyc" in names
                    or not wanted(module_name(info.filename))):
                continue
            source, pyc = os.path.join(tmp, "m.py"), os.path.join(tmp, "m.pyc")
            with open(source, "wb") as f:
                f.write(data)
            py_compile.compile(source, cfile=pyc, dfile=os.path.join(stdlib_zip, info.filename), doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
            pyc_info = zipfile.ZipInfo(info.filename[:-3] + ".pyc", date_time=info.date_time)
            with open(pyc, "rb") as f:
                dst.writestr(pyc_info, f.read(), compress_type=zipfile.ZIP_DEFLATED)
            written.append(pyc_info.filename)
    return written


def compiled_from_source() -> list[str]:
    """The modules imported so far from a standard library archive on ``sys.path`` that were
    compiled from their sources (no bytecode beside them), named by their source (a module
    under another name too, such as ``os.path``, once): at build time, under npm's archive,
    what Pyodide's start imports; in the page, what the build's list misses. Empty under
    CPython, whose standard library is no archive."""
    archives = [p.rstrip("/") + "/" for p in sys.path if p.endswith(".zip")]
    out = set()
    for module in list(sys.modules.values()):
        origin = getattr(getattr(module, "__spec__", None), "origin", None) or ""
        for archive in archives:
            if origin.startswith(archive) and origin.endswith(".py"):
                out.add(module_name(origin[len(archive):]))
    return sorted(out)
