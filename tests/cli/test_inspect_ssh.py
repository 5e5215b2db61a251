"""``awgcheck inspect ssh``: the route a node will take, without connecting.

The docs/ssh.md example (its ssh_config, inventory and output) is run as
written; the names resolve to nothing (``.example``, TEST-NET), so any
attempt to connect or even resolve would fail the command.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import paths
import pytest
import yaml
from click.testing import CliRunner

from awgcheck.cli.main import main

DOCS = paths.ROOT / "docs" / "ssh.md"


def doc_block(after: str, info: str) -> str:
    """The fenced ``info`` block that follows the text ``after`` in docs/ssh.md."""
    text = DOCS.read_text()
    start = text.index(after)
    match = re.compile(rf"^```{info}\n(.*?)^```", re.S | re.M).search(text, start)
    assert match is not None, f"no ```{info} block after {after!r}"
    return match.group(1)


def inspect(folder: Path, *args: str, home: str = "/home/ops") -> tuple[int, str]:
    result = CliRunner().invoke(main, ["inspect", "ssh", *args], env={"HOME": home})
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture()
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "ssh_config").write_text(doc_block("`awgcheck inspect ssh NODE", "sshconfig"))
    (tmp_path / "fleet.yaml").write_text(doc_block("and this inventory", "yaml"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_docs_example_is_the_real_output(example: Path) -> None:
    code, out = inspect(example, "vpn-fra-1", "-i", "fleet.yaml", "--ssh-config", "ssh_config")
    assert code == 0, out
    assert out == doc_block("HOME=/home/ops awgcheck inspect ssh", "text")


def test_json_shows_every_hop_with_origins(example: Path) -> None:
    key = example / "home" / ".ssh" / "fleet_nodes"
    key.parent.mkdir(parents=True)
    key.write_text("a key\n")
    code, out = inspect(example, "vpn-fra-1", "-i", "fleet.yaml", "--ssh-config", "ssh_config",
                        "--format", "json", home=str(example / "home"))
    assert code == 0, out
    view = json.loads(out)
    assert view["node"] == "vpn-fra-1" and view["ssh_config"] == ["ssh_config"]
    bastion, node = view["hops"]
    assert (bastion["role"], bastion["name"], bastion["hostname"], bastion["user"]) == (
        "bastion", "bastion", "203.0.113.10", "admin")
    assert bastion["origins"]["hostname"] == "ssh_config:2"
    assert (node["role"], node["hostname"], node["port"], node["user"]) == (
        "node", "vpn-fra-1.example", 2222, "ubuntu")
    assert node["origins"] == {**node["origins"], "port": "inventory", "hostname": "inventory",
                               "user": "ssh_config:8", "known_hosts": "ssh_config:11",
                               "proxy_jump": "ssh_config:7"}
    assert node["identity_files"] == [{"path": str(key), "exists": True}]
    assert node["known_hosts"] == [{"path": str(example / "home/.ssh/known_hosts.d/fleet"),
                                    "exists": False}]
    assert node["jump"] == ["bastion"] and node["host_key_name"] == "[vpn-fra-1.example]:2222"


def test_inventory_fields_win_and_say_so(example: Path) -> None:
    inventory = yaml.safe_load((example / "fleet.yaml").read_text())
    inventory["nodes"]["vpn-fra-1"].update(user="root", identity="keys/node",
                                           known_hosts="kh", jump="ops@198.51.100.9:2200")
    (example / "fleet.yaml").write_text(yaml.safe_dump(inventory))
    code, out = inspect(example, "vpn-fra-1", "-i", "fleet.yaml", "--ssh-config", "ssh_config",
                        "--format", "json")
    assert code == 0, out
    bastion, node = json.loads(out)["hops"]
    assert (bastion["hostname"], bastion["port"], bastion["user"]) == ("198.51.100.9", 2200, "ops")
    assert node["user"] == "root" and node["origins"]["user"] == "inventory"
    assert node["identity_files"][0]["path"] == str(example / "keys" / "node")
    assert node["known_hosts"] == [{"path": str(example / "kh"), "exists": False}]
    assert node["origins"]["proxy_jump"] == "inventory"


def test_a_local_node_or_a_missing_config_is_a_usage_error(example: Path) -> None:
    (example / "tree").mkdir()
    (example / "fleet.yaml").write_text(yaml.safe_dump(
        {"source": "edge", "nodes": {"edge": {"local": "tree"}}}))
    code, out = inspect(example, "edge", "-i", "fleet.yaml", "--ssh-config", "ssh_config")
    assert code == 2 and "edge: a local node tree" in out, out
    code, out = inspect(example, "edge", "-i", "fleet.yaml", "--ssh-config", "missing_config")
    assert code == 2 and "missing_config: no such ssh_config file" in out, out


def test_a_config_ssh_would_refuse_is_a_usage_error_naming_the_line(example: Path) -> None:
    (example / "ssh_config").write_text("Host vpn-*\n    Port twenty-two\n")
    code, out = inspect(example, "vpn-fra-1", "-i", "fleet.yaml", "--ssh-config", "ssh_config")
    assert code == 2, out
    assert "ssh_config:2: Port: bad port 'twenty-two'" in out
