"""The engine and the audit keep going when one part breaks: a check that
raises is one error finding for that rule on that node, and a node whose
reading raises something unexpected is one unchecked node
(``internal_error``); every other rule and node is still checked."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from awgcheck import audit, engine, inventory, nodes
from awgcheck.checks import CHECKS
from awgcheck.checks.base import CheckType, Context, Outcome
from awgcheck.collect.base import CommandResult
from awgcheck.errors import ErrorClass, RuleError
from awgcheck.model import ArtifactKind, Status
from awgcheck.parse import awgconf
from awgcheck.parse.runtime import parse_showconf
from awgcheck.report import junit, table
from awgcheck.ruleset import load as ruleset

CONF = b"[Interface]\nS4 = 18\nJc = 4\n"
RULES = """\
rules:
  - id: s4-small
    title: S4 stays small
    description: S4 stays small.
    remediation: fix it.
    severity: error
    select: {artifact: conf, params: [S4]}
    check: {type: range, max: 100}
  - id: broken
    title: a check that raises
    description: a check that raises.
    remediation: fix it.
    severity: error
    select: {artifact: conf, params: [S4]}
    check: {type: explodes}
  - id: jc-small
    title: Jc stays small
    description: Jc stays small.
    remediation: fix it.
    severity: error
    select: {artifact: conf, params: [Jc]}
    check: {type: range, max: 128}
"""


def _explodes(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    yield Outcome(Status.PASS, "never reported: the check raises before it ends")
    raise ZeroDivisionError("division by zero in a check")


@pytest.fixture
def with_broken_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy of the CHECKS table with one check type that raises; the real
    table is left alone."""
    table = {**CHECKS, "explodes": CheckType(_explodes, {}, frozenset({ArtifactKind.CONF}))}
    monkeypatch.setattr(ruleset, "CHECKS", table)
    monkeypatch.setattr(engine, "CHECKS", table)


def _nodes(*names: str) -> list[engine.NodeDocuments]:
    return [engine.NodeDocuments(name, {ArtifactKind.CONF: awgconf.parse(CONF, f"{name}.conf")})
            for name in names]


@pytest.mark.usefixtures("with_broken_check")
def test_engine_broken_check_is_one_error_finding_per_node() -> None:
    rules = ruleset.load_text(RULES, "rules.yaml")
    findings = engine.evaluate(rules, _nodes("a", "b"), engine.Source("server", None))
    broken = [f for f in findings if f.rule == "broken"]
    assert [(f.node, f.status) for f in broken] == [("a", Status.ERROR), ("b", Status.ERROR)]
    assert broken[0].message == ("rule broken could not be evaluated: "
                                 "ZeroDivisionError: division by zero in a check")
    # The outcome yielded before the exception is not reported half-done.
    assert not [f for f in findings if f.rule == "broken" and f.status is Status.PASS]


@pytest.mark.usefixtures("with_broken_check")
def test_engine_broken_check_leaves_every_other_rule_running() -> None:
    rules = ruleset.load_text(RULES, "rules.yaml")
    findings = engine.evaluate(rules, _nodes("a", "b"), engine.Source("server", None))
    others = {(f.rule, f.node, f.status) for f in findings if f.rule != "broken"}
    assert others == {(rule, node, Status.PASS) for rule in ("s4-small", "jc-small")
                      for node in ("a", "b")}


class _Collector:
    """Serves one conf; ``boom`` makes reading it raise a non-collect error,
    as a bug in a transport or parser would."""

    def __init__(self, boom: BaseException | None = None) -> None:
        self.boom = boom

    remote = None  # local files, as far as reports go

    def describe(self, path: str) -> str:
        return path

    def read_file(self, path: str, *, sudo: bool = False, limit: int = 0) -> bytes:
        if self.boom is not None:
            raise self.boom
        return CONF

    def run(self, argv: Sequence[str], *, sudo: bool = False,
            timeout: float = 30.0) -> CommandResult:
        raise AssertionError("the audit does not run commands without --runtime")

    def close(self) -> None:
        pass


