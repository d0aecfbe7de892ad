"""The PyScript worker gets its Python files as the build's engine.zip of py/pyscript.json's
'files' (scripts/build_static.mjs): every module the worker imports, directly or not, and
every data file those modules read, must be listed."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = ROOT / "py"


def _imports(path: Path) -> set[str]:
    """Module files (relative to py/) that ``path`` imports from this repository."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.parent.relative_to(PY).as_posix().replace("/", ".")
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        for name in names:
            rel = name.replace(".", "/")
            for cand in (f"{rel}.py", f"{rel}/__init__.py"):
                if (PY / cand).is_file():
                    found.add(cand)
    for parent in Path(path.relative_to(PY)).parents:  # a package's __init__ runs on import
        if parent != Path(".") and (PY / parent / "__init__.py").is_file():
            found.add(f"{parent.as_posix()}/__init__.py")
    return found


def worker_closure() -> set[str]:
    todo, seen = ["worker.py"], set()
    while todo:
        rel = todo.pop()
        if rel in seen:
            continue
        seen.add(rel)
        todo += sorted(_imports(PY / rel) - seen)
        text = (PY / rel).read_text(encoding="utf-8")
        for data in re.findall(r'with_name\("([\w.]+\.json)"\)', text):
            seen.add(str(Path(rel).parent / data))
    return seen - {"worker.py"}


def test_pyscript_config_ships_what_the_worker_imports():
    cfg = json.loads((PY / "pyscript.json").read_text())
    listed = {k.removeprefix("./") for k in cfg["files"]}
    needed = worker_closure()
    assert {"intellimixer/protocol.json", "intellimixer/strings.json", "ortweb.py", "intellimixer/session.py"} <= needed
    assert needed <= listed, f"add {sorted(needed - listed)} to py/pyscript.json 'files'"
    assert not any(f.startswith("intellimixer/training") for f in listed), "training needs torch: not for the worker"
    for src, dst in cfg["files"].items():
        assert (PY / src).is_file(), src
        assert dst == src
    assert "packages" not in cfg, "a 'packages' key makes PyScript fetch micropip from the Pyodide index"


def test_the_closure_follows_imports_and_leaves_the_cli_out():
    needed = worker_closure()
    assert "intellimixer/rules.py" in needed and "intellimixer/cli.py" not in needed
