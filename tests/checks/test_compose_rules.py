"""Compose in rules: selector and option validation, the check types on
their edge cases, secrets in findings, and compose documents on nodes
(a broken compose file affects only that node's compose findings)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import paths
import pytest
import yaml
from memory_node import project_from_files

from awgcheck import audit, engine, inventory, nodes
from awgcheck.checks import compose_select
from awgcheck.collect.local import LocalTreeCollector
from awgcheck.documents.compose import NODE, ComposeDocument, is_secret_name
from awgcheck.documents.compose_read import read_compose
from awgcheck.errors import InventoryError, RuleError
from awgcheck.model import ArtifactKind, Finding, Severity, Status
from awgcheck.parse import awgconf
from awgcheck.parse.compose.config_json import parse_config
from awgcheck.ruleset import load as ruleset

DEMO = paths.DEMO
KEY = "2gtwTVAuutW+pbxXRX0K6mlCFQItiKz8qeS7LVj8PD0="
SOURCE = awgconf.parse(
    f"[Interface]\nS4 = 18\nJc = 4\nHeaderProtectionKey = {KEY}\n".encode(), "source.conf")
CONF = awgconf.parse(b"[Interface]\nAddress = 10.77.0.3/24, fd00::3/64\nS4 = 18\n", "node.conf")

RULE: dict[str, Any] = {
    "id": "my-compose-rule",
    "title": "t",
    "severity": "error",
    "description": "d",
    "remediation": "r",
    "select": {"artifact": "compose", "env": ["*_BIND"]},
    "check": {"type": "compose-equals", "against": "address", "part": "host"},
}


def load_rule(tmp_path: Path, select: dict[str, Any] | None = None,
              check: dict[str, Any] | None = None) -> ruleset.Rule:
    rule = copy.deepcopy(RULE)
    if select is not None:
        rule["select"] = select
    if check is not None:
        rule["check"] = check
    path = tmp_path / "compose-rules.yaml"
    path.write_text(yaml.safe_dump({"rules": [rule]}), encoding="utf-8")
    return ruleset.load_paths([path]).rules[0]


def evaluate(rule: ruleset.Rule, files: dict[str, str], profiles: tuple[str, ...] = (),
             extra_env: dict[str, str] | None = None) -> list[Finding]:
    doc = project_from_files(files, profiles=profiles, extra_env=extra_env)
    node = engine.NodeDocuments("node", {ArtifactKind.CONF: CONF, ArtifactKind.COMPOSE: doc})
    return engine.evaluate([rule], [node], engine.Source("server", SOURCE))


def failed(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.status is Status.FAIL]


# --- loading ----------------------------------------------------------------------

@pytest.mark.parametrize(("select", "check", "fragment"), [
    ({"artifact": "conf", "env": ["X"]}, {"type": "present"},
     "select: key 'env' is for compose rules only"),
    ({"artifact": ["compose", "conf"]}, None, "compose cannot be combined"),
    ({"artifact": "compose", "flag": "web.listen-address"}, None, "key 'flag' must name flags"),
    ({"artifact": "compose", "flag": "--a=b"}, None, "key 'flag' must name flags"),
    ({"artifact": "compose", "ports": "every"}, None, "key 'ports' must be all or"),
    ({"artifact": "compose", "services": []}, None, "key 'services' must be a non-empty"),
    ({"artifact": "compose", "env": [1]}, None, "key 'env' must be a non-empty string"),
    ({"artifact": "compose", "healthcheck": "yes"}, None, "key 'healthcheck' must be true"),
    ({"artifact": "compose", "params": ["S5"]}, None, "unknown param 'S5'"),
    (None, {"type": "compose-equals", "against": "mesh"}, "key 'against' must be source, "),
    (None, {"type": "compose-equals"}, "needs 'against' or 'never'"),
    (None, {"type": "compose-equals", "against": "literal"}, "key 'value' goes with"),
    (None, {"type": "compose-equals", "against": "address", "value": "x"},
     "key 'value' goes with"),
    (None, {"type": "compose-equals", "against": "conf", "param": "S9"}, "unknown param 'S9'"),
    (None, {"type": "compose-equals", "against": "address", "param": "S4"},
     "key 'param' goes with"),
    (None, {"type": "compose-equals", "against": "address", "part": "port"},
     "key 'part' must be value or host"),
    (None, {"type": "compose-equals", "never": ["", 0]}, "key 'never' must list strings"),
    (None, {"type": "compose-origin", "from": "file"}, "key 'from' must be env_file or"),
    (None, {"type": "compose-diagnostics", "level": "info"}, "key 'level' must be error or"),
    (None, {"type": "compose-diagnostics", "codes": [1]}, "key 'codes' must list"),
    (None, {"type": "compose-diagnostics", "colour": "red"}, "unknown key 'colour'"),
    ({"artifact": "compose"}, {"type": "range", "max": 3}, "works on conf, params, runtime"),
    ({"artifact": "conf"}, {"type": "compose-present"}, "works on compose, not on 'conf'"),
])
def test_compose_rule_errors_name_file_and_key(tmp_path: Path, select: dict[str, Any] | None,
                                               check: dict[str, Any] | None,
                                               fragment: str) -> None:
    with pytest.raises(RuleError) as caught:
        load_rule(tmp_path, select, check)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "compose-rules.yaml")), message
    assert "(id my-compose-rule)" in message and fragment in message, message


def test_compose_selector_keeps_every_part(tmp_path: Path) -> None:
    rule = load_rule(tmp_path, {"artifact": "compose", "services": ["relay", "exp*"],
                                "env": "*_BIND", "flag": "--web.listen-address",
                                "healthcheck": True, "ports": "with-listener",
                                "params": ["@must-match"]})
    selection = rule.select.compose
    assert selection is not None
    assert selection.services == ("relay", "exp*") and selection.env == ("*_BIND",)
    assert selection.flags == ("--web.listen-address",) and selection.healthcheck
    assert selection.ports == "with-listener" and "S4" in selection.params
    assert "AWG params" in selection.describe()


def test_compose_shipped_rules_load_with_compose_selectors() -> None:
    shipped = ruleset.load_shipped()
    compose = [r for r in shipped.rules if r.select.artifacts == (ArtifactKind.COMPOSE,)]
    assert {r.id for r in compose} >= {
        "compose-must-match-drift", "compose-side-local-drift", "compose-listener-mesh-bound",
        "compose-container-variable", "compose-file-errors"}
    assert all(r.select.compose is not None for r in compose)


# --- names, hosts -------------------------------------------------------------------

@pytest.mark.parametrize(("name", "param"), [
    ("AWG_S4", "S4"), ("WIREGUARD_H1", "H1"), ("S4", "S4"), ("JMIN", "Jmin"), ("JC", "Jc"),
    ("AWG_I5", "I5"), ("AWG_HEADERPROTECTIONKEY", "HeaderProtectionKey"),
    ("I1", None), ("awg_s4", None), ("AWG_S4_OLD", None), ("AWG_LISTENPORT", None),
    ("AWG_PRIVATEKEY", None), ("S5", None), ("WIREGUARD_Jc", None),
])
def test_compose_env_param_names(name: str, param: str | None) -> None:
    assert compose_select.env_param(name) == param


@pytest.mark.parametrize(("value", "host"), [
    ("10.77.0.3", "10.77.0.3"), ("10.77.0.3:9586", "10.77.0.3"), (":9586", ""),
    ("0.0.0.0:9586", "0.0.0.0"), ("[fd00::3]:9586", "fd00::3"), ("fd00::3", "fd00::3"),
    ("http://10.77.0.3:9586/metrics", "10.77.0.3"), ("", ""), ("::", "::"),
])
def test_compose_host_part(value: str, host: str) -> None:
    assert compose_select.host_part(value) == host


# --- check types --------------------------------------------------------------------

def test_compose_address_accepts_any_listed_address_and_names_them(tmp_path: Path) -> None:
    rule = load_rule(tmp_path)
    ok = evaluate(rule, {"compose.yaml": "services:\n  r:\n    image: x\n    environment:\n"
                                         "      A_BIND: '[fd00::3]:80'\n"})
    assert [f.status for f in ok] == [Status.PASS]
    bad = failed(evaluate(rule, {"compose.yaml": "services:\n  r:\n    image: x\n"
                                                 "    environment:\n      A_BIND: 10.0.0.9\n"}))
    assert bad[0].expected == "10.77.0.3, fd00::3" and bad[0].actual == "10.0.0.9"


def test_compose_literal_and_conf_param(tmp_path: Path) -> None:
    literal = load_rule(tmp_path, check={"type": "compose-equals", "against": "literal",
                                         "value": "7000"},
                        select={"artifact": "compose", "env": "RELAY_PORT"})
    files = {"compose.yaml": "services:\n  r:\n    image: x\n    environment:\n"
                             "      RELAY_PORT: '7001'\n      STUFF_S4: '17'\n"}
    (finding,) = failed(evaluate(literal, files))
    assert (finding.expected, finding.actual) == ("7000", "7001")
    conf = load_rule(tmp_path, check={"type": "compose-equals", "against": "conf",
                                      "param": "S4"},
                     select={"artifact": "compose", "env": "STUFF_S4"})
    (finding,) = failed(evaluate(conf, files))
    assert "differs from the node's conf: 17 here, 18 on the node's conf" in finding.message
    assert finding.param == "S4" and finding.location is not None
    assert finding.location.line == 6


def test_compose_present_absent(tmp_path: Path) -> None:
    select = {"artifact": "compose", "services": "relay", "env": ["RELAY_BIND", "*_PORT"],
              "params": ["S4"], "healthcheck": True}
    files = {"compose.yaml": "services:\n  relay:\n    image: x\n    environment:\n"
                             "      RELAY_BIND: 10.77.0.3\n      AWG_S4: '18'\n"
                             "  other:\n    image: y\n"}
    present = failed(evaluate(load_rule(tmp_path, select, {"type": "compose-present"}), files))
    assert sorted(f.message for f in present) == [
        "relay does not set *_PORT", "relay does not set healthcheck"]
    absent = failed(evaluate(load_rule(tmp_path, select, {"type": "compose-absent"}), files))
    assert sorted(f.param or "" for f in absent) == ["S4", "relay RELAY_BIND"]


def test_compose_inactive_services_only_when_asked(tmp_path: Path) -> None:
    files = {"compose.yaml": "services:\n  debug:\n    image: x\n    profiles: [debug]\n"
                             "    environment:\n      DEBUG_BIND: 0.0.0.0\n"}
    assert not failed(evaluate(load_rule(tmp_path), files))
    assert failed(evaluate(load_rule(tmp_path), files, profiles=("debug",)))
    rule = load_rule(tmp_path, {"artifact": "compose", "env": "*_BIND", "inactive": True})
    assert failed(evaluate(rule, files))


def test_compose_env_is_interpolated_from_extra_env(tmp_path: Path) -> None:
    files = {"compose.yaml": "services:\n  r:\n    image: x\n    environment:\n"
                             "      R_BIND: ${MESH_IP:-0.0.0.0}\n"}
    assert failed(evaluate(load_rule(tmp_path), files))
    assert not failed(evaluate(load_rule(tmp_path), files, extra_env={"MESH_IP": "10.77.0.3"}))


def test_compose_diagnostics_filtered_by_service(tmp_path: Path) -> None:
    rule = load_rule(tmp_path, {"artifact": "compose", "services": "b"},
                     {"type": "compose-diagnostics", "level": "warning",
                      "codes": ["container-variable-interpolated"]})
    files = {"compose.yaml": "services:\n  a:\n    image: x\n    command: echo $A\n"
                             "    environment:\n      A: '1'\n"
                             "  b:\n    image: y\n    command: echo $B\n"
                             "    environment:\n      B: '1'\n"}
    (finding,) = failed(evaluate(rule, files))
    assert finding.param == "b" and "$B in command" in finding.message
    assert finding.location is not None and finding.location.line == 9


# --- secrets ----------------------------------------------------------------------

def test_compose_secrets_never_appear_in_findings(tmp_path: Path) -> None:
    other = "Cwu7MW6ntRinU5dlrVuJW/js+m+r0D9xT6G74AMNEB8="
    files = {"compose.yaml": "services:\n  a:\n    image: x\n    environment:\n"
                             f"      AWG_HEADERPROTECTIONKEY: {other}\n"
                             "      API_TOKEN: hunter2hunter2\n"
                             f"      PEER_BIND: {other}\n"}
    rules = [
        load_rule(tmp_path, {"artifact": "compose", "params": ["HeaderProtectionKey"]},
                  {"type": "compose-equals", "against": "source"}),
        load_rule(tmp_path, {"artifact": "compose", "env": ["API_TOKEN", "PEER_BIND"]},
                  {"type": "compose-equals", "against": "literal", "value": "x"}),
        load_rule(tmp_path, {"artifact": "compose", "env": "*"}, {"type": "compose-absent"}),
    ]
    findings = [f for rule in rules for f in evaluate(rule, files)]
    hpk = [f for f in findings if f.param == "HeaderProtectionKey"]
    assert hpk and hpk[0].status is Status.FAIL and hpk[0].severity is Severity.ERROR
    text = json.dumps([f.__dict__ for f in findings], default=str)
    for secret in (KEY, other, "hunter2hunter2"):
        assert secret not in text
    assert "sha256:" in text


# --- documents on nodes --------------------------------------------------------------

def demo_node(tmp_path: Path, name: str = "partner-berlin", **fields: Any) -> inventory.Node:
    root = tmp_path / name
    shutil.copytree(DEMO / "nodes" / name, root)
    return inventory.Node(name=name, local=root,
                          compose=("/opt/partner-edge/compose.yaml",), **fields)


def test_compose_read_node_adds_a_compose_document(tmp_path: Path) -> None:
    node = demo_node(tmp_path, compose_profiles=("metrics",))
    read = nodes.read_node(node, nodes.RunOptions())
    assert read.error is None and read.documents is not None
    doc = read.documents.docs[ArtifactKind.COMPOSE]
    assert isinstance(doc, ComposeDocument)
    assert doc.path.endswith("partner-berlin/opt/partner-edge/compose.yaml")
    assert doc.project.services["exporter"].active
    assert not doc.project.services["debug-shell"].active
    # Reports name files as the collector does, not by their node path.
    where = doc.locate(doc.project.services["relay"].environment["RELAY_BIND"].location)
    assert where.path.endswith("partner-berlin/opt/partner-edge/compose.yaml")
    assert where.line == 36


@pytest.mark.parametrize(("damage", "fragment"), [
    ("missing", "does not exist"),
    ("not-yaml", "not valid YAML"),
    ("required", "MESH_IP"),
    ("unreadable", "larger than"),
])
def test_compose_broken_project_only_gives_compose_findings(tmp_path: Path, damage: str,
                                                            fragment: str) -> None:
    node = demo_node(tmp_path)
    stack = tmp_path / "partner-berlin" / "opt" / "partner-edge"
    if damage == "missing":
        (stack / "compose.yaml").unlink()
    elif damage == "not-yaml":
        (stack / "compose.yaml").write_text("services:\n  a: [\n")
    elif damage == "required":
        (stack / ".env").write_text("# MESH_IP forgotten\n")
    else:
        # Unreadable without being missing (works as root too): over the size cap.
        (stack / "awg.env").write_text("# padding\n" * 120_000)
    inv = inventory.Inventory(tmp_path / "fleet.yaml", (node,), source_path=None,
                              source_node=node.name)
    report = audit.audit(inv, ruleset.load_shipped())
    (result,) = report.nodes
    assert result.status is Status.FAIL  # checked, and failing: not "could not check"
    bad = [f for f in report.failing()]
    assert bad and all(f.rule.startswith("compose-") for f in bad), bad
    assert any(fragment in f.message for f in bad), [f.message for f in bad]


def test_compose_inventory_paths_must_be_absolute(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="key 'compose' must list absolute paths"):
        inventory.parse({"source": "a", "nodes": {"a": {"local": ".",
                                                        "compose": "stack/compose.yaml"}}},
                        tmp_path / "fleet.yaml")


def test_compose_local_tree_cannot_run_node_mode(tmp_path: Path) -> None:
    node = demo_node(tmp_path)
    doc = read_compose(LocalTreeCollector(node.local or tmp_path), node, mode=NODE)
    assert [d.code for d in doc.problems] == ["node-config-failed"]
    assert doc.failed and doc.project.services  # the file view is still there


def test_compose_parse_config_unescapes_and_borrows_lines() -> None:
    local = project_from_files({
        "compose.yaml": "services:\n  relay:\n    image: x\n    environment:\n"
                        "      RELAY_BIND: ${MESH_IP}\n      SCRIPT: echo $$HOME\n"
                        "    command: [\"--web.listen-address=${MESH_IP}:9586\"]\n"
                        "    ports: [\"${MESH_IP}:7000:7000\"]\n",
        ".env": "MESH_IP=10.77.0.3\n"}).project
    rendered = {"name": "stack", "services": {"relay": {
        "environment": {"RELAY_BIND": "10.77.0.9", "SCRIPT": "echo $$HOME", "EXTRA": None},
        "command": ["--web.listen-address=10.77.0.9:9586"],
        "ports": [{"mode": "ingress", "host_ip": "10.77.0.9", "target": 7000,
                   "published": "7000", "protocol": "tcp"}]}}}
    project = parse_config(rendered, local)
    relay = project.services["relay"]
    assert relay.environment["SCRIPT"].value == "echo $HOME"
    assert relay.environment["RELAY_BIND"].value == "10.77.0.9"
    assert relay.environment["RELAY_BIND"].raw == "${MESH_IP}"
    assert relay.environment["RELAY_BIND"].location.line == 5
    assert relay.environment["EXTRA"].value is None
    assert relay.command is not None and relay.command.words[0].endswith("10.77.0.9:9586")
    (port,) = relay.ports
    assert (port.host_ip, port.published, port.target, port.location.line) == (
        "10.77.0.9", "7000", "7000", 8)


@pytest.mark.parametrize(
    ("name", "secret"),
    [("SERVER_PUBLIC_KEY", False), ("PEER_PUBKEY", False), ("WG_PUBLICKEY", False),
     ("SERVER_PRIVATE_KEY", True), ("API_KEY", True), ("PUBLIC_KEY_PASSWORD", True),
     ("AWG_HEADERPROTECTIONKEY", True), ("RELAY_BIND", False)],
)
def test_secret_name_public_key_is_not_secret(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret
