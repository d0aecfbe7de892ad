#!/usr/bin/env python3
"""Write the README's "Tested browsers" table from the cross-engine suite's own results
(build/engine-results/<engine>.json, written by tests/browser/test_engines.py):

    INTELLIMIXER_PYODIDE_PACKAGES=... .venv/bin/python -m pytest tests/browser/test_engines.py
    python scripts/browser_table.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "build" / "engine-results"
BEGIN, END = "<!-- browsers:begin (python scripts/browser_table.py) -->", "<!-- browsers:end -->"
NAMES = {"chromium": "Chromium (Blink)", "firefox": "Firefox ESR (Gecko)", "webkit": "WebKitGTK (WebKit, as in Safari)"}


def table(results: list[dict]) -> str:
    rows = ["| engine | version | what the suite did | decodes | sound | threads | model runs on | Web MIDI |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        decodes = ", ".join(r.get("decodes", [])) or "–"
        if r.get("cannot_decode"):
            decodes += " (not: " + ", ".join(r["cannot_decode"]) + ")"
        threads = "several (cross-origin isolated)" if r["isolated"] else "one (no cross-origin isolation: falls back)"
        backend = r["backend"] + (" (no WebGPU here: falls back)" if "not available" in r.get("backend_note", "") else "")
        midi = "yes" if r["midi"] else "no: the panel says so"
        sound = {"running": "plays after a click", None: "–"}.get(r.get("audio"), f"not heard ({r.get('audio')})")
        if r.get("script_click") and r["script_click"] != "running":
            sound += "; a script's click is no gesture: audio waits, the status says so"
        rows.append(f"| {NAMES.get(r['engine'], r['engine'])} | {r['version']} | {r['reached']} | {decodes} | {sound} | {threads} | "
                    f"{backend} | {midi} |")
    return "\n".join(rows)


def main() -> int:
    found = [json.loads((RESULTS / f"{e}.json").read_text()) for e in NAMES if (RESULTS / f"{e}.json").is_file()]
    if not found:
        print("browser_table: no results in build/engine-results/ (run tests/browser/test_engines.py)", file=sys.stderr)
        return 2
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    readme.write_text(f"{head}{BEGIN}\n{table(found)}\n{END}{tail}", encoding="utf-8")
    print(f"browser_table: {len(found)} engines written to README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
