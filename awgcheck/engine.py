"""Pure evaluation: (rules, parsed documents) -> findings.

Nothing here reads files or talks to nodes. A check that raises is a bug
in that rule or check, not in the run: it becomes an "error" finding for
that rule on that node, and every other rule still runs.

A template placeholder is neither a value nor a drift: a check skips it
(:func:`awgcheck.checks.base.not_compared`), and the engine turns those
skips into one ``template-placeholders`` finding per template that lists
every placeholder, rather than one skip per rule and param.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import FrameType

from awgcheck import limits
from awgcheck.checks import CHECKS
from awgcheck.checks.base import CheckFn, Context, Outcome
from awgcheck.errors import ErrorClass
from awgcheck.mesh.model import Mesh
from awgcheck.model import (
    TEMPLATE_PLACEHOLDERS,
    ArtifactKind,
    Finding,
    Location,
    ParamDocument,
    Placeholder,
    Severity,
    SourceFailure,
    Status,
    TemplateDocument,
)
from awgcheck.ruleset.load import Rule
from awgcheck.wording import count


@dataclass(frozen=True)
class NodeDocuments:
    """The parsed artifacts of one node that could be read."""

    name: str
    docs: Mapping[ArtifactKind, ParamDocument] = field(default_factory=dict)
    is_source: bool = False


@dataclass(frozen=True)
class Source:
    """The source of truth every equals-source rule compares with; when it
    could not be read (``doc`` is None), why, and the error class."""

    name: str
    doc: ParamDocument | None
    error: str | None = None
    error_class: ErrorClass = ErrorClass.COLLECT_FAILED


def source_failure(rules: Sequence[Rule], nodes: Sequence[NodeDocuments],
                   source: Source) -> SourceFailure | None:
    """What the report says, once, when the source could not be read: why,
    and the rules that need it and would have read a document of one of
    ``nodes`` (:func:`evaluate` does not run them)."""
    if source.doc is not None:
        return None
    error = source.error or f"{source.name}: the source of truth could not be read"
    read = {kind for node in nodes for kind in node.docs}
    skipped = (r.id for r in rules if r.needs_source and read.intersection(r.select.artifacts))
    return SourceFailure(error, source.error_class, tuple(dict.fromkeys(skipped)))


Budget = Callable[[NodeDocuments], float]
"""Seconds a node's rules may run, asked just before they start."""


def evaluate(rules: Sequence[Rule], nodes: Sequence[NodeDocuments], source: Source,
             profile: str = "strict", deadline: float = limits.EVALUATION_DEADLINE,
             budget: Budget | None = None, mesh: Mesh | None = None) -> list[Finding]:
    """Every rule on every node; one node's rules get ``budget(node)``
    seconds (``deadline`` without a budget; see :func:`_time_limit`), after
    which that node gets an error finding that names its ``deadline`` and
    the next node is evaluated.

    Without a source (it could not be read), the rules that need it are
    not run: :func:`source_failure` says so once for the run, where each
    node would otherwise repeat it for each rule (or each value).

    ``mesh`` is the fleet as a mesh, for the cross-node checks (each runs
    on one node and judges that node's side of its edges)."""
    if source.doc is None:
        rules = [rule for rule in rules if not rule.needs_source]
    plans = [_Plan.of(rule, profile) for rule in rules]
    findings: list[Finding] = []
    for node in nodes:
        seconds = deadline if budget is None else budget(node)
        findings.extend(_evaluate_node(plans, node, source, seconds, deadline, mesh))
        findings.extend(_placeholder_listings(node))
    return findings


@dataclass(frozen=True)
class _Plan:
    """What running one rule needs, worked out once per evaluation: a fleet
    runs each rule on every node, and looking these up per node and
    document was a fifth of the evaluation."""

    rule: Rule
    check: CheckFn
    names: tuple[str, ...]  # () when the rule selects every param
    skips_source: bool  # compares with the source, so not run on the source itself
    severity: Severity  # the rule's, for the profile

    @classmethod
    def of(cls, rule: Rule, profile: str) -> _Plan:
        kind = CHECKS[rule.check.type]
        return cls(rule, kind.fn, () if rule.select.all_params else rule.select.params,
                   kind.compares_with_source, rule.severity_for(profile))


class _Overrun(BaseException):
    """Raised by the timer into the evaluating code; a BaseException so a
    check's own ``except Exception`` cannot swallow it."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_Overrun` into this thread after ``seconds``.

    A wall-clock timer signal, because it is the one thing that stops a
    catastrophic ``re`` match (the regex engine checks for signals; Python
    has no other way to cancel it, and a worker process per node would cost
    more than the whole evaluation). Signals reach only the main thread:
    elsewhere this does nothing, and the bounds checked when a rule is
    loaded (no nested unbounded quantifiers) and when it is matched (the
    subject length) are what holds.
    """
    usable = (threading.current_thread() is threading.main_thread()
              and hasattr(signal, "setitimer"))
    if not usable:
        yield
        return

    def fire(signum: int, frame: FrameType | None) -> None:
        raise _Overrun

    previous = signal.signal(signal.SIGALRM, fire)
    # 0 would disarm the timer, not fire it at once.
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _evaluate_node(plans: Sequence[_Plan], node: NodeDocuments, source: Source,
                   seconds: float, deadline: float, mesh: Mesh | None = None) -> list[Finding]:
    done: list[Finding] = []
    current: _Plan | None = None
    try:
        with _time_limit(seconds):
            for current in plans:
                _run_rule(current, node, source, done, mesh)
    except _Overrun:
        assert current is not None
        rule = current.rule
        left = len(plans) - plans.index(current) - 1
        done.append(_finding(current, node.name, Outcome(
            Status.ERROR, f"rule {rule.id} did not finish within the node's {deadline:g} s"
            f" deadline (a pattern too costly for this value?); {count(left, 'later rule')}"
            f" {'was' if left == 1 else 'were'} not evaluated on this node")))
    return done


