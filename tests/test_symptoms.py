"""The symptom table is the one place a symptom text comes from.

The table itself (docs/triage.md), then every output that names a
symptom: check reports (JSON, SARIF, markdown, table), triage's verdict
and the gate's change summary must all print the table's text, and no
shipped rule file may carry a copy of it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from awgcheck import params, symptoms
from awgcheck.cli.main import main
from awgcheck.gate import change
from awgcheck.parse import awgconf
from awgcheck.ruleset import load as ruleset

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "fixtures" / "demo"
S4 = symptoms.symptom_for("S4")
# The whole table, worst first, as docs/rules.md shows it.
TABLE = (*symptoms.CLASSES, symptoms.OVERLAP, symptoms.SIDE_LOCAL)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


# --- the table ---------------------------------------------------------------------

def test_symptoms_s4_is_the_field_incident_wording() -> None:
    assert S4 == ("handshakes complete and keep refreshing, but every data packet is "
                  "silently dropped: looks up, carries nothing")
    assert symptoms.symptom_for("h4") == S4  # any spelling of the name


def test_symptoms_every_obfuscation_param_has_exactly_one_class() -> None:
    for name in params.OBFUSCATION_PARAMS:
        owners = [c.id for c in (*symptoms.CLASSES, symptoms.SIDE_LOCAL) if name in c.params]
        assert len(owners) == 1, (name, owners)
    assert symptoms.class_of("ListenPort") is None
    with pytest.raises(KeyError):
        symptoms.symptom_for("PrivateKey")


def test_symptoms_docs_table_is_the_code_table() -> None:
    """docs/rules.md shows the table; it must say what the code says."""
    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 3:
            rows[cells[0]] = cells[2]
    for cls in (*symptoms.CLASSES, symptoms.SIDE_LOCAL):
        assert rows.get(cls.id) == cls.symptom, cls.id


def test_symptoms_side_local_findings_carry_the_table_text(tmp_path: Path) -> None:
    """Every side-local failure, in conf and runtime-free check output alike,
    prints the table's side-local text, not a rule's own wording."""
    fleet = tmp_path / "fleet"
    shutil.copytree(DEMO, fleet)
    conf = fleet / "nodes" / "partner-tbilisi" / "etc" / "amnezia" / "amneziawg" / "awg0.conf"
    conf.write_text(conf.read_text().replace("Jc = ", "Jc = 1", 1))
    code, out = run("check", "-i", str(fleet / "fleet.yaml"), "--format", "json")
    assert code == 1
    side_local = [f for f in json.loads(out)["findings"]
                  if f["status"] == "fail" and f["param"] in params.SIDE_LOCAL_PARAMS]
    assert side_local, out
    assert {f["symptom"] for f in side_local} == {symptoms.SIDE_LOCAL.symptom}


def test_symptoms_table_is_ordered_worst_first() -> None:
    order = [c.expects for c in TABLE]
    rank = [symptoms.Expect.NO_HANDSHAKE, symptoms.Expect.UP_BUT_DEAD, symptoms.Expect.DEAD,
            symptoms.Expect.INVISIBLE, symptoms.Expect.PARTIAL, symptoms.Expect.HEALTHY]
    assert order == sorted(order, key=rank.index)
    assert TABLE[0].id == "HeaderProtectionKey"


def test_symptoms_no_shipped_rule_file_copies_a_table_text() -> None:
    texts = [c.symptom for c in TABLE]
    for path in (REPO / "rules").glob("*.yaml"):
        body = path.read_text(encoding="utf-8")
        assert not [t for t in texts if t in body], path.name


def test_symptoms_shipped_drift_rules_read_the_table() -> None:
    shipped = ruleset.load_shipped()
    for rule_id in ("must-match-drift", "runtime-must-match-source",
                    "compose-must-match-drift"):
        rule = shipped.by_id[rule_id]
        for name in params.MUST_MATCH_PARAMS:
            assert rule.symptom_for(name) == symptoms.symptom_for(name), (rule_id, name)


# --- every output path ---------------------------------------------------------------

def test_symptoms_check_json_carries_the_table_text() -> None:
    _, out = run("check", "-i", str(DEMO / "fleet.yaml"), "--format", "json")
    [drift] = [f for f in json.loads(out)["findings"]
               if f["status"] == "fail" and f["param"] == "S4" and f["severity"] == "critical"]
    assert drift["symptom"] == S4


@pytest.mark.parametrize("fmt", ["table", "sarif", "markdown", "github"])
def test_symptoms_check_reports_print_the_table_text(fmt: str) -> None:
    _, out = run("check", "-i", str(DEMO / "fleet.yaml"), "--format", fmt)
    assert S4 in out


def test_symptoms_triage_json_headline_carries_the_table_text(tmp_path: Path) -> None:
    shutil.copytree(DEMO, tmp_path / "demo")
    code, out = run("triage", "partner-tbilisi", "-i", str(tmp_path / "demo" / "fleet.yaml"),
                    "--format", "json")
    assert code == 1
    verdict = json.loads(out)["verdict"]
    assert verdict["cause"] == "S4/H4"
    assert verdict["headline"] == f"S4 differs (17 vs 18): {S4}."


def test_symptoms_gate_summary_carries_the_table_text() -> None:
    before = awgconf.parse(b"[Interface]\nS4 = 18\nJc = 4\n", "server.conf")
    after = awgconf.parse(b"[Interface]\nS4 = 19\nJc = 5\n", "server.conf")
    changes = change.diff_params(before, after)
    summary = change.summary(changes, "server.conf", None, None, [])
    by_param = {c.param: c for c in summary.changes}
    assert by_param["S4"].symptom == S4 and S4 in by_param["S4"].text
    assert by_param["Jc"].symptom == symptoms.SIDE_LOCAL.symptom
