"""intellimixer.precompiled under CPython: the build's standard library archive holds every
entry of the original as it was, and hash-checked bytecode beside the sources of the modules
asked for (exact modules, whole packages); mounted as the standard library, a module comes
from its bytecode with the source's own file name, bytecode that does not match its source is
never run, and the modules compiled from source are named. (tests/test_bytecode.py checks the
build's archive in Pyodide.)"""
from __future__ import annotations

import sys
import zipfile

import pytest

from intellimixer import precompiled

STDLIB = {
    "imx_fake_mod.py": "def where():\n    return 'stdlib'\n",
    "imx_fake_pkg/__init__.py": "",
    "imx_fake_pkg/a.py": "def where():\n    return 'a'\n",
    "imx_fake_pkg/sub/__init__.py": "",
    "imx_fake_pkg/sub/b.py": "VALUE = 2\n",
    "imx_fake_other.py": "VALUE = 3\n",
    "imx_fake_data/table.txt": "not a module\n",
}


@pytest.fixture
def fake(tmp_path, monkeypatch):
    std = tmp_path / "python-fake.zip"
    with zipfile.ZipFile(std, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in STDLIB.items():
            z.writestr(name, text)
    out = tmp_path / "out" / "python-fake.zip"
    out.parent.mkdir()

    def mount(archive):  # the archive as the standard library (Pyodide mounts the build's in npm's place)
        monkeypatch.setattr(sys, "path", [str(archive)] + sys.path)

    yield std, out, mount
    for name in list(sys.modules):
        if name.startswith("imx_fake"):
            del sys.modules[name]


def test_module_names_of_archive_entries():
    assert precompiled.module_name("json/__init__.py") == "json"
    assert precompiled.module_name("importlib/metadata/_meta.py") == "importlib.metadata._meta"
    assert precompiled.module_name("wave.py") == "wave"


def test_archive_keeps_every_entry_and_adds_hash_checked_bytecode(fake):
    std, out, _ = fake
    written = precompiled.write_stdlib(str(std), str(out), modules=("imx_fake_mod",), packages=("imx_fake_pkg.sub",))
    assert sorted(written) == ["imx_fake_mod.pyc", "imx_fake_pkg/sub/__init__.pyc", "imx_fake_pkg/sub/b.pyc"]
    with zipfile.ZipFile(std) as a, zipfile.ZipFile(out) as b:
        for name in a.namelist():  # the original's entries, the same bytes
            assert b.read(name) == a.read(name), name
        assert sorted(b.namelist()) == sorted(a.namelist() + written)
        pyc = b.read("imx_fake_pkg/sub/b.pyc")
    assert int.from_bytes(pyc[4:8], "little") == 0b11  # hash-based, checked against the source
    with pytest.raises(ValueError, match="imx_fake_missing"):
        precompiled.write_stdlib(str(std), str(out), modules=("imx_fake_missing",), packages=())
    with pytest.raises(ValueError, match="imx_fake_nopkg"):
        precompiled.write_stdlib(str(std), str(out), packages=("imx_fake_nopkg",))


def test_modules_come_from_their_bytecode_and_the_rest_is_named(fake):
    std, out, mount = fake
    precompiled.write_stdlib(str(std), str(out), modules=("imx_fake_mod",), packages=("imx_fake_pkg",))
    mount(out)
    import imx_fake_mod
    import imx_fake_pkg.a
    import imx_fake_pkg.sub.b

    assert imx_fake_mod.__spec__.origin == f"{out}/imx_fake_mod.pyc"
    assert imx_fake_pkg.sub.b.__spec__.origin == f"{out}/imx_fake_pkg/sub/b.pyc"
    # the bytecode's code names the source as the archive is mounted (tracebacks read the source)
    assert imx_fake_mod.where.__code__.co_filename == f"{std}/imx_fake_mod.py"
    assert imx_fake_pkg.a.where() == "a" and imx_fake_pkg.sub.b.VALUE == 2
    assert precompiled.compiled_from_source() == []
    import imx_fake_other  # no bytecode for it: compiled from the archive's source

    assert imx_fake_other.VALUE == 3
    assert precompiled.compiled_from_source() == ["imx_fake_other"]


def test_bytecode_that_does_not_match_its_source_is_never_run(fake):
    std, out, mount = fake
    precompiled.write_stdlib(str(std), str(out), modules=("imx_fake_mod",), packages=())
    with zipfile.ZipFile(out) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    entries["imx_fake_mod.py"] = b"def where():\n    return 'changed'\n"
    with zipfile.ZipFile(out, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    mount(out)
    import imx_fake_mod

    assert imx_fake_mod.where() == "changed"
    assert imx_fake_mod.__spec__.origin == f"{out}/imx_fake_mod.py"
    assert precompiled.compiled_from_source() == ["imx_fake_mod"]


def test_modules_imported_from_sources_are_named_by_their_source(fake):
    std, _, mount = fake
    mount(std)
    import imx_fake_pkg.sub.b  # noqa: F401

    sys.modules["imx_fake_alias"] = sys.modules["imx_fake_pkg.sub.b"]  # (as os.path is posixpath)
    assert precompiled.compiled_from_source() == ["imx_fake_pkg", "imx_fake_pkg.sub", "imx_fake_pkg.sub.b"]


def test_cpython_has_no_archive_to_name():
    import json  # noqa: F401  (CPython's standard library is a folder: nothing to report)

    assert precompiled.compiled_from_source() == []
