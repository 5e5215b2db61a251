"""Check types: plain functions in one explicit table.

A rule names a check ``type``; :data:`CHECKS` maps it to a function and the
options it accepts. Each function receives the selected parameter names and
the node's documents and yields :class:`Outcome` values; the engine turns
them into findings. No rule text is ever evaluated as code: the only small
grammar (``relation`` expressions) is parsed here with a regular expression.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from awgcheck import compose_checks, params
from awgcheck.compose_select import ComposeSelection
from awgcheck.errors import RuleError
from awgcheck.model import ArtifactKind, Location, ParamValue, Severity, Status
from awgcheck.parse import awgconf, paramsdoc
from awgcheck.parse.runtime import RuntimeState, explain_header_quirk, explain_quirk
from awgcheck.ruleoptions import one_of


class ParamDocument(Protocol):
    """Anything that states interface params: a conf, a runtime view, a
    params document."""

    @property
    def path(self) -> str: ...

    def params(self) -> dict[str, ParamValue]: ...


@dataclass(frozen=True)
class CheckSpec:
    type: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    status: Status
    message: str
    param: str | None = None
    expected: str | None = None
    actual: str | None = None
    location: Location | None = None
    severity: Severity | None = None  # overrides the rule's (spelling -> warning)


@dataclass(frozen=True)
class Context:
    node: str
    doc: ParamDocument
    names: tuple[str, ...]  # the params the rule selects, canonical spelling
    section: str  # "Interface", "Peer" or "any"
    source: ParamDocument | None = None
    source_name: str = "source"
    # The node's other documents, so a runtime view can be compared with
    # the node's own conf (equals-source with ``against: file``).
    documents: Mapping[ArtifactKind, ParamDocument] = field(default_factory=dict)
    # What a compose rule selects (services, env, flags...); None otherwise.
    compose: ComposeSelection | None = None

    def selected(self) -> tuple[str, ...]:
        """The selected names; an empty selection (``params: "*"``) means
        every param the document states."""
        return self.names or tuple(self.doc.params())


CheckFn = Callable[[Context, Mapping[str, Any]], Iterator[Outcome]]
Validator = Callable[[str, Mapping[str, Any]], Mapping[str, Any]]
OptionSchema = Mapping[str, tuple[type | tuple[type, ...], bool]]


@dataclass(frozen=True)
class CheckType:
    fn: CheckFn
    options: OptionSchema
    artifacts: frozenset[ArtifactKind]
    prepare: Validator | None = None

    def validate(self, where: str, data: Mapping[str, Any],
                 artifacts: tuple[ArtifactKind, ...]) -> CheckSpec:
        for artifact in artifacts:
            if artifact not in self.artifacts:
                kinds = ", ".join(sorted(a.value for a in self.artifacts))
                raise RuleError(f"{where}: check type '{data['type']}' works on {kinds}, "
                                f"not on '{artifact.value}'")
        options = {k: v for k, v in data.items() if k != "type"}
        for key in options:
            if key not in self.options:
                allowed = ", ".join(self.options) or "none"
                hint = (" (YAML reads a bare on/off/yes/no as true/false: quote the key)"
                        if isinstance(key, bool) else "")
                raise RuleError(f"{where}: unknown key '{key}' for check type "
                                f"'{data['type']}' (allowed: {allowed}){hint}")
        for key, (kind, required) in self.options.items():
            if key not in options:
                if required:
                    raise RuleError(f"{where}: check type '{data['type']}' needs key '{key}'")
                continue
            value = options[key]
            if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
                raise RuleError(f"{where}: key '{key}' has the wrong type ({value!r})")
        if self.prepare is not None:
            options = dict(self.prepare(where, options))
        return CheckSpec(str(data["type"]), options)


def _absent_mode(where: str, options: Mapping[str, Any]) -> Mapping[str, Any]:
    one_of(where, options, "absent", ("skip", "default", "fail"))
    return options


def _compare_mode(where: str, options: Mapping[str, Any]) -> Mapping[str, Any]:
    one_of(where, options, "compare", ("effective", "raw"))
    one_of(where, options, "against", ("source", "file"))
    return options


def _missing(ctx: Context, options: Mapping[str, Any]) -> list[Outcome]:
    """With ``absent: fail``, one failure per selected param not stated."""
    if options.get("absent") != "fail":
        return []
    stated = ctx.doc.params()
    return [Outcome(Status.FAIL, f"{name} is not set", name, location=Location(ctx.doc.path))
            for name in ctx.selected() if name not in stated]


def _value(ctx: Context, name: str, mode: str) -> tuple[ParamValue | None, str | None]:
    """(the param as stated or None, the effective value to judge or None)."""
    found = ctx.doc.params().get(name)
    if found is not None:
        return found, found.effective
    spec = params.spec(name)
    if mode == "default" and spec is not None and spec.default is not None:
        return None, spec.default
    return None, None


def _where(ctx: Context, value: ParamValue | None) -> Location:
    return value.location if value and value.location else Location(ctx.doc.path)


# --- equals-source -------------------------------------------------------

def _describe_absent(name: str) -> str:
    spec = params.spec(name)
    if spec is not None and spec.default is not None:
        return f"absent (means {spec.default})"
    return "absent (unset)"


def check_equals_source(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Compare each selected param with the source of truth.

    Three outcomes are told apart: drift (the tool would apply different
    values), spelling (same effective value, different bytes: a warning),
    and absence on one side (with the default it implies).
    """
    against_file = options.get("against", "source") == "file"
    if against_file:
        conf = ctx.documents.get(ArtifactKind.CONF)
        if conf is None or conf is ctx.doc:
            yield Outcome(Status.SKIP, "no conf file on this node to compare with")
            return
        ctx = replace(ctx, source=conf, source_name="the file")
    if ctx.source is None:
        yield Outcome(Status.ERROR, "no source of truth could be read to compare with")
        return
    by_raw = options.get("compare", "effective") == "raw"
    mine, theirs = ctx.doc.params(), ctx.source.params()
    for name in ctx.selected():
        here, there = mine.get(name), theirs.get(name)
        if here is None and there is None:
            yield Outcome(Status.PASS, f"{name} is absent here and on {ctx.source_name}",
                          param=name)
            continue
        if isinstance(ctx.doc, RuntimeState):
            yield _compare_runtime(ctx, ctx.doc, name, here, there, against_file)
            continue
        yield _compare(ctx, name, here, there, by_raw)


