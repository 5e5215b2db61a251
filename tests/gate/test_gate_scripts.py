"""The gate over install scripts listed under ``templates:``.

A script's conf templates are its heredocs whose body holds an
``[Interface]`` or ``[Peer]`` header; each is judged like a template file,
at the script's own line numbers, and the script's shell lines are no conf
lines. A script that writes no conf is a file that could not be checked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_gate import run_gate
from test_gate_templates import asset, of, scratch

SCRIPT = "install/setup-awg.sh"
# The server the script's literal values are meant to match, but for S4.
SERVER = """\
[Interface]
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=
Address = 10.77.0.1/24
ListenPort = 51820
Jc = 4
S4 = 18
"""


def gate_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              script: str) -> tuple[int, dict[str, Any]]:
    repo = scratch(tmp_path, {"server/awg0.conf": SERVER, SCRIPT: script},
                   {"templates": ["install/*.sh"]})
    code, out, _ = run_gate(repo, monkeypatch, "--format", "json")
    return code, json.loads(out)


def failing(report: dict[str, Any], node: str = SCRIPT) -> set[tuple[str, str | None,
                                                                      str, int | None]]:
    """The node's failures at error and above, and its placeholder listing.
    (The script writes no H1-H4, nor does the server: `h-defaults` warns.)"""
    return {(f["rule"], f["param"], f["status"], (f["location"] or {}).get("line"))
            for f in of(report, node)
            if (f["status"] == "fail" and f["severity"] in ("critical", "error"))
            or f["rule"] == "template-placeholders"}


def test_gate_install_script_heredoc_drifts_at_the_script_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = scratch(tmp_path, {"server/awg0.conf": SERVER, SCRIPT: asset("install-awg.sh")},
                   {"templates": ["install/*.sh"]})
    code, out, _ = run_gate(repo, monkeypatch, "--format", "github")
    assert code == 1
    errors = [line.partition("%0A")[0] for line in out.splitlines()
              if line.startswith("::error")]
    assert errors == [
        f"::error file={SCRIPT},line=10,title=must-match-drift::S4 differs from "
        "server/awg0.conf: 17 here, 18 on server/awg0.conf (drift: the tunnels will "
        "disagree)"]
    code, out, _ = run_gate(repo, monkeypatch, "--format", "json")
    report = json.loads(out)
    # The shell lines (`set -euo pipefail`, `systemctl ...`) are not conf
    # lines: conf-loads judges the heredoc's rendered shape only.
    assert failing(report) == {("must-match-drift", "S4", "fail", 10),
                                   ("template-placeholders", None, "skip", 6)}
    assert [f["status"] for f in of(report, SCRIPT) if f["rule"] == "conf-loads"] == ["pass"]
    [listing] = [f["message"] for f in of(report, SCRIPT)
                 if f["rule"] == "template-placeholders"]
    assert listing == ("not compared: 2 template placeholders, known only once rendered: "
                       "PrivateKey (line 6), Address (line 7); every literal value was "
                       "checked")


TABBED = "\n".join(("\t" + line if line and not line.startswith(("#", "set", "KEY")) else line)
                   for line in asset("install-awg.sh").splitlines()) + "\n"


@pytest.mark.parametrize("script", [
    asset("install-awg.sh").replace("cat > /etc/amnezia/amneziawg/awg0.conf <<EOF",
                                    "cat <<EOF > /etc/amnezia/amneziawg/awg0.conf"),
    asset("install-awg.sh").replace("cat > /etc/amnezia/amneziawg/awg0.conf <<EOF",
                                    "tee /etc/amnezia/amneziawg/awg0.conf >/dev/null <<EOF"),
    TABBED.replace("<<EOF", "<<-EOF"),
    asset("install-awg.sh").replace("#!/usr/bin/env bash\n", ""),
], ids=["cat-heredoc-first", "tee", "dash-strips-tabs", "no-shebang"])
def test_gate_install_script_forms_all_read_the_heredoc(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    code, report = gate_json(tmp_path, monkeypatch, script)
    assert code == 1
    line = 10 if script.startswith("#!") else 9
    assert failing(report) == {("must-match-drift", "S4", "fail", line),
                                   ("template-placeholders", None, "skip", line - 4)}


@pytest.mark.parametrize("delimiter", ["'EOF'", '"EOF"', "\\EOF"],
                         ids=["single", "double", "backslash"])
def test_gate_install_script_quoted_heredoc_judges_dollar_text_as_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delimiter: str) -> None:
    # No expansion happens in a quoted heredoc: awg reads `$(cat "$KEY_PATH")`
    # as the private key, and rejects it. Nothing is a placeholder.
    script = (asset("install-awg.sh").replace("<<EOF", f"<<{delimiter}")
              .replace("S4 = 17", "S4 = 18"))
    code, report = gate_json(tmp_path, monkeypatch, script)
    assert code == 1
    assert failing(report) == {("conf-loads", None, "fail", 6)}


def test_gate_install_script_without_a_conf_heredoc_is_not_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, report = gate_json(tmp_path, monkeypatch, asset("install-packages-only.sh"))
    assert code == 4
    [node] = [n for n in report["nodes"] if n["name"] == SCRIPT]
    assert node == {"name": SCRIPT, "status": "error", "error_class": "parse_error",
                    "error": f"{SCRIPT}: no conf template found in this script (no heredoc "
                             "holds an [Interface] or [Peer] header line)", "passes": 0}
    assert of(report, SCRIPT) == []


def test_gate_install_script_with_two_conf_heredocs_is_two_nodes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = ("cat > /root/client.conf <<EOF\n[Interface]\nPrivateKey = $CLIENT_KEY\n"
              "Jc = 4\nS4 = 18\n\n[Peer]\nPublicKey = $SERVER_PUB\n"
              "Endpoint = ${SERVER_HOST}:51820\nAllowedIPs = 10.77.0.0/24\nEOF\n")
    code, report = gate_json(tmp_path, monkeypatch, asset("install-awg.sh") + client)
    assert code == 1
    server_node, client_node = f"{SCRIPT} (heredoc at line 4)", f"{SCRIPT} (heredoc at line 13)"
    assert {n["name"] for n in report["nodes"]} >= {server_node, client_node}
    assert failing(report, server_node) == {("must-match-drift", "S4", "fail", 10),
                                                ("template-placeholders", None, "skip", 6)}
    assert failing(report, client_node) == {("template-placeholders", None, "skip", 15)}
