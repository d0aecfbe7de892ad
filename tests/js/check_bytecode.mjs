// The build's engine zip (static/vendor/engine.zip) is what the worker's Python uses: unpacked
// where PyScript unpacks it, it holds every file of py/pyscript.json (the same bytes) with its
// bytecode; importing modules whose source is unchanged compiles nothing, and a module whose
// source changed after the build is compiled afresh (hash-checked .pyc). The build's standard
// library archive (static/vendor/pyodide/python_stdlib.zip, py/intellimixer/precompiled.py),
// which this Pyodide mounts as the page's does, holds npm's entries as they are, and the modules
// Pyodide's start, numpy and the engine import come from its bytecode. Prints one JSON line.
//
//   node tests/js/check_bytecode.mjs
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { loadPyodide } = await import(join(root, "node_modules", "pyodide", "pyodide.mjs"));
const vendored = join(root, "static", "vendor", "pyodide");
const py = await loadPyodide({ indexURL: join(root, "node_modules", "pyodide") + "/", stdLibURL: join(vendored, "python_stdlib.zip") });
py.FS.writeFile("/tmp/npm_stdlib.zip", readFileSync(join(root, "node_modules", "pyodide", "python_stdlib.zip")));
const home = "/home/pyodide/";
py.FS.mkdirTree(home);
py.FS.writeFile("/tmp/engine.zip", readFileSync(join(root, "static", "vendor", "engine.zip")));
py.runPython(`import zipfile; zipfile.ZipFile("/tmp/engine.zip").extractall("${home}")`);
// every listed file, as it is in py/
const listed = Object.values(JSON.parse(readFileSync(join(root, "py", "pyscript.json"), "utf8")).files)
  .map((to) => to.replace(/^\.\//, ""));
const differ = listed.filter((rel) => {
  try { return !Buffer.from(py.FS.readFile(home + rel)).equals(readFileSync(join(root, "py", rel))); } catch { return true; }
});
const out = JSON.parse(py.runPython(`
import importlib._bootstrap_external as ext, json, os, sys
os.chdir("${home}")
sys.path.insert(0, "${home}")
compiled = []
original = ext.SourceLoader.source_to_code
def counting(self, data, path, *args, **kwargs):
    compiled.append(os.path.basename(path))
    return original(self, data, path, *args, **kwargs)
ext.SourceLoader.source_to_code = counting
import intellimixer.strings, intellimixer.protocol, intellimixer.backends  # (no numpy needed)
fresh = list(compiled)
with open("${home}intellimixer/backends.py", "a") as f:
    f.write("\\n# changed after the build\\n")
del sys.modules["intellimixer.backends"]
import intellimixer.backends
# the standard library: Pyodide's start and what the worker imports as it starts, from the bytecode
from intellimixer import precompiled
at_start = precompiled.compiled_from_source()
stdlib = {}
for name in ["pickle", "datetime", "dataclasses", "urllib.parse", "ipaddress", "wave", "platform", "numbers",
             "tarfile", "importlib.metadata", "asyncio.tasks", "typing", "json"]:
    m = __import__(name, fromlist=["_"])
    fns = [f for f in vars(m).values() if getattr(f, "__module__", None) == name and hasattr(f, "__code__")]
    stdlib[name] = {"origin": m.__spec__.origin, "code_file": fns[0].__code__.co_filename if fns else None}
import zipfile
with zipfile.ZipFile("/tmp/npm_stdlib.zip") as a, zipfile.ZipFile("/lib/python313.zip") as b:
    stdlib_differ = [n for n in a.namelist() if b.read(n) != a.read(n)]
    extra = sorted(set(b.namelist()) - set(a.namelist()))
json.dumps({"compiled_unchanged": fresh, "compiled_after_change": compiled[len(fresh):], "stdlib": stdlib,
            "stdlib_compiled_at_start": at_start, "stdlib_compiled": precompiled.compiled_from_source(),
            "stdlib_differ": stdlib_differ, "stdlib_extra_not_pyc": [n for n in extra if not n.endswith(".pyc")],
            "stdlib_pyc": len(extra)})
`));
console.log(JSON.stringify({ ...out, listed: listed.length, differ }));
