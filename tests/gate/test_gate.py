"""End to end: ``awgcheck gate`` in a scratch git repository.

The base commit holds a server conf, a partner conf, a partner template
and a params document, all consistent (compose tests add a compose
project). Head commits then change params in one place or everywhere, and
the gate's exit code, annotations, SARIF and change summary are checked
against the exact files and lines.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import paths
import pytest
import yaml
from click.testing import CliRunner

from awgcheck.cli.main import main

REPO_ROOT = paths.ROOT
# The official schema, vendored (see tests/assets/sarif/README.md).
SARIF_SCHEMA = REPO_ROOT / "tests" / "assets" / "sarif" / "sarif-schema-2.1.0.json"

SERVER = """\
# awg0 on the central server: the source of truth
[Interface]
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=
Address = 10.77.0.1/24
ListenPort = 51820
Jc = 4
Jmin = 40
Jmax = 70
S1 = 52
S2 = 140
S3 = 36
S4 = 18
H1 = 1020325451
H2 = 1288052141
H3 = 1766607858
H4 = 2114195744
"""
S4_LINE = {"server/awg0.conf": 12, "partners/berlin.conf": 11,
           "templates/partner.conf.j2": 11, "control-plane/params.json": 10}

BERLIN = """\
# partner-berlin, rendered by the installer
[Interface]
PrivateKey = cjjYCtF/znRjGiPd8Hb0wA3bOu3OkbGfI4F+wF21Lrw=
Address = 10.77.0.2/32
Jc = 4
Jmin = 40
Jmax = 70
S1 = 52
S2 = 140
S3 = 36
S4 = 18
H1 = 1020325451
H2 = 1288052141
H3 = 1766607858
H4 = 2114195744

