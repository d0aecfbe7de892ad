"""Sentences and limits are defined once (strings.json) and used: every key the code names
exists with the placeholders it is given, and every sentence is used somewhere."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from intellimixer import strings

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [*ROOT.glob("static/*.js"), *ROOT.glob("py/*.py"), *ROOT.glob("py/intellimixer/*.py")]
CALL = re.compile(r"""\bmsg\(\s*["'](\w+)["']""")


DATA_MSG = re.compile(r'\bdata-msg="(\w+)"')  # elements of index.html the page fills from strings.json


def used_keys() -> set[str]:
    html = (ROOT / "index.html").read_text(encoding="utf-8")
    return {k for f in SOURCES for k in CALL.findall(f.read_text(encoding="utf-8"))} | set(DATA_MSG.findall(html))


def test_every_named_sentence_exists():
    missing = used_keys() - set(strings.MESSAGES)
    assert not missing, f"strings.json lacks {sorted(missing)}"


def test_every_sentence_is_used():
    text = "\n".join(f.read_text(encoding="utf-8") for f in SOURCES)
    unused = [k for k in strings.MESSAGES if k not in used_keys() and f'"{k}"' not in text]
    assert not unused, f"unused sentences in strings.json: {unused}"


def test_msg_fills_placeholders_and_refuses_missing_ones():
    assert strings.msg("bad_count", max=150) == "The number of sounds must be a whole number from 1 to 150."
    with pytest.raises(KeyError):
        strings.msg("bad_count")
    with pytest.raises(KeyError):
        strings.msg("no_such_sentence")


def test_limits_are_not_written_elsewhere():
    """The limits live in strings.json alone: not in the page's HTML or scripts."""
    html = (ROOT / "index.html").read_text(encoding="utf-8")
    for id_ in ("query", "count"):
        tag = re.search(rf'<input id="{id_}"[^>]*>', html).group(0)
        assert "value=" not in tag and "max=" not in tag and "maxlength" not in tag, tag
    assert "footstep" not in html and "1–150" not in html
    for f in ROOT.glob("static/*.js"):
        src = f.read_text(encoding="utf-8")
        assert not re.search(r"[\"'`]footstep[\"'`]", src) and "max_sounds: 150" not in src, f


def test_worker_modules_import_without_numpy():
    """The worker imports these before numpy is loaded (during boot)."""
    code = ("import sys; sys.modules['numpy'] = None; sys.path.insert(0, 'py'); "
            "import intellimixer.protocol, intellimixer.strings, intellimixer.rules, intellimixer.backends")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
