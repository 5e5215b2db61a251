"""Frozen value types that flow between the pipeline stages.

Data flows one way: inventory and rules -> collected bytes -> parsed
documents -> findings -> report. Every stage hands the next one of these
types, never a mutable object it might still change.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from awgcheck import exitcodes, params
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
    WAIVED = "waived"
    """A failure that a waiver in force accepts: shown, never failing the run."""


class BaselineState(enum.StrEnum):
    """A finding compared with the same finding in a baseline report (a
    previous run), as SARIF's ``baselineState``; :mod:`awgcheck.baseline`
    defines "the same finding" and each state."""

    NEW = "new"
    UNCHANGED = "unchanged"
    UPDATED = "updated"
    ABSENT = "absent"
    """In the baseline, no longer found: a resolved finding."""


class ArtifactKind(enum.StrEnum):
    """What a rule selects: the kind of document it reads on a node."""

    CONF = "conf"
    COMPOSE = "compose"
    RUNTIME = "runtime"
    PARAMS = "params"


SSH_PORT = 22
"""ssh's default port: a location on it is named without it, as ssh names it."""


@dataclass(frozen=True)
class Location:
    """A place in a file; ``line`` is 1-based, None for the whole file.

    ``host`` and ``port`` say which SSH node the file is on (None: a local
    file); ``path`` is then the path on that node. Messages and the human
    formats name it as ssh does, ``host:/path`` (``host:port:/path``)."""

    path: str
    line: int | None = None
    host: str | None = None  # the host as the inventory or ssh_config names it
    port: int | None = None  # its SSH port

    @property
    def place(self) -> str:
        """The file as messages name it: the path, after ``host:`` (and
        ``port:`` unless it is ssh's default) for a file on an SSH node."""
        if self.host is None:
            return self.path
        port = "" if self.port in (None, SSH_PORT) else f"{self.port}:"
        return f"{self.host}:{port}{self.path}"

    def __str__(self) -> str:
        return self.place if self.line is None else f"{self.place}:{self.line}"


class Level(enum.StrEnum):
    """How much a reader's diagnostic matters to the tool that reads the file.

    One scale for every reader, so a check can ask "would the tool refuse
    this?" the same way of a conf, a params document or a compose project.
    """

    FATAL = "fatal"
    """The tool refuses the file: ``awg-quick up`` applies nothing (or not all)."""
    ERROR = "error"
    """``docker compose`` refuses the project, or a template fed this
    document writes a wrong or broken conf."""
    WARNING = "warning"
    """The tool reads it, but likely not as its author meant: worth knowing."""


@dataclass(frozen=True)
class Diagnostic:
    """A problem a reader found in a file, at the place it found it.

    Readers never raise for a problem that lives in a node's file: they
    return diagnostics, and rules turn those into findings. ``code`` is a
    stable, reader-specific identifier (``setconf-reject``,
    ``dotenv-syntax``, ``wrong-type``...); ``subject`` names the key or
    variable concerned, when there is one.
    """

    location: Location
    code: str
    message: str
    level: Level
    subject: str | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.code}: {self.message}"


@dataclass(frozen=True)
class ParamValue:
    """One parameter as a document states it.

    ``raw`` is the value text as written (trimmed at both ends, inner bytes
    kept); ``effective`` is what the real tool would apply, rendered in the
    tool's own canonical form (``18``, ``100-200``, ``on``), or None when
    the tool would reject the value. Secret values never reach this type in
    clear: both fields hold ``sha256:<12 hex>`` digests instead.

    ``placeholder`` is True when the value comes from a template and holds
    a placeholder (``{{ s4 }}``, ``${S4}``...): it is only known once the
    template is rendered, so checks skip it rather than judge it.

    ``items`` is set for a key whose lines add up instead of replacing each
    other (``params.Multi``: Address, DNS, the hooks): every item every line
    adds, in file order (``Address = 10.9.0.7/24`` and ``Address =
    fd00:9::7/64`` give both). ``raw`` and ``effective`` then hold all of
    them joined by ``, `` (``; `` for the hooks, which run one after the
    other), and ``location`` is the first line. Empty for other keys.
    """

    key: str
    raw: str
    effective: str | None
    location: Location | None = None
    error: str | None = None
    placeholder: bool = False
    items: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """``S4 =``: a line with nothing after '=', which the tool rejects.
        One rule owns that finding (``empty-value``); checks that compare
        or judge values leave it to that rule instead of repeating it."""
        return self.error is not None and not self.raw.strip()


@dataclass(frozen=True)
class Placeholder:
    """One place in a template whose value is only known once rendered.

    ``what`` names it as a finding would: the param (``S4``), a compose
    value (``relay RELAY_BIND``), or ``line N`` for a whole line such as
    ``{% for peer in peers %}``.
    """

    what: str
    location: Location


TEMPLATE_PLACEHOLDERS = "template-placeholders"
"""Rule id of the one finding per template that lists what was not
compared because it is a placeholder (the engine writes it; no rule file
declares it, as no rule judges it)."""


