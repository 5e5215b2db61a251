"""A source of truth that cannot be read is said once, with its reason.

Two real cases through the CLI: a source node nothing listens for (SSH to a
closed port) and a source that is a params document holding an error
reply. In every format the reason appears exactly once, no node repeats it
per rule (no CRITICAL "could not compare", no ``rule_error``), node-local
rules still run and judge, and the run exits 4 or 5 as documented.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import paths
import pytest
import yaml
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from sshd_fleet import free_port

from awgcheck.cli.main import main
from awgcheck.report import FORMATS

EDGE = "/opt/partner-edge/compose.yaml"
# What compares with the source in the shipped catalog, for a conf and compose node.
COMPARING = ["compose-must-match-drift", "compose-side-local-drift", "must-match-drift",
             "side-local-drift"]
# tbilisi drifts on S4 (needs the source: not evaluated) and binds its relay
# to 0.0.0.0 (node-local, judged against its own conf: still reported).
LOCAL_FAILURE = "compose-listener-mesh-bound"


def _fleet(tmp_path: Path, source: dict[str, object] | str, partners: tuple[str, ...]) -> Path:
    nodes: dict[str, object] = {}
    if isinstance(source, dict):
        nodes["server"] = source
    for name in partners:
        shutil.copytree(paths.DEMO / "nodes" / name, tmp_path / "nodes" / name)
        nodes[name] = {"local": f"nodes/{name}", "compose": [EDGE],
                       "compose_profiles": ["metrics"]}
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({
        "source": "server" if isinstance(source, dict) else source,
        "defaults": {"conf": "/etc/amnezia/amneziawg/awg0.conf"}, "nodes": nodes}))
    return inventory


def error_reply(tmp_path: Path, partners: tuple[str, ...]) -> tuple[Path, str, str]:
    (tmp_path / "params.json").write_text('{"error": "upstream timeout", "code": 503}\n')
    return _fleet(tmp_path, "params.json", partners), "'upstream timeout'", "parse_error"


def closed_port(tmp_path: Path, partners: tuple[str, ...]) -> tuple[Path, str, str]:
    server = {"host": "127.0.0.1", "port": free_port(), "user": "audit"}
    return _fleet(tmp_path, server, partners), "connection refused", "connection_refused"


CASES = {"error-reply": error_reply, "closed-port": closed_port}


def check(inventory: Path, fmt: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", "-i", str(inventory), "--format", fmt,
                                       "--ssh-config", "none", "--timeout", "10", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


# --- one mention per format: the reason, and no node repeating it ---------------------


def _lines(text: str, reason: str, _: str) -> None:
    assert text.count(reason) == 1, text
    assert "CRITICAL" not in text and "critical" not in text
    # the comparing rules are named once, in the one statement
    assert all(len(re.findall(rf"(?<![\w-]){rule}(?![\w-])", text)) == 1
               for rule in COMPARING), text
    assert LOCAL_FAILURE in text


def _github(text: str, reason: str, error_class: str) -> None:
    _lines(text, reason, error_class)
    [line] = [line for line in text.splitlines() if reason in line]
    assert line.startswith(f"::error title=awgcheck%3A source of truth could not be read "
                           f"({error_class})::")


def _json(text: str, reason: str, error_class: str) -> None:
    report = json.loads(text)
    source = report["source"]
    assert reason in source["error"] and source["error_class"] == error_class
    assert source["not_evaluated"] == COMPARING
    assert not [f for f in report["findings"] if reason in f["message"]
                or f["rule"] in COMPARING or f["status"] == "error"]
    assert LOCAL_FAILURE in {f["rule"] for f in report["findings"] if f["status"] == "fail"}
    # a node's own entry: only the source node, when it is a node, says its error
    mentions = [n["name"] for n in report["nodes"] if reason in (n["error"] or "")]
    assert mentions == ([] if error_class == "parse_error" else ["server"])
    assert report["summary"]["exit_code"] == 5


def _sarif(text: str, reason: str, _: str) -> None:
    [run] = json.loads(text)["runs"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert sum(reason in n["message"]["text"] for n in notes) == 1
    assert not [r for r in run["results"] if r["ruleId"] in COMPARING
                or reason in r["message"]["text"]]
    assert LOCAL_FAILURE in {r["ruleId"] for r in run["results"]}
    assert run["invocations"][0]["executionSuccessful"] is False


def _junit(text: str, reason: str, error_class: str) -> None:
    root = ET.fromstring(text)
    said = [e for e in root.iter() if e.tag in ("error", "failure")
            and reason in e.get("message", "")]
    assert len(said) == 1 and said[0].get("type") == error_class
    assert not [c for c in root.iter("testcase") if c.get("name") in COMPARING]
    assert LOCAL_FAILURE in {c.get("name") for c in root.iter("testcase")
                             if c.find("failure") is not None}


def _prometheus(text: str, reason: str, error_class: str) -> None:
    assert reason not in text  # labels hold classes, never messages
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(text) for s in f.samples}
    assert samples[("awgcheck_source_readable", ())] == 0
    assert samples[("awgcheck_source_unreadable", (("error_class", error_class),))] == 1
    assert samples[("awgcheck_failed_findings", (("rule", LOCAL_FAILURE),
                                                 ("severity", "error")))] == 1
    assert not [key for key in samples if any(v in COMPARING for _, v in key[1])]


MENTIONS = {"table": _lines, "markdown": _lines, "github": _github, "json": _json,
            "sarif": _sarif, "junit": _junit, "prometheus": _prometheus}


def test_every_format_has_its_mention_check() -> None:
    assert set(MENTIONS) == set(FORMATS.names)


@pytest.mark.parametrize("fmt", sorted(MENTIONS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_unreadable_source_is_said_once(tmp_path: Path, case: str, fmt: str) -> None:
    inventory, reason, error_class = CASES[case](tmp_path, ("partner-berlin",
                                                           "partner-tbilisi"))
    code, out = check(inventory, fmt)
    assert code == 5  # tbilisi's own failure, and the source not read
    assert "rule_error" not in out and "could not be read to compare" not in out
    MENTIONS[fmt](out, reason, error_class)


@pytest.mark.parametrize("case", sorted(CASES))
def test_unreadable_source_alone_is_exit_4_and_nodes_are_judged(tmp_path: Path,
                                                                 case: str) -> None:
    inventory, reason, error_class = CASES[case](tmp_path, ("partner-berlin",))
    code, out = check(inventory, "json")
    assert code == 4
    report = json.loads(out)
    assert report["source"]["error_class"] == error_class
    assert reason in report["source"]["error"]
    # berlin's node-local rules ran and passed; nothing says it was compared
    assert {n["name"]: n["status"] for n in report["nodes"]
            if n["name"] == "partner-berlin"} == {"partner-berlin": "pass"}
    ran = {f["rule"] for f in report["findings"] if f["node"] == "partner-berlin"}
    assert "conf-loads" in ran and not ran.intersection(COMPARING)


def test_unreadable_source_table_says_it_first(tmp_path: Path) -> None:
    inventory, _, _ = closed_port(tmp_path, ("partner-berlin",))
    code, out = check(inventory, "table", "--width", "1000")
    assert code == 4
    lines = out.splitlines()
    assert lines[0].startswith("INCOMPLETE: 1 of 2 nodes passed, 1 could not be checked, "
                               "source of truth not read")  # the verdict first
    assert lines[3] == "== source of truth server: COULD NOT READ (connection_refused) =="
    assert lines[4].endswith(": connection refused")
    assert lines[5] == ("   not evaluated on any node, as they compare with it: "
                        + ", ".join(COMPARING))
    assert "== server:" not in out  # not a second time as a node
    assert lines[-1] == lines[0]  # and again last


def test_unreadable_source_exit_code_of_the_process(tmp_path: Path) -> None:
    inventory, reason, _ = error_reply(tmp_path, ("partner-berlin",))
    done = subprocess.run([sys.executable, "-m", "awgcheck", "check", "-i", str(inventory)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 4, done.stderr
    assert done.stdout.count(reason) == 1
