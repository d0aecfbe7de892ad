"""The page<->worker protocol, read from ``protocol.json`` (its one definition).

The worker (``py/worker.py``) builds its exports from :data:`OPERATIONS`; the page's worker
client (``static/worker-client.js``) reads the same file. This module holds what both the
worker and the CPython tests need: the operation table, reply checks and the JSON envelope.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

_SPEC = json.loads(Path(__file__).with_name("protocol.json").read_text(encoding="utf-8"))

TAG: str = _SPEC["tag"]  # the key that marks the worker's own messages: {TAG: event name, ...}
OPERATIONS: dict[str, dict[str, Any]] = _SPEC["operations"]
EVENTS: dict[str, dict[str, Any]] = _SPEC["events"]
TYPES: dict[str, dict[str, str]] = _SPEC["types"]
ERROR_FIELDS = tuple(_SPEC["errors"])


class ProtocolError(RuntimeError):
    """A reply or event that does not match its declaration (a programming error)."""


def args_of(op: str) -> list[str]:
    """The argument names of operation ``op``, in call order."""
    return list(OPERATIONS[op]["args"])


def reply_fields(op: str) -> set[str]:
    """The fields a successful reply of ``op`` carries besides ``ok`` (buffers included)."""
    spec = OPERATIONS[op]
    return set(spec.get("reply", {})) | set(spec.get("buffers", {}))


def check_reply(op: str, reply: dict[str, Any], buffers=()) -> dict[str, Any]:
    """``reply`` if its fields (with the names of the ``buffers`` sent beside it) are exactly
    those declared for ``op``; else ProtocolError."""
    _check_fields(f"reply of {op}", (set(reply) - {"ok"}) | set(buffers), reply_fields(op))
    return reply


def check_event(name: str, fields: dict[str, Any], buffers=()) -> dict[str, Any]:
    """``fields`` if they (with the names of the ``buffers`` sent beside them) are those
    declared for event ``name`` (an error event carries the error fields instead of the
    sound's); else ProtocolError."""
    spec = EVENTS[name]
    if fields.get("ok") is False:
        _check_fields(f"event {name}", set(fields) | set(buffers), {"ticket", *ERROR_FIELDS})
    else:
        declared = set(spec["fields"]) | set(spec.get("buffers", {}))
        _check_fields(f"event {name}", set(fields) | set(buffers), declared - {"error", "kind"})
    return fields


def check_type(name: str, value: dict[str, Any]) -> dict[str, Any]:
    """``value`` if its fields are exactly those of the declared type ``name``."""
    _check_fields(f"type {name}", set(value), set(TYPES[name]))
    return value


def _check_fields(what: str, got: set[str], declared: set[str]) -> None:
    extra, missing = got - declared, declared - got
    if extra or missing:
        raise ProtocolError(f"{what}: undeclared fields {sorted(extra)}, missing fields {sorted(missing)}")


def ok_json(op: str, reply: dict[str, Any], buffers=()) -> str:
    """The JSON envelope of a successful reply (checked against the declaration)."""
    return json.dumps({"ok": True, **check_reply(op, reply, buffers)})


def error_fields(exc: BaseException) -> dict[str, Any]:
    """``{ok: false, error, kind}`` for any exception (the sentence from
    :func:`intellimixer.rules.describe_error`)."""
    try:
        from .rules import describe_error

        text = describe_error(exc)
    except Exception:  # noqa: BLE001 - numpy not loaded yet (a failed boot)
        text = f"{type(exc).__name__}: {exc}"
    return {"ok": False, "error": text, "kind": type(exc).__name__}


def error_json(op: str, exc: BaseException) -> str:
    """The JSON envelope of a failed call (logged to the console as well)."""
    print(f"intellimixer worker: {op} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    return json.dumps(error_fields(exc))


def event_json(name: str, fields: dict[str, Any], buffers=()) -> str:
    """The JSON part of event ``name`` (checked against the declaration); its buffers are
    sent beside it."""
    return json.dumps(check_event(name, fields, buffers))
