"""Waivers through the real CLI on a copy of the demo fleet: exit codes, and
every format showing waived, expired and unused waivers, read back with
each format's own parser."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import paths
import pytest
from cli.test_hostile_output import _assert_clean, _github, _junit, _markdown
from click.testing import CliRunner
from report.test_sarif_format import validate as validate_sarif

from awgcheck.cli.main import main
from awgcheck.report import markdown

# The demo fleet fails on Tbilisi: S4 drift (must-match-drift, critical) and
# its relay bound to 0.0.0.0 (compose-listener-mesh-bound, error).
WAIVERS = """\
waivers:
  - nodes: partner-tbilisi
    rule: must-match-drift
    param: S4
    reason: partner runs the vendor build until the 2.1 upgrade
    owner: alice
    expires: 2025-06-30
  - nodes: [group:caucasus]
    rule: compose-listener-*
    reason: relay moves to the mesh address with the upgrade
    expires: 2025-06-30
"""
WAIVER_LINE, GROUP_WAIVER_LINE = 28, 34  # in the demo inventory with WAIVERS appended
IN_FORCE, EXPIRED = "2025-06-01", "2025-07-01"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """The demo fleet, Tbilisi in group caucasus, with WAIVERS in its inventory."""
    shutil.copytree(paths.DEMO, tmp_path / "demo")
    inventory = tmp_path / "demo" / "fleet.yaml"
    text = inventory.read_text().replace(
        "  partner-tbilisi:\n", "  partner-tbilisi:\n    groups: [caucasus]\n")
    inventory.write_text(text + WAIVERS)
    assert inventory.read_text().splitlines()[WAIVER_LINE - 1] == "  - nodes: partner-tbilisi"
    return inventory


def check_json(inventory: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run("check", "-i", str(inventory), "--format", "json", *args)
    return code, json.loads(out)


def test_check_waived_failures_do_not_fail_the_run(fleet: Path) -> None:
    code, report = check_json(fleet, "--today", IN_FORCE)
    assert code == 0 and report["summary"]["exit_code"] == 0
    assert {n["name"]: n["status"] for n in report["nodes"]}["partner-tbilisi"] == "pass"
    waived = {f["rule"]: f for f in report["findings"] if f["status"] == "waived"}
    assert set(waived) == {"must-match-drift", "compose-listener-mesh-bound"}
    drift = waived["must-match-drift"]
    assert (drift["node"], drift["param"], drift["actual"]) == ("partner-tbilisi", "S4", "17")
    assert drift["waiver"] == {
        "reason": "partner runs the vendor build until the 2.1 upgrade", "owner": "alice",
        "expires": "2025-06-30", "nodes": ["partner-tbilisi"], "rule": "must-match-drift",
        "param": "S4", "location": {"path": str(fleet), "line": WAIVER_LINE}}
    assert waived["compose-listener-mesh-bound"]["waiver"]["location"]["line"] == \
        GROUP_WAIVER_LINE
    assert not any(f["rule"].startswith("waiver-") for f in report["findings"])
    unwaived = [f for f in report["findings"] if f["status"] != "waived"]
    assert all(f["waiver"] is None for f in unwaived)


def test_check_without_today_judges_expiry_against_the_real_date(fleet: Path) -> None:
    """2025-06-30 is in the past: the waivers have expired."""
    code, report = check_json(fleet)
    assert code == 1
    assert sum(f["rule"] == "waiver-expired" for f in report["findings"]) == 2


def test_check_expired_waiver_fails_and_names_the_waiver(fleet: Path) -> None:
    code, report = check_json(fleet, "--today", EXPIRED)
    assert code == 1
    assert not any(f["status"] == "waived" for f in report["findings"])
    (drift,) = [f for f in report["findings"] if f["rule"] == "must-match-drift"
                and f["status"] == "fail"]
    assert drift["node"] == "partner-tbilisi" and drift["waiver"] is None
    expired = [f for f in report["findings"] if f["rule"] == "waiver-expired"]
    assert [(f["node"], f["severity"], f["status"], f["location"]["line"]) for f in expired] \
        == [("partner-tbilisi", "error", "fail", WAIVER_LINE),
            ("partner-tbilisi", "error", "fail", GROUP_WAIVER_LINE)]
    assert expired[0]["message"] == (
        f"the waiver at {fleet}:{WAIVER_LINE} (rule must-match-drift, param S4, nodes "
        "partner-tbilisi) expired on 2025-06-30: 1 finding it covers fails again (reason: "
        "partner runs the vendor build until the 2.1 upgrade; owner: alice)")
    assert expired[0]["waiver"]["expires"] == "2025-06-30"


def test_check_unused_waiver_is_a_warning_about_the_inventory(fleet: Path) -> None:
    fleet.write_text(fleet.read_text() + "  - nodes: partner-b*\n    rule: side-local-drift\n"
                     "    reason: stale\n    expires: 2025-06-30\n")
    code, report = check_json(fleet, "--today", IN_FORCE)
    assert code == 0  # a warning, below --fail-on error
    (unused,) = [f for f in report["findings"] if f["rule"] == "waiver-unused"]
    assert (unused["node"], unused["severity"], unused["status"]) == (str(fleet), "warning",
                                                                     "fail")
    assert unused["location"] == {"path": str(fleet), "line": 38}
    assert "matches no failed finding on the 1 checked node it names" in unused["message"]
    assert run("check", "-i", str(fleet), "--today", IN_FORCE, "--fail-on", "warning")[0] == 1


def test_check_node_filter_leaves_waivers_of_unread_nodes_alone(fleet: Path) -> None:
    code, report = check_json(fleet, "--today", IN_FORCE, "--node", "partner-almaty")
    assert code == 0
    assert not any(f["rule"].startswith("waiver-") for f in report["findings"])


def test_check_waivers_file(fleet: Path, tmp_path: Path) -> None:
    fleet.write_text(fleet.read_text().replace(WAIVERS, ""))
    extra = tmp_path / "accepted.yaml"
    extra.write_text("# reviewed by the network team\n" + WAIVERS)
    assert run("check", "-i", str(fleet), "--today", IN_FORCE)[0] == 1
    code, report = check_json(fleet, "--today", IN_FORCE, "--waivers", str(extra))
    assert code == 0
    (drift,) = [f for f in report["findings"] if f["rule"] == "must-match-drift"
                and f["status"] == "waived"]
    assert drift["waiver"]["location"] == {"path": str(extra), "line": 3}


@pytest.mark.parametrize(("waiver", "message"), [
    ("  - {nodes: x, rule: r, expires: 2025-01-01}\n",
     ":38: waiver 3: missing required key 'reason'"),
    ("  - {nodes: x, rule: r, reason: why}\n", ":38: waiver 3: missing required key 'expires'"),
    ("  - {nodes: x, rule: r, reason: why, expires: 31.01.2025}\n",
     ":38: waiver 3: key 'expires' must be a date YYYY-MM-DD, got '31.01.2025'"),
], ids=["no-reason", "no-expires", "bad-date"])
def test_check_exit_2_on_a_bad_waiver(fleet: Path, waiver: str, message: str) -> None:
    fleet.write_text(fleet.read_text() + waiver)
    code, out, err = run("check", "-i", str(fleet))
    assert code == 2 and out == ""
    assert err.startswith(f"awgcheck: error: {fleet}{message}")
    assert "Traceback" not in err


def test_check_exit_2_on_a_missing_waivers_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    code, out, err = run("check", "-i", str(paths.DEMO / "fleet.yaml"), "--waivers",
                         str(missing))
    assert code == 2 and out == ""
    assert f"{missing}: waivers file not found" in err


def test_check_today_is_hidden_from_help() -> None:
    code, out, _ = run("check", "--help")
    assert code == 0 and "--waivers" in out and "--today" not in out


# --- every format -------------------------------------------------------------------


def render(fleet: Path, fmt: str, today: str = IN_FORCE, *args: str) -> str:
    return run("check", "-i", str(fleet), "--format", fmt, "--today", today, *args)[1]


def test_check_table_shows_waived_rows_with_reason_and_expiry(fleet: Path) -> None:
    out = render(fleet, "table", IN_FORCE, "--width", "1000")
    assert "== partner-tbilisi: PASS ==" in out
    (row,) = [line for line in out.splitlines() if "must-match-drift" in line]
    assert row.startswith("WAIVED ") and "S4" in row
    assert (f"   waived (S4): partner runs the vendor build until the 2.1 upgrade; owner "
            f"alice; until 2025-06-30 ({fleet}:{WAIVER_LINE})") in out.splitlines()
    assert out.splitlines()[-2] == "4 passed, 0 failed, 0 could not be checked (--fail-on error)"
    assert out.splitlines()[-1] == "PASS: 4 of 4 nodes passed; 2 warnings, 2 waived; exit code 0"


def test_check_table_shows_the_unused_waiver_under_its_file(fleet: Path) -> None:
    fleet.write_text(fleet.read_text() + "  - {nodes: ghost, rule: r, reason: x, "
                     "expires: 2025-06-30}\n")
    out = render(fleet, "table")
    block = out.split(f"== {fleet} ==", 1)[1]
    assert "WARNING" in block and "waiver-unused" in block and "names no node" in block


def test_check_sarif_suppresses_waived_results(fleet: Path) -> None:
    document = json.loads(render(fleet, "sarif"))
    validate_sarif(document)
    sarif_run = document["runs"][0]
    rules = [r["id"] for r in sarif_run["tool"]["driver"]["rules"]]
    assert {"waiver-expired", "waiver-unused"} <= set(rules)
    (drift,) = [r for r in sarif_run["results"] if r["ruleId"] == "must-match-drift"]
    assert rules[drift["ruleIndex"]] == "must-match-drift"
    (suppression,) = drift["suppressions"]
    assert suppression["kind"] == "external" and suppression["status"] == "accepted"
    assert suppression["justification"] == "partner runs the vendor build until the 2.1 upgrade"
    assert suppression["properties"] == {"owner": "alice", "expires": "2025-06-30"}
    physical = suppression["location"]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "file://" + str(fleet)
    assert physical["region"] == {"startLine": WAIVER_LINE}
    assert all("suppressions" in r for r in sarif_run["results"]
               if r["ruleId"] in ("must-match-drift", "compose-listener-mesh-bound"))
    assert sarif_run["invocations"][0]["exitCode"] == 0


def test_check_sarif_expired_waiver_is_an_unsuppressed_result(fleet: Path) -> None:
    document = json.loads(render(fleet, "sarif", EXPIRED))
    validate_sarif(document)
    results = document["runs"][0]["results"]
    assert not any("suppressions" in r for r in results)
    expired = [r for r in results if r["ruleId"] == "waiver-expired"]
    assert len(expired) == 2 and {r["level"] for r in expired} == {"error"}
    assert expired[0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": WAIVER_LINE}


def test_check_junit_waived_testcase_is_skipped(fleet: Path) -> None:
    root = ET.fromstring(render(fleet, "junit"))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    tbilisi = suites["partner-tbilisi"]
    assert (tbilisi.get("failures"), tbilisi.get("skipped")) == ("0", "2")
    skipped = tbilisi.find("testcase[@name='must-match-drift']/skipped")
    assert skipped is not None and skipped.get("message") == (
        f"waived until 2025-06-30, owner alice ({fleet}:{WAIVER_LINE}): partner runs the "
        "vendor build until the 2.1 upgrade")
    assert "S4 differs from server" in (skipped.text or "")


def test_check_junit_expired_and_unused_waivers(fleet: Path) -> None:
    fleet.write_text(fleet.read_text() + "  - {nodes: ghost, rule: r, reason: x, "
                     "expires: 2025-08-30}\n")
    root = ET.fromstring(render(fleet, "junit", EXPIRED))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    failure = suites["partner-tbilisi"].find("testcase[@name='waiver-expired']/failure")
    assert failure is not None and "expired on 2025-06-30" in (failure.get("message") or "")
    unused = suites[str(fleet)]  # findings about no node: a suite of their own
    assert [c.get("name") for c in unused.iter("testcase")] == ["waiver-unused"]
    assert unused.find("testcase/failure") is None  # a warning, below --fail-on error


def test_check_markdown_lists_waived_findings(fleet: Path) -> None:
    out = render(fleet, "markdown")
    lines = out.splitlines()
    assert lines[2].startswith("**PASS**: ") and "no findings" not in lines[2]
    assert lines[2].endswith(" 2 waived; exit code 0")
    section = lines[lines.index("### Waived"):]
    assert section[2] == ("| node | rule | param | message | reason | owner | expires | "
                          "waiver |")
    (row,) = [line for line in section if "must-match-drift" in line]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[0:3] == ["partner-tbilisi", "must-match-drift", "S4"]
    assert cells[4:] == ["partner runs the vendor build until the 2.1 upgrade", "alice",
                         "2025-06-30", markdown.cell(f"{fleet}:{WAIVER_LINE}")]


def test_check_github_waived_finding_is_a_notice(fleet: Path) -> None:
    lines = render(fleet, "github").splitlines()
    _github("\n".join(lines))
    (drift,) = [line for line in lines if "title=must-match-drift" in line]
    assert drift.startswith("::notice ") and "title=must-match-drift (waived)" in drift
    assert "Waived until 2025-06-30, owner alice" in drift
    assert not any(line.startswith("::error") for line in lines)


# --- hostile waiver text -------------------------------------------------------------

HOSTILE = "\\e[31mRED\\e]52;c;aGk=\\a <img src=x> [click](http://evil) @org/team #123 |"


@pytest.mark.parametrize("fmt", ["table", "json", "junit", "sarif", "github", "markdown"])
def test_check_waiver_reason_is_escaped_in_every_format(fleet: Path, fmt: str) -> None:
    fleet.write_text(fleet.read_text().replace(
        "reason: partner runs the vendor build until the 2.1 upgrade",
        f'reason: "{HOSTILE}"'))
    done = subprocess.run([sys.executable, "-m", "awgcheck", "check", "-i", str(fleet),
                           "--today", IN_FORCE, "--format", fmt], capture_output=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    text = _assert_clean(done.stdout, ("x1b", "31mRED", "x07"))
    parse = {"json": json.loads, "junit": _junit, "github": _github, "markdown": _markdown,
             "sarif": lambda t: validate_sarif(json.loads(t))}.get(fmt)
    if parse is not None:
        parse(text)


def test_rules_list_and_show_describe_the_waiver_ids() -> None:
    code, out, _ = run("rules", "list")
    rows = {line.split()[0]: line.split(None, 3) for line in out.splitlines()[2:]}
    assert rows["waiver-expired"][1:3] == ["error", "waivers"]
    assert rows["waiver-unused"][1:3] == ["warning", "waivers"]
    code, out, _ = run("rules", "show", "waiver-expired")
    assert code == 0 and out.startswith("waiver-expired: A waiver has expired\n")
    assert "fix: Fix what the waived findings report" in out