def test_audit_unexpected_read_failure_is_internal_error_for_that_node_only() -> None:
    fleet_nodes = tuple(inventory.Node(name=n, host=f"{n}.example")
                        for n in ("server", "broken", "partner"))
    fleet = inventory.Inventory(Path("fleet.yaml"), fleet_nodes, source_node="server")
    rules = ruleset.RuleSet(ruleset.load_text(RULES.split("  - id: broken")[0], "r.yaml"))

    def factory(node: inventory.Node, options: nodes.RunOptions) -> _Collector:
        return _Collector(KeyError("surprise") if node.name == "broken" else None)

    report = audit.audit(fleet, rules, factory=factory)
    status = {n.name: (n.status, n.error_class) for n in report.nodes}
    assert status == {"server": (Status.PASS, None), "broken": (Status.ERROR, "internal_error"),
                      "partner": (Status.PASS, None)}
    [broken] = [n for n in report.nodes if n.name == "broken"]
    assert broken.error is not None and "KeyError" in broken.error
    assert {f.node for f in report.findings} == {"server", "partner"}
    assert report.exit_code() != 0  # an unchecked node is never a pass


# --- implies sees what the rule sees (bug 2) ------------------------------------------

IMPLIES_ON_RUNTIME = """\
rules:
  - id: applied-when-set
    title: a set S4 runs what the file says
    description: when the interface runs S4, it runs the file's S4.
    remediation: recreate the interface.
    severity: error
    select: {artifact: runtime, params: [S4]}
    check:
      type: implies
      when: {param: S4, is: present}
      then: {type: equals-source, against: file, params: [S4]}
"""


def test_engine_implies_inner_check_keeps_the_nodes_documents() -> None:
    """``then: equals-source against: file`` on a runtime rule compares the
    running value with the node's own conf, exactly as the check written
    directly does (it used to lose the conf and skip)."""
    rules = ruleset.load_text(IMPLIES_ON_RUNTIME, "implies.yaml")
    conf = awgconf.parse(b"[Interface]\nS4 = 18\n", "awg0.conf")
    running = parse_showconf("[Interface]\nListenPort = 51820\nS4 = 17\n", source="node:showconf")
    node = engine.NodeDocuments("edge-1", {ArtifactKind.CONF: conf, ArtifactKind.RUNTIME: running})
    findings = engine.evaluate(rules, [node], engine.Source("server", None))
    assert [f.status for f in findings] == [Status.FAIL]
    assert "S4 is set, so:" in findings[0].message and "18" in findings[0].message


def test_engine_implies_conf_only_inner_check_on_a_runtime_rule_is_a_rule_error() -> None:
    text = IMPLIES_ON_RUNTIME.replace(
        "then: {type: equals-source, against: file, params: [S4]}",
        "then: {type: canonical-spelling, params: [S4]}")
    with pytest.raises(RuleError, match="works on conf, not on 'runtime'"):
        ruleset.load_text(text, "implies.yaml")


@pytest.mark.usefixtures("with_broken_check")
def test_audit_rule_that_raises_makes_the_node_a_rule_error() -> None:
    """A node reached and read, where a rule raised and nothing failed, is
    not a pass: status error, class rule_error, exit code 4. Reports list
    the rule that could not be evaluated, not the node as unreachable."""
    fleet = inventory.Inventory(Path("fleet.yaml"), (inventory.Node(name="a", host="a.example"),),
                                source_node=None, source_path=Path("server.conf"))
    rules = ruleset.RuleSet(ruleset.load_text(RULES, "r.yaml"))
    report = audit.audit(fleet, rules, factory=lambda node, options: _Collector())
    [node] = report.nodes
    assert (node.status, node.error_class) == (Status.ERROR, ErrorClass.RULE_ERROR)
    assert node.error == "some rules could not be evaluated"
    assert not report.failing()
    assert report.exit_code() == 4

    text = table.render(report)
    assert "COULD NOT CHECK" not in text
    assert "== a: ERROR ==" in text
    assert "rule broken could not be evaluated: ZeroDivisionError" in text

    xml = junit.render(report)
    assert 'name="reachable"' not in xml
    assert '<testcase classname="a" name="broken">' in xml
    assert '<error message="rule broken could not be evaluated: ZeroDivisionError' in xml
    assert 'tests="3" failures="0" errors="1"' in xml


