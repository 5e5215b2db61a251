"""Frozen value types that flow between the pipeline stages.

Data flows one way: inventory and rules -> collected bytes -> parsed
documents -> findings -> report. Every stage hands the next one of these
types, never a mutable object it might still change.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from awgcheck import exitcodes
from awgcheck.errors import ErrorClass


class Severity(enum.StrEnum):
    """How bad a failing finding is; ordered from worst to mildest."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: critical 3 ... info 0."""
        return _SEVERITY_RANK[self]

    def at_least(self, threshold: Severity) -> bool:
        return self.rank >= threshold.rank


_SEVERITY_RANK = {
    Severity.CRITICAL: 3,
    Severity.ERROR: 2,
    Severity.WARNING: 1,
    Severity.INFO: 0,
}


class Status(enum.StrEnum):
    """Outcome of one rule on one node (or of a whole node)."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"


class ArtifactKind(enum.StrEnum):
    """What a rule selects: the kind of document it reads on a node."""

    CONF = "conf"
    COMPOSE = "compose"
    RUNTIME = "runtime"
    PARAMS = "params"


@dataclass(frozen=True)
class Location:
    """A place in a file; ``line`` is 1-based, None for the whole file."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


@dataclass(frozen=True)
class ParamValue:
    """One parameter as a document states it.

    ``raw`` is the value text as written (trimmed at both ends, inner bytes
    kept); ``effective`` is what the real tool would apply, rendered in the
    tool's own canonical form (``18``, ``100-200``, ``on``), or None when
    the tool would reject the value. Secret values never reach this type in
    clear: both fields hold ``sha256:<12 hex>`` digests instead.
    """

    key: str
    raw: str
    effective: str | None
    location: Location | None = None
    error: str | None = None


@dataclass(frozen=True)
class Finding:
    """The result of one rule on one node, as the JSON report contract has it."""

    rule: str
    node: str
    status: Status
    severity: Severity
    message: str
    param: str | None = None
    expected: str | None = None
    actual: str | None = None
    location: Location | None = None
    symptom: str | None = None
    remediation: str | None = None

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL


@dataclass(frozen=True)
class NodeResult:
    """Whether a node could be checked at all, and if not, why."""

    name: str
    status: Status
    error: str | None = None
    error_class: ErrorClass | None = None


@dataclass(frozen=True)
class Report:
    """Everything a run found: what the report formats render."""

    source_node: str | None
    source_path: str
    nodes: tuple[NodeResult, ...]
    findings: tuple[Finding, ...]
    fail_on: Severity = Severity.ERROR
    profile: str = "strict"
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    def failing(self) -> tuple[Finding, ...]:
        """Failed findings at or above the --fail-on threshold."""
        return tuple(
            f for f in self.findings if f.failed and f.severity.at_least(self.fail_on)
        )

    def unchecked(self) -> tuple[NodeResult, ...]:
        return tuple(n for n in self.nodes if n.status is Status.ERROR)

    def exit_code(self) -> int:
        return exitcodes.for_outcome(
            failed=bool(self.failing()), unchecked=bool(self.unchecked())
        )
