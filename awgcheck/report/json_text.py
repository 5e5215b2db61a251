"""``json.dumps(value, indent=2, ensure_ascii=False)``, the same text, faster.

With ``indent`` set, the standard library gives up its C encoder for a
generator per nesting level, per item: for a report of 70,000 findings that
was a second, more than reading the nodes. This writer walks the value
once, appending to one list, and leaves the strings to the C
``encode_basestring``. It takes what the JSON reports hold (dicts with
text keys, lists, tuples, text, numbers, booleans, None) and refuses
anything else as ``json.dumps`` would, with a ``TypeError``; one thing
more: an iterator is written as a list, each item as it comes, so a
report's findings need not all be turned into dicts before the first is
written.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Iterator
from typing import Any

_encode_text = json.encoder.encode_basestring  # the C version where there is one


_KEYS: dict[str, str] = {}


def dumps(value: Any, end: str = "") -> str:
    """``value`` as ``json.dumps(value, indent=2, ensure_ascii=False)`` writes
    it (an iterator as the list of its items), then ``end``."""
    return "".join(chunks(value, end))


def chunks(value: Any, end: str = "") -> Iterator[str]:
    """The text of :func:`dumps` in pieces, each item of a list that is a
    value of the top-level dict (a report's findings) its own piece, so
    the text can be written as it is made: a fleet's whole report held
    at once, twice while it was joined, was most of a run's peak memory."""
    out: list[str] = []
    if isinstance(value, dict) and value:
        separator, inner = "{\n  ", "\n  "
        for key, item in value.items():
            out.append(f"{separator}{_KEYS.get(key) or _key(key)}: ")
            if not isinstance(item, dict) and isinstance(item, list | tuple | Iterator):
                yield "".join(out)
                out.clear()
                yield from _items(item, inner)
            else:
                _write(item, inner, out)
            separator = ",\n  "
        out.append("\n}")
    else:
        _write(value, "\n", out)
    out.append(end)
    yield "".join(out)


def _items(value: Any, newline: str) -> Iterator[str]:
    """A list's text, one string per item (its separator first), then its
    closing bracket. One string per item, not one per token: a report's
    findings are most of it, and a list of millions of small strings took
    four times the text's own size."""
    inner = newline + "  "
    separator = "[" + inner
    for item in value:
        part = [separator]
        _write(item, inner, part)
        yield "".join(part)
        separator = "," + inner
    yield "[]" if separator[0] == "[" else newline + "]"


def _scalar(value: Any) -> str | None:
    """The text of a JSON scalar, or None for a container."""
    if isinstance(value, str):
        return _encode_text(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return json.dumps(value)  # float.__repr__, or NaN and Infinity as json writes them
    return None


def _key(key: Any) -> str:
    """A dict key as ``json.dumps`` writes it (numbers and constants as text)."""
    if type(key) is str:
        known = _KEYS.get(key)
        if known is None:
            known = _encode_text(key)
            if len(_KEYS) < 1024:  # a report's keys are a few dozen names
                _KEYS[key] = known
        return known
    if isinstance(key, str):
        return _encode_text(key)
    if isinstance(key, float | int) or key is None:
        return _encode_text(json.dumps(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _write(value: Any, newline: str, out: list[str]) -> None:
    """Append ``value``; ``newline`` is a line break and the indent of the
    line ``value`` is on."""
    if type(value) is not dict and type(value) is not list:
        text = _scalar(value)
        if text is not None:
            out.append(text)
            return
    append, inner = out.append, newline + "  "
    if isinstance(value, dict):
        if not value:
            append("{}")
            return
        separator, known = "{" + inner, _KEYS.get
        for key, item in value.items():
            # Inlined for the common keys and items (text, null, a whole
            # number): most of a report is these.
            name = known(key) or _key(key)
            kind = type(item)
            if kind is str:
                append(f"{separator}{name}: {_encode_text(item)}")
            elif item is None:
                append(f"{separator}{name}: null")
            elif kind is int:
                append(f"{separator}{name}: {item}")
            else:
                append(f"{separator}{name}: ")
                _write(item, inner, out)
            separator = "," + inner
        append(newline + "}")
    elif isinstance(value, list | tuple | Iterator):
        out.extend(_items(value, newline))
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
