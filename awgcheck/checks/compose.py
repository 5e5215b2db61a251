"""Check types for compose documents (the ``compose`` artifact).

Registered in :data:`awgcheck.checks.CHECKS` like every other check type,
one explicit entry each. Each function judges the :class:`Item` values a
rule's compose selection picks (:mod:`awgcheck.compose_select`) and yields
outcomes located at the compose file and line. Values of secret-looking
variables appear only as digests, in messages as in expected/actual.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from awgcheck import params
from awgcheck.checks import compose_select
from awgcheck.checks.base import Context, OptionSchema, Outcome, not_compared
from awgcheck.checks.compose_select import ComposeSelection, Item
from awgcheck.checks.options import one_of
from awgcheck.compare import Relation, compare, written_value
from awgcheck.documents.compose import ComposeDocument, conceal
from awgcheck.errors import RuleError
from awgcheck.model import (
    ArtifactKind,
    Diagnostic,
    Level,
    Location,
    ParamValue,
    Severity,
    Status,
)
from awgcheck.parse.compose.project import Service


def _document(ctx: Context) -> tuple[ComposeDocument, ComposeSelection]:
    doc = ctx.doc
    assert isinstance(doc, ComposeDocument), "compose checks read compose documents only"
    return doc, ctx.compose or ComposeSelection()


def _selected(ctx: Context) -> tuple[ComposeDocument, list[Item]]:
    doc, selection = _document(ctx)
    return doc, compose_select.items(doc.project, selection)


def _show(text: str | None, secret: bool) -> str:
    if text is None:
        return "unset"
    if text == "":
        return '""'
    return conceal(text, secret) or ""


def _param_of(item: Item) -> str | None:
    """What a finding's ``param`` says: the AWG param, so the rule's
    per-param symptom applies; otherwise ``service NAME``."""
    return item.param or item.label


# --- compose-equals ------------------------------------------------------------

AGAINST = ("source", "conf", "address", "literal")
EQUALS_OPTIONS: OptionSchema = {
    "against": (str, False), "value": (str, False), "param": (str, False),
    "part": (str, False), "never": (list, False), "compare": (str, False),
    "unset": (str, False), "message": (str, False),
}
WILDCARDS = ("", "0.0.0.0", "::")


def prepare_equals(where: str, options: Mapping[str, Any],
                    reads: tuple[ArtifactKind, ...]) -> Mapping[str, Any]:
    """Validate compose-equals options; name the bad key."""
    against = one_of(where, options, "against", AGAINST)
    if against is None and "never" not in options:
        raise RuleError(f"{where}: check type 'compose-equals' needs 'against' or 'never'")
    if (against == "literal") != ("value" in options):
        raise RuleError(f"{where}: key 'value' goes with 'against: literal' (and only there)")
    out = dict(options)
    if "param" in options:
        spec = params.spec(options["param"])
        if spec is None:
            raise RuleError(f"{where}: key 'param' names unknown param {options['param']!r}")
        if against not in ("source", "conf"):
            raise RuleError(f"{where}: key 'param' goes with 'against: source' or 'conf'")
        out["param"] = spec.name
    for key, allowed in (("part", ("value", "host")), ("compare", ("effective", "raw")),
                         ("unset", ("fail", "skip"))):
        if key in options and options[key] not in allowed:
            raise RuleError(f"{where}: key '{key}' must be {' or '.join(allowed)}, "
                            f"got {options[key]!r}")
    never = options.get("never", [])
    if not all(isinstance(v, str) for v in never):
        raise RuleError(f"{where}: key 'never' must list strings (quote 0.0.0.0 and \"\")")
    return out


def check_equals(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Each selected value must equal the expected one (the source's param,
    the node's conf param or Address host, a literal) and never be one of
    ``never``."""
    doc, chosen = _selected(ctx)
    for item in chosen:
        if doc.placeholder(item.raw):
            # A compose template's {{ host_ip }}: known only once rendered.
            yield not_compared(item.label, _param_of(item), doc.locate(item.location))
            continue
        yield _as_written(_judge(ctx, doc, item, options), item)
    if not chosen:
        yield Outcome(Status.PASS, "no selected value in the compose project")


def _as_written(outcome: Outcome, item: Item) -> Outcome:
    """A failure on an interpolated or quoted value also quotes the text as
    written: the fix goes there (``${RELAY_IP:-0.0.0.0}``), not into the
    resolved value."""
    raw = item.raw
    if outcome.status is not Status.FAIL or not raw or raw == item.value:
        return outcome
    return replace(outcome, message=f"{outcome.message} (written as "
                   f"{conceal(raw, item.secret)})")


