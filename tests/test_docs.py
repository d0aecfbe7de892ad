"""Documentation generated from definitions stays in step with them."""
from __future__ import annotations

from pathlib import Path

from intellimixer import protocol

ROOT = Path(__file__).resolve().parents[1]


def test_web_app_doc_holds_the_current_protocol_reference():
    doc = (ROOT / "docs" / "web-app.md").read_text(encoding="utf-8")
    assert protocol.DOC_BEGIN in doc and protocol.DOC_END in doc
    assert protocol.with_reference(doc) == doc, "run: python -m intellimixer.protocol"
    for op in protocol.OPERATIONS:
        assert f"| `{op}` |" in doc


def test_the_reference_changes_with_the_protocol(monkeypatch):
    doc = (ROOT / "docs" / "web-app.md").read_text(encoding="utf-8")
    monkeypatch.setitem(protocol.OPERATIONS, "new_op", {"doc": "new", "args": {}, "reply": {"x": "number"}})
    assert protocol.with_reference(doc) != doc


def test_readme_lists_the_three_tested_engines_from_the_suite():
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    begin = "<!-- browsers:begin (python scripts/browser_table.py) -->"
    table = text.split(begin, 1)[1].split("<!-- browsers:end -->", 1)[0]
    rows = [ln for ln in table.splitlines() if ln.startswith("| ") and not ln.startswith("| engine") and "---" not in ln]
    assert [r.split(" | ")[0] for r in rows] == ["| Chromium (Blink)", "| Firefox ESR (Gecko)", "| WebKitGTK (WebKit, as in Safari)"]
    assert all("Ready; files, click, download, scrub" in r for r in rows)