# --- a source that could not be read (issue 12 item 8) --------------------------------

NEEDS_SOURCE = """\
rules:
  - id: drift
    title: S4 equals the source
    description: S4 equals the source.
    remediation: fix it.
    severity: critical
    select: {artifact: conf, params: [S4]}
    check: {type: equals-source}
  - id: applied
    title: the interface runs the file's S4
    description: the interface runs the file's S4.
    remediation: recreate it.
    severity: error
    select: {artifact: runtime, params: [S4]}
    check: {type: equals-source, against: file}
  - id: drift-when-set
    title: a set S4 equals the source
    description: a set S4 equals the source.
    remediation: fix it.
    severity: critical
    select: {artifact: conf, params: [S4]}
    check:
      type: implies
      when: {param: S4, is: present}
      then: {type: equals-source, params: [S4]}
  - id: s4-small
    title: S4 stays small
    description: S4 stays small.
    remediation: fix it.
    severity: error
    select: {artifact: conf, params: [S4]}
    check: {type: range, max: 10}
"""


@pytest.mark.parametrize(("rule", "needs"), [
    ("drift", True), ("applied", False), ("drift-when-set", True), ("s4-small", False)])
def test_rule_needs_source_only_when_it_reads_it(rule: str, needs: bool) -> None:
    [found] = [r for r in ruleset.load_text(NEEDS_SOURCE, "r.yaml") if r.id == rule]
    assert found.needs_source is needs


def test_engine_without_source_runs_only_the_rules_that_do_not_need_it() -> None:
    rules = ruleset.load_text(NEEDS_SOURCE, "r.yaml")
    conf = awgconf.parse(b"[Interface]\nS4 = 18\n", "awg0.conf")
    running = parse_showconf("[Interface]\nListenPort = 51820\nS4 = 17\n", source="node:showconf")
    node = engine.NodeDocuments("edge-1", {ArtifactKind.CONF: conf, ArtifactKind.RUNTIME: running})
    source = engine.Source("params.json", None, "params.json: an error reply",
                           ErrorClass.PARSE_ERROR)
    findings = engine.evaluate(rules, [node], source)
    assert {(f.rule, f.status) for f in findings} == {
        ("applied", Status.FAIL), ("s4-small", Status.FAIL)}
    failure = engine.source_failure(rules, [node], source)
    assert failure is not None
    assert (failure.error, failure.error_class) == ("params.json: an error reply",
                                                    ErrorClass.PARSE_ERROR)
    assert failure.not_evaluated == ("drift", "drift-when-set")
    # read: nothing to say
    assert engine.source_failure(rules, [node], engine.Source("server", conf)) is None


def test_source_failure_names_only_rules_some_node_would_have_run() -> None:
    rules = ruleset.load_text(NEEDS_SOURCE.replace("artifact: conf, params: [S4]}\n    check:"
                                                   " {type: equals-source}",
                                                   "artifact: runtime, params: [S4]}\n"
                                                   "    check: {type: equals-source}"), "r.yaml")
    conf_only = _nodes("a")  # no runtime read (no --runtime): "drift" would not have run
    failure = engine.source_failure(rules, conf_only, engine.Source("server", None))
    assert failure is not None and failure.not_evaluated == ("drift-when-set",)