[Peer]
PublicKey = chj0F7DDM/YyemNw5hM9WAaNtjEkTnqC5OXSIJzMcyA=
Endpoint = 203.0.113.1:51820
AllowedIPs = 10.77.0.0/24
"""

TEMPLATE = """\
# partner template (Jinja): placeholders are filled in per partner
[Interface]
PrivateKey = {{ private_key }}
Address = {{ mesh_ip }}/32
Jc = 4
Jmin = 40
Jmax = 70
S1 = 52
S2 = 140
S3 = ${S3}
S4 = 18
H1 = 1020325451
H2 = 1288052141
H3 = 1766607858
H4 = 2114195744
{% for peer in peers %}
[Peer]
PublicKey = {{ peer.public_key }}
AllowedIPs = {{ peer.allowed_ips }}
{% endfor %}
"""

PARAMS = """\
{
  "epoch": 41,
  "params": {
    "Jc": 4,
    "Jmin": 40,
    "Jmax": 70,
    "S1": 52,
    "S2": 140,
    "S3": 36,
    "S4": 18,
    "H1": 1020325451,
    "H2": 1288052141,
    "H3": 1766607858,
    "H4": 2114195744
  }
}
"""

CONFIG = {
    "source": "server/awg0.conf",
    "consumers": {
        "confs": ["partners/*.conf"],
        "templates": ["templates/*.j2"],
        "params": ["control-plane/*.json"],
    },
}
# A glob that matches nothing fails the gate: compose tests add the glob
# with the files it matches.
COMPOSE_CONFIG = dict(CONFIG, consumers={**CONFIG["consumers"],  # type: ignore[dict-item]
                                         "compose": ["deploy/**/compose.yaml"]})

FILES = {"server/awg0.conf": SERVER, "partners/berlin.conf": BERLIN,
         "templates/partner.conf.j2": TEMPLATE, "control-plane/params.json": PARAMS,
         "awgcheck.yaml": yaml.safe_dump(CONFIG)}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def edit(repo: Path, name: str, old: str, new: str) -> dict[str, str]:
    text = (repo / name).read_text()
    assert old in text, f"{old!r} not in {name}"
    return {name: text.replace(old, new)}


def everywhere(repo: Path, conf_old: str, conf_new: str, json_old: str,
               json_new: str) -> dict[str, str]:
    files: dict[str, str] = {}
    for name in ("server/awg0.conf", "partners/berlin.conf", "templates/partner.conf.j2"):
        files.update(edit(repo, name, conf_old, conf_new))
    files.update(edit(repo, "control-plane/params.json", json_old, json_new))
    return files


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    folder = tmp_path / "mesh-config"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    commit(folder, FILES, "base: consistent params")
    return folder


@pytest.fixture
def base(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD")


def run_gate(repo: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(main, ["gate", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def validate_sarif(document: dict[str, Any]) -> None:
    assert SARIF_SCHEMA.is_file(), f"official SARIF schema not found at {SARIF_SCHEMA}"
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(document, schema, cls=jsonschema.Draft7Validator,
                        format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


# --- the change in one place only ------------------------------------------------


def test_gate_consistent_base_passes(repo: Path, base: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run_gate(repo, monkeypatch, "--base", base)
    assert code == 0, out + err
    assert f"No param of server/awg0.conf changed since {base[:12]}." in out


def test_gate_s4_changed_in_server_only_annotates_stale_consumers(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, edit(repo, "server/awg0.conf", "S4 = 18", "S4 = 19"), "rotate S4")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "github")
    assert code == 1
    errors = [line for line in out.splitlines() if line.startswith("::error")]
    stale = ("partners/berlin.conf", "templates/partner.conf.j2", "control-plane/params.json")
    assert sorted(errors) == sorted(
        f"::error file={name},line={S4_LINE[name]},title=must-match-drift::S4 differs from "
        f"server/awg0.conf: 18 here, 19 on server/awg0.conf (drift: the tunnels will "
        "disagree)%0ASymptom: handshakes complete and keep refreshing, but every data "
        "packet is silently dropped: looks up, carries nothing%0AFix: Set the param to the "
        "source's value in the node's conf, then recreate the interface (awg-quick down "
        "awg0 && awg-quick up awg0); awg syncconf does not clear a param removed from the "
        "file." for name in stale)
    [change] = [line for line in out.splitlines() if "title=must-match change" in line]
    assert change.startswith("::warning file=server/awg0.conf,line=12,"
                             "title=must-match change%3A S4::S4 (must-match) changes from "
                             "18 to 19 in server/awg0.conf.")


def test_gate_s4_changed_in_server_only_sarif_validates(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, edit(repo, "server/awg0.conf", "S4 = 18", "S4 = 19"), "rotate S4")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "sarif")
    assert code == 1
    document = json.loads(out)
    validate_sarif(document)
    run = document["runs"][0]
    places = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
               r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"],
               r["level"]) for r in run["results"]}
    assert places == {(name, S4_LINE[name], "must-match-drift", "error") for name in
                      ("partners/berlin.conf", "templates/partner.conf.j2",
                       "control-plane/params.json")}
    rule_ids = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert {"must-match-drift", "params-document-valid", "conf-loads"} <= rule_ids


def test_gate_placeholders_in_templates_are_left_alone(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, edit(repo, "templates/partner.conf.j2", "S4 = 18", "S4 = {{ s4 }}"),
           "template S4")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 0, out
    report = json.loads(out)
    template = [f for f in report["findings"] if f["node"] == "templates/partner.conf.j2"]
    assert not [f for f in template if f["status"] == "fail"]
    # One listing for the file, not one skip per rule and param: `PrivateKey
    # = {{ private_key }}` (which awg setconf would reject as written) and the
    # `{% for %}` lines are only read once rendered.
    [listing] = [f for f in template if f["rule"] == "template-placeholders"]
    assert (listing["status"], listing["severity"]) == ("skip", "info")
    assert listing["message"] == (
        "not compared: 8 template placeholders, known only once rendered: PrivateKey "
        "(line 3), Address (line 4), S3 (line 10), S4 (line 11), line 16, PublicKey "
        "(line 18), AllowedIPs (line 19), line 20; every literal value was checked")
    assert listing["location"] == {"path": "templates/partner.conf.j2", "line": 3}
    assert not [f for f in template if "is a template placeholder" in f["message"]]
    # The literal values beside them are still compared.
    passed = {(f["rule"], f["param"]) for f in template if f["status"] == "pass"}
    assert {("must-match-drift", "S1"), ("must-match-drift", "H4")} <= passed
    code, out, _ = run_gate(repo, monkeypatch, "--base", base)
    assert ("Not compared (template placeholders):\n   templates/partner.conf.j2: not "
            "compared: 8 template placeholders") in out


# --- the change everywhere ----------------------------------------------------------


def test_gate_s4_changed_everywhere_passes_with_rollout_warning(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, everywhere(repo, "S4 = 18", "S4 = 19", '"S4": 18', '"S4": 19'),
           "rotate S4 everywhere")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base)
    assert code == 0, out
    assert ("S4 (must-match) changes from 18 to 19 in server/awg0.conf. Until every node "
            "applies it, the tunnels between updated and not-yet-updated nodes: handshakes "
            "complete and keep refreshing, but every data packet is silently dropped: looks "
            "up, carries nothing. Roll it out server first, then every node.") in out
    assert "WARNING" not in out  # one must-match flip: no multi-flip warning

    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "markdown")
    assert code == 0
    assert "**PASS**" in out
    assert ("| S4 | must-match | `18` | `19` | handshakes complete and keep refreshing, but "
            "every data packet is silently dropped: looks up, carries nothing |") in out


def test_gate_two_must_match_flips_warn(repo: Path, base: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    files = everywhere(repo, "S4 = 18", "S4 = 19", '"S4": 18', '"S4": 19')
    for name in files:
        (repo / name).write_text(files[name])
    files = everywhere(repo, "H4 = 2114195744", "H4 = 2114195745", '"H4": 2114195744',
                       '"H4": 2114195745')
    commit(repo, files, "rotate S4 and H4 in one go")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "github")
    assert code == 0, out
    assert ("::warning title=awgcheck gate%3A rollout::this change flips 2 must-match params "
            "at once (S4, H4): each such flip should ship alone, server first") in out
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    summary = json.loads(out)["gate"]
    assert [(c["param"], c["class"], c["before"], c["after"]) for c in summary["changes"]] == [
        ("S4", "must-match", "18", "19"), ("H4", "must-match", "2114195744", "2114195745")]


def test_gate_side_local_change_is_classed_and_does_not_warn(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, everywhere(repo, "Jc = 4", "Jc = 5", '"Jc": 4', '"Jc": 5'), "more junk")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 0
    summary = json.loads(out)["gate"]
    [change] = summary["changes"]
    assert (change["param"], change["class"]) == ("Jc", "side-local")
    assert change["symptom"].startswith("no data-plane effect")
    assert summary["warnings"] == []


# --- the base ----------------------------------------------------------------------------


def test_gate_default_base_is_the_merge_base_with_main(repo: Path, base: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    git(repo, "checkout", "-q", "-b", "rotate-s4")
    commit(repo, everywhere(repo, "S4 = 18", "S4 = 19", '"S4": 18', '"S4": 19'), "rotate")
    code, out, _ = run_gate(repo, monkeypatch, "--format", "json")
    assert code == 0
    summary = json.loads(out)["gate"]
    assert summary["base"] == {"ref": "main", "commit": base}
    assert [c["param"] for c in summary["changes"]] == ["S4"]


def test_gate_uncommitted_change_counts_too(repo: Path, base: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # The pre-commit hook runs before the commit exists: the work tree is checked.
    (repo / "server" / "awg0.conf").write_text(SERVER.replace("S4 = 18", "S4 = 19"))
    code, out, _ = run_gate(repo, monkeypatch)
    assert code == 1
    assert "S4 (must-match) changes from 18 to 19" in out


def test_gate_from_a_subfolder_uses_the_repository_root(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, edit(repo, "server/awg0.conf", "S4 = 18", "S4 = 19"), "rotate S4")
    code, out, _ = run_gate(repo / "partners", monkeypatch, "--base", base, "--format",
                            "github")
    assert code == 1
    assert "::error file=partners/berlin.conf,line=11,title=must-match-drift::" in out


def test_gate_unknown_base_is_a_usage_error(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_gate(repo, monkeypatch, "--base", "no-such-ref")
    assert code == 2
    assert "--base no-such-ref: not a commit in" in err


def test_gate_outside_a_repository_is_a_usage_error(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_gate(tmp_path, monkeypatch)
    assert code == 2
    assert "not inside a git repository" in err


# --- impact on the fleet ---------------------------------------------------------------


def _fleet_report(tmp_path: Path, s4_by_node: dict[str, str]) -> Path:
    """A real `check --format json` report over local node trees."""
    nodes: dict[str, Any] = {}
    for name, s4 in s4_by_node.items():
        conf = tmp_path / "fleet" / name / "etc/amnezia/amneziawg/awg0.conf"
        conf.parent.mkdir(parents=True)
        conf.write_text(SERVER.replace("S4 = 18", f"S4 = {s4}"))
        nodes[name] = {"local": name}
    inventory = tmp_path / "fleet" / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "server", "nodes": nodes}))
    result = CliRunner().invoke(main, ["check", "-i", str(inventory), "--format", "json"])
    report = tmp_path / "fleet-report.json"
    report.write_text(result.stdout)
    return report


def test_gate_fleet_report_predicts_nodes_put_into_drift(
        repo: Path, base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = _fleet_report(tmp_path, {"server": "18", "edge-a": "18", "edge-b": "18",
                                      "edge-c": "19"})
    commit(repo, everywhere(repo, "S4 = 18", "S4 = 19", '"S4": 18', '"S4": 19'), "rotate")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--fleet-report", str(report),
                            "--format", "markdown")
    assert code == 0, out
    assert ("> **Fleet impact:** this change puts 2 nodes into must-match drift until they "
            "are updated: edge-a, edge-b") in out


def test_gate_fleet_report_must_be_a_check_report(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"hello": 1}')
    code, _, err = run_gate(repo, monkeypatch, "--fleet-report", str(bogus))
    assert code == 2
    assert "not an awgcheck JSON report" in err


# --- consumers ---------------------------------------------------------------------------


def test_gate_broken_params_document_fails_at_its_line(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, edit(repo, "control-plane/params.json", '"S4": 18', '"S4": "18"'), "oops")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "github")
    assert code == 1
    assert ('::error file=control-plane/params.json,line=10,title=params-document-valid::'
            'line 10: S4 is the string "18" where a number is expected') in out


# --- compose consumers ---------------------------------------------------------------

COMPOSE = """\
# partner-berlin's edge stack
services:
  wg-easy:
    image: ghcr.io/w0rng/amnezia-wg-easy
    environment:
      WG_HOST: 203.0.113.2
      S4: "18"
      H4: "2114195744"
  relay:
    image: relay
    environment:
      RELAY_BIND: ${MESH_IP}
      AWG_S4: ${AWG_S4}
  metrics:
    image: exporter
    profiles: [metrics]
    environment:
      METRICS_BIND: ${METRICS_IP:-0.0.0.0}