def _judge(ctx: Context, doc: ComposeDocument, item: Item,
           options: Mapping[str, Any]) -> Outcome:
    where = doc.locate(item.location)
    param = _param_of(item)
    if item.value is None:
        if options.get("unset", "fail") == "skip":
            return Outcome(Status.SKIP, f"{item.label} is unset", param, location=where)
        return Outcome(Status.FAIL, f"{item.label} is listed but unset (no value reaches "
                        "the container)", param, actual=None, location=where)
    value = compose_select.host_part(item.value) if options.get("part") == "host" \
        else item.value
    shown = _show(value, item.secret)
    what = f"{item.label} host" if value != item.value else item.label
    if value in options.get("never", ()):
        hosts = _mesh_hosts(ctx) if options.get("against") == "address" else None
        why = options.get("message") or (
            "that binds every interface, the public NIC included" if value in WILDCARDS
            else "a value this rule forbids")
        if hosts:
            why += f"; the mesh address is {hosts}"
        return Outcome(Status.FAIL, f"{what} is {shown}: {why}", param, hosts,
                        conceal(value, item.secret), where)
    against = options.get("against")
    if against is None:
        return Outcome(Status.PASS, f"{what} is {shown}", param,
                        actual=conceal(value, item.secret), location=where)
    if against == "literal":
        want = options["value"]
        status = Status.PASS if value == want else Status.FAIL
        verb = "is" if status is Status.PASS else "should be"
        return Outcome(status, f"{what} is {shown}; {verb} {_show(want, item.secret)}",
                        param, conceal(want, item.secret), conceal(value, item.secret), where)
    if against == "address":
        return _against_address(ctx, item, what, value, where, param)
    return _against_param(ctx, item, what, value, where, options)


def _mesh_hosts(ctx: Context) -> str | None:
    """The host parts of every address the node's conf gives its interface
    (``Address = 10.77.0.3/24, fd00::3/64``, or one Address line each: awg-quick
    adds them all), joined for a message; None when it has none."""
    hosts = _addresses(ctx)
    return ", ".join(hosts) if hosts else None


def _addresses(ctx: Context) -> list[str]:
    conf = ctx.documents.get(ArtifactKind.CONF)
    stated = conf.params().get("Address") if conf is not None else None
    if stated is None:
        return []
    # A document that states Address without reading it line by line (a
    # params document) gives one text: split it as awg-quick would.
    found = stated.items or params.items("Address", stated.effective or stated.raw)
    return [item.partition("/")[0] for item in found]


def _against_address(ctx: Context, item: Item, what: str, value: str, where: Location,
                     param: str | None) -> Outcome:
    conf = ctx.documents.get(ArtifactKind.CONF)
    if conf is None:  # a compose file alone, or a node declared `conf: none`
        return Outcome(Status.SKIP, f"{what}: the node has no conf whose Address to compare "
                       "with", param, location=where)
    stated = conf.params().get("Address")
    hosts = _addresses(ctx)
    if stated is None or not hosts:
        return Outcome(Status.SKIP, f"{what}: the node's conf has no Address to compare with",
                        param, location=where)
    expected = ", ".join(hosts)
    actual = conceal(value, item.secret)
    if value in hosts:
        return Outcome(Status.PASS, f"{what} is the mesh address {value}", param, expected,
                        actual, where)
    return Outcome(Status.FAIL, f"{what} is {_show(value, item.secret)}, not the mesh "
                    f"address {expected} (Address in {stated.location or conf.path})",
                    param, expected, actual, where)


def _against_param(ctx: Context, item: Item, what: str, value: str, where: Location,
                   options: Mapping[str, Any]) -> Outcome:
    name = options.get("param") or item.param
    label = _param_of(item)
    if name is None:
        return Outcome(Status.SKIP, f"{what} carries no AWG param", label, location=where)
    if options["against"] == "conf":
        other, other_name = ctx.documents.get(ArtifactKind.CONF), "the node's conf"
        if other is None:  # a compose file alone (a gate consumer): nothing to compare
            return Outcome(Status.SKIP, f"{what}: the node has no conf to compare with",
                            label, location=where)
    else:
        other, other_name = ctx.source, ctx.source_name
    if other is None:  # not run by the engine without a source (see needs_source)
        return Outcome(Status.ERROR, f"{what}: {other_name} could not be read to compare "
                        "with", label, location=where)
    spec = params.spec(name)
    assert spec is not None
    return _compare_param(item, what, value, spec, other.params().get(name), other_name,
                          where, options.get("compare", "effective") == "raw")


