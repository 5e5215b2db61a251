"""Colour in the table formats: which words are coloured, and how.

Only the words that say how bad something is (a severity, a verdict) are
coloured, so the worst line is found at a glance; the text around them
stays the terminal's own colour. Colour is added last, to text already
escaped (:mod:`awgcheck.text`) and already laid out
(:mod:`awgcheck.report.layout` counts no column for it). Whether a run
uses colour is the CLI's choice (``--color``, ``NO_COLOR``, a terminal or
not); a renderer only asks :attr:`~awgcheck.report.layout.Layout.colour`.
"""

from __future__ import annotations

import re

from awgcheck.report.layout import Layout

_RESET = "\x1b[0m"

STYLES = {
    "CRITICAL": "\x1b[1;31m",  # bold red
    "ERROR": "\x1b[31m",
    "FAIL": "\x1b[1;31m",
    "DRIFT": "\x1b[1;31m",
    "REJECTED": "\x1b[1;31m",
    "DIFFERS": "\x1b[1;31m",  # triage: the wire disagrees with the source
    "NOT APPLIED": "\x1b[31m",
    "STILL ACTIVE": "\x1b[31m",
    "FILE DIFFERS": "\x1b[33m",
    "FILE != RUNTIME": "\x1b[33m",
    "COULD NOT CHECK": "\x1b[1;35m",  # magenta: not a verdict on the node
    "COULD NOT READ": "\x1b[1;35m",
    "INCOMPLETE": "\x1b[1;35m",
    "WARNING": "\x1b[33m",
    "SPELLING": "\x1b[33m",
    "ABSENT": "\x1b[33m",
    "INFO": "\x1b[36m",
    "QUIRK": "\x1b[36m",
    "WAIVED": "\x1b[2m",  # dim: accepted, shown for the record
    "PASS": "\x1b[32m",
}
"""The style of each word awgcheck colours (upper case, as the table
formats write them)."""

_ALTERNATIVES = "|".join(sorted((re.escape(w) for w in STYLES), key=len, reverse=True))
_WORD = re.compile(rf"\b({_ALTERNATIVES})\b")
_SEVERITIES = ("CRITICAL", "ERROR", "WARNING", "INFO")
_ANY_CASE = re.compile(rf"\b({'|'.join(_SEVERITIES)})\b", re.IGNORECASE)


def paint(text: str, word: str, layout: Layout) -> str:
    """``text`` in the style of ``word`` (one of :data:`STYLES`), when
    ``layout`` uses colour; else ``text`` as it is."""
    style = STYLES.get(word)
    if not layout.colour or style is None or not text:
        return text
    return f"{style}{text}{_RESET}"


def paint_word(text: str, layout: Layout, any_case: bool = False) -> str:
    """``text`` with its first styled word coloured (``== node: FAIL ==``,
    a verdict line); the rest of the text as it is. ``any_case``: also a
    severity in lower case (the severity column of ``rules list``); other
    words only as the table formats write them (``differs (per node)`` in
    ``diff`` is not ``DIFFERS``)."""
    if not layout.colour:
        return text
    found = _WORD.search(text) or (_ANY_CASE.search(text) if any_case else None)
    if found is None:
        return text
    word = found.group(1)
    return f"{text[:found.start()]}{paint(word, word.upper(), layout)}{text[found.end():]}"
