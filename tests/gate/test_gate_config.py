"""Gate config validation, the change diff and the fleet impact, unit by unit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from awgcheck import params
from awgcheck.errors import UsageError
from awgcheck.gate import change, config, fleet
from awgcheck.model import Severity, Status
from awgcheck.parse import awgconf
from awgcheck.ruleset import load as ruleset

RULES = ruleset.load_shipped().rules


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "awg0.conf").write_text("[Interface]\nS4 = 18\n")
    (tmp_path / "ci").mkdir()
    return tmp_path


def _load(repo: Path, text: str) -> config.GateConfig:
    path = repo / "awgcheck.yaml"
    path.write_text(text)
    return config.load(path, repo)


def test_gate_config_full_schema(repo: Path) -> None:
    config = _load(repo, "source: server/awg0.conf\n"
                         "consumers:\n  confs: [partners/*.conf]\n  templates: t/*.j2\n"
                         "exclude: [partners/old/*]\nrules: [builtin, ci]\n"
                         "profile: protocol\nfail_on: warning\n")
    assert config.source == "server/awg0.conf"
    assert config.consumers == {"confs": ("partners/*.conf",), "templates": ("t/*.j2",)}
    assert config.exclude == ("partners/old/*",)
    assert config.rules == ("builtin", "ci")
    assert (config.profile, config.fail_on) == ("protocol", Severity.WARNING)


@pytest.mark.parametrize(("text", "message"), [
    ("source: server/awg0.conf\nsorce: x\n", "unknown key 'sorce' (allowed: source, "
     "consumers, compose_env, compose_profiles, exclude, rules, profile, fail_on, "
     "allow_unmatched_consumers)"),
    ("source: server/awg0.conf\nallow_unmatched_consumers: yes please\n",
     "key 'allow_unmatched_consumers' must be true or false, got 'yes please'"),
    ("consumers: {confs: [a]}\n", "key 'source' must name the source of truth"),
    ("source: server/missing.conf\n", "key 'source': server/missing.conf is not a file in"),
    ("source: /etc/amnezia/amneziawg/awg0.conf\n", "key 'source': '/etc/amnezia/amneziawg/"
     "awg0.conf' must be relative to the repository root"),
    ("source: ../outside.conf\n", "must be relative to the repository root and stay inside"),
    ("source: server/awg0.conf\nconsumers: {conf: [a]}\n",
     "consumers: unknown key 'conf' (allowed: confs, templates, params, compose, "
     "compose_templates)"),
    ("source: server/awg0.conf\nconsumers: {confs: {a: 1}}\n",
     "consumers: key 'confs' must be a list of non-empty strings"),
    ("source: server/awg0.conf\nconsumers: [a]\n", "key 'consumers' must be a mapping"),
    ("source: server/awg0.conf\nprofile: lax\n", "key 'profile' must be one of strict, "
     "protocol, got 'lax'"),
    ("source: server/awg0.conf\nfail_on: fatal\n", "key 'fail_on' must be one of critical"),
    ("source: server/awg0.conf\nexclude: 3\n", "key 'exclude' must be a list"),
    ("source: server/awg0.conf\nrules: [/etc/rules]\n", "key 'rules': '/etc/rules' must be "
     "relative to the repository root"),
    ("- source\n", "expected a mapping with at least 'source'"),
    ("source: [\n", "line 2: not valid YAML"),
    ("source: server/awg0.conf\ncompose_env: [A=1]\n", "key 'compose_env' must be a "
     "mapping of variable names to values"),
    ("source: server/awg0.conf\ncompose_env: {MESH-IP: 1}\n",
     "compose_env: 'MESH-IP' is not a variable name"),
    ("source: server/awg0.conf\ncompose_env: {AWG_S4: [18]}\n",
     "compose_env: key 'AWG_S4' must be text or a number (quote it), got [18]"),
    ("source: server/awg0.conf\ncompose_env: {DEBUG: yes}\n",
     "compose_env: key 'DEBUG' must be text or a number (quote it), got True"),
    ("source: server/awg0.conf\ncompose_profiles: {a: 1}\n",
     "key 'compose_profiles' must be a list of non-empty strings"),
    ("source: server/awg0.conf\nconsumers: {compose: [{file: c.yaml, cnf: a.conf}]}\n",
     "consumers: compose: unknown key 'cnf' (allowed: file, conf)"),
    ("source: server/awg0.conf\nconsumers: {compose: [{conf: server/awg0.conf}]}\n",
     "consumers: compose: key 'file' must be a non-empty path, got None"),
    ("source: server/awg0.conf\nconsumers: {compose: [{file: c.yaml, conf: edge.conf}]}\n",
     "consumers: compose: key 'conf': edge.conf is not a file in"),
    ("source: server/awg0.conf\nconsumers: {compose: [{file: /c.yaml, conf: server/awg0.conf}]}\n",
     "consumers: compose: key 'file': '/c.yaml' must be relative"),
], ids=["unknown-key", "allow-unmatched-not-bool", "no-source", "source-missing",
        "source-absolute", "source-outside",
        "unknown-consumer-kind", "consumer-not-list", "consumers-not-mapping", "bad-profile",
        "bad-fail-on", "bad-exclude", "absolute-rules", "not-a-mapping", "bad-yaml",
        "compose-env-not-mapping", "compose-env-bad-name", "compose-env-list-value",
        "compose-env-bool-value", "compose-profiles-not-list", "compose-pair-unknown-key",
        "compose-pair-no-file", "compose-pair-conf-missing", "compose-pair-file-absolute"])
def test_gate_config_errors_name_file_and_key(repo: Path, text: str, message: str) -> None:
    with pytest.raises(config.GateConfigError) as caught:
        _load(repo, text)
    assert str(caught.value).startswith(str(repo / "awgcheck.yaml"))
    assert message in str(caught.value)
    assert isinstance(caught.value, UsageError)  # exit code 2


def test_gate_config_compose_keys(repo: Path) -> None:
    config = _load(repo, "source: server/awg0.conf\n"
                         "consumers:\n  compose:\n    - deploy/*/compose.yaml\n"
                         "    - {file: edge/compose.yaml, conf: server/awg0.conf}\n"
                         "compose_env: {MESH_IP: 10.77.0.3, AWG_S4: 18}\n"
                         "compose_profiles: [metrics]\n")
    assert config.consumers == {"compose": ("deploy/*/compose.yaml", "edge/compose.yaml")}
    assert config.compose_confs == {"edge/compose.yaml": "server/awg0.conf"}
    assert config.compose_env == {"MESH_IP": "10.77.0.3", "AWG_S4": "18"}
    assert config.compose_profiles == ("metrics",)


def test_gate_config_missing_file(repo: Path) -> None:
    with pytest.raises(config.GateConfigError, match="gate config not found"):
        config.load(repo / "nope.yaml", repo)


# --- the change diff ------------------------------------------------------------------


def _conf(text: str) -> awgconf.AwgConf:
    return awgconf.parse(text.encode(), "server.conf")


def test_gate_change_absent_equals_default_is_no_change() -> None:
    before = _conf("[Interface]\nS4 = 18\n")
    after = _conf("[Interface]\nS4 = 18\nS3 = 0\nH1 = 1\n")
    assert change.diff_params(before, after) == []


def test_gate_change_spelling_only_is_no_change() -> None:
    before = _conf("[Interface]\nS4 = 18\n")
    after = _conf("[Interface]\nS4 = 018\n")
    assert change.diff_params(before, after) == []


def test_gate_change_reports_class_symptom_and_location() -> None:
    before = _conf("[Interface]\nS4 = 18\nJc = 4\n")
    after = _conf("[Interface]\nJc = 5\n# moved\nS4 = 19\nRandomTrailers = on\n")
    changes = change.diff_params(before, after)
    assert [(c.param, c.role, c.before, c.after) for c in changes] == [
        ("Jc", params.Role.SIDE_LOCAL, "4", "5"),
        ("S4", params.Role.MUST_MATCH, "18", "19"),
        ("RandomTrailers", params.Role.MUST_MATCH, None, "on"),
    ]
    assert changes[1].location is not None and changes[1].location.line == 4
    assert changes[2].symptom == "the tunnel is dead in at least one direction"
    assert "absent (means off) to on" in change.describe(changes[2], "server.conf")
    [warning] = change.warnings(changes)
    assert "flips 2 must-match params at once (S4, RandomTrailers)" in warning


def test_gate_change_new_source_counts_every_param() -> None:
    changes = change.diff_params(None, _conf("[Interface]\nS4 = 18\nS1 = 0\n"))
    assert [c.param for c in changes] == ["S4"]  # S1 = 0 is the default anyway


# --- fleet impact ---------------------------------------------------------------------


def _report(nodes: list[tuple[str, str]], values: dict[str, str | None]) -> dict[str, Any]:
    findings = [{"rule": "must-match-drift", "node": node, "status": "pass",
                 "param": "S4", "actual": value} for node, value in values.items()]
    findings.append({"rule": "canonical-spelling", "node": "b", "status": "fail",
                     "param": "S4", "actual": "19"})  # not a drift rule: ignored
    return {"schema": "awgcheck.report/v1", "source": {"node": "server", "path": "x"},
            "nodes": [{"name": n, "status": s} for n, s in nodes], "findings": findings}


def test_gate_impact_from_values_defaults_and_fallback() -> None:
    changes = change.diff_params(_conf("[Interface]\nS4 = 18\n"),
                                 _conf("[Interface]\nS4 = 19\n"))
    report = _report([("server", "pass"), ("a", "pass"), ("b", "fail"), ("c", "pass"),
                      ("d", "pass"), ("e", "error")],
                     {"a": "18", "b": "+19", "c": None})
    impact = change.predict_impact(fleet.load(report, "r.json"), changes, RULES)
    assert impact is not None
    # a: 18; b: +19 reads as 19 (already there); c: absent means 0; d: no value
    # in the report, taken to equal the old source; e: unchecked.
    assert impact.nodes == ("a", "c", "d")
    assert impact.unknown == ("e",)
    assert impact.message == ("this change puts 3 nodes into must-match drift until "
                              "they are updated: a, c, d; 1 node could not be checked "
                              "in that report: e")


def test_gate_impact_none_without_must_match_change() -> None:
    changes = change.diff_params(_conf("[Interface]\nJc = 4\n"),
                                 _conf("[Interface]\nJc = 5\n"))
    assert change.predict_impact(fleet.load(_report([("a", "pass")], {}), "r.json"), changes,
                                 RULES) is None


@pytest.mark.parametrize("data", [[], {"schema": "other"}, {"schema": "awgcheck.report/v1"}])
def test_gate_impact_rejects_other_documents(data: object) -> None:
    with pytest.raises(UsageError, match="not an awgcheck JSON report"):
        fleet.load(data, "r.json")


def test_gate_fleet_report_is_read_once_into_typed_nodes() -> None:
    report = fleet.load(_report([("server", "pass"), ("a", "fail"), ("e", "error")],
                                {"a": "18"}), "r.json")
    assert report.source == "server"
    assert [(n.name, n.status) for n in report.nodes] == [
        ("server", Status.PASS), ("a", Status.FAIL), ("e", Status.ERROR)]
    [a] = [n for n in report.nodes if n.name == "a"]
    assert a.values_of(["must-match-drift"]) == {"S4": "18"}
    assert a.values_of([]) == {}


@pytest.mark.parametrize("text", [
    "source: " + "a" * 300 + "\n",
    "source: server/awg0.conf\nrules: [" + "r" * 300 + "]\n",
    "source: server/awg0.conf\nconsumers: {compose: [{file: c.yaml, conf: " + "c" * 300 + "}]}\n",
], ids=["source", "rules", "compose-conf"])
def test_gate_config_name_too_long_is_a_config_error(repo: Path, text: str) -> None:
    # Found by the fuzz harness (tests/fuzz): is_file() raised ENAMETOOLONG.
    with pytest.raises(config.GateConfigError, match=r"is not a (file|folder)"):
        config.load_rules(repo, _load(repo, text))


def test_gate_impact_reads_a_waived_drift_as_the_node_value() -> None:
    """A waived drift is still the node's real value: a node that already runs
    the new S4 under a waiver is not put into drift by the change."""
    changes = change.diff_params(_conf("[Interface]\nS4 = 18\n"),
                                 _conf("[Interface]\nS4 = 19\n"))
    report = _report([("server", "pass"), ("a", "pass"), ("w", "pass")], {"a": "18"})
    report["findings"].append({"rule": "must-match-drift", "node": "w", "status": "waived",
                               "param": "S4", "actual": "19"})
    impact = change.predict_impact(fleet.load(report, "r.json"), changes, RULES)
    assert impact is not None and impact.nodes == ("a",)
