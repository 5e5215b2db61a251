"""The gate over templates: confs and compose files with placeholders.

Inputs are real-shaped templates under tests/assets/templates (an
amnezia-client style ``$VAR`` template, an install script's heredoc body, a
Jinja compose template). A placeholder is neither a value nor a drift: it is
listed once per file, and every literal value beside it is still judged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import paths
import pytest
import yaml
from test_gate import SERVER, commit, git, run_gate

TEMPLATES = paths.ASSETS / "templates"
# A 1.0-era server: no S3/S4, as amnezia-client's template writes none.
SERVER_10 = "".join(line + "\n" for line in SERVER.splitlines()
                    if not line.startswith(("S3 =", "S4 =")))


def scratch(tmp_path: Path, files: dict[str, str], consumers: dict[str, Any]) -> Path:
    repo = tmp_path / "mesh-config"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    config = {"source": "server/awg0.conf", "consumers": consumers}
    commit(repo, {**files, "awgcheck.yaml": yaml.safe_dump(config)}, "base")
    return repo


def asset(name: str) -> str:
    return (TEMPLATES / name).read_text()


def of(report: dict[str, Any], node: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["node"] == node]


def test_gate_amnezia_style_template_passes_and_lists_its_placeholders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "templates/awg/template.conf"
    repo = scratch(tmp_path, {"server/awg0.conf": SERVER_10,
                              name: asset("amnezia-client-shape.conf")},
                   {"templates": ["templates/**/*.conf"]})
    code, out, _ = run_gate(repo, monkeypatch, "--format", "json")
    assert code == 0, out
    found = of(json.loads(out), name)
    assert not [f for f in found if f["status"] in ("fail", "error")]
    [listing] = [f for f in found if f["rule"] == "template-placeholders"]
    assert listing["message"] == (
        "not compared: 15 template placeholders, known only once rendered: Address "
        "(line 2), DNS (line 3), PrivateKey (line 4), Jc (line 5), Jmin (line 6), Jmax "
        "(line 7), S1 (line 8), S2 (line 9), H1 (line 10), H2 (line 11), H3 (line 12), H4 "
        "(line 13), PublicKey (line 16), PresharedKey (line 17), Endpoint (line 19); every "
        "literal value was checked")
    # `PrivateKey = $CLIENT_PRIVATE_KEY` loads once rendered: conf-loads passes.
    assert [f["status"] for f in found if f["rule"] == "conf-loads"] == ["pass"]
    # What the template writes literally is judged: no S3/S4 is the 1.0 server's.
    assert ("must-match-drift", "S4", "pass") in {(f["rule"], f["param"], f["status"])
                                                  for f in found}


def test_gate_amnezia_style_template_against_a_2_0_server_reports_missing_s3_s4(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Absence is literal: the rendered conf has no S3/S4, so it drifts from a
    # server that sets them, whatever the placeholders are filled with.
    name = "templates/awg/template.conf"
    repo = scratch(tmp_path, {"server/awg0.conf": SERVER,
                              name: asset("amnezia-client-shape.conf")},
                   {"templates": ["templates/**/*.conf"]})
    code, out, _ = run_gate(repo, monkeypatch, "--format", "json")
    assert code == 1
    failing = {(f["rule"], f["param"]) for f in of(json.loads(out), name)
               if f["status"] == "fail"}
    assert failing == {("must-match-drift", "S3"), ("must-match-drift", "S4")}


def test_gate_heredoc_template_literal_s4_still_drifts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "install/awg0.conf.heredoc"
    repo = scratch(tmp_path, {"server/awg0.conf": SERVER,
                              name: asset("partner-heredoc.conf")},
                   {"templates": ["install/*"]})
    code, out, _ = run_gate(repo, monkeypatch, "--format", "github")
    assert code == 1
    errors = [line.partition("%0A")[0] for line in out.splitlines()
              if line.startswith("::error")]
    assert errors == [
        f"::error file={name},line=10,title=must-match-drift::S4 differs from "
        "server/awg0.conf: 17 here, 18 on server/awg0.conf (drift: the tunnels will "
        "disagree)"]
    code, out, _ = run_gate(repo, monkeypatch, "--format", "json")
    found = of(json.loads(out), name)
    # `PrivateKey = $(cat "$KEY_PATH")` is a placeholder: it loads once rendered.
    assert [f["status"] for f in found if f["rule"] == "conf-loads"] == ["pass"]
    [listing] = [f["message"] for f in found if f["rule"] == "template-placeholders"]
    assert listing.startswith("not compared: 4 template placeholders, known only once "
                              "rendered: PrivateKey (line 2), Address (line 3), PublicKey "
                              "(line 17), Endpoint (line 18)")


EDGE = "deploy/edge/docker-compose.yml.tpl"
PARTNER = "partners/edge.conf"


def test_gate_compose_template_skips_placeholders_and_judges_literals(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = scratch(tmp_path, {"server/awg0.conf": SERVER, EDGE: asset("docker-compose.yml.tpl")},
                   {"compose_templates": ["deploy/**/*.tpl"]})
    code, out, _ = run_gate(repo, monkeypatch, "--format", "json")
    assert code == 1
    found = {(f["rule"], f["param"], f["status"], f["location"]["line"])
             for f in of(json.loads(out), EDGE) if f["status"] != "pass"}
    # The `{% if %}` lines are not YAML, yet the file reads: no compose-file-errors.
    assert found == {
        ("compose-listener-mesh-bound", "relay RELAY_BIND", "fail", 14),
        ("template-placeholders", None, "skip", 6),
    }
    [listing] = [f["message"] for f in of(json.loads(out), EDGE)
                 if f["rule"] == "template-placeholders"]
    assert listing == (
        "not compared: 2 template placeholders, known only once rendered: sfu "
        "SFU_METRICS_BIND (line 6), sfu port 9100:9100/tcp (line 9); every literal value "
        "was checked")


def test_gate_compose_template_paired_with_a_conf(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    partner = SERVER.replace("Address = 10.77.0.1/24", "Address = 10.77.0.7/32")
    rendered = asset("docker-compose.yml.tpl").replace("RELAY_BIND: 0.0.0.0",
                                                       "RELAY_BIND: 10.77.0.7")
    repo = scratch(tmp_path, {"server/awg0.conf": SERVER, PARTNER: partner, EDGE: rendered},
                   {"compose_templates": [{"file": EDGE, "conf": PARTNER}]})
    code, out, _ = run_gate(repo, monkeypatch, "--format", "json")
    assert code == 0, out
    bound = {(f["param"], f["status"]) for f in of(json.loads(out), EDGE)
             if f["rule"] == "compose-listener-mesh-bound"}
    # The placeholder binds are not compared with the conf's Address; the
    # literal one is, and matches.
    assert bound == {("relay RELAY_BIND", "pass")}


def test_gate_compose_template_not_declared_one_is_judged_as_rendered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Under `compose:` the file is taken as rendered: its `{% if %}` line is
    # not YAML, and a "{{AWG_HOST_IP}}" bind is a value, not the mesh address.
    name = "deploy/edge/compose.yaml"
    partner = SERVER.replace("Address = 10.77.0.1/24", "Address = 10.77.0.7/32")
    rendered_shape = "\n".join(line for line in asset("docker-compose.yml.tpl").splitlines()
                               if not line.startswith("{%")) + "\n"
    for text, rule, line in ((asset("docker-compose.yml.tpl"), "compose-file-errors", 10),
                             (rendered_shape, "compose-listener-mesh-bound", 6)):
        repo = scratch(tmp_path / rule, {"server/awg0.conf": SERVER, PARTNER: partner,
                                         name: text},
                       {"compose": [{"file": name, "conf": PARTNER}]})
        code, out, _ = run_gate(repo, monkeypatch, "--format", "json")
        assert code == 1
        failing = {(f["rule"], f["location"]["line"]) for f in of(json.loads(out), name)
                   if f["status"] == "fail"}
        assert (rule, line) in failing
