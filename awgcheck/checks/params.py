"""Check types over params: any document that states interface params (a
conf, a running interface, a params document).

``relation`` is the only small grammar, parsed here with a regular
expression; no rule text is ever evaluated as code.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from re import _constants as _sre_constants  # type: ignore[attr-defined]
from re import _parser as _sre  # type: ignore[attr-defined]
from typing import Any

from awgcheck import limits, params
from awgcheck.checks.base import (
    Context,
    Outcome,
    absent_mode,
    conf_entries,
    entry_location,
    entry_name,
    missing_outcomes,
    not_compared,
    placeholder_skip,
    value_of,
    where_of,
)
from awgcheck.checks.options import one_of
from awgcheck.compare import Comparison, Quirks, Relation, compare
from awgcheck.errors import RuleError
from awgcheck.model import ArtifactKind, Location, ParamValue, Severity, Status
from awgcheck.parse import awgconf
from awgcheck.parse.runtime import RuntimeState


def prepare_compare(where: str, options: Mapping[str, Any],
                     reads: tuple[ArtifactKind, ...]) -> Mapping[str, Any]:
    one_of(where, options, "compare", ("effective", "raw"))
    one_of(where, options, "against", ("source", "file"))
    return options



# --- equals-source -------------------------------------------------------

def check_equals_source(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Compare each selected param with the source of truth.

    The comparison is :func:`awgcheck.compare.compare`'s; this check words
    it: drift (the tool would apply different values), spelling (same
    effective value, different bytes: a warning), and absence on one side
    (with the default it implies).
    """
    against_file = options.get("against", "source") == "file"
    if against_file:
        conf = ctx.documents.get(ArtifactKind.CONF)
        if conf is None or conf is ctx.doc:
            yield Outcome(Status.SKIP, "no conf file on this node to compare with")
            return
        ctx = replace(ctx, source=conf, source_name="the file")
    if ctx.source is None:
        # The engine does not run a rule that needs the source when it could
        # not be read (the report says why once); a direct caller lands here.
        yield Outcome(Status.ERROR, "no source of truth to compare with")
        return
    by_raw = options.get("compare", "effective") == "raw"
    mine, theirs = ctx.doc.params(), ctx.source.params()
    for name in ctx.selected():
        here, there = mine.get(name), theirs.get(name)
        if here is not None and here.placeholder:
            yield not_compared(name, name, here.location)
            continue
        if here is not None and here.empty:
            # The line is rejected before it has a value to compare: the
            # empty-value rule reports it once, not every drift rule again.
            yield Outcome(Status.SKIP, f"{name} is empty here (an empty value, not a drift)",
                          name, location=here.location)
            continue
        if here is None and there is None:
            yield Outcome(Status.PASS, f"{name} is absent here and on {ctx.source_name}",
                          param=name)
            continue
        if isinstance(ctx.doc, RuntimeState):
            found = compare(name, here, there, quirks=Quirks(ctx.doc, ctx.source))
            yield _compare_runtime(ctx, found, against_file)
            continue
        yield _compare(ctx, compare(name, here, there), by_raw)


def _compare(ctx: Context, found: Comparison, by_raw: bool) -> Outcome:
    name, here, there = found.name, found.here, found.there
    expected = there.raw if there else None
    actual = here.raw if here else None
    location = where_of(ctx, here)
    shown_here, shown_there = found.shown_here, found.shown_there
    if here is not None and found.here_unreadable:
        return Outcome(Status.FAIL, f"{name} = {here.raw} here cannot be read by awg setconf "
                       f"({here.error}); {ctx.source_name} has {shown_there}",
                       name, expected, actual, location)
    if found.differs:
        return Outcome(Status.FAIL, f"{name} differs from {ctx.source_name}: {shown_here} here, "
                       f"{shown_there} on {ctx.source_name} ({found.effect})", name, expected,
                       actual, location)
    if found.relation is Relation.SAME:
        return Outcome(Status.PASS, f"{name} = {shown_here} matches {ctx.source_name}",
                       name, expected, actual, location)
    if not by_raw and found.relation is Relation.ABSENT:
        # `H1 = 1` against no H1 line: writing the default changes nothing
        # on the wire, so it is judged like two absent lines.
        return Outcome(Status.PASS, f"{name} is the default on both sides: {shown_here} "
                       f"here, {shown_there} on {ctx.source_name}", name, expected, actual,
                       location)
    if not by_raw and not found.spelling_here:
        return Outcome(Status.PASS, f"{name} = {shown_here} matches {ctx.source_name} "
                       f"(written {shown_there} there)", name, expected, actual, location)
    if by_raw:
        return Outcome(Status.FAIL, f"{name} bytes differ from {ctx.source_name}: "
                       f"{shown_here} here, {shown_there} there", name, expected, actual,
                       location)
    return Outcome(Status.FAIL, f"{name} has the same effective value ({found.here_effective}) "
                   f"as {ctx.source_name} but is written differently: {shown_here} here, "
                   f"{shown_there} there (spelling)", name, expected, actual, location,
                   Severity.WARNING)