def _compare(ctx: Context, name: str, here: ParamValue | None, there: ParamValue | None,
             by_raw: bool) -> Outcome:
    spec = params.spec(name)
    default = spec.default if spec else None
    mine = here.effective if here else default
    want = there.effective if there else default
    expected = there.raw if there else None
    actual = here.raw if here else None
    location = _where(ctx, here)
    shown_here = here.raw if here else _describe_absent(name)
    shown_there = there.raw if there else _describe_absent(name)
    if here is not None and here.effective is None:
        return Outcome(Status.FAIL, f"{name} = {here.raw} here cannot be read by awg setconf "
                       f"({here.error}); {ctx.source_name} has {shown_there}",
                       name, expected, actual, location)
    if mine != want or (mine is None and (here is None) != (there is None)):
        effect = ("drift: the tunnels will disagree"
                  if spec is not None and spec.role is params.Role.MUST_MATCH
                  else "drift of a side-local param: no data-plane effect")
        return Outcome(Status.FAIL, f"{name} differs from {ctx.source_name}: {shown_here} here, "
                       f"{shown_there} on {ctx.source_name} ({effect})", name, expected,
                       actual, location)
    if here is not None and there is not None and here.raw == there.raw:
        return Outcome(Status.PASS, f"{name} = {here.raw} matches {ctx.source_name}",
                       name, expected, actual, location)
    if by_raw:
        return Outcome(Status.FAIL, f"{name} bytes differ from {ctx.source_name}: "
                       f"{shown_here} here, {shown_there} there", name, expected, actual,
                       location)
    return Outcome(Status.FAIL, f"{name} has the same effective value ({mine}) as "
                   f"{ctx.source_name} but is written differently: {shown_here} here, "
                   f"{shown_there} there (spelling)", name, expected, actual, location,
                   Severity.WARNING)


