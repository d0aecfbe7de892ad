"""Every limit and user-facing sentence of the app, read from ``strings.json``.

The page reads the same file (``static/strings.js``), so a sentence or a limit is written
once for both sides. Placeholders are ``{name}``; :func:`msg` fills them (numbers are
formatted by the caller, so both sides print them alike).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_DATA = json.loads(Path(__file__).with_name("strings.json").read_text(encoding="utf-8"))

LIMITS: dict[str, Any] = _DATA["limits"]
MESSAGES: dict[str, str] = _DATA["messages"]
BACKENDS: dict[str, str] = _DATA["backends"]

DEFAULT_QUERY: str = LIMITS["default_query"]
DEFAULT_SOUNDS: int = LIMITS["default_sounds"]
MAX_SOUNDS: int = LIMITS["max_sounds"]
MAX_QUERY_CHARS: int = LIMITS["max_query_chars"]
HISTORY_MAX: int = LIMITS["history_max"]

_FIELD = re.compile(r"\{(\w+)\}")


def msg(key: str, **values: Any) -> str:
    """The sentence ``key`` with its ``{name}`` placeholders filled from ``values``.

    Raises KeyError for an unknown key or a placeholder without a value (a programming
    error, caught by the tests)."""
    template = MESSAGES[key]
    return _FIELD.sub(lambda m: str(values[m.group(1)]), template)


def placeholders(key: str) -> set[str]:
    """The placeholder names of sentence ``key``."""
    return set(_FIELD.findall(MESSAGES[key]))
