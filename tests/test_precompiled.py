"""intellimixer.precompiled under CPython: the archive holds whole packages with hash-checked
bytecode; on sys.path before the standard library's archive, a module comes from its bytecode,
a source changed since is compiled afresh, and modules still compiled from the standard
library's sources are named. (tests/test_bytecode.py checks the build's archive in Pyodide.)"""
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
}


@pytest.fixture
def fake(tmp_path, monkeypatch):
    std = tmp_path / "python-fake.zip"
    with zipfile.ZipFile(std, "w") as z:
        for name, text in STDLIB.items():
            z.writestr(name, text)
    monkeypatch.setattr(sys, "path", [str(tmp_path / "app"), str(std)] + sys.path)
    monkeypatch.setattr(precompiled, "_STATE", {"before": None, "zip": None})
    yield std, tmp_path / precompiled.archive_name()
    for name in list(sys.modules):
        if name.startswith("imx_fake"):
            del sys.modules[name]


def test_archive_holds_whole_packages_with_hash_checked_bytecode(fake):
    std, out = fake
    names = precompiled.write_zip(str(std), str(out), modules=("imx_fake_mod", "imx_fake_pkg"))
    assert sorted(names) == sorted(n for s in STDLIB if not s.startswith("imx_fake_other") for n in (s, s[:-3] + ".pyc"))
    with zipfile.ZipFile(out) as z:
        pyc = z.read("imx_fake_pkg/sub/b.pyc")
        assert z.read("imx_fake_pkg/sub/b.py") == STDLIB["imx_fake_pkg/sub/b.py"].encode()
    assert int.from_bytes(pyc[4:8], "little") == 0b11  # hash-based, checked against the source
    with pytest.raises(ValueError, match="imx_fake_missing"):
        precompiled.write_zip(str(std), str(out), modules=("imx_fake_missing",))


def test_modules_come_from_the_bytecode_before_the_standard_library(fake):
    std, out = fake
    precompiled.write_zip(str(std), str(out), modules=("imx_fake_mod", "imx_fake_pkg"))
    assert precompiled.use(str(out.parent)) is True
    assert sys.path.index(str(out)) == sys.path.index(str(std)) - 1
    import imx_fake_mod
    import imx_fake_pkg.a
    import imx_fake_pkg.sub.b

    assert imx_fake_mod.__spec__.origin == f"{out}/imx_fake_mod.pyc"
    # the bytecode's code keeps the standard library's file name (compiled from the archive's
    # source, it would name the archive)
    assert imx_fake_mod.where.__code__.co_filename == f"{std}/imx_fake_mod.py"
    assert imx_fake_pkg.a.where() == "a" and imx_fake_pkg.sub.b.VALUE == 2
    assert precompiled.compiled_from_source() == []
    import imx_fake_other  # not in the archive: compiled from the standard library's source

    assert imx_fake_other.VALUE == 3
    assert precompiled.compiled_from_source() == ["imx_fake_other"]


def test_a_changed_source_is_compiled_afresh_not_run_stale(fake):
    std, out = fake
    precompiled.write_zip(str(std), str(out), modules=("imx_fake_mod",))
    with zipfile.ZipFile(out) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    entries["imx_fake_mod.py"] = b"def where():\n    return 'changed'\n"
    with zipfile.ZipFile(out, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    precompiled.use(str(out.parent))
    import imx_fake_mod

    assert imx_fake_mod.where() == "changed"
    assert imx_fake_mod.where.__code__.co_filename == f"{out}/imx_fake_mod.py"


def test_no_archive_for_this_interpreter_leaves_the_path_alone(fake, tmp_path):
    before = list(sys.path)
    assert precompiled.use(str(tmp_path / "nowhere")) is False
    assert sys.path == before and precompiled.compiled_from_source() == []