def _compare_runtime(ctx: Context, state: RuntimeState, name: str,
                     here: ParamValue | None, there: ParamValue | None,
                     against_file: bool) -> Outcome:
    """A running interface against a conf: effective values only (the tool
    prints its own canonical form, so spelling means nothing), and the
    runtime quirks that store a different value than the file (Jmax + 1,
    H <= 4 replaced by the default) pass with the reason."""
    mine = state.effective_or_default(name)
    spec = params.spec(name)
    want = there.effective if there else (spec.default if spec else None)
    expected, actual = (there.raw if there else None), (here.raw if here else None)
    # Against the file, the line to change is the file's; against the
    # source, the runtime view is the only place to point at.
    location = there.location if against_file and there and there.location \
        else _where(ctx, here)
    if mine == want:
        return Outcome(Status.PASS, f"{name} runs {mine or 'unset'} as {ctx.source_name} "
                       "says", name, expected, actual, location)
    quirk = runtime_quirk(state, name, mine, ctx.source)
    if quirk is not None:
        return Outcome(Status.PASS, quirk, name, expected, actual, location)
    shown_here = here.raw if here else _describe_absent(name)
    shown_there = there.raw if there else _describe_absent(name)
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


def runtime_quirk(state: RuntimeState, name: str, running: str | None,
                  conf: ParamDocument | None) -> str | None:
    """Why a running value that differs from ``conf`` is a known runtime
    quirk rather than drift (Jmax + 1, H <= 4 replaced), or None."""
    if conf is None:
        return None
    stated = conf.params()

    def effective(key: str) -> str | None:
        found = stated.get(key)
        return found.effective if found is not None else None

    if name == "Jmax":
        return explain_quirk(effective("Jmin"), effective("Jmax"), running,
                                     jc=effective("Jc"))
    return explain_header_quirk(name, effective(name), running,
                                        generation=state.generation)


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