def _compare_param(item: Item, what: str, value: str, spec: params.ParamSpec,
                   there: ParamValue | None, other: str, where: Location,
                   by_raw: bool) -> Outcome:
    """Word :func:`awgcheck.compare.compare`'s answer for a compose value,
    read the way awg reads it once the image writes it into a conf line."""
    secret = item.secret or spec.secret
    found = compare(spec.name, written_value(spec, value), there)
    shown_here = _show(value, secret)
    shown_there = found.shown_there
    expected = there.raw if there is not None else None
    actual = conceal(value, secret)
    label = f"{what} ({spec.name})" if item.param != spec.name or what != item.label else what
    if found.here_unreadable:
        assert found.here is not None
        return Outcome(Status.FAIL, f"{label} = {shown_here} cannot be read as {spec.name} "
                        f"({found.here.error}); {other} has {shown_there}", spec.name,
                        expected, actual, where)
    if found.differs:
        return Outcome(Status.FAIL, f"{label} differs from {other}: {shown_here} here, "
                        f"{shown_there} on {other} ({found.effect})", spec.name, expected,
                        actual, where)
    # A secret-looking value is shown only as a digest: a spelling hint
    # about it would say something about the secret.
    # A default written out against an absent line, or a canonical value
    # against an unusual spelling on the other side: nothing to respell here.
    if secret or found.relation is Relation.SAME or (
            not by_raw and (found.relation is Relation.ABSENT or not found.spelling_here)):
        return Outcome(Status.PASS, f"{label} = {shown_here} matches {other}", spec.name,
                        expected, actual, where)
    if by_raw:
        return Outcome(Status.FAIL, f"{label} text differs from {other}: {shown_here} here, "
                        f"{shown_there} there", spec.name, expected, actual, where)
    return Outcome(Status.FAIL, f"{label} has the same effective value "
                    f"({found.here_effective}) as {other} but is written differently: "
                    f"{shown_here} here, {shown_there} there (spelling)", spec.name, expected,
                    actual, where, Severity.WARNING)


# --- compose-present / compose-absent --------------------------------------------

def _targets(selection: ComposeSelection) -> list[tuple[str, str]]:
    """(kind, pattern) pairs a service is asked to have (or not have)."""
    targets = [(compose_select.ENV, pattern) for pattern in selection.env]
    targets += [("param", p) for p in selection.params]
    targets += [(compose_select.FLAG, flag) for flag in selection.flags]
    targets += [(kind, kind) for kind in (compose_select.HEALTHCHECK, compose_select.COMMAND)
                if getattr(selection, kind)]
    return targets


def _hits(found: Sequence[Item], kind: str, pattern: str) -> list[Item]:
    if kind == "param":
        return [i for i in found if i.kind == compose_select.ENV and i.param == pattern]
    if kind == compose_select.ENV:
        return [i for i in found if i.kind == kind and fnmatch.fnmatchcase(i.name, pattern)]
    return [i for i in found if i.kind == kind and i.name == pattern]


def _describe_target(kind: str, pattern: str) -> str:
    if kind == "param":
        return f"{pattern} (as {' or '.join(compose_select.env_names(pattern))})"
    return pattern


