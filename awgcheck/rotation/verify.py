"""Judging a param set with the real rules, not a copy of the constraints.

The rules that judge a param set on its own are the ones ``check`` runs on
a conf or a params document that need no source of truth and are about the
params or the file, not about a node: in the shipped catalog, every rule of
rules/constraints.yaml, ``params-document-valid`` for a document, and for a
conf ``conf-loads`` and the hazard rules (a BOM, ``S4 = 0x10``, ``J1``, an
empty value, S4 under ``[Peer]``). ``private-key-present`` is not one: a
param set written as a conf holds no key of its own. A document is judged
as the kind it was read as, through :func:`awgcheck.engine.evaluate`,
exactly as ``check`` and ``gate`` judge one.
"""

from __future__ import annotations

from collections.abc import Sequence

from awgcheck import engine, params
from awgcheck.checks import CHECKS
from awgcheck.model import ArtifactKind, Diagnostic, Finding, ParamDocument, Severity, Status
from awgcheck.parse import awgconf, paramsdoc
from awgcheck.rotation.generate import ParamSet
from awgcheck.ruleset.load import Rule, RuleSet

_PARAM_SET_KINDS = (ArtifactKind.CONF, ArtifactKind.PARAMS)

_PARAM_SET_KEYS = frozenset((*params.OBFUSCATION_PARAMS, *params.LEGACY_KEYS))
"""What a param set may hold (a 1.5 key by mistake, which a rule refuses)."""


def judges_param_set(rule: Rule) -> bool:
    """Does ``rule`` judge a conf or params document as a param set: it
    needs no source, and it reads the whole file, every key, or a key a
    param set holds (not only a node's own, such as PrivateKey)?"""
    select = rule.select
    about_params = (select.all_params or not select.params
                    or not _PARAM_SET_KEYS.isdisjoint(select.params))
    # A mesh check is about a node's place among the others (its peers,
    # keys, addresses), never about a param set on its own.
    return (about_params and not rule.needs_source and not CHECKS[rule.check.type].cross_node
            and not set(select.artifacts).isdisjoint(_PARAM_SET_KINDS))


def constraint_rules(rules: RuleSet) -> tuple[Rule, ...]:
    """The rules of ``rules`` that judge a param set without a source."""
    return tuple(rule for rule in rules.rules if judges_param_set(rule))


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
    """``rule h-min (H1, line 12): ...``: a violation as an error message
    names it (the line where the document has one)."""
    line = finding.location.line if finding.location is not None else None
    where = [part for part in (finding.param, f"line {line}" if line else None) if part]
    named = f" ({', '.join(where)})" if where else ""
    return f"rule {finding.rule}{named}: {finding.message}"


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