class ParamDocument(Protocol):
    """Anything that states interface params: a conf, a runtime view, a
    params document. Here, not in :mod:`awgcheck.documents`, so the pure
    layers (compare, checks, engine) name it without the transports."""

    @property
    def path(self) -> str: ...

    def params(self) -> dict[str, ParamValue]: ...


@dataclass(frozen=True)
class Waiver:
    """An accepted failure, written in the inventory or a ``--waivers`` file:
    which findings it covers, why, whose it is and until when.

    ``nodes`` holds node names, globs (``partner-*``) or ``group:NAME``;
    ``rule`` a rule id or glob; ``param`` None for every param. The waiver
    holds through its ``expires`` day (UTC) and is expired from the next.
    ``location`` is where it is written, for every message about it.
    """

    nodes: tuple[str, ...]
    rule: str
    reason: str
    expires: dt.date
    location: Location
    param: str | None = None
    owner: str | None = None


@dataclass(frozen=True)
class RelatedLocation:
    """The other end of a finding about two nodes (a mesh edge): the other
    node, and the place in its file the finding concerns."""

    node: str
    location: Location

    def __str__(self) -> str:
        return f"{self.node} {self.location}"


@dataclass(frozen=True)
class Finding:
    """The result of one rule on one node, as the JSON report contract has it.

    ``waiver`` is the waiver a finding of status ``waived`` is waived by, or
    the one a ``waiver-expired`` / ``waiver-unused`` finding is about.
    """

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
    waiver: Waiver | None = None
    baseline_state: BaselineState | None = None  # set when compared with --baseline
    first_seen: str | None = None  # ISO 8601 UTC: the run that first found it (--baseline)
    related: RelatedLocation | None = None  # the other end, for a finding about two nodes

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
    index: int | None = None
    """The node's 0-based place in the inventory, so reports of parts of a
    fleet (``check --node``) merge back in inventory order; None where the
    nodes are not an inventory's (the gate's files)."""
    groups: tuple[str, ...] = ()  # its inventory groups (what ``group:NAME`` names)
    passes: int = 0
    """How many of its findings passed: counted here so a report that
    leaves passing findings out (``check --omit-passes``) still counts them,
    node by node (``merge`` adds them up again)."""

    @property
    def read(self) -> bool:
        """Whether the node was read (its rules ran), whatever they found."""
        return self.status is not Status.ERROR or self.error_class is ErrorClass.RULE_ERROR

    @classmethod
    def judged(cls, name: str, findings: Sequence[Finding], fail_on: Severity) -> NodeResult:
        """A node that was read, by its own findings: failed by one at or
        above ``fail_on``; else, when a rule could not be evaluated on it,
        not a pass but an error of class ``rule_error`` (the node was
        reached; reports list those rules, not the node, as unreadable)."""
        passes = sum(1 for f in findings if f.status is Status.PASS)
        if any(f.failed and f.severity.at_least(fail_on) for f in findings):
            return cls(name, Status.FAIL, passes=passes)
        if any(f.status is Status.ERROR for f in findings):
            return cls(name, Status.ERROR, "some rules could not be evaluated",
                       ErrorClass.RULE_ERROR, passes=passes)
        return cls(name, Status.PASS, passes=passes)


@dataclass(frozen=True)
class RuleMeta:
    """What a format that describes rules (SARIF) says about one rule."""

    id: str
    title: str
    severity: Severity
    description: str
    remediation: str
    tags: tuple[str, ...] = ()
    drift: bool = False  # its failures are drift (a param differs from the source's)


@dataclass(frozen=True)
class BaseCommit:
    """The commit a change is measured against, and how it was named."""

    ref: str
    commit: str

    @property
    def name(self) -> str:
        """``origin/main (0123456789ab)``, or the short commit alone when it
        was named by its hash (a second, shorter hash beside it says nothing)."""
        short = self.commit[:12]
        return short if self.commit.startswith(self.ref) else f"{self.ref} ({short})"


@dataclass(frozen=True)
class ParamChange:
    """One param of the source of truth whose effective value changed, as the
    gate reports it."""

    param: str
    role: params.Role
    before: str | None  # raw text at the base, None when absent
    after: str | None  # raw text now, None when absent
    symptom: str | None  # what a node experiences until it applies the change
    text: str = ""  # one sentence: the change, and what it does during rollout
    location: Location | None = None
    after_effective: str | None = None  # how awg reads ``after``

    @property
    def must_match(self) -> bool:
        return self.role is params.Role.MUST_MATCH


@dataclass(frozen=True)
class FleetImpact:
    """Which nodes of a previous ``check`` report a change puts into drift."""

    nodes: tuple[str, ...]  # will drift until they are updated
    unknown: tuple[str, ...]  # could not be checked in that report
    message: str


