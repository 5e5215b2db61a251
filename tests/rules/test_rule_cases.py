"""YAML cases for every shipped rule, collected automatically.

Each ``cases/<rule-id>.yaml`` holds cases for one rule; a shipped rule
without a case file, or without both a passing and a failing case, fails
the suite, so no rule ships untested. A case expects one of:

- ``pass``: the rule checked something and it held (at least one pass, no
  fail, no error);
- ``fail``: at least one failing finding (``params``, ``severity``,
  ``message``, ``line`` narrow it down);
- ``not-applicable``: the rule found nothing to check (only skips, or no
  finding at all), e.g. the params it selects are not set.

A mesh rule's case gives a ``fleet:`` of nodes and a ``mesh:`` section
instead of one conf (see ``mesh_case.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesh_case
import pytest
import yaml
from memory_node import project_from_files

from awgcheck import engine
from awgcheck.model import ArtifactKind, Status
from awgcheck.parse import awgconf, paramsdoc
from awgcheck.parse.runtime import parse_dump, parse_showconf
from awgcheck.ruleset import load as ruleset

CASES = Path(__file__).parent / "cases"
SHIPPED = ruleset.load_shipped()

DEFAULT_SOURCE = """\
[Interface]
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=
Jc = 4
Jmin = 40
Jmax = 70
S1 = 52
S2 = 140
S3 = 36
S4 = 18
H1 = 1020325451
H2 = 1288052141
H3 = 1766607858
H4 = 2114195744
"""


def _load_cases() -> list[Any]:
    params = []
    for file in sorted(CASES.glob("*.yaml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        for case in data["cases"]:
            params.append(pytest.param(data, case, id=f"{data['rule']}:{case['id']}"))
    return params


def _node_docs(case: dict[str, Any]) -> dict[ArtifactKind, Any]:
    """A case states a conf (``conf:``) or a params document (``document:``)."""
    if "document" in case:
        doc = paramsdoc.parse(case["document"].encode("utf-8"), "params.json")
        return {ArtifactKind.PARAMS: doc}
    conf = awgconf.parse(case["conf"].encode("utf-8", "surrogateescape"), "node.conf")
    docs: dict[ArtifactKind, Any] = {ArtifactKind.CONF: conf}
    if "runtime" in case:
        # ``runtime:`` is what `awg showconf` or `awg show <iface> dump` printed.
        text = case["runtime"]
        reader = parse_showconf if text.startswith("[Interface]") else parse_dump
        docs[ArtifactKind.RUNTIME] = reader(text, source="node:runtime")
    if "compose" in case:
        # ``compose:`` maps file names (compose.yaml, .env, ...) to their text;
        # ``compose_profiles:`` are the --profile values.
        docs[ArtifactKind.COMPOSE] = project_from_files(
            case["compose"], profiles=case.get("compose_profiles", ()))
    return docs


def _evaluate(rule: ruleset.Rule, case: dict[str, Any], source_text: str,
              profile: str) -> list[Any]:
    source = awgconf.parse(source_text.encode("utf-8"), "source.conf")
    if "fleet" in case:
        return mesh_case.evaluate(rule, case, engine.Source("server", source), profile)
    node = engine.NodeDocuments("node", _node_docs(case))
    return engine.evaluate([rule], [node], engine.Source("server", source), profile)


@pytest.mark.parametrize(("spec", "case"), _load_cases())
def test_rule_case(spec: dict[str, Any], case: dict[str, Any]) -> None:
    rule = SHIPPED.by_id[spec["rule"]]
    findings = _evaluate(rule, case, case.get("source", spec.get("source",
                                                      DEFAULT_SOURCE)),
                         case.get("profile", "strict"))
    errors = [f.message for f in findings if f.status is Status.ERROR]
    assert not errors
    failed = [f for f in findings if f.status is Status.FAIL]
    summary = [f"{f.param}: {f.message}" for f in failed]
    seen = [f"{f.status.value} {f.param}: {f.message}" for f in findings]
    if case["expect"] == "pass":
        # Passing means something was checked: a rule that skipped
        # everything would pass any input, and would hide a broken case.
        assert not failed, summary
        assert any(f.status is Status.PASS for f in findings), \
            f"expected a passing finding (else the case is not-applicable), got {seen}"
        return
    if case["expect"] == "not-applicable":
        assert all(f.status is Status.SKIP for f in findings), seen
        return
    assert case["expect"] == "fail", f"unknown expect: {case['expect']!r}"
    assert failed, "expected a failing finding, got none"
    if "params" in case:
        assert sorted({f.param for f in failed}) == sorted(case["params"]), summary
    if "severity" in case:
        assert {f.severity.value for f in failed} == {case["severity"]}, summary
    if "message" in case:
        assert any(case["message"] in f.message for f in failed), summary
    if "line" in case:
        assert any(f.location and f.location.line == case["line"] for f in failed), summary
    if "symptom" in case:
        assert any(case["symptom"] in (f.symptom or "") for f in failed), \
            [f.symptom for f in failed]


@pytest.mark.parametrize("rule_id", sorted(SHIPPED.by_id))
def test_every_shipped_rule_has_cases(rule_id: str) -> None:
    file = CASES / f"{rule_id}.yaml"
    assert file.is_file(), f"rule {rule_id} has no cases file {file.name}"
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    assert data["rule"] == rule_id
    expects = {case["expect"] for case in data["cases"]}
    assert {"pass", "fail"} <= expects, f"{rule_id} needs both passing and failing cases"
    assert expects <= {"pass", "fail", "not-applicable"}, f"{rule_id}: unknown expect"
