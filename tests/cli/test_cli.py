"""The command line: every exit code, the JSON contract, JUnit, --output."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import paths
import pytest
import yaml
from click.testing import CliRunner
from sshd_fleet import Tarpit

from awgcheck.cli import output
from awgcheck.cli.main import main

DEMO = paths.DEMO
CONF = "etc/amnezia/amneziawg/awg0.conf"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def make_fleet(tmp_path: Path, partners: dict[str, str | None]) -> Path:
    """A fleet whose server is the demo server; each partner gets the given
    conf text (None: the node folder exists but holds no conf)."""
    server = tmp_path / "nodes" / "server"
    shutil.copytree(DEMO / "nodes" / "server", server)
    nodes: dict[str, object] = {"server": {"local": "nodes/server"}}
    for name, text in partners.items():
        folder = tmp_path / "nodes" / name
        folder.mkdir(parents=True)
        if text is not None:
            (folder / CONF).parent.mkdir(parents=True)
            (folder / CONF).write_text(text)
        nodes[name] = {"local": f"nodes/{name}"}
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "server", "nodes": nodes}))
    return inventory


def partner_text(s4: str = "18") -> str:
    text = (DEMO / "nodes" / "partner-berlin" / CONF).read_text()
    return text.replace("S4 = 18", f"S4 = {s4}")


def test_cli_exit_0_when_everything_passes(tmp_path: Path) -> None:
    code, out, _ = run("check", "-i", str(make_fleet(tmp_path, {"p1": partner_text()})))
    assert code == 0, out
    assert out.rstrip().splitlines()[-1] == "PASS: 2 of 2 nodes passed; no findings; exit code 0"


def test_cli_exit_1_on_the_demo_fleet_with_symptom() -> None:
    code, out, _ = run("check", "-i", str(DEMO / "fleet.yaml"))
    assert code == 1
    assert "partner-tbilisi: FAIL" in out
    assert "S4 differs from server: 17 here, 18 on server" in out
    assert "looks up, carries nothing" in out
    assert "partner-berlin" not in out  # passing nodes stay quiet


def test_cli_exit_4_when_a_node_cannot_be_read(tmp_path: Path) -> None:
    inventory = make_fleet(tmp_path, {"p1": partner_text(), "gone": None})
    code, out, _ = run("check", "-i", str(inventory))
    assert code == 4
    assert "gone: COULD NOT CHECK (file_missing)" in out


def test_cli_exit_5_failures_and_unchecked(tmp_path: Path) -> None:
    inventory = make_fleet(tmp_path, {"p1": partner_text("17"), "gone": None})
    code, out, _ = run("check", "-i", str(inventory), "--format", "json")
    assert code == 5
    report = json.loads(out)
    statuses = {n["name"]: n["status"] for n in report["nodes"]}
    assert statuses == {"server": "pass", "p1": "fail", "gone": "error"}


def test_cli_not_a_conf_affects_only_that_node(tmp_path: Path) -> None:
    inventory = make_fleet(tmp_path, {"p1": partner_text("17"), "junk": "services: {}\n"})
    code, out, _ = run("check", "-i", str(inventory), "--format", "json")
    assert code == 5
    report = json.loads(out)
    junk = next(n for n in report["nodes"] if n["name"] == "junk")
    assert junk["error_class"] == "parse_error" and "not an AmneziaWG conf" in junk["error"]
    assert any(f["node"] == "p1" and f["param"] == "S4" for f in report["findings"])


@pytest.mark.parametrize(
    ("inventory_text", "message"),
    [
        ("source: server\nnodes: {server: {local: x, colour: red}}\n",
         "nodes: server: unknown key 'colour'"),
        ("source: nowhere\nnodes: {server: {local: x}}\n", "key 'source'"),
        ("source: server\nnodes: {server: {port: 22}}\n", "needs 'local'"),
        ("source: server\nnodes: [a, b]\n", "key 'nodes'"),
        ("source: server\nnodes: {server: {local: x, port: 'ssh'}}\n", "key 'port'"),
        ("source: [\n", "not valid YAML"),
        # Found by the fuzz run: Path.expanduser raised RuntimeError.
        ("source: server\nnodes: {server: {local: ~no-such-user-here/x}}\n",
         "key 'local'"),
    ],
    ids=["unknown-key", "bad-source", "no-transport", "nodes-list", "port-type", "yaml",
         "unknown-home"],
)
def test_cli_exit_2_inventory_errors_name_file_and_key(
        tmp_path: Path, inventory_text: str, message: str) -> None:
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(inventory_text)
    code, out, err = run("check", "-i", str(inventory))
    assert code == 2
    assert str(inventory) in err and message in err
    assert "Traceback" not in err and out == ""


def test_cli_exit_2_on_a_broken_rule_file(tmp_path: Path) -> None:
    rules = tmp_path / "bad.yaml"
    rules.write_text("rules:\n  - id: x\n    title: t\n    severity: fatal\n")
    code, _, err = run("check", "-i", str(DEMO / "fleet.yaml"), "--rules", str(rules))
    assert code == 2
    assert str(rules) in err and "Traceback" not in err


def test_cli_exit_2_on_a_missing_rules_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-rules"
    code, out, err = run("check", "-i", str(DEMO / "fleet.yaml"), "--rules", str(missing))
    assert code == 2 and out == ""
    assert f"--rules {missing}: no such file or folder" in err
    assert "Traceback" not in err


def test_cli_exit_2_output_folder_missing_before_any_node_is_read(tmp_path: Path) -> None:
    target = tmp_path / "no-such-dir" / "report.json"
    code, _, err = run("check", "-i", str(DEMO / "fleet.yaml"), "-o", str(target))
    assert code == 2 and "does not exist" in err


def test_cli_unknown_node_is_a_usage_error() -> None:
    code, _, err = run("check", "-i", str(DEMO / "fleet.yaml"), "--node", "nope")
    assert code == 2 and "no node named 'nope'" in err


def test_cli_node_filter_reads_the_source_but_reports_the_selection(tmp_path: Path) -> None:
    code, out, _ = run("check", "-i", str(DEMO / "fleet.yaml"), "--node", "partner-tbilisi",
                       "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert [n["name"] for n in report["nodes"]] == ["partner-tbilisi"]
    # The server was read: Tbilisi's S4 is compared with it.
    assert any(f["rule"] == "must-match-drift" and f["param"] == "S4" and f["status"] == "fail"
               for f in report["findings"])
    assert {f["node"] for f in report["findings"]} == {"partner-tbilisi"}


def test_cli_json_contract() -> None:
    _, out, _ = run("check", "-i", str(DEMO / "fleet.yaml"), "--format", "json")
    report = json.loads(out)
    assert report["schema"] == "awgcheck.report/v2"
    assert report["source"]["node"] == "server" and report["source"]["path"].endswith(CONF)
    assert report["summary"].items() >= {"nodes": 4, "checked": 4, "failed": 1, "errors": 0,
                                         "exit_code": 1}.items()
    assert [n["name"] for n in report["nodes"]] == [
        "server", "partner-berlin", "partner-tbilisi", "partner-almaty"]
    for node in report["nodes"]:
        assert set(node) >= {"name", "status", "error"}
        assert node["status"] in ("pass", "fail", "error")
    keys = {"rule", "node", "status", "severity", "param", "expected", "actual", "location",
            "message", "symptom"}
    for finding in report["findings"]:
        assert set(finding) >= keys
        assert finding["status"] in ("pass", "fail", "error", "skip")
        assert finding["severity"] in ("critical", "error", "warning", "info")
        if finding["location"] is not None:
            # the demo's nodes are local trees: no host, no port
            assert set(finding["location"]) == {"path", "line"}
    (drift,) = [f for f in report["findings"]
                if f["status"] == "fail" and f["severity"] == "critical"]
    assert drift["node"] == "partner-tbilisi" and drift["param"] == "S4"
    assert (drift["expected"], drift["actual"]) == ("18", "17")
    assert drift["location"]["line"] == 13
    assert "carries nothing" in drift["symptom"]


def test_cli_junit_one_testcase_per_node_and_rule(tmp_path: Path) -> None:
    inventory = make_fleet(tmp_path, {"p1": partner_text("17"), "gone": None})
    code, out, _ = run("check", "-i", str(inventory), "--format", "junit")
    assert code == 5
    root = ET.fromstring(out)
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"server", "p1", "gone"}
    p1_cases = [c.get("name") for c in suites["p1"].iter("testcase")]
    assert len(p1_cases) == len(set(p1_cases))  # one per rule
    failure = suites["p1"].find("testcase[@name='must-match-drift']/failure")
    assert failure is not None and "S4" in (failure.get("message") or "")
    assert suites["gone"].find("testcase/error") is not None
    assert suites["gone"].get("errors") == "1"


def test_cli_profile_protocol_turns_side_local_into_info(tmp_path: Path) -> None:
    text = partner_text().replace("Jc = 4", "Jc = 5")
    inventory = make_fleet(tmp_path, {"p1": text})
    assert run("check", "-i", str(inventory))[0] == 1
    code, out, _ = run("check", "-i", str(inventory), "--profile", "protocol",
                       "--format", "json")
    assert code == 0
    (jc,) = [f for f in json.loads(out)["findings"] if f["param"] == "Jc" and
             f["rule"] == "side-local-drift"]
    assert jc["severity"] == "info" and jc["status"] == "fail"


def test_cli_fail_on_warning(tmp_path: Path) -> None:
    text = partner_text().replace("S4 = 18", "S4=18")
    inventory = make_fleet(tmp_path, {"p1": text})
    assert run("check", "-i", str(inventory))[0] == 0
    assert run("check", "-i", str(inventory), "--fail-on", "warning")[0] == 1


def test_cli_output_is_written_atomically(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    code, out, _ = run("check", "-i", str(DEMO / "fleet.yaml"), "--format", "json",
                       "-o", str(target))
    assert code == 1 and out == ""
    assert json.loads(target.read_text())["summary"]["exit_code"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_output_interrupted_write_keeps_old_report(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous report\n")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        output.write_atomic(target, "new report\n")
    assert target.read_text() == "previous report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_output_written_in_pieces_is_the_pieces_joined_and_still_atomic(
        tmp_path: Path) -> None:
    """A report made in pieces (check's JSON) is written as they come; a
    render that fails part way leaves the previous report and no temporary
    file, as a whole text would."""
    target = tmp_path / "report.json"
    big = "x" * (output.PIECE + 7)  # more than one write's worth
    output.write_atomic(target, iter(["{", big, "}\n"]))
    assert target.read_text() == "{" + big + "}\n"

    def broken() -> Iterator[str]:
        yield "half a report"
        raise RuntimeError("render failed")

    with pytest.raises(RuntimeError):
        output.write_atomic(target, broken())
    assert target.read_text() == "{" + big + "}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def fleet_with_stuck_node(tmp_path: Path, tarpit: Tarpit) -> Path:
    """A fleet with a node that accepts TCP and never answers: its read
    blocks until the banner timeout (10 s) or the node's deadline."""
    inventory = make_fleet(tmp_path, {"p1": partner_text()})
    data = yaml.safe_load(inventory.read_text())
    data["nodes"]["stuck"] = {"host": tarpit.host, "port": tarpit.port, "user": "audit"}
    inventory.write_text(yaml.safe_dump(data))
    return inventory


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)],
                         ids=["SIGTERM", "SIGINT"])
