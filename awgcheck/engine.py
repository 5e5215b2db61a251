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

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from awgcheck.checks import CHECKS
from awgcheck.checks.base import Context, Outcome
from awgcheck.model import (
    TEMPLATE_PLACEHOLDERS,
    ArtifactKind,
    Finding,
    Location,
    ParamDocument,
    Placeholder,
    Severity,
    Status,
    TemplateDocument,
)
from awgcheck.ruleset.load import Rule


@dataclass(frozen=True)
class NodeDocuments:
    """The parsed artifacts of one node that could be read."""

    name: str
    docs: Mapping[ArtifactKind, ParamDocument] = field(default_factory=dict)
    is_source: bool = False


@dataclass(frozen=True)
class Source:
    """The source of truth every equals-source rule compares with."""

    name: str
    doc: ParamDocument | None
    error: str | None = None  # why ``doc`` is None: said in every "could not compare"


def evaluate(rules: Sequence[Rule], nodes: Sequence[NodeDocuments], source: Source,
             profile: str = "strict") -> list[Finding]:
    findings: list[Finding] = []
    for node in nodes:
        for rule in rules:
            findings.extend(_run_rule(rule, node, source, profile))
        findings.extend(_placeholder_listings(node))
    return findings


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
    return (f"not compared: {len(found)} template placeholder(s), known only once "
            f"rendered: {listed}; every literal value was checked")


def _run_rule(rule: Rule, node: NodeDocuments, source: Source,
              profile: str) -> Iterator[Finding]:
    for artifact in rule.select.artifacts:
        doc = node.docs.get(artifact)
        if doc is None:
            continue
        if CHECKS[rule.check.type].compares_with_source and node.is_source \
                and doc is source.doc:
            continue  # the source trivially equals itself
        yield from _run_on(rule, node, doc, source, profile)


def _run_on(rule: Rule, node: NodeDocuments, doc: ParamDocument, source: Source,
            profile: str) -> Iterator[Finding]:
    names = () if rule.select.all_params else rule.select.params
    context = Context(node.name, doc, names, rule.select.section, source.doc, source.name,
                      node.docs, rule.select.compose, source.error)
    try:
        outcomes = list(CHECKS[rule.check.type].fn(context, rule.check.options))
    except Exception as exc:  # one broken check must not sink the run
        yield _finding(rule, node.name, profile, Outcome(
            Status.ERROR, f"rule {rule.id} could not be evaluated: "
            f"{type(exc).__name__}: {exc}"))
        return
    for outcome in outcomes:
        if outcome.placeholder:
            continue  # listed once per template (_placeholder_listings)
        yield _finding(rule, node.name, profile, outcome)


def _finding(rule: Rule, node: str, profile: str, outcome: Outcome) -> Finding:
    severity = rule.severity_for(profile)
    if outcome.severity is not None and outcome.severity.rank < severity.rank:
        # A check may only soften a finding (spelling -> warning), never make
        # it louder than the profile says (protocol: side-local is info).
        severity = outcome.severity
    # A symptom explains a real mismatch; a spelling-only difference (the
    # check downgraded it) changes nothing on the wire.
    drift = outcome.status is Status.FAIL and outcome.severity is None
    symptom = rule.symptom_for(outcome.param) if drift else None
    return Finding(
        rule=rule.id, node=node, status=outcome.status, severity=severity,
        message=outcome.message, param=outcome.param, expected=outcome.expected,
        actual=outcome.actual, location=outcome.location, symptom=symptom,
        remediation=rule.remediation if outcome.status is Status.FAIL else None,
    )
