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
