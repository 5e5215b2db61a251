"""Which host and port an SSH node's files are on (``Collector.remote``),
against a real sshd: named as the node is named, by the inventory or by an
ssh_config alias whose Port the config gives; a finding's location is taken
apart into host, port and path on that (tests/report/test_location.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sshd_fleet import SshdFleet

from awgcheck.collect.base import Remote
from awgcheck.collect.ssh.config import SshTarget
from awgcheck.collect.ssh.connect import open_ssh
from awgcheck.model import Location


@pytest.fixture(autouse=True)
def _empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))


def test_remote_of_an_inventory_host_and_port(fleet: SshdFleet) -> None:
    node = fleet.nodes[0]
    target = SshTarget(host=node.host, port=node.port, user="root",
                       identity=str(fleet.client_key),
                       known_hosts=str(fleet.known_hosts), deadline=30.0)
    with open_ssh(target) as collector:
        assert collector.remote == Remote(node.host, node.port)
        named = collector.describe(node.conf_path)
    assert named == f"{node.host}:{node.port}:{node.conf_path}"
    assert Remote(node.host, node.port).locate(Location(named, 13)) == Location(
        node.conf_path, 13, node.host, node.port)


def test_remote_of_an_ssh_config_alias_with_its_port(fleet: SshdFleet, tmp_path: Path) -> None:
    node = fleet.nodes[0]
    config = tmp_path / "ssh_config"
    config.write_text(f"Host vpn\n    HostName {node.host}\n    Port {node.port}\n"
                      f"    User root\n    IdentityFile {fleet.client_key}\n"
                      f"    UserKnownHostsFile {fleet.known_hosts}\n")
    target = SshTarget(host="vpn", ssh_config=str(config), deadline=30.0)
    with open_ssh(target) as collector:
        assert collector.remote == Remote("vpn", node.port)  # the alias, as the user names it
        assert collector.describe(node.conf_path) == f"vpn:{node.port}:{node.conf_path}"
