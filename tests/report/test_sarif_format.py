"""SARIF output: valid against the official 2.1.0 schema, levels, rules, URIs."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import paths
import pytest
from click.testing import CliRunner

from awgcheck.cli.main import main
from awgcheck.model import Finding, Location, NodeResult, Report, Severity, Status
from awgcheck.report import FORMATS, sarif
from awgcheck.report.rulemeta import with_rules
from awgcheck.ruleset import load as ruleset

REPO = paths.ROOT
DEMO = REPO / "fixtures" / "demo" / "fleet.yaml"
# The official schema, vendored (see tests/assets/sarif/README.md).
SCHEMA = REPO / "tests" / "assets" / "sarif" / "sarif-schema-2.1.0.json"


def validate(document: dict[str, Any]) -> None:
    """Fail (never skip) when the official schema is missing."""
    assert SCHEMA.is_file(), f"official SARIF schema not found at {SCHEMA}"
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(document, schema, cls=jsonschema.Draft7Validator,
                        format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def _finding(severity: Severity, rule: str = "must-match-drift", line: int | None = 3,
             path: str = "partners/a.conf") -> Finding:
    return Finding(rule=rule, node=path, status=Status.FAIL, severity=severity,
                   message=f"{severity.value} finding", param="S4", expected="18",
                   actual="17", location=Location(path, line))


def _report(*findings: Finding, nodes: tuple[NodeResult, ...] = ()) -> Report:
    return Report(None, "server.conf", nodes or (NodeResult("partners/a.conf", Status.FAIL),),
                  findings)


def test_sarif_check_on_the_demo_fleet_validates() -> None:
    result = CliRunner().invoke(main, ["check", "-i", str(DEMO), "--format", "sarif"])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    validate(document)
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == set(ruleset.load_shipped().by_id)
    [drift] = [r for r in run["results"] if r["ruleId"] == "must-match-drift"]
    assert rules[drift["ruleIndex"]]["id"] == "must-match-drift"
    location = drift["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith(
        "partner-tbilisi/etc/amnezia/amneziawg/awg0.conf")
    assert location["region"]["startLine"] == 13
    assert "looks up, carries nothing" in drift["message"]["text"]


@pytest.mark.parametrize(("severity", "level"), [
    (Severity.CRITICAL, "error"), (Severity.ERROR, "error"),
    (Severity.WARNING, "warning"), (Severity.INFO, "note"),
])
def test_sarif_levels_follow_severity(severity: Severity, level: str) -> None:
    document = sarif.as_dict(_report(_finding(severity)))
    validate(document)
    assert document["runs"][0]["results"][0]["level"] == level


def test_sarif_rule_entries_carry_help_and_default_level() -> None:
    rules = ruleset.load_shipped().rules
    text = FORMATS.render("sarif", with_rules(_report(_finding(Severity.CRITICAL)), rules))
    document = json.loads(text)
    validate(document)
    [entry] = [r for r in document["runs"][0]["tool"]["driver"]["rules"]
               if r["id"] == "must-match-drift"]
    assert entry["name"] == "MustMatchDrift"
    assert entry["defaultConfiguration"]["level"] == "error"
    assert entry["shortDescription"]["text"].startswith("Must-match params")
    assert "Fix: Set the param" in entry["help"]["text"]
    [info] = [r for r in document["runs"][0]["tool"]["driver"]["rules"]
              if r["id"] == "jc-range"]
    assert info["defaultConfiguration"]["level"] == "warning"


def test_sarif_without_rule_metadata_describes_the_rules_found() -> None:
    document = sarif.as_dict(_report(_finding(Severity.WARNING, rule="x-rule")))
    validate(document)
    assert [r["id"] for r in document["runs"][0]["tool"]["driver"]["rules"]] == ["x-rule"]


def test_sarif_unchecked_nodes_are_notifications_and_lines_optional() -> None:
    nodes = (NodeResult("partners/a.conf", Status.FAIL),
             NodeResult("gone", Status.ERROR, "gone: file missing", "file_missing"))
    document = sarif.as_dict(_report(_finding(Severity.ERROR, line=None), nodes=nodes))
    validate(document)
    invocation = document["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 5
    assert "gone: could not be checked (file_missing)" in \
        invocation["toolExecutionNotifications"][0]["message"]["text"]
    assert "region" not in document["runs"][0]["results"][0]["locations"][0][
        "physicalLocation"]


@pytest.mark.parametrize(("path", "uri"), [
    ("partners/a b.conf", "partners/a%20b.conf"),
    ("/srv/nodes/awg0.conf", "file:///srv/nodes/awg0.conf"),
    ("edge-1:/etc/amnezia/amneziawg/awg0.conf", "edge-1%3A/etc/amnezia/amneziawg/awg0.conf"),
])
def test_sarif_uris_are_references_not_schemes(path: str, uri: str) -> None:
    assert sarif.uri(path) == uri
    validate(sarif.as_dict(_report(_finding(Severity.ERROR, path=path))))
