"""A report read back: a ``check --format json`` file (schema
``awgcheck.report/v2``, or v1) as the :class:`~awgcheck.model.Report` the run
rendered, for ``check --baseline`` and ``merge``.

A report file is input like any other, so every problem is a usage error
(exit 2) that names the file and the place in it (``findings[12].severity:
'bogus' is not one of critical, error, warning, info``) and quotes at most
:data:`MAX_QUOTE` characters of what it found; the CLI escapes the message
where it prints it. The file is read with the local-file cap
:data:`awgcheck.limits.MAX_REPORT_BYTES`.

Text in a report was escaped when it was written
(:func:`awgcheck.text.printable`); it is unescaped here
(:func:`~awgcheck.text.unprintable`), so that rendering the report again
escapes it exactly once and gives the same bytes. Keys this version does
not know are ignored: a later version may add fields (``tests/report/
test_load.py`` fails when this version adds one the loader does not read).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import TypeVar

from awgcheck import limits, params
from awgcheck.collect.local import read_local_file
from awgcheck.errors import CollectError, ErrorClass, UsageError
from awgcheck.model import (
    BaseCommit,
    BaselineState,
    BaselineUse,
    Finding,
    FleetImpact,
    GateSummary,
    Location,
    NodeResult,
    ParamChange,
    RelatedLocation,
    Report,
    RuleMeta,
    RunMeta,
    Severity,
    Shard,
    SourceFailure,
    Status,
    Waiver,
)
from awgcheck.report.json_format import READABLE, SCHEMA
from awgcheck.ruleset.load import PROFILES
from awgcheck.text import unprintable

E = TypeVar("E", bound=Enum)
T = TypeVar("T")

MAX_QUOTE = 40
"""Characters of a bad value quoted in an error message."""


class ReportFileError(UsageError):
    """A file that is not a report this version can read."""


def _quote(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    text = str(value)
    cut = text[:MAX_QUOTE] + ("..." if len(text) > MAX_QUOTE else "")
    return f"'{cut}'"


class _Object:
    """One JSON object of the report, read field by field; every error names
    the file and the object's place (``findings[3].location``)."""

    def __init__(self, data: object, where: str, file: str) -> None:
        self.where, self.file = where, file
        if not isinstance(data, dict):
            raise self.error(f"expected an object, found {_quote(data)}")
        self.data: dict[str, object] = data

    def error(self, problem: str, key: str | None = None) -> ReportFileError:
        place = ".".join(part for part in (self.where, key) if part)
        return ReportFileError(f"{self.file}: {place}: {problem}" if place
                               else f"{self.file}: {problem}")

    def _get(self, key: str, kind: type, what: str, optional: bool) -> object:
        if key not in self.data:
            if optional:
                return None
            raise self.error("missing", key)
        value = self.data[key]
        if value is None and optional:
            return None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.error(f"expected {what}, found {_quote(value)}", key)
        return value

    def text(self, key: str) -> str:
        return unprintable(str(self._get(key, str, "text", optional=False)))

    def optional_text(self, key: str) -> str | None:
        value = self._get(key, str, "text or null", optional=True)
        return None if value is None else unprintable(str(value))

    def time(self, key: str) -> str:
        value = self.text(key)
        self._check_time(key, value)
        return value

    def moment(self, key: str) -> dt.datetime:
        return dt.datetime.fromisoformat(self.time(key))

    def date(self, key: str) -> dt.date:
        value = self.text(key)
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise self.error(f"{_quote(value)} is not a date (YYYY-MM-DD)", key) from None

    def optional_time(self, key: str) -> str | None:
        value = self.optional_text(key)
        if value is not None:
            self._check_time(key, value)
        return value

    def _check_time(self, key: str, value: str) -> None:
        try:
            aware = dt.datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            aware = False
        if not aware:  # times of different runs are compared: each must say its zone
            raise self.error(f"{_quote(value)} is not an ISO 8601 date and time with its "
                             "time zone", key)

    def optional_int(self, key: str) -> int | None:
        value = self._get(key, int, "a whole number or null", optional=True)
        assert value is None or isinstance(value, int)
        return value

    def flag(self, key: str) -> bool:
        return self._get(key, bool, "true or false", optional=False) is True

    def choice(self, key: str, kind: type[E]) -> E:
        value = self._get(key, str, "text", optional=False)
        return self._member(key, kind, value)

    def optional_choice(self, key: str, kind: type[E]) -> E | None:
        value = self._get(key, str, "text or null", optional=True)
        return None if value is None else self._member(key, kind, value)

    def _member(self, key: str, kind: type[E], value: object) -> E:
        for member in kind:
            if member.value == value:
                return member
        known = ", ".join(str(m.value) for m in kind)
        raise self.error(f"{_quote(value)} is not one of {known}", key)

    def child(self, key: str) -> _Object:
        return _Object(self._get(key, dict, "an object", optional=False),
                       self._place(key), self.file)

    def optional_child(self, key: str) -> _Object | None:
        value = self._get(key, dict, "an object or null", optional=True)
        return None if value is None else _Object(value, self._place(key), self.file)

    def each(self, key: str, read: Callable[[_Object], T], *,
             optional: bool = False) -> tuple[T, ...]:
        """``read`` of every object of the array ``key`` (absent: none, if
        ``optional``)."""
        items = self._get(key, list, "an array", optional=optional) or []
        assert isinstance(items, list)
        return tuple(read(_Object(item, f"{self._place(key)}[{i}]", self.file))
                     for i, item in enumerate(items))

    def texts(self, key: str) -> tuple[str, ...]:
        items = self._get(key, list, "an array", optional=False)
        assert isinstance(items, list)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise self.error(f"expected text, found {_quote(item)}", f"{key}[{i}]")
        return tuple(unprintable(item) for item in items)

    def _place(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key


def _location(obj: _Object | None) -> Location | None:
    """A location; one of a v1 report has no host or port (for a file on an
    SSH node, its ``path`` reads ``host:/path``, as messages name it)."""
    if obj is None:
        return None
    host = obj.optional_text("host")
    port = obj.optional_int("port")
    if port is not None and not 0 < port < 65536:
        raise obj.error(f"{port} is not a port", "port")
    return Location(obj.text("path"), obj.optional_int("line"), host, port)


def _finding(obj: _Object) -> Finding:
    waiver = obj.optional_child("waiver")
    return Finding(
        rule=obj.text("rule"), node=obj.text("node"), status=obj.choice("status", Status),
        severity=obj.choice("severity", Severity), message=obj.text("message"),
        param=obj.optional_text("param"), expected=obj.optional_text("expected"),
        actual=obj.optional_text("actual"), location=_location(obj.optional_child("location")),
        symptom=obj.optional_text("symptom"), remediation=obj.optional_text("remediation"),
        baseline_state=obj.optional_choice("baseline_state", BaselineState),
        first_seen=obj.optional_time("first_seen"),
        waiver=None if waiver is None else _waiver(waiver),
        related=_related(obj.optional_child("related")),
    )


def _related(obj: _Object | None) -> RelatedLocation | None:
    """The other end of a finding about two nodes (mesh checks)."""
    if obj is None:
        return None
    location = _location(obj.child("location"))
    assert location is not None
    return RelatedLocation(obj.text("node"), location)


def _node(obj: _Object) -> NodeResult:
    index = obj.optional_int("index")
    if index is not None and index < 0:
        raise obj.error(f"{index} is not a place in an inventory", "index")
    groups = obj.texts("groups") if "groups" in obj.data else ()
    passes = obj.optional_int("passes")
    if passes is not None and passes < 0:
        raise obj.error(f"{passes} is not a number of findings", "passes")
    return NodeResult(obj.text("name"), obj.choice("status", Status),
                      obj.optional_text("error"), obj.optional_choice("error_class", ErrorClass),
                      index, groups, passes or 0)


def _counted(nodes: tuple[NodeResult, ...], findings: tuple[Finding, ...],
             listed: bool) -> tuple[NodeResult, ...]:
    """A report from before nodes counted their passes lists them all:
    count them from its findings."""
    if not listed or any(n.passes for n in nodes):
        return nodes
    passed: dict[str, int] = {}
    for finding in findings:
        if finding.status is Status.PASS:
            passed[finding.node] = passed.get(finding.node, 0) + 1
    return tuple(replace(n, passes=passed.get(n.name, 0)) for n in nodes)


def _omitted(top: _Object) -> bool:
    """Whether the report leaves passing findings out (--omit-passes)."""
    omitted = top.texts("omitted") if "omitted" in top.data else ()
    for kind in omitted:
        if kind != Status.PASS.value:
            raise top.error(f"{_quote(kind)}: only passing findings are ever left out",
                            "omitted")
    return bool(omitted)


def _rule(obj: _Object) -> RuleMeta:
    return RuleMeta(obj.text("id"), obj.text("title"), obj.choice("severity", Severity),
                    obj.text("description"), obj.text("remediation"), obj.texts("tags"),
                    obj.flag("drift"))


def _change(obj: _Object) -> ParamChange:
    return ParamChange(obj.text("param"), obj.choice("class", params.Role),
                       obj.optional_text("before"), obj.optional_text("after"),
                       obj.optional_text("symptom"), obj.text("text"),
                       _location(obj.optional_child("location")))


def _gate(obj: _Object) -> GateSummary:
    base = obj.optional_child("base")
    impact = obj.optional_child("impact")
    return GateSummary(
        source=obj.text("source"),
        base=None if base is None else BaseCommit(base.text("ref"), base.text("commit")),
        changes=obj.each("changes", _change),
        warnings=obj.texts("warnings"),
        impact=None if impact is None else FleetImpact(
            impact.texts("nodes"), impact.texts("unknown"), impact.text("message")),
        notes=obj.texts("notes"),
    )


def _source_failure(obj: _Object) -> SourceFailure | None:
    """Why the source of truth could not be read; None when it was
    (``error`` null)."""
    error = obj.optional_text("error")
    if error is None:
        return None
    error_class = obj.optional_choice("error_class", ErrorClass)
    if error_class is None:
        raise obj.error("missing while error is set", "error_class")
    return SourceFailure(error, error_class, obj.texts("not_evaluated"))


def _shard(obj: _Object) -> Shard:
    count = obj.optional_int("count")
    index = obj.optional_int("index")
    if count is None or count < 1:
        raise obj.error(f"{count} is not a number of shards", "count")
    if index is None or not 1 <= index <= count:
        raise obj.error(f"{index} is not a shard of {count}", "index")
    return Shard(index, count)


def _baseline(obj: _Object) -> BaselineUse:
    return BaselineUse(obj.text("path"), obj.time("previous_run"), obj.flag("fail_on_new"))


def _waiver(obj: _Object) -> Waiver:
    location = _location(obj.child("location"))
    assert location is not None
    return Waiver(nodes=obj.texts("nodes"), rule=obj.text("rule"), reason=obj.text("reason"),
                  expires=obj.date("expires"), location=location,
                  param=obj.optional_text("param"), owner=obj.optional_text("owner"))


def _run(obj: _Object) -> RunMeta:
    return RunMeta(obj.text("version"), obj.moment("started_at"), obj.moment("finished_at"),
                   obj.optional_text("inventory"), obj.text("rules_digest"))


def from_json(data: object, file: str) -> Report:
    """The report a parsed JSON document holds; ``file`` names it in errors."""
    if not isinstance(data, dict) or "schema" not in data:
        raise ReportFileError(f"{file}: not an awgcheck JSON report (no \"schema\": "
                              f"\"{SCHEMA}\"; write one with check --format json)")
    top = _Object(data, "", file)
    schema = top.text("schema")
    if schema not in READABLE:
        raise top.error(f"schema {_quote(schema)} is not {' or '.join(READABLE)}, the report "
                        "of check --format json", "schema")
    profile = top.text("profile")
    if profile not in PROFILES:
        raise top.error(f"{_quote(profile)} is not one of {', '.join(PROFILES)}", "profile")
    source = top.child("source")
    gate = top.optional_child("gate")
    baseline = top.optional_child("baseline")
    run = top.optional_child("run")
    shard = top.optional_child("shard")
    findings = top.each("findings", _finding)
    omit_passes = _omitted(top)
    return Report(
        source_node=source.optional_text("node"), source_path=source.text("path"),
        nodes=_counted(top.each("nodes", _node), findings, listed=not omit_passes),
        findings=findings, omit_passes=omit_passes,
        fail_on=top.choice("fail_on", Severity), profile=profile,
        gate=None if gate is None else _gate(gate),
        rules=top.each("rules", _rule, optional=True),
        baseline=None if baseline is None else _baseline(baseline),
        resolved=top.each("resolved", _finding, optional=True),
        source_failure=_source_failure(source),
        run=None if run is None else _run(run),
        shard=None if shard is None else _shard(shard),
        mesh_diagram=top.texts("mesh_diagram") if "mesh_diagram" in data else (),
    )


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def parse(data: bytes, file: str) -> Report:
    """The report ``data`` (the bytes of a file) holds."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportFileError(f"{file}: not a JSON report: not UTF-8 text (byte "
                              f"{exc.start})") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        ends_early = exc.pos >= len(text.rstrip())
        why = ("ends early: truncated (a run that was stopped, a disk that was full?)"
               if ends_early else f"{exc.msg} at line {exc.lineno} column {exc.colno}")
        raise ReportFileError(f"{file}: not a JSON report: {why}") from None
    except RecursionError:
        raise ReportFileError(f"{file}: not a JSON report: nested too deeply") from None
    except ValueError as exc:  # NaN, a number of more than 4,300 digits
        raise ReportFileError(f"{file}: not a JSON report: {exc}") from None
    return from_json(document, file)


def read(path: Path, option: str | None = None) -> Report:
    """The report in the file ``path``; ``option`` (``--baseline``) leads
    every error message, with the path."""
    file = f"{option} {path}" if option else str(path)
    try:
        data = read_local_file(path, limit=limits.MAX_REPORT_BYTES)
    except CollectError as exc:
        raise ReportFileError(f"{option} {exc}" if option else str(exc)) from None
    return parse(data, file)


def read_check(path: Path, option: str | None = None) -> Report:
    """:func:`read`, for a report of ``check``: one of ``gate`` (whose nodes
    are a repository's files) is refused."""
    report = read(path, option)
    if report.gate is not None:
        file = f"{option} {path}" if option else str(path)
        raise ReportFileError(f"{file}: a report of awgcheck gate, not of check")
    return report