def check_present(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Every selected service sets every selected name (a glob: at least
    one variable matching it) to a value."""
    doc, selection = _document(ctx)
    chosen = compose_select.services(doc.project, selection)
    for service in chosen:
        found = compose_select.service_items(service, selection)
        for kind, pattern in _targets(selection):
            hits = [i for i in _hits(found, kind, pattern) if i.value is not None]
            target = _describe_target(kind, pattern)
            if hits:
                yield Outcome(Status.PASS, f"{service.name} sets {target}",
                               f"{service.name} {pattern}",
                               location=doc.locate(hits[0].location))
            else:
                yield Outcome(Status.FAIL, f"{service.name} does not set {target}",
                               f"{service.name} {pattern}",
                               location=doc.locate(service.location))
    if not chosen:
        yield Outcome(Status.PASS, "no selected service in the compose project")


def check_absent(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """No selected service sets any selected name."""
    doc, selection = _document(ctx)
    clean = True
    for service in compose_select.services(doc.project, selection):
        found = compose_select.service_items(service, selection)
        for kind, pattern in _targets(selection):
            for item in _hits(found, kind, pattern):
                clean = False
                yield Outcome(Status.FAIL, f"{item.label} is set "
                               f"({_show(item.value, item.secret)}) but must not be",
                               _param_of(item), actual=conceal(item.value, item.secret),
                               location=doc.locate(item.location))
    if clean:
        yield Outcome(Status.PASS, "no selected service sets a selected name")


# --- compose-origin ---------------------------------------------------------------

ORIGIN_OPTIONS: OptionSchema = {"from": (str, True), "allow_references": (bool, False),
                                "only_secrets": (bool, False)}


def prepare_origin(where: str, options: Mapping[str, Any],
                    reads: tuple[ArtifactKind, ...]) -> Mapping[str, Any]:
    one_of(where, options, "from", ("env_file", "environment"))
    return options


def check_origin(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Each selected environment variable must come from ``from``: an
    ``env_file`` (keeps the value out of the compose file) or the
    ``environment:`` block. With ``allow_references``, an ``environment:``
    entry that only names a project variable (``KEY: ${KEY}``, a bare
    ``KEY``) passes too: its value is not written in the compose file.
    With ``only_secrets``, a selected variable awgcheck does not hold for a
    secret (``SERVER_PUBLIC_KEY`` with a PEM public key) is a skip: a glob
    such as ``*KEY*`` selects more than secrets."""
    doc, chosen = _selected(ctx)
    wanted = options["from"]
    env = [i for i in chosen if i.kind == compose_select.ENV]
    for item in env:
        where = doc.locate(item.location)
        if options.get("only_secrets") and not item.secret:
            yield Outcome(Status.SKIP, f"{item.label} is not a secret (its name and value "
                           "look public)", _param_of(item), location=where)
            continue
        if item.origin == wanted:
            yield Outcome(Status.PASS, f"{item.label} comes from {wanted}", _param_of(item),
                           location=where)
            continue
        if options.get("allow_references") and item.variables:
            yield Outcome(Status.PASS, f"{item.label} takes its value from "
                           f"{', '.join(item.variables)} in the project environment",
                           _param_of(item), location=where)
            continue
        place = "the environment: block" if item.origin == "environment" else "an env_file"
        yield Outcome(Status.FAIL, f"{item.label} is set in {place} at {where}; it must come "
                       f"from {'an env_file' if wanted == 'env_file' else 'environment:'}",
                       _param_of(item), location=where)
    if not env:
        yield Outcome(Status.PASS, "no selected variable in the compose project")


# --- compose-diagnostics ------------------------------------------------------------

DIAGNOSTICS_OPTIONS: OptionSchema = {
    "level": (str, False), "codes": (list, False), "exclude": (list, False),
}


def prepare_diagnostics(where: str, options: Mapping[str, Any],
                         reads: tuple[ArtifactKind, ...]) -> Mapping[str, Any]:
    if options.get("level", "error") not in ("error", "warning"):
        raise RuleError(f"{where}: key 'level' must be error or warning, "
                        f"got {options['level']!r}")
    for key in ("codes", "exclude"):
        if not all(isinstance(c, str) for c in options.get(key, [])):
            raise RuleError(f"{where}: key '{key}' must list diagnostic codes")
    return options


def check_diagnostics(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Each reader diagnostic (docs/compose.md) at or above ``level``, of
    ``codes`` when given, is a failure at its file and line."""
    doc, selection = _document(ctx)
    every = selection.services == ("*",)
    chosen = {s.name for s in compose_select.services(doc.project, selection)}
    clean = True
    for diagnostic in doc.diagnostics:
        if not _wanted(diagnostic, options):
            continue
        owner = _owner(doc.project.services.values(), diagnostic.location)
        if not every and (owner is None or owner.name not in chosen):
            continue
        clean = False
        prefix = f"{owner.name}: " if owner is not None and not \
            diagnostic.message.startswith(owner.name) else ""
        yield Outcome(Status.FAIL, conceal(f"{prefix}{diagnostic.message} "
                                            f"({diagnostic.code})", False) or "",
                       owner.name if owner is not None else None,
                       location=doc.locate(diagnostic.location))
    if clean:
        yield Outcome(Status.PASS, "no such diagnostic in the compose project")


def _wanted(diagnostic: Diagnostic, options: Mapping[str, Any]) -> bool:
    if options.get("level", "error") == "error" and diagnostic.level is not Level.ERROR:
        return False
    codes = options.get("codes")
    if codes and diagnostic.code not in codes:
        return False
    return diagnostic.code not in options.get("exclude", ())


def _owner(services: Iterator[Service] | Any, location: Location) -> Service | None:
    """The service whose block holds ``location``: the last service that
    starts at or before that line in the same file."""
    best: Service | None = None
    for service in services:
        start = service.location
        if start.path != location.path or start.line is None or location.line is None:
            continue
        if start.line <= location.line and (
            best is None or (best.location.line or 0) < start.line
        ):
            best = service
    return best