def _compare_runtime(ctx: Context, found: Comparison, against_file: bool) -> Outcome:
    """A running interface against a conf: effective values only (the tool
    prints its own canonical form, so spelling means nothing), and the
    runtime quirks that store a different value than the file (Jmax + 1,
    H <= 4 replaced by the default) pass with the reason."""
    name, here, there = found.name, found.here, found.there
    expected, actual = (there.raw if there else None), (here.raw if here else None)
    # Against the file, the line to change is the file's; against the
    # source, the runtime view is the only place to point at.
    location = there.location if against_file and there and there.location \
        else where_of(ctx, here)
    if found.relation is Relation.QUIRK:
        return Outcome(Status.PASS, found.quirk or "", name, expected, actual, location)
    if not found.differs:
        return Outcome(Status.PASS, f"{name} runs {found.here_effective or 'unset'} as "
                       f"{ctx.source_name} says", name, expected, actual, location)
    shown_here, shown_there = found.shown_here, found.shown_there
    if not against_file:
        message = (f"{name} runs {shown_here} but {ctx.source_name} has {shown_there} "
                   "(what is on the wire disagrees with the source)")
    elif there is None:
        message = (f"{name} = {shown_here} is still active but the file no longer sets it "
                   "(removed from the file but still active: awg syncconf never clears a "
                   "removed param)")
    else:
        message = (f"the file sets {name} = {shown_there} but the interface runs "
                   f"{shown_here} (edited but not applied)")
    return Outcome(Status.FAIL, message, name, expected, actual, location)



# --- present / absent ------------------------------------------------------

