"""Rule loading: a broken rule file is a hard error that names the file and
the bad key; a good one loads from a file, a folder or next to the catalog."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from awgcheck import engine, symptoms
from awgcheck.cli.main import main
from awgcheck.errors import RuleError
from awgcheck.model import ArtifactKind, Severity, Status
from awgcheck.parse import awgconf
from awgcheck.ruleset import load as ruleset

VALID: dict[str, Any] = {
    "id": "my-s4-cap",
    "title": "S4 is at most 64",
    "severity": "warning",
    "description": "Fleet policy keeps S4 small.",
    "remediation": "Lower S4.",
    "select": {"artifact": "conf", "params": ["S4"]},
    "check": {"type": "range", "max": 64},
}
DELETE = object()


def rule_with(**changes: Any) -> dict[str, Any]:
    """VALID with top-level keys replaced (DELETE removes one); nested
    changes use "select__params"-style names."""
    rule = copy.deepcopy(VALID)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = rule
        for parent in parents:
            target = target[parent]
        if value is DELETE:
            del target[leaf]
        else:
            target[leaf] = value
    return rule


def write_rules(path: Path, *rules: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"rules": list(rules)}, sort_keys=False), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(RuleError) as caught:
        ruleset.load_paths([path])
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    return message


# (id, changes to VALID, fragments the message must contain)
BROKEN_RULES = [
    pytest.param({"sevrity": "error"}, ["rule 1 (id my-s4-cap)", "unknown key 'sevrity'",
                                        "allowed: id, title, severity"],
                 id="unknown-rule-key"),
    pytest.param({"select__param": ["S4"]}, ["select: unknown key 'param'",
                                             "allowed: artifact, section, params"],
                 id="unknown-select-key"),
    pytest.param({"severity": 3}, ["key 'severity' must be a string, got an integer"],
                 id="severity-wrong-type"),
    pytest.param({"severity": "fatal"}, ["key 'severity' must be one of critical, error, "
                                         "warning, info, got 'fatal'"],
                 id="unknown-severity"),
    pytest.param({"title": DELETE}, ["missing required key 'title'"],
                 id="missing-required-key"),
    pytest.param({"select__artifact": "cfg"}, ["select: key 'artifact'", "got 'cfg'"],
                 id="unknown-artifact"),
    pytest.param({"select__section": "peer"}, ["select: key 'section' must be one of "
                                               "Interface, Peer, any, got 'peer'"],
                 id="section-is-case-sensitive"),
    pytest.param({"select__params": ["@must_match"]}, ["unknown param group '@must_match'",
                                                       "@must-match"],
                 id="unknown-param-group"),
    pytest.param({"select__params": ["S4", 4]}, ["key 'params' must list strings"],
                 id="param-not-a-string"),
    pytest.param({"check": {"type": "between", "max": 64}},
                 ["check: unknown check type 'between'", "range"],
                 id="unknown-check-type"),
    pytest.param({"check": {"max": 64}}, ["check: missing required key 'type'"],
                 id="check-without-type"),
    pytest.param({"check__maximum": 64}, ["check: unknown key 'maximum' for check type "
                                          "'range' (allowed: min, max, absent)"],
                 id="unknown-check-option"),
    pytest.param({"check__max": "64"}, ["check: key 'max' has the wrong type"],
                 id="check-option-wrong-type"),
    pytest.param({"check__max": True}, ["check: key 'max' has the wrong type"],
                 id="bool-is-not-an-integer"),
    pytest.param({"check__absent": "zero"}, ["key 'absent' must be skip, default or fail"],
                 id="unknown-absent-mode"),
    pytest.param({"check": {"type": "regex", "pattern": "(S4"}},
                 ["check: key 'pattern' is not a valid regular expression"],
                 id="invalid-regex"),
    pytest.param({"check": {"type": "regex", "pattern": "x", "target": "value"}},
                 ["key 'target' must be raw, effective or line"],
                 id="unknown-regex-target"),
    pytest.param({"check": {"type": "relation", "expr": "S1 plus 56 != S2"}},
                 ["check: key 'expr' must read like", "got 'S1 plus 56 != S2'"],
                 id="bad-relation-expr"),
    pytest.param({"check": {"type": "relation", "expr": "S9 < S2"}},
                 ["check: key 'expr' names unknown param 'S9'"],
                 id="relation-unknown-param"),
    pytest.param({"check": {"type": "file-fact", "fact": "tabs"}},
                 ["key 'fact' must be bom, crlf"],
                 id="unknown-file-fact"),
    pytest.param({"check": {"type": "implies", "when": {"param": "S1"},
                            "then": {"type": "range", "min": 1}}},
                 ["check: then: needs 'params'"],
                 id="implies-then-without-params"),
    pytest.param({"select__artifact": "params", "check": {"type": "loads"}},
                 ["check type 'loads' works on conf, not on 'params'"],
                 id="check-on-wrong-artifact"),
    pytest.param({"check": {"type": "equals-source", "compare": "bytes"}, "symptom": "x"},
                 ["check: key 'compare' must be effective or raw, got 'bytes'"],
                 id="unknown-compare-mode"),
    pytest.param({"check": {"type": "section-placement", "allowed": "interface"}},
                 ["key 'allowed' must be Interface or Peer, got 'interface'"],
                 id="placement-section-misspelled"),
    pytest.param({"check": {"type": "equals-source"}, "select__params": ["ListenPort"]},
                 ["drift rules (equals-source) need a 'symptom'",
                  "the symptom table has none for ListenPort"],
                 id="drift-rule-without-symptom"),
    pytest.param({"check": {"type": "equals-source"}, "symptom": {"S4": 1}},
                 ["symptom: 'S4' must be a string"],
                 id="symptom-not-text"),
    pytest.param({"profiles": {"lenient": {"severity": "info"}}},
                 ["profiles: unknown profile 'lenient' (known: strict, protocol)"],
                 id="unknown-profile"),
    pytest.param({"profiles": {"protocol": {"severity": "low"}}},
                 ["profiles: protocol: key 'severity' must be one of"],
                 id="unknown-profile-severity"),
    pytest.param({"tags": ["ok", 1]}, ["key 'tags' must list strings"],
                 id="tag-not-a-string"),
]


@pytest.mark.parametrize(("changes", "fragments"), BROKEN_RULES)
def test_ruleset_broken_rule_names_file_and_key(tmp_path: Path, changes: dict[str, Any],
                                                fragments: list[str]) -> None:
    path = write_rules(tmp_path / "my.yaml", rule_with(**changes))
    message = load_error(path)
    for fragment in fragments:
        assert fragment in message


def test_ruleset_error_names_the_rule_by_position_and_id(tmp_path: Path) -> None:
    path = write_rules(tmp_path / "my.yaml", VALID,
                       rule_with(id="second", severity="fatal"))
    assert f"{path}: rule 2 (id second): key 'severity'" in load_error(path)


@pytest.mark.parametrize(("where", "text"), [
    pytest.param("", "    on: conf\n", id="rule-level"),
    pytest.param("select: ", None, id="select"),
    pytest.param("check: ", None, id="check"),
])
def test_ruleset_bare_on_key_read_as_true_gets_a_hint(tmp_path: Path, where: str,
                                                      text: str | None) -> None:
    body = yaml.safe_dump({"rules": [VALID]}, sort_keys=False)
    if text is not None:
        body += text
    elif where == "select: ":
        body = body.replace("    - S4\n", "    - S4\n    on: conf\n")
    else:
        body = body.replace("    max: 64\n", "    max: 64\n    on: 64\n")
    path = tmp_path / "my.yaml"
    path.write_text(body, encoding="utf-8")
    message = load_error(path)
    assert f"{where}unknown key 'True'" in message
    assert "quote the key" in message


def test_ruleset_yaml_syntax_error_has_line_number(tmp_path: Path) -> None:
    path = tmp_path / "my.yaml"
    path.write_text("rules:\n  - id: x\n    title: [unclosed\n    severity: error\n",
                    encoding="utf-8")
    message = load_error(path)
    assert f"{path}: line 4: not valid YAML" in message


@pytest.mark.parametrize(("text", "fragment"), [
    pytest.param("- id: x\n", "a rule file must be a mapping with one key 'rules'",
                 id="top-level-list"),
    pytest.param("rules: []\nextra: 1\n", "a rule file must be a mapping with one key",
                 id="extra-top-level-key"),
    pytest.param("rules: {id: x}\n", "key 'rules' must be a list", id="rules-not-a-list"),
    pytest.param("rules:\n  - just text\n", "rule 1: a rule must be a mapping, got a string",
                 id="rule-not-a-mapping"),
    pytest.param("", "a rule file must be a mapping", id="empty-file"),
])
def test_ruleset_bad_file_shape(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "my.yaml"
    path.write_text(text, encoding="utf-8")
    assert fragment in load_error(path)


def test_ruleset_duplicate_ids_across_files(tmp_path: Path) -> None:
    write_rules(tmp_path / "a.yaml", VALID)
    write_rules(tmp_path / "b.yaml", rule_with(title="another"))
    with pytest.raises(RuleError) as caught:
        ruleset.load_paths([tmp_path])
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'b.yaml'}: rule 1 (id my-s4-cap)")
    assert "duplicate rule id 'my-s4-cap'" in message
    assert f"first defined in {tmp_path / 'a.yaml'}" in message


def test_ruleset_duplicate_id_with_the_shipped_catalog(tmp_path: Path) -> None:
    path = write_rules(tmp_path / "my.yaml", rule_with(id="must-match-drift"))
    mine = ruleset.load_paths([path]).rules
    with pytest.raises(RuleError, match="duplicate rule id 'must-match-drift'"):
        ruleset.RuleSet([*ruleset.load_shipped().rules, *mine])


def test_ruleset_load_paths_reads_a_folder_in_name_order(tmp_path: Path) -> None:
    write_rules(tmp_path / "b.yml", rule_with(id="from-b"))
    write_rules(tmp_path / "a.yaml", rule_with(id="from-a"), rule_with(id="from-a-2"))
    (tmp_path / "notes.txt").write_text("not a rule file")
    loaded = ruleset.load_paths([tmp_path])
    assert [r.id for r in loaded.rules] == ["from-a", "from-a-2", "from-b"]
    rule = loaded.by_id["from-a"]
    assert rule.severity is Severity.WARNING
    assert rule.select.artifacts == (ArtifactKind.CONF,)
    assert rule.select.params == ("S4",)
    assert rule.check.type == "range" and rule.check.options["max"] == 64
    assert rule.origin == f"{tmp_path / 'a.yaml'}: rule 1 (id from-a)"


def test_ruleset_params_are_canonicalised_and_groups_expanded(tmp_path: Path) -> None:
    path = write_rules(tmp_path / "my.yaml",
                       rule_with(select={"artifact": "conf", "params": ["s4", "@legacy"]}))
    rule = ruleset.load_paths([path]).rules[0]
    assert rule.select.params == ("S4", "J1", "J2", "J3", "Itime")
    assert rule.select.section == "Interface"


def test_ruleset_profile_and_symptom(tmp_path: Path) -> None:
    path = write_rules(tmp_path / "my.yaml", rule_with(
        check={"type": "equals-source"}, symptom={"s4": "data dropped", "default": "broken"},
        profiles={"protocol": {"severity": "info"}}))
    rule = ruleset.load_paths([path]).rules[0]
    assert rule.is_drift
    assert rule.severity_for("strict") is Severity.WARNING
    assert rule.severity_for("protocol") is Severity.INFO
    assert rule.symptom_for("S4") == "data dropped"
    assert rule.symptom_for("S1") == "broken"


def test_ruleset_drift_rule_takes_its_symptoms_from_the_table(tmp_path: Path) -> None:
    path = write_rules(tmp_path / "my.yaml", rule_with(
        check={"type": "equals-source"}, select__params=["S4", "Jc"]))
    rule = ruleset.load_paths([path]).rules[0]
    assert rule.symptom_for("S4") == symptoms.symptom_for("S4")
    assert rule.applicable_symptoms() == {"S4": symptoms.symptom_for("S4"),
                                          "Jc": symptoms.symptom_for("Jc")}


def test_ruleset_symptom_mapping_overrides_the_table_per_param(tmp_path: Path) -> None:
    path = write_rules(tmp_path / "my.yaml", rule_with(
        check={"type": "equals-source"}, select__params=["S4", "H4"],
        symptom={"s4": "data dropped"}))
    rule = ruleset.load_paths([path]).rules[0]
    assert rule.symptom_for("S4") == "data dropped"
    assert rule.symptom_for("H4") == symptoms.symptom_for("H4")


def test_ruleset_non_drift_rule_gets_no_table_symptom(tmp_path: Path) -> None:
    rule = ruleset.load_paths([write_rules(tmp_path / "my.yaml", VALID)]).rules[0]
    assert rule.symptom_for("S4") is None  # an S4 range failure is not a mismatch


@pytest.mark.parametrize("check", [
    pytest.param({"type": "range", "min": 1, "absent": "fail"}, id="range"),
    pytest.param({"type": "relation", "expr": "Jmin < Jmax", "absent": "fail"}, id="relation"),
    pytest.param({"type": "unique", "absent": "fail"}, id="unique"),
    pytest.param({"type": "non-overlapping", "absent": "fail"}, id="non-overlapping"),
])
def test_ruleset_absent_fail_fails_on_a_missing_param(tmp_path: Path,
                                                      check: dict[str, Any]) -> None:
    """`absent: fail` is accepted by every check that takes `absent`, so it must
    mean the same everywhere: a selected param that is not set fails."""
    path = write_rules(tmp_path / "my.yaml", rule_with(
        select={"artifact": "conf", "params": ["Jmin", "Jmax"]}, check=check))
    rule = ruleset.load_paths([path]).rules[0]
    conf = awgconf.parse(b"[Interface]\nJmin = 40\n", "node.conf")
    node = engine.NodeDocuments("node", {ArtifactKind.CONF: conf})
    findings = engine.evaluate([rule], [node], engine.Source("server", None))
    failed = [f for f in findings if f.status is Status.FAIL]
    assert [f.param for f in failed] == ["Jmax"], findings
    assert "Jmax is not set" in failed[0].message


def test_ruleset_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match=r"folder holds no \*\.yaml rule files"):
        ruleset.load_paths([tmp_path])


def test_ruleset_missing_and_non_utf8_files(tmp_path: Path) -> None:
    assert "cannot read rule file" in load_error(tmp_path / "missing.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("rules:\n  - id: caf\xe9\n".encode("latin-1"))
    assert "not UTF-8" in load_error(latin)


def test_ruleset_shipped_catalog_loads() -> None:
    shipped = ruleset.load_shipped()
    assert "must-match-drift" in shipped.by_id
    assert all(r.origin.startswith("rules/") for r in shipped.rules)


# --- the command line ------------------------------------------------------

def test_cli_rules_list_bad_file_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write_rules(tmp_path / "bad.yaml", rule_with(severity=3))
    result = CliRunner().invoke(main, ["rules", "list", "--rules", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"awgcheck: error: {path}: rule 1 (id my-s4-cap)")
    assert "key 'severity'" in lines[0]


def test_cli_rules_list_bad_file_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("rules:\n  - id: x\n    title: [unclosed\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "awgcheck", "rules", "list", "--rules",
                           str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert f"{path}:" in done.stderr and "not valid YAML" in done.stderr


def test_cli_rules_list_custom_file_with_builtin(tmp_path: Path) -> None:
    path = write_rules(tmp_path / "my.yaml", VALID)
    result = CliRunner().invoke(main, ["rules", "list", "--rules", str(path),
                                       "--rules", "builtin"])
    assert result.exit_code == 0, result.stderr
    assert "my-s4-cap" in result.stdout and "must-match-drift" in result.stdout
    alone = CliRunner().invoke(main, ["rules", "list", "--rules", str(path)])
    assert "my-s4-cap" in alone.stdout and "must-match-drift" not in alone.stdout


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"select__params": ["S44"]}, "unknown param 'S44'"),
        ({"check": {"type": "implies", "when": {"param": "HeaderProtectonKey"},
                    "then": {"type": "range", "params": ["S1"], "min": 12}}},
         "unknown param 'HeaderProtectonKey'"),
    ],
    ids=["select-typo", "implies-typo"],
)
def test_ruleset_param_typos_are_errors(tmp_path: Path, changes: dict[str, Any],
                                        fragment: str) -> None:
    assert fragment in load_error(write_rules(tmp_path / "my.yaml", rule_with(**changes)))


def test_ruleset_legacy_keys_may_be_selected(tmp_path: Path) -> None:
    rule = rule_with(select__params=["J1", "Itime"], check={"type": "absent"})
    (loaded,) = ruleset.load_paths([write_rules(tmp_path / "my.yaml", rule)]).rules
    assert loaded.select.params == ("J1", "Itime")


def test_engine_profile_severity_is_not_raised_by_a_spelling_downgrade() -> None:
    """Under --profile protocol side-local drift is info; a spelling-only
    difference must not come out louder (warning) than real drift."""
    rule = ruleset.load_shipped().by_id["side-local-drift"]
    source = awgconf.parse(b"[Interface]\nJc = 4\n", "source.conf")
    node = awgconf.parse(b"[Interface]\nJc = 04\n", "node.conf")
    findings = engine.evaluate([rule], [engine.NodeDocuments("n", {ArtifactKind.CONF: node})],
                               engine.Source("server", source), "protocol")
    (failed,) = [f for f in findings if f.status is Status.FAIL]
    assert failed.severity is Severity.INFO
