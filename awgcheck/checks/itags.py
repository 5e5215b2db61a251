"""The ``i-tags`` check: I1-I5 read by amneziawg-go's tag parsers.

awg setconf stores an I-value verbatim; the userspace runtime parses it
when the interface is configured, and a value it cannot parse fails the
whole configuration. Two generations of that parser exist, and they
disagree:

- ``2.0``: amneziawg-go v0.2.13 to v0.2.15, ``device/awg/tag_parser.go``
  (``ParseTagJunkGenerator``). Tags ``b c t r rc rd``; ``<b>`` needs a
  ``0x``/``0X`` prefix (an odd digit count is padded); ``<r rc rd>`` at
  most 1000; ``<c>`` and ``<t>`` take no argument and appear once; every
  ``<`` must be followed by exactly one ``>`` before the next ``<``.
- ``3.x``: amneziawg-go v0.2.16 and every 3.x, ``device/obf.go``
  (``newObfChain`` and the ``obf_*.go`` builders). Tags ``b t r rc rd d ds
  dz``; ``<c>`` is gone ("unknown tag"); ``<b>`` takes hex with or without
  a lowercase ``0x``, even digit count; ``<r rc rd dz>`` take any int
  (``strconv.Atoi``); ``<t d ds>`` ignore their argument; words after the
  argument and text between tags are ignored; a value with no tag at all
  is accepted and sends nothing.

Tag names are case-sensitive in both. Each parser is written here from
that source's behaviour, not copied.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from awgcheck import limits
from awgcheck.checks.base import (
    Context,
    Outcome,
    conf_entries,
    entry_location,
    entry_name,
    not_compared,
    placeholder_skip,
)
from awgcheck.errors import RuleError
from awgcheck.model import ArtifactKind, Location, Status
from awgcheck.parse import awgconf

_HEX = set(string.hexdigits)
# Go's strconv.Atoi in base 10: an optional sign and decimal digits only.
_ATOI = re.compile(r"[+-]?[0-9]+")
_V2_MAX_RANDOM = 1000


def _atoi(text: str) -> int | None:
    return limits.int_or_none(text) if _ATOI.fullmatch(text) else None


def _length(tag: str, arg: str, limit: int | None) -> str | None:
    """A length argument (``<r 32>``): why it is refused, or None."""
    number = _atoi(arg)
    if number is None:
        return f"<{tag} {arg}>: the length is not a decimal number" if arg else \
            f"<{tag}>: needs a length"
    if number < 0:
        # Accepted by the parser, but the packet buffer cannot have a
        # negative size: the runtime panics when it sends the packet.
        return f"<{tag} {arg}>: a negative length crashes the runtime when it builds the packet"
    if limit is not None and number > limit:
        return f"<{tag} {arg}>: at most {limit} in this generation"
    return None


def _even_hex(digits: str) -> bool:
    return bool(digits) and len(digits) % 2 == 0 and set(digits) <= _HEX


def parse_v3(value: str) -> list[str]:
    """Why amneziawg-go 3.x (``newObfChain``) refuses ``value`` or builds
    nothing from it; empty when it builds a chain."""
    problems: list[str] = []
    rest, tags = value, 0
    while (start := rest.find("<")) != -1:
        end = rest.find(">", start)
        if end == -1:
            return [*problems, "a '<' without its closing '>'"]
        words = rest[start + 1:end].split()  # Go's strings.Fields
        rest = rest[end + 1:]
        if not words:
            problems.append("an empty tag <>")
            continue
        tag, arg = words[0], words[1] if len(words) > 1 else ""
        tags += 1
        if tag == "b":
            digits = arg.removeprefix("0x")
            if not _even_hex(digits):
                problems.append(f"<b {arg}>: needs an even number of hex digits "
                                "(optionally after a lowercase 0x)")
        elif tag in ("r", "rc", "rd", "dz"):
            why = _length(tag, arg, None)
            if why:
                problems.append(why)
        elif tag not in ("t", "d", "ds"):
            hint = " (a 2.0-only tag)" if tag == "c" else ""
            problems.append(f"unknown tag <{tag}>{hint}")
    if not problems and tags == 0:
        problems.append("no tag at all: the runtime treats the value as unset")
    return problems


def parse_v2(value: str) -> list[str]:
    """Why amneziawg-go 2.0 (``ParseTagJunkGenerator``) refuses ``value``;
    empty when it accepts it."""
    pieces = value.split("<")
    if len(pieces) <= 1:
        return ["no tag at all (2.0 refuses a value without '<')"]
    problems: list[str] = []
    seen: set[str] = set()
    for piece in pieces[1:]:
        if len(piece) <= 1:
            problems.append("an empty tag")
            continue
        if piece.count(">") != 1:
            problems.append(f"'<{piece}': every '<' needs exactly one '>' before the next '<'")
            continue
        match = re.search(r"([a-zA-Z]+)(?:\s+([^>]+))?>", piece)
        if match is None:
            problems.append(f"'<{piece}': no tag name")
            continue
        tag, arg = match.group(1), (match.group(2) or "").strip()
        if tag in ("c", "t"):
            if tag in seen:
                problems.append(f"<{tag}> appears more than once")
            seen.add(tag)
            if arg:
                problems.append(f"<{tag} {arg}>: takes no argument in this generation")
        elif tag == "b":
            if not arg.startswith(("0x", "0X")) or not set(arg[2:]) <= _HEX or not arg[2:]:
                problems.append(f"<b {arg}>: needs 0x and hex digits in this generation")
        elif tag in ("r", "rc", "rd"):
            why = _length(tag, arg, _V2_MAX_RANDOM)
            if why:
                problems.append(why)
        else:
            problems.append(f"unknown tag <{tag}> in this generation")
    return problems


GENERATIONS: dict[str, Callable[[str], list[str]]] = {"2.0": parse_v2, "3.x": parse_v3}


def prepare_itags(where: str, options: Mapping[str, Any],
                  reads: tuple[ArtifactKind, ...]) -> Mapping[str, Any]:
    chosen = options.get("generations", ["3.x"])
    if not chosen or any(g not in GENERATIONS for g in chosen):
        raise RuleError(f"{where}: generations must list some of "
                        f"{', '.join(GENERATIONS)} (got {chosen!r})")
    return {**options, "generations": list(chosen)}


def check_itags(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Each stated I-value is accepted by every listed parser generation.

    An empty value is not judged: awg setconf rejects the line before any
    parser sees it, and ``empty-value`` / ``conf-loads`` report it."""
    for name, where, value in _values(ctx):
        if isinstance(value, Outcome):
            yield value
            continue
        if not value:
            yield Outcome(Status.SKIP, f"{name} is empty (not a tag question)", name,
                          location=where)
            continue
        problems = [f"{gen}: {why}" for gen in options["generations"]
                    for why in GENERATIONS[gen](value)]
        if problems:
            yield Outcome(Status.FAIL, f"{name} = {value}: " + "; ".join(problems), name,
                          actual=value, location=where)
        else:
            yield Outcome(Status.PASS, f"{name} = {value}: well-formed", name, actual=value,
                          location=where)


def _values(ctx: Context) -> Iterator[tuple[str, Location, str | Outcome]]:
    """(param, where, the value the runtime is handed) for each selected
    I-line of a conf (duplicates included: each is handed over in turn), or
    each stated param of another document; a template placeholder comes as
    its skip outcome instead of a value."""
    if not isinstance(ctx.doc, awgconf.AwgConf):
        for name in ctx.selected():
            found = ctx.doc.params().get(name)
            if found is None:
                continue
            where = found.location or Location(ctx.doc.path)
            yield name, where, placeholder_skip(ctx, name) or found.effective or ""
        return
    for entry in conf_entries(ctx):
        where = entry_location(ctx, entry)
        value = not_compared(entry_name(entry), entry_name(entry), where) \
            if entry.placeholder else entry.effective or ""
        yield entry_name(entry), where, value