def check_present(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    stated = ctx.doc.params()
    for name in ctx.selected():
        found = stated.get(name)
        if found is None:
            yield Outcome(Status.FAIL, f"{name} is not set", name,
                          location=Location(ctx.doc.path))
        else:
            yield Outcome(Status.PASS, f"{name} is set", name, actual=found.raw,
                          location=found.location)



# --- not-all-default -------------------------------------------------------

def check_not_all_default(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """One finding for the selected params together: fails when every one
    of them is at its default, absent or written out (``H1..H4 = 1..4`` and
    no H lines are the same thing, and get the same single word)."""
    if skipped := _placeholders(ctx):
        yield from skipped
        return
    stated = ctx.doc.params()
    names = ctx.selected()
    off = []
    for name in names:
        found, spec = stated.get(name), params.spec(name)
        if found is not None and found.effective is None:
            return  # unreadable: the `loads` rule's business, nothing to judge
        if found is None or (spec is not None and spec.reads_as_absent(found.effective)):
            off.append(found)
        else:
            yield Outcome(Status.PASS, f"{name} = {found.raw} is not its default", name,
                          actual=found.raw, location=where_of(ctx, found))
            return
    written = next((value for value in off if value is not None), None)
    message = options.get("message") or f"{', '.join(names)} are all at their defaults"
    yield Outcome(Status.FAIL, message, names[0] if len(names) == 1 else None,
                  location=where_of(ctx, written))


# --- range / regex -------------------------------------------------------

def check_range(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    low, high = options.get("min"), options.get("max")
    for name in ctx.selected():
        if (skip := placeholder_skip(ctx, name)) is not None:
            yield skip
            continue
        stated, effective = value_of(ctx, name, options.get("absent", "skip"))
        if effective is None:
            if options.get("absent") == "fail":
                yield Outcome(Status.FAIL, f"{name} is not set", name,
                              location=where_of(ctx, stated))
            continue
        bounds = params.parse_range(effective)
        if bounds is None:
            continue  # unreadable values are the `loads` rule's business
        lo, hi = bounds
        shown = stated.raw if stated else f"{effective} (absent, default)"
        if (low is not None and lo < low) or (high is not None and hi > high):
            yield Outcome(Status.FAIL, f"{name} = {shown} is outside {_span(low, high)}",
                          name, _span(low, high), stated.raw if stated else None,
                          where_of(ctx, stated))
        else:
            yield Outcome(Status.PASS, f"{name} = {shown} is within {_span(low, high)}",
                          name, actual=stated.raw if stated else None,
                          location=where_of(ctx, stated))


def _span(low: int | None, high: int | None) -> str:
    if low is None:
        return f"<= {high}"
    if high is None:
        return f">= {low}"
    return f"{low}..{high}"


def prepare_pattern(where: str, options: Mapping[str, Any],
                     reads: tuple[ArtifactKind, ...]) -> Mapping[str, Any]:
    try:
        compiled = re.compile(options["pattern"])
    except re.error as exc:
        raise RuleError(f"{where}: key 'pattern' is not a valid regular expression: {exc}") \
            from None
    if _nested_unbounded(_sre.parse(options["pattern"])):
        raise RuleError(f"{where}: key 'pattern' repeats a group that itself repeats without"
                        " bound (like '(a+)+'): matching it can take exponential time;"
                        " write it with one quantifier")
    target = one_of(where, options, "target", ("raw", "effective", "line"), "raw")
    mode = one_of(where, options, "mode", ("must-match", "must-not-match"), "must-match")
    return {**options, "compiled": compiled, "target": target, "mode": mode}


_REPEATS = (_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT)


def _nested_unbounded(items: Any, inside: bool = False) -> bool:
    """True if an unbounded repeat sits inside another one (star height 2):
    the shape of every catastrophic-backtracking pattern worth the name."""
    for op, arg in items:
        if op in _REPEATS:
            unbounded = arg[1] == _sre_constants.MAXREPEAT
            if (unbounded and inside) or _nested_unbounded(arg[2], inside or unbounded):
                return True
            continue
        children: Any = ()
        if op is _sre_constants.SUBPATTERN:
            children = (arg[-1],)
        elif op is _sre_constants.BRANCH:
            children = arg[1]
        elif op in (_sre_constants.ASSERT, _sre_constants.ASSERT_NOT):
            children = (arg[1],)
        if any(_nested_unbounded(child, inside) for child in children):
            return True
    return False


def check_regex(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Match every line that sets a selected key (duplicates included)."""
    pattern: re.Pattern[str] = options["compiled"]
    must = options["mode"] == "must-match"
    clean = True
    for name, text, shown, location, placeholder in _regex_subjects(ctx, options["target"]):
        if placeholder:
            yield not_compared(name, name, location)
            continue
        if len(text) > limits.REGEX_MAX_SUBJECT:
            clean = False
            yield Outcome(Status.ERROR, f"{name}: value of {len(text):,} characters not"
                          f" matched (awgcheck matches at most {limits.REGEX_MAX_SUBJECT:,})",
                          name, location=location)
            continue
        if (pattern.search(text) is not None) != must:
            clean = False
            verb = "does not match" if must else "matches"
            hint = options.get("message", f"{verb} /{pattern.pattern}/")
            yield Outcome(Status.FAIL, f"{name} = {shown}: {hint}", name,
                          actual=shown, location=location)
    if clean:
        yield Outcome(Status.PASS, f"checked {', '.join(ctx.names) or 'every key'}")


def _regex_subjects(ctx: Context,
                    target: str) -> Iterator[tuple[str, str, str, Location, bool]]:
    """(name, text to match, value to show, where, is a template placeholder)."""
    if isinstance(ctx.doc, awgconf.AwgConf):
        for entry in conf_entries(ctx):
            if entry.secret and entry.raw and target != "effective":
                # A secret's raw value is only its digest here: a pattern over
                # it means nothing. An empty one is still an empty value.
                continue
            text = {"raw": entry.raw, "line": entry.text.rstrip("\r"),
                    "effective": entry.effective or ""}[target]
            yield (entry_name(entry), text, entry.raw, entry_location(ctx, entry),
                   entry.placeholder)
        return
    for name, value in ctx.doc.params().items():
        if name in ctx.names or not ctx.names:
            text = (value.effective or "") if target == "effective" else value.raw
            yield name, text, value.raw, where_of(ctx, value), value.placeholder


# --- unique / non-overlapping / relation ----------------------------------

def _placeholders(ctx: Context) -> list[Outcome]:
    """One skip per selected param that is a template placeholder."""
    return [skip for name in ctx.selected()
            if (skip := placeholder_skip(ctx, name)) is not None]


def _collect(ctx: Context, options: Mapping[str, Any]) -> list[tuple[str, str, ParamValue | None]]:
    """The selected params that have a value to judge (placeholders have none)."""
    found = []
    for name in ctx.selected():
        stated, effective = value_of(ctx, name, options.get("absent", "skip"))
        if effective is not None:
            found.append((name, effective, stated))
    return found


def check_unique(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    seen: dict[str, str] = {}
    missing, skipped = missing_outcomes(ctx, options), _placeholders(ctx)
    yield from missing
    yield from skipped
    collected = _collect(ctx, options)
    # Only placeholders: nothing was compared, so nothing passed either.
    clean = not missing and (bool(collected) or not skipped)
    for name, effective, stated in collected:
        if effective in seen:
            clean = False
            yield Outcome(Status.FAIL, f"{name} = {effective} repeats {seen[effective]}",
                          name, actual=stated.raw if stated else effective,
                          location=where_of(ctx, stated))
        seen.setdefault(effective, name)
    if clean:
        yield Outcome(Status.PASS, f"{', '.join(ctx.names)} are distinct")


def check_non_overlapping(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    ranges = []
    for name, effective, stated in _collect(ctx, options):
        bounds = params.parse_range(effective)
        if bounds is not None:
            ranges.append((name, bounds, stated))
    missing, skipped = missing_outcomes(ctx, options), _placeholders(ctx)
    yield from missing
    yield from skipped
    clean = not missing and (bool(ranges) or not skipped)
    for i, (name, (lo, hi), stated) in enumerate(ranges):
        for other, (olo, ohi), _ in ranges[:i]:
            if lo <= ohi and olo <= hi:
                clean = False
                yield Outcome(Status.FAIL, f"{name} ({lo}-{hi}) overlaps {other} "
                              f"({olo}-{ohi})", name, actual=stated.raw if stated else None,
                              location=where_of(ctx, stated))
    if clean:
        yield Outcome(Status.PASS, f"{', '.join(ctx.names)} do not overlap")


_RELATION = re.compile(
    r"^\s*(?P<left>[A-Za-z]\w*|\d{1,20})\s*(?:(?P<lop>[+-])\s*(?P<loff>\d{1,20}))?\s*"
    r"(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<right>[A-Za-z]\w*|\d{1,20})\s*(?:(?P<rop>[+-])\s*(?P<roff>\d{1,20}))?\s*$",
    re.ASCII,  # "²" is a digit to \d otherwise; 20 digits hold any uint64
)
_OPERATORS: dict[str, Callable[[int, int], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}


def prepare_relation(where: str, options: Mapping[str, Any],
                      reads: tuple[ArtifactKind, ...]) -> Mapping[str, Any]:
    match = _RELATION.match(options["expr"])
    if match is None:
        raise RuleError(f"{where}: key 'expr' must read like 'S1 + 56 != S2' or "
                        f"'Jmin < Jmax' (PARAM [+|- N] OP PARAM-or-N [+|- N]), "
                        f"got {options['expr']!r}")
    terms = []
    for side in ("left", "right"):
        token = match[side]
        sign = -1 if match[side[0] + "op"] == "-" else 1
        offset = sign * int(match[side[0] + "off"] or 0)
        if not token.isascii() or (not token.isdigit() and params.spec(token) is None):
            raise RuleError(f"{where}: key 'expr' names unknown param '{token}'")
        terms.append((token if token.isdigit() else params.canonical(token), offset))
    return {**absent_mode(where, options), "terms": terms, "op": match["op"]}


def check_relation(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    values: list[int] = []
    shown: list[str] = []
    stated_any: ParamValue | None = None
    for token, offset in options["terms"]:
        if token.isdigit():
            values.append(int(token) + offset)
            shown.append(token)
            continue
        if (skip := placeholder_skip(ctx, token)) is not None:
            yield skip
            return
        stated, effective = value_of(ctx, token, options.get("absent", "skip"))
        bounds = params.parse_range(effective) if effective is not None else None
        if bounds is None:
            if stated is None and options.get("absent") == "fail":
                yield Outcome(Status.FAIL, f"{token} is not set; {options['expr']} cannot "
                              "hold", token, location=Location(ctx.doc.path))
            else:
                unset = "is the default" if stated is not None else "is not set"
                yield Outcome(Status.SKIP, f"{token} {unset}; {options['expr']} not "
                              "checked", token)
            return
        stated_any = stated_any or stated
        values.append(bounds[0] + offset)
        shown.append(f"{token}={effective}")
    holds = _OPERATORS[options["op"]](values[0], values[1])
    status = Status.PASS if holds else Status.FAIL
    verdict = "holds" if holds else "does not hold"
    yield Outcome(status, f"{options['expr']} {verdict} ({', '.join(shown)})",
                  options["terms"][0][0], location=where_of(ctx, stated_any))
