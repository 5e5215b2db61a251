"""Judging a param set with the real rules, not a copy of the constraints.

The rules that judge a param set on its own are the ones a params document
is checked with that need no source of truth: in the shipped catalog, every
rule of rules/constraints.yaml plus ``params-document-valid``. A document is
judged as the kind it was read as (a conf, a params document), through
:func:`awgcheck.engine.evaluate`, exactly as ``check`` and ``gate`` judge one.
"""

from __future__ import annotations

from collections.abc import Sequence

from awgcheck import engine, params
from awgcheck.model import ArtifactKind, Diagnostic, Finding, ParamDocument, Severity, Status
from awgcheck.parse import awgconf, paramsdoc
from awgcheck.rotation.generate import ParamSet
from awgcheck.ruleset.load import Rule, RuleSet


def constraint_rules(rules: RuleSet) -> tuple[Rule, ...]:
    """The rules of ``rules`` that judge a param set without a source."""
    return tuple(rule for rule in rules.rules
                 if ArtifactKind.PARAMS in rule.select.artifacts and not rule.needs_source)


def violations(doc: ParamDocument, kind: ArtifactKind,
               rules: Sequence[Rule]) -> list[Finding]:
    """Every failing (or erroring) finding of ``rules`` on ``doc`` read as ``kind``."""
    node = engine.NodeDocuments(doc.path, {kind: doc})
    findings = engine.evaluate(rules, [node], engine.Source("(no source)", None))
    return [f for f in findings if f.status in (Status.FAIL, Status.ERROR)]


def at_least(findings: Sequence[Finding], threshold: Severity) -> tuple[list[Finding],
                                                                        list[Finding]]:
    """``findings`` split into those at or above ``threshold`` and the rest."""
    above = [f for f in findings if f.severity.at_least(threshold)]
    return above, [f for f in findings if not f.severity.at_least(threshold)]


def describe(finding: Finding) -> str:
    """``rule h-min (H1): ...``: a violation as an error message names it."""
    param = f" ({finding.param})" if finding.param else ""
    return f"rule {finding.rule}{param}: {finding.message}"


def _diagnostics(doc: ParamDocument) -> tuple[Diagnostic, ...]:
    if isinstance(doc, (awgconf.AwgConf, paramsdoc.ParamsDoc)):
        return doc.diagnostics
    return ()


def round_trip_problems(generated: ParamSet, doc: ParamDocument) -> list[str]:
    """What the reader made of the written set that differs from it: a
    diagnostic, a param missing, changed or added. Empty when the document
    states exactly the generated values (a secret compared by digest)."""
    problems = [f"{d.location.path}: {d.message}" for d in _diagnostics(doc)]
    stated = doc.params()
    for name, value in generated.values:
        spec = params.spec(name)
        assert spec is not None  # generate() draws catalog params only
        wanted = params.interpret(spec, value).effective
        found = stated.pop(name, None)
        if found is None or found.effective != wanted:
            shown = "absent" if found is None else found.raw
            problems.append(f"{name} reads back as {shown}")
    problems += [f"{name} was not generated but reads back" for name in stated]
    return problems