def test_cli_signal_mid_run_exits_with_its_code_and_leaves_no_report(
        tmp_path: Path, signum: int, code: int) -> None:
    """A stuck node holds the run; a signal must end it with the signal's
    own exit code (not 1, "failures found"), without a report file and
    without a traceback."""
    target = tmp_path / "report.json"
    with Tarpit() as tarpit:
        proc = subprocess.Popen(
            [sys.executable, "-m", "awgcheck", "check", "-i",
             str(fleet_with_stuck_node(tmp_path, tarpit)), "-o", str(target),
             "--timeout", "60", "--ssh-config", "none"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            proc.wait(timeout=3)
            pytest.fail("the run should still be blocked on the stuck node")
        except subprocess.TimeoutExpired:
            pass
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == code, err
    assert f"awgcheck: interrupted by {signal.Signals(signum).name}".encode() in err
    assert not target.exists()
    assert b"Traceback" not in err
    assert list(tmp_path.glob(".report.json.*")) == []


def test_cli_stuck_node_hits_the_deadline(tmp_path: Path) -> None:
    with Tarpit() as tarpit:
        proc = subprocess.run(
            [sys.executable, "-m", "awgcheck", "check", "-i",
             str(fleet_with_stuck_node(tmp_path, tarpit)), "--timeout", "1",
             "--ssh-config", "none", "--format", "json"], capture_output=True, timeout=60)
    assert proc.returncode == 4
    stuck = next(n for n in json.loads(proc.stdout)["nodes"] if n["name"] == "stuck")
    # The banner wait is cut to what is left of the deadline: whichever
    # fires first names it.
    assert stuck["error_class"] in ("deadline_exceeded", "banner_timeout")


def test_cli_fifo_conf_is_not_a_file_at_once(tmp_path: Path) -> None:
    """A node tree whose conf is a FIFO (it once blocked the run until the
    deadline): refused before it is opened."""
    inventory = make_fleet(tmp_path, {"p1": partner_text()})
    fifo = tmp_path / "nodes" / "fifo" / CONF
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    data = yaml.safe_load(inventory.read_text())
    data["nodes"]["fifo"] = {"local": "nodes/fifo"}
    inventory.write_text(yaml.safe_dump(data))
    proc = subprocess.run(
        [sys.executable, "-m", "awgcheck", "check", "-i", str(inventory), "--timeout", "60",
         "--format", "json"], capture_output=True, timeout=30)
    assert proc.returncode == 4
    node = next(n for n in json.loads(proc.stdout)["nodes"] if n["name"] == "fifo")
    assert node["error_class"] == "not_a_file"
    assert node["error"].endswith("is a FIFO, not a regular file; not read")


def test_cli_diff_shows_bytes_in_hex() -> None:
    code, out, _ = run("diff", "-i", str(DEMO / "fleet.yaml"), "server", "partner-tbilisi")
    assert code == 1
    (row,) = [line for line in out.splitlines() if line.startswith("S4 ")]
    assert "18 (31 38)" in row and "17 (31 37)" in row and "DRIFT" in row


def test_cli_diff_of_files_spelling_vs_drift(tmp_path: Path) -> None:
    left, right = tmp_path / "a.conf", tmp_path / "b.conf"
    left.write_text("[Interface]\nH3 = 935511227\nS1 = 52\n")
    right.write_text("[Interface]\nH3 = 935 511 227\nS3 = 0\n")
    code, out, _ = run("diff", str(left), str(right), "--format", "json")
    assert code == 1
    verdicts = {p["param"]: p["verdict"] for p in json.loads(out)["params"]}
    assert verdicts["H3"] == "SPELLING"
    assert verdicts["S1"].startswith("DRIFT")
    assert verdicts["S3"] == "ABSENT"  # absent means 0, the same as S3 = 0


def test_cli_diff_says_a_rejected_value_does_not_load(tmp_path: Path) -> None:
    left, right = tmp_path / "server.conf", tmp_path / "partner.conf"
    left.write_text("[Interface]\nS4 = 18\nH4 = 2114195744\n")
    right.write_text("[Interface]\nS4 =\nH4 = 4445556667\n")
    code, out, _ = run("diff", str(left), str(right))
    assert code == 1
    rows = {line.split()[0]: line for line in out.splitlines() if line[:2] in ("S4", "H4")}
    assert "(empty) [rejected]" in rows["S4"] and "REJECTED" in rows["S4"]
    assert "REJECTED" in rows["H4"] and out.count("[rejected]") == 2
    assert "over 4294967295" in out and "does not load" in out
    code, out, _ = run("diff", str(left), str(right), "--format", "json")
    verdicts = {p["param"]: (p["verdict"], p["note"]) for p in json.loads(out)["params"]}
    assert verdicts["S4"][0] == "REJECTED" and "that file does not load" in verdicts["S4"][1]


def test_cli_inspect_conf_json(tmp_path: Path) -> None:
    conf = paths.ASSETS / "conf" / "numbers.conf"
    code, out, _ = run("inspect", "conf", str(conf), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["loads"] is False
    assert any(d["line"] == 2 and "0x12" in d["message"] for d in data["diagnostics"])
    (section,) = data["sections"]
    assert section["name"] == "Interface"
    jmin = next(k for k in section["keys"] if k["key"] == "Jmin")
    assert (jmin["raw"], jmin["effective"], jmin["line"]) == ("018", "18", 3)


def test_cli_inspect_conf_of_binary_garbage_does_not_load() -> None:
    garbage = paths.ASSETS / "conf" / "garbage-512.bin"
    code, out, _ = run("inspect", "conf", str(garbage), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["loads"] is False
    assert any(d["code"] == "setconf-reject" for d in data["diagnostics"])


def test_cli_inspect_missing_file_is_usage_error(tmp_path: Path) -> None:
    code, _, err = run("inspect", "conf", str(tmp_path / "nope.conf"))
    assert code == 2 and "file not found" in err


def test_cli_rules_list_and_show() -> None:
    code, out, _ = run("rules", "list")
    assert code == 0 and "must-match-drift" in out and "critical" in out
    code, out, _ = run("rules", "show", "must-match-drift", "--width", "1000")
    assert code == 0 and "symptom (S4)" in out and "awg-quick down" in out
    code, _, err = run("rules", "show", "nope")
    assert code == 2 and "no rule with id 'nope'" in err


def test_cli_python_dash_m_and_help() -> None:
    proc = subprocess.run([sys.executable, "-m", "awgcheck", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0
    assert "Exit codes" in proc.stdout and "check" in proc.stdout


def test_cli_check_source_option_replaces_the_inventory_source() -> None:
    source = DEMO / "nodes" / "partner-tbilisi" / CONF
    code, out, _ = run("check", "-i", str(DEMO / "fleet.yaml"), "--source", str(source),
                       "--node", "partner-tbilisi", "--format", "json")
    report = json.loads(out)
    assert (report["source"]["node"], report["source"]["path"]) == (None, str(source))
    # Compared with itself, Tbilisi's S4 = 17 no longer drifts.
    assert not [f for f in report["findings"] if f["rule"] == "must-match-drift"
                and f["status"] == "fail"]
    code, _, err = run("check", "-i", str(DEMO / "fleet.yaml"), "--source", "nowhere")
    assert code == 2
    assert err.startswith("awgcheck: error: --source: 'nowhere' is neither a node name")

