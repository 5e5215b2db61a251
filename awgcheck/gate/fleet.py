"""A previous ``check --format json`` report (``--fleet-report``), read
once into frozen types the gate's impact prediction works on.

Only what the prediction needs is kept: each node's status, and the values
the report's findings show for it (``actual``), by rule and param. Which
rules are drift rules is the gate's question, not the reader's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from awgcheck.errors import UsageError
from awgcheck.model import Status
from awgcheck.report.json_format import READABLE, SCHEMA


@dataclass(frozen=True)
class Reported:
    """One value a finding of the report shows for a node."""

    rule: str
    param: str
    actual: str | None


@dataclass(frozen=True)
class FleetNode:
    """One node of the report. ``status`` is None when the report gives no
    status awgcheck knows; an entry that is not a node record at all reads
    as ``error`` (it could not be checked in that report)."""

    name: str
    status: Status | None
    values: tuple[Reported, ...] = ()

    def values_of(self, rules: Iterable[str]) -> dict[str, str | None]:
        """param -> value, from the findings of ``rules`` (the last one
        the report lists wins)."""
        wanted = set(rules)
        return {v.param: v.actual for v in self.values if v.rule in wanted}


@dataclass(frozen=True)
class FleetReport:
    """The fleet as a previous check saw it."""

    source: str | None  # the source-of-truth node, None for a source file
    nodes: tuple[FleetNode, ...]


def _status(value: object) -> Status | None:
    return next((s for s in Status if s.value == value), None)


def load(data: object, where: str) -> FleetReport:
    """A parsed ``check --format json`` report as a :class:`FleetReport`;
    anything else is a usage error naming ``where``."""
    if (not isinstance(data, dict) or data.get("schema") not in READABLE
            or not isinstance(data.get("nodes"), list)
            or not isinstance(data.get("findings"), list)):
        raise UsageError(f"--fleet-report {where}: not an awgcheck JSON report "
                         f"(schema {SCHEMA}; write one with check --format json)")
    values: dict[str, list[Reported]] = {}
    for finding in data["findings"]:
        # Only passed, failed and waived findings show the node's value (a
        # waived failure is still the node's real value).
        if (not isinstance(finding, dict) or not finding.get("param")
                or _status(finding.get("status")) not in (Status.PASS, Status.FAIL,
                                                          Status.WAIVED)):
            continue
        actual = finding.get("actual")
        values.setdefault(str(finding.get("node")), []).append(Reported(
            str(finding.get("rule")), str(finding["param"]),
            None if actual is None else str(actual)))
    nodes = []
    for node in data["nodes"]:
        if not isinstance(node, Mapping):
            nodes.append(FleetNode(str(node), Status.ERROR))
            continue
        name = str(node.get("name"))
        nodes.append(FleetNode(name, _status(node.get("status")), tuple(values.get(name, ()))))
    source = data.get("source") or {}
    named = source.get("node") if isinstance(source, dict) else None
    return FleetReport(None if named is None else str(named), tuple(nodes))


def read(path: Path) -> FleetReport:
    """A previous ``check --format json`` report, read from ``path``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--fleet-report {path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"--fleet-report {path}: cannot read a JSON report: {exc}") from None
    return load(data, str(path))