"""
DOTENV = "MESH_IP=10.77.0.2\nAWG_S4=18\n"
EDGE = "deploy/edge/compose.yaml"
COMPOSE_FILES = {EDGE: COMPOSE, "deploy/edge/.env": DOTENV,
                 "awgcheck.yaml": yaml.safe_dump(COMPOSE_CONFIG)}
# compose-equals against the node's own conf: a rule a fleet may add
CONF_RULE = {"rules": [{
    "id": "compose-s4-equals-conf", "title": "t", "severity": "error", "description": "d",
    "remediation": "r", "select": {"artifact": "compose", "params": ["S4"]},
    "check": {"type": "compose-equals", "against": "conf"}}]}


def compose_findings(out: str, node: str = EDGE) -> dict[tuple[str, str | None], list[Any]]:
    found: dict[tuple[str, str | None], list[Any]] = {}
    for f in json.loads(out)["findings"]:
        if f["node"] == node:
            where = f["location"]
            found.setdefault((f["rule"], f["param"]), []).append(
                (f["status"], where and (where["path"], where["line"]), f["message"]))
    return found


def test_gate_compose_consumer_stale_s4_fails_at_its_line(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = commit(repo, COMPOSE_FILES, "edge stack")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 0, out
    [edge] = [n for n in json.loads(out)["nodes"] if n["name"] == EDGE]
    assert edge == {"name": EDGE, "status": "pass", "error": None, "error_class": None,
                    "passes": edge["passes"]} and edge["passes"] > 0

    commit(repo, edit(repo, "server/awg0.conf", "S4 = 18", "S4 = 19"), "rotate S4")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "github")
    assert code == 1
    stale = [line for line in out.splitlines() if line.startswith(f"::error file={EDGE}")]
    assert [line.partition("%0A")[0] for line in stale] == [
        f"::error file={EDGE},line=7,title=compose-must-match-drift::wg-easy S4 differs from "
        "server/awg0.conf: 18 here, 19 on server/awg0.conf (drift: the tunnels will "
        'disagree) (written as "18")',
        f"::error file={EDGE},line=13,title=compose-must-match-drift::relay AWG_S4 differs "
        "from server/awg0.conf: 18 here, 19 on server/awg0.conf (drift: the tunnels will "
        "disagree) (written as ${AWG_S4})"]
    assert all("%0ASymptom: handshakes complete and keep refreshing" in line for line in stale)
    assert "::warning file=server/awg0.conf,line=12,title=must-match change%3A S4::" in out
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "sarif")
    assert code == 1
    validate_sarif(json.loads(out))
    places = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
               r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"])
              for r in json.loads(out)["runs"][0]["results"]}
    assert {(EDGE, 7, "compose-must-match-drift"), (EDGE, 13, "compose-must-match-drift")} \
        <= places

    git(repo, "checkout", "-q", base, "--", ".")
    files = everywhere(repo, "S4 = 18", "S4 = 19", '"S4": 18', '"S4": 19')
    files.update(edit(repo, EDGE, 'S4: "18"', 'S4: "19"'))
    files.update(edit(repo, "deploy/edge/.env", "AWG_S4=18", "AWG_S4=19"))
    commit(repo, files, "rotate S4 everywhere")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base)
    assert code == 0, out
    assert "S4 (must-match) changes from 18 to 19 in server/awg0.conf." in out


def test_gate_compose_without_conf_skips_conf_comparisons(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config = dict(COMPOSE_CONFIG, rules=["builtin", "ci/rules.yaml"])
    commit(repo, {**COMPOSE_FILES, "ci/rules.yaml": yaml.safe_dump(CONF_RULE),
                  "awgcheck.yaml": yaml.safe_dump(config)}, "edge stack, conf rule")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 0, out
    found = compose_findings(out)
    assert found["compose-listener-mesh-bound", "relay RELAY_BIND"] == [
        ("skip", (EDGE, 12), "relay RELAY_BIND: the node has no conf whose Address to "
         "compare with")]
    assert sorted(found["compose-s4-equals-conf", "S4"]) == [
        ("skip", (EDGE, 7), "wg-easy S4: the node has no conf to compare with"),
        ("skip", (EDGE, 13), "relay AWG_S4: the node has no conf to compare with")]


def test_gate_compose_paired_with_a_conf_compares_with_it(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config = dict(CONFIG, rules=["builtin", "ci/rules.yaml"], consumers={
        "compose": [{"file": "deploy/*/compose.yaml", "conf": "partners/berlin.conf"}]})
    commit(repo, {EDGE: COMPOSE, "deploy/edge/.env": "MESH_IP=10.77.0.9\nAWG_S4=17\n",
                  "ci/rules.yaml": yaml.safe_dump(CONF_RULE),
                  "awgcheck.yaml": yaml.safe_dump(config)}, "edge stack, paired")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 1
    found = compose_findings(out)
    assert found["compose-listener-mesh-bound", "relay RELAY_BIND"] == [
        ("fail", (EDGE, 12), "relay RELAY_BIND is 10.77.0.9, not the mesh address 10.77.0.2 "
         "(Address in partners/berlin.conf:4) (written as ${MESH_IP})")]
    assert sorted(found["compose-s4-equals-conf", "S4"])[0][:2] == ("fail", (EDGE, 13))
    # the paired conf is compared with, not checked again under the compose node
    assert ("must-match-drift", "S4") not in found
    assert "partners/berlin.conf" not in {n["name"] for n in json.loads(out)["nodes"]}


def test_gate_compose_paired_conf_unreadable_is_unchecked(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config = dict(CONFIG, consumers={
        "compose": [{"file": EDGE, "conf": "deploy/edge/awg0.conf"}]})
    commit(repo, {**COMPOSE_FILES, "deploy/edge/awg0.conf": "not a conf\n",
                  "awgcheck.yaml": yaml.safe_dump(config)}, "edge stack, broken conf")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 4
    [node] = [n for n in json.loads(out)["nodes"] if n["name"] == EDGE]
    assert node["status"] == "error"
    assert node["error"].startswith(f"{EDGE}: its paired conf could not be read "
                                    "(deploy/edge/awg0.conf: not an AmneziaWG conf")


def test_gate_compose_env_and_profiles_come_from_the_config_only(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, COMPOSE_FILES, "edge stack")
    monkeypatch.setenv("AWG_S4", "17")  # the runner's shell: never read
    monkeypatch.setenv("COMPOSE_PROFILES", "metrics")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 0, out
    config = dict(COMPOSE_CONFIG, compose_env={"AWG_S4": 17}, compose_profiles=["metrics"])
    commit(repo, {"awgcheck.yaml": yaml.safe_dump(config)}, "as the stack is started")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 1
    failing = {(rule, s[1]) for (rule, _), got in compose_findings(out).items()
               for s in got if s[0] == "fail"}
    assert failing == {("compose-must-match-drift", (EDGE, 13)),
                       ("compose-listener-mesh-bound", (EDGE, 18))}


def test_gate_compose_override_is_read_with_its_project(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config = dict(CONFIG, consumers={"compose": ["deploy/**/*.yaml"]})
    override = "services:\n  wg-easy:\n    environment:\n      S4: \"17\"\n"
    commit(repo, {**COMPOSE_FILES, "deploy/edge/compose.override.yaml": override,
                  "awgcheck.yaml": yaml.safe_dump(config)}, "edge override")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 1
    assert "deploy/edge/compose.override.yaml" not in {n["name"] for n in
                                                       json.loads(out)["nodes"]}
    [(status, where, _)] = compose_findings(out)["compose-must-match-drift", "S4"][:1]
    assert (status, where) == ("fail", ("deploy/edge/compose.override.yaml", 4))


def test_gate_compose_env_file_symlink_out_of_the_repository_is_not_read(
        repo: Path, base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "outside.env"
    outside.write_text(DOTENV)
    commit(repo, {EDGE: COMPOSE, "awgcheck.yaml": COMPOSE_FILES["awgcheck.yaml"]},
           "edge stack")
    (repo / "deploy" / "edge" / ".env").symlink_to(outside)
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 1
    [(status, where, message)] = compose_findings(out)["compose-file-errors", None]
    assert (status, where) == ("fail", ("deploy/edge/.env", None))
    assert message.startswith("deploy/edge/.env: leads out of the repository's work tree")


def test_gate_consumer_glob_matching_nothing_fails_at_its_config_line(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # partners/ renamed to peers/ in the pull request: the glob still says partners/
    git(repo, "mv", "partners", "peers")
    git(repo, "commit", "-q", "-m", "rename partners/ to peers/")
    config_line = (repo / "awgcheck.yaml").read_text().splitlines().index(
        "  - partners/*.conf") + 1
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 1, out
    [finding] = [f for f in json.loads(out)["findings"] if f["status"] == "fail"]
    assert (finding["rule"], finding["node"], finding["severity"]) == (
        "consumer-glob-unmatched", "awgcheck.yaml", "critical")
    assert finding["location"]["path"] == "awgcheck.yaml"
    assert finding["location"]["line"] == config_line
    assert finding["message"].startswith("consumers: confs: 'partners/*.conf' matches no file")
    assert json.loads(out)["nodes"][-1] == {"name": "awgcheck.yaml", "status": "fail",
                                            "error": None, "error_class": None, "passes": 0}
    # whatever --fail-on says, and in the annotations on the config line
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--fail-on", "critical",
                            "--format", "github")
    assert code == 1
    assert (f"::error file=awgcheck.yaml,line={config_line},title=consumer-glob-unmatched::"
            "consumers: confs: 'partners/*.conf' matches no file") in out
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "sarif")
    validate_sarif(json.loads(out))
    assert "consumer-glob-unmatched" in {
        r["id"] for r in json.loads(out)["runs"][0]["tool"]["driver"]["rules"]}


def test_gate_consumer_glob_unmatched_is_explained_by_rules_show() -> None:
    result = CliRunner().invoke(main, ["rules", "show", "consumer-glob-unmatched"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == [
        "consumer-glob-unmatched: A consumer glob of the gate config matches no file",
        "severity:    critical",
        "reads:       gate config (the consumers: globs of the gate's awgcheck.yaml)"]
    assert "allow_unmatched_consumers: true" in result.stdout
    listing = CliRunner().invoke(main, ["rules", "list"]).stdout
    assert any(line.split()[:3] == ["consumer-glob-unmatched", "critical", "gate"]
               for line in listing.splitlines())


def test_gate_consumer_glob_matching_nothing_allowed_is_a_note(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config = dict(COMPOSE_CONFIG, allow_unmatched_consumers=True)
    commit(repo, {"awgcheck.yaml": yaml.safe_dump(config)}, "no stacks yet")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 0, out
    report = json.loads(out)
    assert "consumer-glob-unmatched" not in {f["rule"] for f in report["findings"]}
    assert report["gate"]["notes"] == [
        "consumers: compose: 'deploy/**/compose.yaml' matches no file "
        "(allow_unmatched_consumers: true)"]


def test_gate_shallow_clone_without_the_base_says_to_fetch_history(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(repo, "checkout", "-q", "-b", "rotate-s4")
    commit(repo, edit(repo, "server/awg0.conf", "S4 = 18", "S4 = 19"), "rotate S4")
    commit(repo, edit(repo, "partners/berlin.conf", "S4 = 18", "S4 = 19"), "berlin too")
    clone = tmp_path / "ci-checkout"
    # what actions/checkout does by default: one commit of the pull request's branch
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "rotate-s4",
        repo.resolve().as_uri(), str(clone))
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    code, _, err = run_gate(clone, monkeypatch, "--base", "origin/main")
    assert code == 2
    assert err == (f"awgcheck: error: --base origin/main: not a commit in {clone.resolve()}: "
                   "this is a shallow clone, which lacks the base's history: fetch it "
                   "(actions/checkout: fetch-depth: 0; GitLab CI: GIT_DEPTH: \"0\"; by hand: "
                   "git fetch --unshallow, then git fetch origin BRANCH)\n")
    # without --base: no merge base in one commit of history, and it says why
    code, out, _ = run_gate(clone, monkeypatch, "--format", "json")
    [note] = json.loads(out)["gate"]["notes"]
    assert note.startswith("no base commit found (pass --base); this is a shallow clone")
    assert "git fetch --unshallow" in note
    # the fix the message names works
    git(clone, "fetch", "-q", "--unshallow")
    git(clone, "fetch", "-q", "origin", "main:refs/remotes/origin/main")
    code, out, err = run_gate(clone, monkeypatch, "--base", "origin/main")
    assert code == 1, out + err  # the template and params document are stale
    assert "S4 (must-match) changes from 18 to 19 in server/awg0.conf." in out


def test_gate_params_document_as_source_of_truth(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config = dict(CONFIG, source="control-plane/params.json",
                  consumers={"confs": ["server/*.conf", "partners/*.conf"]})
    files = {"awgcheck.yaml": yaml.safe_dump(config)}
    files.update(edit(repo, "control-plane/params.json", '"S4": 18', '"S4": 19'))
    commit(repo, files, "the control plane leads")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 1
    report = json.loads(out)
    stale = {(f["node"], f["param"]) for f in report["findings"]
             if f["status"] == "fail" and f["rule"] == "must-match-drift"}
    assert stale == {("server/awg0.conf", "S4"), ("partners/berlin.conf", "S4")}
    [change] = report["gate"]["changes"]
    assert change["location"] == {"path": "control-plane/params.json", "line": 10}


def test_gate_output_file_and_explicit_config(repo: Path, base: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    config = repo / "ci" / "gate.yaml"
    config.parent.mkdir()
    config.write_text(yaml.safe_dump({"source": "server/awg0.conf", "fail_on": "warning",
                                      "consumers": {"confs": ["partners/*.conf"]}}))
    target = tmp_path / "gate.md"
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--config", str(config),
                            "--format", "markdown", "--output", str(target))
    assert code == 0 and out == ""
    assert target.read_text().startswith("## awgcheck gate\n")


def test_gate_symlink_out_of_the_repository_is_not_read(
        repo: Path, base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "elsewhere.conf"
    outside.write_text(SERVER.replace("S4 = 18", "S4 = 99"))
    (repo / "partners" / "link.conf").symlink_to(outside)
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 0, out
    assert "partners/link.conf" not in {n["name"] for n in json.loads(out)["nodes"]}


HPK_OLD = "2gtwTVAuutW+pbxXRX0K6mlCFQItiKz8qeS7LVj8PD0="
HPK_NEW = "MYHKrM3L5rq9iB0J7uMPbrwTFvZoNT/QYwTpKPKBhm0="
PRIVATE = ("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=",
           "cjjYCtF/znRjGiPd8Hb0wA3bOu3OkbGfI4F+wF21Lrw=")


@pytest.mark.parametrize("fmt", ["table", "json", "junit", "sarif", "github", "markdown"])
def test_gate_never_prints_secrets(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                   fmt: str) -> None:
    files = {name: (repo / name).read_text().replace("H4 = 2114195744", f"H4 = 2114195744\n"
                                                     f"HeaderProtectionKey = {HPK_OLD}")
             for name in ("server/awg0.conf", "partners/berlin.conf")}
    files["control-plane/params.json"] = PARAMS.replace(
        '"H4": 2114195744', f'"H4": 2114195744, "HeaderProtectionKey": "{HPK_OLD}"')
    base = commit(repo, files, "header protection")
    commit(repo, edit(repo, "server/awg0.conf", HPK_OLD, HPK_NEW), "rotate the key")
    code, out, err = run_gate(repo, monkeypatch, "--base", base, "--format", fmt)
    assert code == 1
    assert "HeaderProtectionKey" in out or fmt == "junit"
    for secret in (HPK_OLD, HPK_NEW, *PRIVATE):
        assert secret[:16] not in out + err, "a secret leaked (value withheld)"


S4_CAP = """\
rules:
  - id: s4-cap
    title: S4 stays at 18 or below
    severity: error
    description: House policy.
    remediation: Lower S4.
    select: {artifact: [conf, params], params: [S4]}
    check: {type: range, max: 18}