def _placeholder_listings(node: NodeDocuments) -> Iterator[Finding]:
    """One skip per template document of ``node`` that names every
    placeholder it holds: the report says once what was not compared."""
    for doc in node.docs.values():
        if not isinstance(doc, TemplateDocument) or not doc.template:
            continue
        found = doc.placeholders()
        if found:
            yield Finding(rule=TEMPLATE_PLACEHOLDERS, node=node.name, status=Status.SKIP,
                          severity=Severity.INFO, message=placeholder_message(found),
                          location=Location(doc.path, found[0].location.line))


def placeholder_message(found: Sequence[Placeholder]) -> str:
    """``not compared (template placeholders, known once rendered): S4
    (line 11), ...``; literal values of the same template were checked."""
    listed = ", ".join(
        p.what if p.what.startswith("line ") or p.location.line is None
        else f"{p.what} (line {p.location.line})" for p in found)
    return (f"not compared: {count(len(found), 'template placeholder')}, known only once "
            f"rendered: {listed}; every literal value was checked")


def _run_rule(plan: _Plan, node: NodeDocuments, source: Source, done: list[Finding],
              mesh: Mesh | None = None) -> None:
    """Append to ``done`` the findings of ``plan``'s rule on each document
    of ``node`` it selects."""
    docs = node.docs
    for artifact in plan.rule.select.artifacts:
        doc = docs.get(artifact)
        if doc is None:
            continue
        if plan.skips_source and node.is_source and doc is source.doc:
            continue  # the source trivially equals itself
        _run_on(plan, node, doc, source, done, mesh)


def _run_on(plan: _Plan, node: NodeDocuments, doc: ParamDocument, source: Source,
            done: list[Finding], mesh: Mesh | None = None) -> None:
    rule = plan.rule
    context = Context(node.name, doc, plan.names, rule.select.section, source.doc,
                      source.name, node.docs, rule.select.compose, mesh)
    try:
        outcomes = list(plan.check(context, rule.check.options))
    except Exception as exc:  # one broken check must not sink the run
        done.append(_finding(plan, node.name, Outcome(
            Status.ERROR, f"rule {rule.id} could not be evaluated: "
            f"{type(exc).__name__}: {exc}")))
        return
    shown = [o for o in outcomes if not o.placeholder]  # placeholders: _placeholder_listings
    done.extend(_finding(plan, node.name, outcome) for outcome in _capped(shown))


def _capped(outcomes: list[Outcome]) -> list[Outcome]:
    """At most :data:`limits.MAX_OUTCOMES_PER_RULE` outcomes, the rest said
    in one: a file of 170,000 duplicate lines is one screen, not 44 MB."""
    keep = limits.MAX_OUTCOMES_PER_RULE
    if len(outcomes) <= keep:
        return outcomes
    rest = outcomes[keep:]
    worst = next((o for o in rest if o.status is Status.FAIL),
                 next((o for o in rest if o.status is Status.ERROR), rest[0]))
    summary = replace(worst, message=f"and {len(rest):,} more like these (awgcheck lists"
                      f" {keep} per rule and node); first: {worst.message}",
                      param=None, expected=None, actual=None)
    return [*outcomes[:keep], summary]


def _finding(plan: _Plan, node: str, outcome: Outcome) -> Finding:
    rule, severity = plan.rule, plan.severity
    if outcome.severity is not None and outcome.severity.rank < severity.rank:
        # A check may only soften a finding (spelling -> warning), never make
        # it louder than the profile says (protocol: side-local is info).
        severity = outcome.severity
    failed = outcome.status is Status.FAIL
    # A symptom explains a real mismatch; a spelling-only difference (the
    # check downgraded it) changes nothing on the wire.
    drift = failed and outcome.severity is None
    symptom = rule.symptom_for(outcome.param) if drift else None
    if drift and outcome.symptom is not None and "default" not in rule.symptoms:
        symptom = outcome.symptom  # what this failure does, unless the rule says otherwise
    return Finding(
        rule=rule.id, node=node, status=outcome.status, severity=severity,
        message=outcome.message, param=outcome.param, expected=outcome.expected,
        actual=outcome.actual, location=outcome.location, symptom=symptom,
        remediation=rule.remediation if failed else None,
        related=outcome.related,
    )
