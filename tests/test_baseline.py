"""``check --baseline``: nights of a nightly check over a scratch copy of
the demo fleet, through the real CLI, and the matching rules on their own."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paths
import pytest
from jsonschema import Draft7Validator
from scratch_fleet import Fleet, demo_copy

from awgcheck import baseline
from awgcheck.errors import ErrorClass
from awgcheck.model import (
    BaselineState,
    BaselineUse,
    Finding,
    Location,
    NodeResult,
    Report,
    RuleMeta,
    Severity,
    Status,
)

SARIF_SCHEMA = paths.ASSETS / "sarif" / "sarif-schema-2.1.0.json"
NIGHT_1 = datetime(2026, 11, 30, 3, 0, 0, tzinfo=UTC)
NIGHT_1_TEXT = "2026-11-30T03:00:00.000Z"


def _first_night(fleet: Fleet, tmp_path: Path, *args: str) -> Path:
    report = tmp_path / "night-1.json"
    fleet.night(report, *args)
    return report


def _started(report: Path | dict[str, Any]) -> str:
    """When the run of a report (a file or its JSON) started."""
    data = json.loads(report.read_text()) if isinstance(report, Path) else report
    return str(data["run"]["started_at"])


def _by_key(findings: list[dict[str, Any]]) -> dict[tuple[str, str, str | None], Any]:
    return {(f["node"], f["rule"], f["param"]): f for f in findings}


def _states(report: dict[str, Any]) -> dict[tuple[str, str, str | None], str]:
    return {key: f["baseline_state"] for key, f in _by_key(report["findings"]).items()
            if f["baseline_state"] is not None}


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    return demo_copy(tmp_path)


def test_baseline_marks_findings_new_updated_unchanged_and_lists_resolved(
        fleet: Fleet, tmp_path: Path) -> None:
    first = _first_night(fleet, tmp_path)
    fleet.edit("partner-tbilisi", "S4 = 17", "S4 = 16")
    fleet.edit("partner-berlin", "Jc = 4", "Jc = 5")
    fleet.edit("partner-almaty", "1766607868 \n", "1766607868\n")
    run = fleet.check("--format", "json", "--baseline", first)
    assert run.code == 1, run.err
    report = run.json()
    assert _states(report) == {
        ("partner-tbilisi", "must-match-drift", "S4"): "updated",  # 17 -> 16
        ("partner-tbilisi", "compose-listener-mesh-bound", "relay RELAY_BIND"): "unchanged",
        ("partner-berlin", "side-local-drift", "Jc"): "new",
        ("partner-almaty", "canonical-spelling", "S4"): "unchanged",
    }
    assert [(f["node"], f["rule"], f["param"], f["baseline_state"])
            for f in report["resolved"]] == [
        ("partner-almaty", "canonical-spelling", "H3", "absent")]
    assert report["summary"].items() >= {
        "nodes": 4, "checked": 4, "failed": 2, "errors": 0, "exit_code": 1,
        "new": 1, "updated": 1, "unchanged": 2, "resolved": 1}.items()
    night_1 = _started(first)
    assert report["baseline"] == {"path": str(first), "previous_run": night_1,
                                  "fail_on_new": False}
    found = _by_key(report["findings"])
    assert found["partner-berlin", "side-local-drift", "Jc"]["first_seen"] == _started(report)
    assert found["partner-tbilisi", "must-match-drift", "S4"]["first_seen"] == night_1
    assert report["resolved"][0]["first_seen"] == night_1
    # Passes and skips take no part.
    assert all(f["baseline_state"] is None for f in report["findings"]
               if f["status"] in ("pass", "skip"))


def test_baseline_first_seen_is_carried_over_night_after_night(
        fleet: Fleet, tmp_path: Path) -> None:
    first = _first_night(fleet, tmp_path)
    fleet.edit("partner-berlin", "Jc = 4", "Jc = 5")
    second = tmp_path / "night-2.json"
    fleet.night(second, "--baseline", first)
    night_2 = _started(second)
    os.utime(second, (0, 0))  # its run's start, not its mtime, says when it ran
    third = fleet.check("--format", "json", "--baseline", second).json()
    assert third["baseline"]["previous_run"] == night_2
    found = _by_key(third["findings"])
    assert found["partner-tbilisi", "must-match-drift", "S4"]["first_seen"] == _started(first)
    assert found["partner-berlin", "side-local-drift", "Jc"]["first_seen"] == night_2
    assert set(_states(third).values()) == {"unchanged"}


def test_baseline_from_before_reports_said_when_they_ran_uses_the_file_time(
        fleet: Fleet, tmp_path: Path) -> None:
    first = _first_night(fleet, tmp_path)
    older = json.loads(first.read_text())
    del older["run"]
    first.write_text(json.dumps(older))
    os.utime(first, (NIGHT_1.timestamp(), NIGHT_1.timestamp()))
    report = fleet.check("--format", "json", "--baseline", first).json()
    assert report["baseline"]["previous_run"] == NIGHT_1_TEXT
    drift = _by_key(report["findings"])["partner-tbilisi", "must-match-drift", "S4"]
    assert (drift["baseline_state"], drift["first_seen"]) == ("unchanged", NIGHT_1_TEXT)


def test_baseline_tells_findings_about_waivers_apart_by_their_waiver(
        fleet: Fleet, tmp_path: Path) -> None:
    unused = [{"nodes": "partner-almaty", "rule": rule, "reason": "r", "expires": "2099-12-31"}
              for rule in ("legacy-keys", "bom")]
    fleet.edit_inventory(lambda data: data.update(waivers=unused))
    first = _first_night(fleet, tmp_path)
    added = {"nodes": "partner-berlin", "rule": "mtu-range", "reason": "r",
             "expires": "2099-12-31"}
    fleet.edit_inventory(lambda data: data.update(waivers=[added, *unused]))  # lines move
    report = fleet.check("--format", "json", "--baseline", first).json()
    about = [(f["waiver"]["rule"], f["baseline_state"]) for f in report["findings"]
             if f["rule"] == "waiver-unused"]
    assert about == [("mtu-range", "new"), ("legacy-keys", "unchanged"), ("bom", "unchanged")]


def test_baseline_matches_a_finding_whose_line_moved(fleet: Fleet, tmp_path: Path) -> None:
    first = _first_night(fleet, tmp_path)
    fleet.edit("partner-tbilisi", "[Interface]\n", "# moved down by two lines\n#\n[Interface]\n")
    report = fleet.check("--format", "json", "--baseline", first).json()
    drift = _by_key(report["findings"])["partner-tbilisi", "must-match-drift", "S4"]
    assert drift["location"]["line"] == 15  # was 13
    assert drift["baseline_state"] == "unchanged"
    assert report["resolved"] == []


def test_baseline_findings_of_an_unreadable_node_are_not_resolved(
        fleet: Fleet, tmp_path: Path) -> None:
    first = _first_night(fleet, tmp_path)
    fleet.conf("partner-tbilisi").unlink()
    run = fleet.check("--format", "json", "--baseline", first)
    assert run.code == 4  # tbilisi held the failures, and could not be checked
    report = run.json()
    assert [n["error_class"] for n in report["nodes"] if n["status"] == "error"] == [
        "file_missing"]
    assert report["resolved"] == []
    assert report["summary"]["resolved"] == 0


def test_baseline_drift_is_not_resolved_when_the_source_could_not_be_read(
        fleet: Fleet, tmp_path: Path) -> None:
    first = _first_night(fleet, tmp_path)
    fleet.conf("server").unlink()
    report = fleet.check("--format", "json", "--baseline", first).json()
    assert "must-match-drift" in report["source"]["not_evaluated"]
    assert report["resolved"] == []  # tbilisi's S4 drift is unknown tonight, not fixed


def test_baseline_findings_of_nodes_left_out_by_node_are_not_resolved(
        fleet: Fleet, tmp_path: Path) -> None:
    first = _first_night(fleet, tmp_path)
    report = fleet.check("--format", "json", "--baseline", first,
                         "--node", "partner-almaty").json()
    assert report["resolved"] == []
    assert set(_states(report).values()) == {"unchanged"}


def test_fail_on_new_fails_only_on_new_or_updated_findings(fleet: Fleet,
                                                            tmp_path: Path) -> None:
    first = _first_night(fleet, tmp_path)
    same = fleet.check("--baseline", first, "--fail-on-new")
    assert same.code == 0, same.out
    assert fleet.check("--baseline", first).code == 1  # the same failures, without the flag
    summary = "\n".join(same.out.rstrip().splitlines()[-2:])
    assert summary == (
        "3 passed, 1 failed, 0 could not be checked (--fail-on error; since the baseline: "
        "0 new, 0 updated, 4 unchanged, 0 resolved, --fail-on-new)\n"
        "PASS: 1 of 4 nodes failed; 1 critical, 1 error, 2 warnings; 0 new, 0 updated since "
        "the baseline; exit code 0")
    assert f"\n{summary}\n" in (paths.ROOT / "docs" / "reports.md").read_text()  # as shown
    fleet.edit("partner-tbilisi", "S4 = 17", "S4 = 16")
    assert fleet.check("--baseline", first, "--fail-on-new").code == 1  # updated
    fleet.edit("partner-tbilisi", "S4 = 16", "S4 = 17")
    fleet.edit("partner-berlin", "S3 = 36", "S3 = 35")
    assert fleet.check("--baseline", first, "--fail-on-new").code == 1  # new
    fleet.edit("partner-berlin", "S3 = 35", "S3 = 36")
    fleet.add_node("partner-offline")
    assert fleet.check("--baseline", first, "--fail-on-new").code == 4  # could not check


def test_fail_on_new_ignores_a_new_finding_below_fail_on(fleet: Fleet, tmp_path: Path) -> None:
    first = _first_night(fleet, tmp_path)
    fleet.edit("partner-berlin", "S4 = 18", "s4=18")  # a spelling warning only
    run = fleet.check("--format", "json", "--baseline", first, "--fail-on-new")
    assert run.code == 0
    assert _states(run.json())["partner-berlin", "canonical-spelling", "S4"] == "new"


def test_fail_on_new_needs_a_baseline(fleet: Fleet) -> None:
    run = fleet.check("--fail-on-new")
    assert (run.code, run.err) == (2, "awgcheck: error: --fail-on-new needs --baseline "
                                      "PREVIOUS.json\n")


def test_baseline_that_is_not_a_report_is_a_usage_error(fleet: Fleet, tmp_path: Path) -> None:
    path = tmp_path / "night-1.json"
    path.write_text(fleet.check("--format", "sarif").out)
    run = fleet.check("--baseline", path)
    assert run.code == 2
    assert run.err.startswith(f"awgcheck: error: --baseline {path}: not an awgcheck JSON "
                              "report")
    assert run.out == ""


def test_baseline_of_another_profile_or_source_is_a_warning(fleet: Fleet,
                                                            tmp_path: Path) -> None:
    first = _first_night(fleet, tmp_path, "--profile", "protocol")
    run = fleet.check("--format", "json", "--baseline", first)
    assert run.code == 1
    assert run.err == (f"awgcheck: warning: --baseline {first}: it was checked with profile "
                       "protocol, this run with strict: severities differ, so findings show "
                       "as updated\n")
    moved = tmp_path / "moved.json"
    moved.write_text(first.read_text().replace('"node": "server"', '"node": "old-server"', 1))
    run = fleet.check("--format", "json", "--baseline", moved, "--profile", "protocol")
    assert "its source of truth is old-server, this run's is server" in run.err


def test_baseline_sarif_carries_baseline_state_and_validates(fleet: Fleet,
                                                              tmp_path: Path) -> None:
    first = _first_night(fleet, tmp_path)
    fleet.edit("partner-berlin", "Jc = 4", "Jc = 5")
    fleet.edit("partner-tbilisi", "S4 = 17", "S4 = 18")  # resolved: no result for it
    document = json.loads(fleet.check("--format", "sarif", "--baseline", first).out)
    Draft7Validator(json.loads(SARIF_SCHEMA.read_text()),
                    format_checker=Draft7Validator.FORMAT_CHECKER).validate(document)
    results = document["runs"][0]["results"]
    assert {(r["ruleId"], r["properties"]["node"], r["baselineState"]) for r in results} == {
        ("side-local-drift", "partner-berlin", "new"),
        ("compose-listener-mesh-bound", "partner-tbilisi", "unchanged"),
        ("canonical-spelling", "partner-almaty", "unchanged"),
    }
    assert all("first_seen" in r["properties"] for r in results)


def test_baseline_table_shows_new_findings_first(fleet: Fleet, tmp_path: Path) -> None:
    first = _first_night(fleet, tmp_path)
    fleet.edit("partner-almaty", "S3 = 36", "S3 = 35")  # new, on the last node
    fleet.edit("partner-tbilisi", "S4 = 17", "S4 = 18")
    out = fleet.check("--baseline", first).out
    sections = [line for line in out.splitlines() if line.startswith("== ")]
    assert sections == ["== partner-almaty: FAIL ==", "== partner-tbilisi: FAIL =="]
    almaty = out[out.index("== partner-almaty"):out.index("== partner-tbilisi")]
    rows = [line.split()[:4] for line in almaty.splitlines()
            if line.startswith(("new", "updated", "unchanged"))]
    assert rows == [["new", "CRITICAL", "S3", "must-match-drift"],
                    ["unchanged", "WARNING", "S4", "canonical-spelling"],
                    ["unchanged", "WARNING", "H3", "canonical-spelling"]]
    assert "\nResolved since the baseline (1):\n   partner-tbilisi: must-match-drift S4 " \
           f"(first seen {_started(first)})\n" in out
    assert "since the baseline: 1 new, 0 updated, 3 unchanged, 1 resolved)" in out


# --- the matching rules on their own -----------------------------------------------------

USE = BaselineUse("night-1.json", NIGHT_1_TEXT)
TONIGHT = "2026-12-01T03:00:00.000Z"


def _finding(node: str = "a", rule: str = "r", param: str | None = "S4",
             status: Status = Status.FAIL, line: int | None = 3, message: str = "m",
             actual: str | None = "17", severity: Severity = Severity.ERROR) -> Finding:
    return Finding(rule, node, status, severity, message, param, "18", actual,
                   Location("/etc/amnezia/amneziawg/awg0.conf", line))


def _report(*findings: Finding, nodes: tuple[NodeResult, ...] = (NodeResult("a", Status.FAIL),),
            rules: tuple[str, ...] = ("r",)) -> Report:
    return Report("a", "s.conf", nodes, findings,
                  rules=tuple(RuleMeta(r, r, Severity.ERROR, r, r) for r in rules))


def test_compare_ignores_message_and_line_and_compares_value_severity_status() -> None:
    before = _report(_finding(), _finding(param="S3"), _finding(param="H1"),
                     _finding(param="H2"))
    now = _report(_finding(line=9, message="reworded"), _finding(param="S3", actual="16"),
                  _finding(param="H1", severity=Severity.CRITICAL),
                  _finding(param="H2", status=Status.ERROR))
    states = [f.baseline_state for f in baseline.compare(now, before, USE, TONIGHT).findings]
    assert states == [BaselineState.UNCHANGED, BaselineState.UPDATED, BaselineState.UPDATED,
                      BaselineState.UPDATED]


def test_compare_pairs_findings_of_one_identity_in_order() -> None:
    before = _report(_finding(line=3))
    now = _report(_finding(line=3), _finding(line=8))  # the param now twice in the file
    compared = baseline.compare(now, before, USE, TONIGHT)
    assert [f.baseline_state for f in compared.findings] == [BaselineState.UNCHANGED,
                                                             BaselineState.NEW]
    gone = baseline.compare(before, now, USE, TONIGHT).resolved
    assert [(f.location.line if f.location else None, f.baseline_state) for f in gone] == [
        (8, BaselineState.ABSENT)]


@pytest.mark.parametrize(("now", "why"), [
    (_report(nodes=(NodeResult("a", Status.ERROR, "a: no route", ErrorClass.HOST_UNREACHABLE),)),
     "node not read"),
    (_report(nodes=(NodeResult("b", Status.PASS),)), "node not in this run"),
    (_report(_finding(param=None, status=Status.ERROR, message="rule r could not be evaluated"),
             nodes=(NodeResult("a", Status.ERROR, "some rules could not be evaluated",
                               ErrorClass.RULE_ERROR),)), "rule ended in an error"),
    (_report(rules=("other",)), "rule not run"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_compare_leaves_unknown_what_this_run_could_not_tell(now: Report, why: str) -> None:
    assert baseline.compare(now, _report(_finding()), USE, TONIGHT).resolved == (), why


def test_compare_resolves_a_finding_whose_node_was_read_and_rule_ran() -> None:
    resolved = baseline.compare(_report(), _report(_finding()), USE, TONIGHT).resolved
    assert [(f.node, f.param, f.baseline_state, f.first_seen) for f in resolved] == [
        ("a", "S4", BaselineState.ABSENT, NIGHT_1_TEXT)]