"""


def test_gate_config_rules_add_to_the_catalog(repo: Path, base: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    config = dict(CONFIG, rules=["builtin", "ci/rules"])
    files = {"awgcheck.yaml": yaml.safe_dump(config), "ci/rules/house.yaml": S4_CAP}
    files.update(everywhere(repo, "S4 = 18", "S4 = 19", '"S4": 18', '"S4": 19'))
    commit(repo, files, "house rules")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 1
    failing = {(f["node"], f["rule"]) for f in json.loads(out)["findings"]
               if f["status"] == "fail"}
    assert ("server/awg0.conf", "s4-cap") in failing
    assert ("control-plane/params.json", "s4-cap") in failing
    assert not [rule for _, rule in failing if rule == "must-match-drift"]


def test_gate_broken_rule_file_is_a_usage_error(repo: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    config = dict(CONFIG, rules=["ci/rules"])
    commit(repo, {"awgcheck.yaml": yaml.safe_dump(config),
                  "ci/rules/house.yaml": S4_CAP.replace("max: 18", "maximum: 18")}, "typo")
    code, _, err = run_gate(repo, monkeypatch)
    assert code == 2
    assert "ci/rules/house.yaml" in err and "unknown key 'maximum'" in err


def test_gate_unreadable_consumer_is_unchecked(repo: Path, base: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, {"partners/notes.conf": "just some notes\nabout the mesh\n"}, "notes")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 4
    [node] = [n for n in json.loads(out)["nodes"] if n["status"] == "error"]
    assert (node["name"], node["error_class"]) == ("partners/notes.conf", "parse_error")
    assert "not an AmneziaWG conf" in node["error"]


def test_pre_commit_hook_definition() -> None:
    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    [hook] = hooks
    assert (hook["id"], hook["entry"], hook["language"], hook["pass_filenames"]) == (
        "awgcheck-gate", "awgcheck gate", "python", False)


# --- explicit defaults, the all-zero key, error replies ------------------------------

ZERO_HPK = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def _failures(out: str) -> set[tuple[str, str, str | None, str]]:
    return {(f["node"], f["rule"], f["param"], f["severity"])
            for f in json.loads(out)["findings"] if f["status"] == "fail"}


def test_gate_zero_hpk_and_explicit_defaults_match_a_source_without_them(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # the control plane removes header protection with the zero key and
    # writes unset and default params out; the server states none of them
    files = edit(repo, "control-plane/params.json", '"H4": 2114195744',
                 f'"H4": 2114195744,\n    "HeaderProtectionKey": "{ZERO_HPK}",\n'
                 '    "RandomTrailers": false,\n    "I2": "",\n    "I3": null')
    files.update(edit(repo, "partners/berlin.conf", "H4 = 2114195744",
                      f"H4 = 2114195744\nHeaderProtectionKey = {ZERO_HPK}\n"
                      "RandomTrailers = off\nDisableCookies = 0"))
    commit(repo, files, "remove header protection")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 0, _failures(out)
    assert _failures(out) == set()
    assert ZERO_HPK not in out


def test_gate_zero_hpk_against_a_source_with_a_key_is_a_blackhole(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "2gtwTVAuutW+pbxXRX0K6mlCFQItiKz8qeS7LVj8PD0="
    files = edit(repo, "server/awg0.conf", "H4 = 2114195744",
                 f"H4 = 2114195744\nHeaderProtectionKey = {key}")
    files.update(edit(repo, "control-plane/params.json", '"H4": 2114195744',
                      f'"H4": 2114195744,\n    "HeaderProtectionKey": "{ZERO_HPK}"'))
    commit(repo, files, "server adds header protection, the control plane removes it")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 1
    [drift] = [f for f in json.loads(out)["findings"] if f["status"] == "fail"
               and f["node"] == "control-plane/params.json"
               and f["param"] == "HeaderProtectionKey"]
    assert drift["severity"] == "critical" and "the all-zero key: unset" in drift["message"]
    assert ZERO_HPK not in out and key not in out


def test_gate_error_reply_source_says_why_nothing_was_compared(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config = dict(CONFIG, source="control-plane/params.json",
                  consumers={"confs": ["partners/*.conf"]})
    commit(repo, {"awgcheck.yaml": yaml.safe_dump(config),
                  "control-plane/params.json": '{"error": "partner not registered"}\n'},
           "the control plane answered with an error")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 4
    report = json.loads(out)
    [source] = [n for n in report["nodes"] if n["name"] == "control-plane/params.json"]
    assert "'partner not registered'" in source["error"]
    # said once for the run, not by each consumer for each drift rule
    assert report["source"]["error_class"] == "parse_error"
    assert "'partner not registered'" in report["source"]["error"]
    assert report["source"]["not_evaluated"] == ["must-match-drift", "side-local-drift"]
    assert not [f for f in report["findings"] if f["rule"] in report["source"]["not_evaluated"]]
    berlin = [n for n in report["nodes"] if n["name"] == "partners/berlin.conf"]
    assert [n["status"] for n in berlin] == ["pass"]


def test_gate_error_reply_consumer_is_reported_once(
        repo: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    commit(repo, {"control-plane/params.json": '{"error": "upstream timeout"}\n'}, "oops")
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 1
    mine = [f for f in json.loads(out)["findings"] if f["status"] == "fail"
            and f["node"] == "control-plane/params.json"]
    assert [(f["rule"], f["severity"]) for f in mine] == [("params-document-valid", "error")]
    assert "'upstream timeout'" in mine[0]["message"]
    assert "none of them was compared" in mine[0]["message"]


def test_gate_report_carries_run_metadata(repo: Path, base: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run_gate(repo, monkeypatch, "--base", base, "--format", "json")
    assert code == 0
    run = json.loads(out)["run"]
    assert Path(run["inventory"]).name == "awgcheck.yaml"  # the gate's config
    started, finished = (datetime.fromisoformat(run[k]) for k in ("started_at", "finished_at"))
    assert started.utcoffset() == timedelta(0) and started <= finished
    assert run["rules_digest"].startswith("sha256:")