@dataclass(frozen=True)
class GateSummary:
    """What a change to the source of truth does during rollout (the gate)."""

    source: str
    base: BaseCommit | None
    changes: tuple[ParamChange, ...]
    warnings: tuple[str, ...] = ()
    impact: FleetImpact | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Shard:
    """``check --shard INDEX/COUNT``: this run checks shard ``index``
    (1-based) of ``count``; the shards of one fleet cover it once."""

    index: int
    count: int


@dataclass(frozen=True)
class SourceFailure:
    """The source of truth could not be read: why (``error``, which starts
    with the node or file concerned, and its stable ``error_class``), and
    the rules that compare with it, which were therefore not evaluated on
    any node. The report says it once, not once per node and rule."""

    error: str
    error_class: ErrorClass
    not_evaluated: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunMeta:
    """Which awgcheck ran, when, on what: every check and gate report says it.

    Times are aware UTC datetimes. ``inventory`` is the inventory file as
    named on the command line (for the gate: its config file);
    ``rules_digest`` is :attr:`awgcheck.ruleset.load.RuleSet.digest`.
    """

    version: str
    started_at: dt.datetime
    finished_at: dt.datetime
    inventory: str | None
    rules_digest: str

    @property
    def duration_s(self) -> float:
        """Seconds from start to finish, between the times as reports write
        them (to the millisecond), so the three always agree."""
        started, finished = (t.replace(microsecond=t.microsecond // 1000 * 1000)
                             for t in (self.started_at, self.finished_at))
        return round((finished - started).total_seconds(), 3)


@dataclass(frozen=True)
class BaselineUse:
    """The baseline report a run was compared with (``check --baseline``)."""

    path: str  # as named on the command line
    previous_run: str  # ISO 8601 UTC: when the baseline run found what it found
    fail_on_new: bool = False  # only new or updated findings fail the run


@dataclass(frozen=True)
class Report:
    """Everything a run found: what the report formats render.

    ``gate`` is the change summary, present only for the CI gate. ``rules``
    describes the rules that ran, for the formats that list rules (SARIF);
    empty, they are described from the findings. ``shard`` says which
    share of the fleet a ``check --shard`` run covered. ``source_failure`` is set
    when the source of truth could not be read. ``run`` says which
    awgcheck ran and when (None for a report built without a run, in tests).
    ``baseline`` and ``resolved`` are set when the run was compared with an
    earlier run's report (:mod:`awgcheck.baseline`).
    """

    source_node: str | None
    source_path: str
    nodes: tuple[NodeResult, ...]
    findings: tuple[Finding, ...]
    fail_on: Severity = Severity.ERROR
    profile: str = "strict"
    gate: GateSummary | None = None
    rules: tuple[RuleMeta, ...] = field(default=(), compare=False)
    shard: Shard | None = None
    source_failure: SourceFailure | None = None
    run: RunMeta | None = field(default=None, compare=False)
    baseline: BaselineUse | None = None
    resolved: tuple[Finding, ...] = ()  # the baseline's findings no longer found
    omit_passes: bool = False
    """The JSON report lists no passing finding (``check --omit-passes``, a
    large fleet); its nodes and summary still count them."""
    mesh_diagram: tuple[str, ...] = field(default=(), compare=False)
    """The mesh as Mermaid lines when a mesh rule fails
    (:func:`awgcheck.mesh.picture.when_failing`): the Markdown report draws it."""

    def failing(self) -> tuple[Finding, ...]:
        """Failed findings at or above the --fail-on threshold; with
        ``--fail-on-new``, only those the baseline did not have as they are."""
        only_changed = self.baseline is not None and self.baseline.fail_on_new
        return tuple(
            f for f in self.findings if f.failed and f.severity.at_least(self.fail_on)
            and not (only_changed and f.baseline_state is BaselineState.UNCHANGED)
        )

    def waived(self) -> tuple[Finding, ...]:
        """Failures that waivers in force accept (they never fail the run)."""
        return tuple(f for f in self.findings if f.status is Status.WAIVED)

    def unchecked(self) -> tuple[NodeResult, ...]:
        return tuple(n for n in self.nodes if n.status is Status.ERROR)

    def exit_code(self) -> int:
        """An unread source of truth counts as "could not be checked": what
        compares with it was not evaluated anywhere."""
        unchecked = bool(self.unchecked()) or self.source_failure is not None
        return exitcodes.for_outcome(failed=bool(self.failing()), unchecked=unchecked)

    def is_failed_source(self, node: NodeResult) -> bool:
        """``node`` is the source of truth and could not be read: its one
        mention is :attr:`source_failure`, which formats show in its place."""
        source = self.source_node if self.source_node is not None else self.source_path
        return (self.source_failure is not None and node.name == source
                and node.status is Status.ERROR)


@runtime_checkable
class TemplateDocument(Protocol):
    """A document that may be a template (a conf or compose project the
    gate reads from ``templates:`` / ``compose_templates:``): it lists the
    values only known once rendered, which checks skip."""

    @property
    def path(self) -> str: ...

    @property
    def template(self) -> bool: ...

    def placeholders(self) -> tuple[Placeholder, ...]: ...
