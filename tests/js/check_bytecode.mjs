// The build's bytecode (static/vendor/pyc.zip) is what the worker's Python uses: laid out as
// PyScript lays out the worker's files (py/pyscript.json, then the zip unpacked in place),
// importing modules whose source is unchanged compiles nothing, and a module whose source
// changed after the build is compiled afresh (hash-checked .pyc). Prints one JSON line.
//
//   node tests/js/check_bytecode.mjs
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { loadPyodide } = await import(join(root, "node_modules", "pyodide", "pyodide.mjs"));
const py = await loadPyodide({ indexURL: join(root, "node_modules", "pyodide") + "/" });
const home = "/home/pyodide/";
for (const to of Object.values(JSON.parse(readFileSync(join(root, "py", "pyscript.json"), "utf8")).files)) {
  const rel = to.replace(/^\.\//, "");
  py.FS.mkdirTree(home + dirname(rel));
  py.FS.writeFile(home + rel, readFileSync(join(root, "py", rel)));
}
py.FS.writeFile("/tmp/pyc.zip", readFileSync(join(root, "static", "vendor", "pyc.zip")));
const out = py.runPython(`
import importlib._bootstrap_external as ext, json, os, sys, zipfile
zipfile.ZipFile("/tmp/pyc.zip").extractall("${home}")
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
json.dumps({"compiled_unchanged": fresh, "compiled_after_change": compiled[len(fresh):]})
`);
console.log(out);