def check_absent(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """No line sets any selected key (including keys the tool rejects, such as
    1.5-only J1..J3 and Itime)."""
    wanted = {n.lower() for n in ctx.names}
    hits = [e for e in _entries(ctx) if _ident(e).lower() in wanted]
    for entry in hits:
        yield Outcome(Status.FAIL, f"{entry.key} is set on line {entry.line}",
                      _ident(entry), actual=entry.raw, location=_loc(ctx, entry))
    if not hits:
        yield Outcome(Status.PASS, f"none of {', '.join(ctx.names)} is set")


# --- range / regex -------------------------------------------------------

def check_range(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    low, high = options.get("min"), options.get("max")
    for name in ctx.selected():
        stated, effective = _value(ctx, name, options.get("absent", "skip"))
        if effective is None:
            if options.get("absent") == "fail":
                yield Outcome(Status.FAIL, f"{name} is not set", name,
                              location=_where(ctx, stated))
            continue
        bounds = params.parse_range(effective)
        if bounds is None:
            continue  # unreadable values are the `loads` rule's business
        lo, hi = bounds
        shown = stated.raw if stated else f"{effective} (absent, default)"
        if (low is not None and lo < low) or (high is not None and hi > high):
            yield Outcome(Status.FAIL, f"{name} = {shown} is outside {_span(low, high)}",
                          name, _span(low, high), stated.raw if stated else None,
                          _where(ctx, stated))
        else:
            yield Outcome(Status.PASS, f"{name} = {shown} is within {_span(low, high)}",
                          name, actual=stated.raw if stated else None,
                          location=_where(ctx, stated))


def _span(low: int | None, high: int | None) -> str:
    if low is None:
        return f"<= {high}"
    if high is None:
        return f">= {low}"
    return f"{low}..{high}"


def _compile_pattern(where: str, options: Mapping[str, Any]) -> Mapping[str, Any]:
    try:
        compiled = re.compile(options["pattern"])
    except re.error as exc:
        raise RuleError(f"{where}: key 'pattern' is not a valid regular expression: {exc}") \
            from None
    target = one_of(where, options, "target", ("raw", "effective", "line"), "raw")
    mode = one_of(where, options, "mode", ("must-match", "must-not-match"), "must-match")
    return {**options, "compiled": compiled, "target": target, "mode": mode}


def check_regex(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Match every line that sets a selected key (duplicates included)."""
    pattern: re.Pattern[str] = options["compiled"]
    must = options["mode"] == "must-match"
    clean = True
    for name, text, shown, location in _regex_subjects(ctx, options["target"]):
        if (pattern.search(text) is not None) != must:
            clean = False
            verb = "does not match" if must else "matches"
            hint = options.get("message", f"{verb} /{pattern.pattern}/")
            yield Outcome(Status.FAIL, f"{name} = {shown}: {hint}", name,
                          actual=shown, location=location)
    if clean:
        yield Outcome(Status.PASS, f"checked {', '.join(ctx.names) or 'every key'}")


def _regex_subjects(ctx: Context, target: str) -> Iterator[tuple[str, str, str, Location]]:
    if isinstance(ctx.doc, awgconf.AwgConf):
        for entry in _entries(ctx):
            if entry.secret and entry.raw and target != "effective":
                # A secret's raw value is only its digest here: a pattern over
                # it means nothing. An empty one is still an empty value.
                continue
            text = {"raw": entry.raw, "line": entry.text.rstrip("\r"),
                    "effective": entry.effective or ""}[target]
            yield _ident(entry), text, entry.raw, _loc(ctx, entry)
        return
    for name, value in ctx.doc.params().items():
        if name in ctx.names or not ctx.names:
            text = (value.effective or "") if target == "effective" else value.raw
            yield name, text, value.raw, _where(ctx, value)


# --- unique / non-overlapping / relation ----------------------------------

def _collect(ctx: Context, options: Mapping[str, Any]) -> list[tuple[str, str, ParamValue | None]]:
    found = []
    for name in ctx.selected():
        stated, effective = _value(ctx, name, options.get("absent", "skip"))
        if effective is not None:
            found.append((name, effective, stated))
    return found


def check_unique(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    seen: dict[str, str] = {}
    missing = _missing(ctx, options)
    yield from missing
    clean = not missing
    for name, effective, stated in _collect(ctx, options):
        if effective in seen:
            clean = False
            yield Outcome(Status.FAIL, f"{name} = {effective} repeats {seen[effective]}",
                          name, actual=stated.raw if stated else effective,
                          location=_where(ctx, stated))
        seen.setdefault(effective, name)
    if clean:
        yield Outcome(Status.PASS, f"{', '.join(ctx.names)} are distinct")


def check_non_overlapping(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    ranges = []
    for name, effective, stated in _collect(ctx, options):
        bounds = params.parse_range(effective)
        if bounds is not None:
            ranges.append((name, bounds, stated))
    missing = _missing(ctx, options)
    yield from missing
    clean = not missing
    for i, (name, (lo, hi), stated) in enumerate(ranges):
        for other, (olo, ohi), _ in ranges[:i]:
            if lo <= ohi and olo <= hi:
                clean = False
                yield Outcome(Status.FAIL, f"{name} ({lo}-{hi}) overlaps {other} "
                              f"({olo}-{ohi})", name, actual=stated.raw if stated else None,
                              location=_where(ctx, stated))
    if clean:
        yield Outcome(Status.PASS, f"{', '.join(ctx.names)} do not overlap")


_RELATION = re.compile(
    r"^\s*(?P<left>[A-Za-z]\w*|\d+)\s*(?:(?P<lop>[+-])\s*(?P<loff>\d+))?\s*"
    r"(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<right>[A-Za-z]\w*|\d+)\s*(?:(?P<rop>[+-])\s*(?P<roff>\d+))?\s*$"
)
_OPERATORS: dict[str, Callable[[int, int], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}


def _parse_relation(where: str, options: Mapping[str, Any]) -> Mapping[str, Any]:
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
        if not token.isdigit() and params.spec(token) is None:
            raise RuleError(f"{where}: key 'expr' names unknown param '{token}'")
        terms.append((token if token.isdigit() else params.canonical(token), offset))
    return {**_absent_mode(where, options), "terms": terms, "op": match["op"]}


def check_relation(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    values: list[int] = []
    shown: list[str] = []
    stated_any: ParamValue | None = None
    for token, offset in options["terms"]:
        if token.isdigit():
            values.append(int(token) + offset)
            shown.append(token)
            continue
        stated, effective = _value(ctx, token, options.get("absent", "skip"))
        bounds = params.parse_range(effective) if effective is not None else None
        if bounds is None:
            if stated is None and options.get("absent") == "fail":
                yield Outcome(Status.FAIL, f"{token} is not set; {options['expr']} cannot "
                              "hold", token, location=Location(ctx.doc.path))
            else:
                yield Outcome(Status.SKIP, f"{token} is not set; {options['expr']} not "
                              "checked", token)
            return
        stated_any = stated_any or stated
        values.append(bounds[0] + offset)
        shown.append(f"{token}={effective}")
    holds = _OPERATORS[options["op"]](values[0], values[1])
    status = Status.PASS if holds else Status.FAIL
    verdict = "holds" if holds else "does not hold"
    yield Outcome(status, f"{options['expr']} {verdict} ({', '.join(shown)})",
                  options["terms"][0][0], location=_where(ctx, stated_any))


# --- implies ----------------------------------------------------------------

def _prepare_implies(where: str, options: Mapping[str, Any]) -> Mapping[str, Any]:
    when = options["when"]
    if set(when) - {"param", "is", "equals"} or "param" not in when:
        raise RuleError(f"{where}: when: expected 'param' with 'is: present|absent' or "
                        "'equals: VALUE'")
    if when.get("is", "present") not in ("present", "absent"):
        raise RuleError(f"{where}: when: key 'is' must be present or absent")
    then = dict(options["then"])
    inner_type = then.get("type")
    if inner_type in (None, "implies") or inner_type not in CHECKS:
        raise RuleError(f"{where}: then: needs a 'type' naming a check other than implies")
    inner_params = then.pop("params", None)
    if not isinstance(inner_params, list) or not all(isinstance(p, str) for p in inner_params):
        raise RuleError(f"{where}: then: needs 'params', a list of param names")
    inner = CHECKS[inner_type].validate(f"{where}: then", then, (ArtifactKind.CONF,))
    for name in (when["param"], *inner_params):
        if not isinstance(name, str) or params.spec(name) is None:
            raise RuleError(f"{where}: unknown param {name!r} (a typo would silently "
                            "select nothing)")
    return {"when": {**when, "param": params.canonical(when["param"])}, "then": inner,
            "then_params": tuple(params.canonical(p) for p in inner_params)}


def check_implies(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    when = options["when"]
    stated = ctx.doc.params().get(when["param"])
    if "equals" in when:
        applies = stated is not None and stated.effective == str(when["equals"])
    else:
        applies = (stated is not None) == (when.get("is", "present") == "present")
    if not applies:
        yield Outcome(Status.PASS, f"does not apply: condition on {when['param']} not met")
        return
    inner: CheckSpec = options["then"]
    inner_ctx = Context(ctx.node, ctx.doc, options["then_params"], ctx.section, ctx.source,
                        ctx.source_name)
    for outcome in CHECKS[inner.type].fn(inner_ctx, inner.options):
        if outcome.status is Status.FAIL:
            yield Outcome(outcome.status, f"{when['param']} is set, so: {outcome.message}",
                          outcome.param, outcome.expected, outcome.actual, outcome.location,
                          outcome.severity)
        else:
            yield outcome


# --- conf-only hazards -------------------------------------------------------

def _entries(ctx: Context) -> list[awgconf.Entry]:
    doc = ctx.doc
    if not isinstance(doc, awgconf.AwgConf):
        return []
    chosen = []
    wanted = {n.lower() for n in ctx.names}
    for entry in doc.entries:
        if ctx.section != "any" and (
            entry.section is None or doc.sections[entry.section].name != ctx.section
        ):
            continue
        if wanted and _ident(entry).lower() not in wanted:
            continue
        chosen.append(entry)
    return chosen


def _ident(entry: awgconf.Entry) -> str:
    return entry.name or "".join(entry.key.split())


def _loc(ctx: Context, entry: awgconf.Entry) -> Location:
    return Location(ctx.doc.path, entry.line)


def _prepare_placement(where: str, options: Mapping[str, Any]) -> Mapping[str, Any]:
    one_of(where, options, "allowed", ("Interface", "Peer"))
    return options


def check_section_placement(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Selected keys may only appear in the section ``allowed`` names."""
    allowed = options["allowed"]
    doc = ctx.doc
    assert isinstance(doc, awgconf.AwgConf)
    wanted = {n.lower() for n in ctx.names}
    bad = False
    for entry in doc.entries:
        if _ident(entry).lower() not in wanted:
            continue
        section = doc.sections[entry.section].name if entry.section is not None else None
        if section != allowed:
            bad = True
            place = f"[{section}]" if section else "before any section header"
            yield Outcome(Status.FAIL, f"{entry.key} on line {entry.line} is {place}; it is "
                          f"only valid in [{allowed}] (awg setconf rejects the whole file)",
                          _ident(entry), actual=entry.raw, location=_loc(ctx, entry))
    if not bad:
        yield Outcome(Status.PASS, f"every selected key is in [{allowed}]")


_ACCUMULATING = {"AllowedIPs"}


def check_duplicate_keys(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    doc = ctx.doc
    assert isinstance(doc, awgconf.AwgConf)
    groups: dict[tuple[int | str | None, str], list[awgconf.Entry]] = {}
    for entry in _entries(ctx):
        if entry.name in _ACCUMULATING:
            continue
        # A second [Interface] applies on top of the first (the last value
        # wins across both); each [Peer] is a peer of its own.
        place: int | str | None = entry.section
        if entry.section is not None and doc.sections[entry.section].name == "Interface":
            place = "Interface"
        groups.setdefault((place, _ident(entry).lower()), []).append(entry)
    clean = True
    for entries in groups.values():
        if len(entries) < 2:
            continue
        clean = False
        last = entries[-1]
        lines = ", ".join(str(e.line) for e in entries)
        spellings = ", ".join(f"'{e.key} = {e.raw}'" for e in entries)
        yield Outcome(Status.FAIL, f"{_ident(last)} is set {len(entries)} times (lines {lines}: "
                      f"{spellings}); the last one wins, so the effective value is "
                      f"{last.effective if last.effective is not None else last.raw}",
                      _ident(last), actual=last.raw, location=_loc(ctx, last))
    if clean:
        yield Outcome(Status.PASS, "no key is set twice")


def check_canonical_spelling(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """``Key = value``: PascalCase key, one space each side of '=', nothing
    trailing. Merge tools matching ``^Key = \\d+$`` miss anything else and
    append a duplicate."""
    clean = True
    for entry in _entries(ctx):
        if entry.name is None:
            continue
        body, hash_mark, _ = entry.text.rstrip("\r").partition("#")
        if hash_mark:
            body = body.rstrip(" \t")  # blanks before a trailing comment are fine
        canonical = f"{entry.name} = {entry.raw}"
        if body == canonical:
            continue
        # A secret's raw is its digest: advising to write that would break the file.
        advice = f"{entry.name} = <value>" if entry.secret else canonical
        clean = False
        problems = []
        if entry.key != entry.name:
            problems.append(f"key spelled '{entry.key}'")
        if body.strip() != canonical:
            problems.append("not 'Key = value' spacing")
        if body != body.strip():
            problems.append("leading or trailing blanks")
        yield Outcome(Status.FAIL, f"line {entry.line} is not canonical "
                      f"({'; '.join(problems) or 'spacing'}); write '{advice}'",
                      entry.name, expected=canonical if not entry.secret else None,
                      actual=entry.raw, location=_loc(ctx, entry))
    if clean:
        yield Outcome(Status.PASS, "every selected key is spelled canonically")


def check_loads(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Would ``awg-quick up`` accept the file? One failing outcome per
    fatal diagnostic."""
    doc = ctx.doc
    assert isinstance(doc, awgconf.AwgConf)
    fatal = [d for d in doc.diagnostics if d.severity is awgconf.Severity.FATAL]
    for diagnostic in fatal:
        yield Outcome(Status.FAIL, diagnostic.message,
                      location=Location(doc.path, diagnostic.line))
    if not fatal:
        yield Outcome(Status.PASS, "awg-quick would load this file")


_FACTS = ("bom", "crlf", "cr_only", "nul", "invalid_utf8", "no_final_newline", "empty")


def _prepare_file_fact(where: str, options: Mapping[str, Any]) -> Mapping[str, Any]:
    one_of(where, options, "fact", _FACTS)
    return options


def check_file_fact(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    doc = ctx.doc
    assert isinstance(doc, awgconf.AwgConf)
    fact = options["fact"]
    facts = doc.facts
    present = {
        "bom": facts.bom, "crlf": facts.crlf, "cr_only": facts.cr_only, "nul": facts.nul,
        "invalid_utf8": facts.invalid_utf8, "no_final_newline": not facts.final_newline,
        "empty": doc.interface() is None,
    }[fact]
    label = options.get("message", fact.replace("_", " "))
    line = 1 if fact in ("bom", "cr_only") else None
    if present:
        yield Outcome(Status.FAIL, label, location=Location(doc.path, line))
    else:
        yield Outcome(Status.PASS, f"not the case: {fact.replace('_', ' ')}")


# --- params documents ----------------------------------------------------------

def check_document_valid(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Every problem met while reading a params document (an error reply, a
    missing or mistyped key, a number sent as a string, an injection
    character) is a failing outcome at its key and line."""
    doc = ctx.doc
    assert isinstance(doc, paramsdoc.ParamsDoc)
    for problem in doc.problems:
        spec = params.spec((problem.key or "").replace("_", ""))
        downgrade = Severity.WARNING if problem.level is paramsdoc.Level.WARNING else None
        yield Outcome(Status.FAIL, problem.message, spec.name if spec else problem.key,
                      location=Location(doc.path, problem.line), severity=downgrade)
    if not doc.problems:
        yield Outcome(Status.PASS, "the params document is well formed")


_ALL = frozenset(ArtifactKind)
_PARAM_KINDS = frozenset({ArtifactKind.CONF, ArtifactKind.RUNTIME, ArtifactKind.PARAMS})
_COMPOSE = frozenset({ArtifactKind.COMPOSE})
_CONF = frozenset({ArtifactKind.CONF})
_ABSENT: OptionSchema = {"absent": (str, False)}

CHECKS: dict[str, CheckType] = {
    "equals-source": CheckType(check_equals_source,
                               {"compare": (str, False), "against": (str, False)},
                               _PARAM_KINDS,
                               _compare_mode),
    "present": CheckType(check_present, {}, _PARAM_KINDS),
    "absent": CheckType(check_absent, {}, _CONF),
    "range": CheckType(check_range, {"min": (int, False), "max": (int, False), **_ABSENT},
                       _PARAM_KINDS, _absent_mode),
    "regex": CheckType(check_regex, {"pattern": (str, True), "target": (str, False),
                                     "mode": (str, False), "message": (str, False)},
                       _PARAM_KINDS, _compile_pattern),
    "unique": CheckType(check_unique, dict(_ABSENT), _PARAM_KINDS, _absent_mode),
    "non-overlapping": CheckType(check_non_overlapping, dict(_ABSENT), _PARAM_KINDS,
                                 _absent_mode),
    "relation": CheckType(check_relation, {"expr": (str, True), **_ABSENT}, _PARAM_KINDS,
                          _parse_relation),
    "implies": CheckType(check_implies, {"when": (dict, True), "then": (dict, True)},
                         _PARAM_KINDS, _prepare_implies),
    "section-placement": CheckType(check_section_placement, {"allowed": (str, True)}, _CONF,
                                   _prepare_placement),
    "duplicate-keys": CheckType(check_duplicate_keys, {}, _CONF),
    "canonical-spelling": CheckType(check_canonical_spelling, {}, _CONF),
    "loads": CheckType(check_loads, {}, _CONF),
    "file-fact": CheckType(check_file_fact, {"fact": (str, True), "message": (str, False)},
                           _CONF, _prepare_file_fact),
    "document-valid": CheckType(check_document_valid, {}, frozenset({ArtifactKind.PARAMS})),
    "compose-equals": CheckType(compose_checks.check_equals, compose_checks.EQUALS_OPTIONS,
                                _COMPOSE, compose_checks.prepare_equals),
    "compose-present": CheckType(compose_checks.check_present, {}, _COMPOSE),
    "compose-absent": CheckType(compose_checks.check_absent, {}, _COMPOSE),
    "compose-origin": CheckType(compose_checks.check_origin, compose_checks.ORIGIN_OPTIONS,
                                _COMPOSE, compose_checks.prepare_origin),
    "compose-diagnostics": CheckType(compose_checks.check_diagnostics,
                                     compose_checks.DIAGNOSTICS_OPTIONS, _COMPOSE,
                                     compose_checks.prepare_diagnostics),
}
