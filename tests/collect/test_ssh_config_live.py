"""ssh_config as users keep it, against real sshd nodes: known_hosts files
named in ssh_config (UserKnownHostsFile lists with tokens,
GlobalKnownHostsFile, HostKeyAlias), where accept-new writes, the
inventory's known_hosts winning, and host-key errors that say whose key
(the bastion's or the node's) is the problem and how to fetch it: the
command the message suggests is run for real, in a terminal, and answered.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shlex
import time
from pathlib import Path

import pytest
from sshd_fleet import FleetNode, SshdFleet, known_hosts_name

from awgcheck.collect.ssh.config import SshTarget
from awgcheck.collect.ssh.connect import open_ssh
from awgcheck.errors import CollectError, ErrorClass


def host_line(node: FleetNode, name: str | None = None) -> str:
    """The known_hosts line for ``node`` (under ``name``, default OpenSSH's)."""
    kind, blob = node.sshd.host_pub.split()[:2]
    return f"{name or known_hosts_name(node.host, node.port)} {kind} {blob}\n"


def write_config(tmp_path: Path, fleet: SshdFleet, blocks: str) -> Path:
    """``blocks`` plus a catch-all giving every host the fleet's user and key."""
    config = tmp_path / "ssh_config"
    config.write_text(blocks + f"\nHost *\n    User root\n    IdentityFile {fleet.client_key}\n")
    return config


def node_block(alias: str, node: FleetNode, *extra: str) -> str:
    lines = [f"Host {alias}", f"    HostName {node.host}", f"    Port {node.port}", *extra]
    return "\n".join(f"{line}" for line in lines) + "\n"


def target(alias: str, config: Path, **fields: object) -> SshTarget:
    return SshTarget(host=alias, ssh_config=str(config), connect_timeout=5.0, deadline=30.0,
                     **fields)  # type: ignore[arg-type]


def read_conf(t: SshTarget, node: FleetNode) -> bytes:
    with open_ssh(t) as collector:
        return collector.read_file(node.conf_path)


def error_of(t: SshTarget) -> CollectError:
    with pytest.raises(CollectError) as info:
        open_ssh(t).close()
    return info.value


@pytest.fixture(autouse=True)
def _empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ~/.ssh/known_hosts must not be where a key is found by accident.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))


def test_user_known_hosts_file_list_with_tokens_verifies(fleet: SshdFleet,
                                                         tmp_path: Path) -> None:
    node = fleet.nodes[0]
    (tmp_path / "kh").mkdir()
    (tmp_path / "kh" / f"{node.host}_{node.port}").write_text(host_line(node))
    config = write_config(tmp_path, fleet, node_block(
        "vpn", node, f"    UserKnownHostsFile {tmp_path}/absent %d/../kh/%h_%p"))
    assert read_conf(target("vpn", config), node) == Path(node.conf_path).read_bytes()


def test_without_ssh_config_known_hosts_the_node_is_unknown(fleet: SshdFleet,
                                                            tmp_path: Path) -> None:
    """The report of issue 12: the key is only in the file ssh_config names."""
    node = fleet.nodes[0]
    config = write_config(tmp_path, fleet, node_block("vpn", node))
    error = error_of(target("vpn", config))
    assert error.error_class is ErrorClass.HOST_KEY_UNKNOWN
    assert f"node vpn:{node.port}'s host key is not known" in str(error)
    assert f"{tmp_path}/home/.ssh/known_hosts" in str(error)


def test_host_key_alias_names_the_key_and_accept_new_records_under_it(
        fleet: SshdFleet, tmp_path: Path) -> None:
    node = fleet.nodes[1]
    known = tmp_path / "known_hosts"
    known.write_text(host_line(node, "fleet-node-two"))
    config = write_config(tmp_path, fleet, node_block(
        "vpn", node, "    HostKeyAlias Fleet-Node-Two", f"    UserKnownHostsFile {known}"))
    assert read_conf(target("vpn", config), node)
    # accept-new files a new key under the alias (lowercased, as ssh
    # does), without [host]:port.
    fresh = tmp_path / "fresh_known_hosts"
    config.write_text(config.read_text().replace(str(known), str(fresh)))
    assert read_conf(target("vpn", config, accept_new_host_keys=True), node)
    assert fresh.read_text().startswith("fleet-node-two ssh-ed25519 ")


def test_global_known_hosts_file_vouches_too(fleet: SshdFleet, tmp_path: Path) -> None:
    node = fleet.nodes[2]
    system = tmp_path / "ssh_known_hosts"
    system.write_text(host_line(node))
    config = write_config(tmp_path, fleet, node_block(
        "vpn", node, f"    UserKnownHostsFile {tmp_path}/user_kh",
        f"    GlobalKnownHostsFile {system}"))
    assert read_conf(target("vpn", config), node)
    assert not (tmp_path / "user_kh").exists(), "a known key is not written again"


def test_accept_new_writes_the_first_user_file_hashed(fleet: SshdFleet,
                                                      tmp_path: Path) -> None:
    node = fleet.nodes[3]
    first, second = tmp_path / "first_kh", tmp_path / "second_kh"
    second.write_text("# another host's file\n")
    config = write_config(tmp_path, fleet, node_block(
        "vpn", node, f"    UserKnownHostsFile {first} {second}", "    HashKnownHosts yes"))
    assert read_conf(target("vpn", config, accept_new_host_keys=True), node)
    assert first.read_text().startswith("|1|") and known_hosts_name(
        node.host, node.port) not in first.read_text()
    assert second.read_text() == "# another host's file\n"
    assert read_conf(target("vpn", config), node), "the recorded key verifies"


def test_inventory_known_hosts_wins_over_ssh_config(fleet: SshdFleet, tmp_path: Path) -> None:
    node = fleet.nodes[0]
    good, inventory = tmp_path / "good_kh", tmp_path / "inventory_kh"
    good.write_text(host_line(node))
    inventory.write_text("")
    config = write_config(tmp_path, fleet, node_block(
        "vpn", node, f"    UserKnownHostsFile {good}"))
    error = error_of(target("vpn", config, known_hosts=str(inventory)))
    assert error.error_class is ErrorClass.HOST_KEY_UNKNOWN
    assert f"not in {inventory}," in str(error) and str(good) not in str(error)


# --------------------------------------------------------------------------
# whose key: the bastion's or the node's


def bastion_config(fleet: SshdFleet, tmp_path: Path, *, bastion_known: bool,
                   node_known: bool) -> tuple[Path, Path, FleetNode, FleetNode]:
    bastion, node = fleet.nodes[0], fleet.nodes[1]
    bastion_kh, node_kh = tmp_path / "bastion_kh", tmp_path / "node_kh"
    bastion_kh.write_text(host_line(bastion) if bastion_known else "")
    node_kh.write_text(host_line(node) if node_known else "")
    config = write_config(tmp_path, fleet, node_block(
        "jump-host", bastion, f"    UserKnownHostsFile {bastion_kh}") + node_block(
        "vpn", node, "    ProxyJump jump-host", f"    UserKnownHostsFile {node_kh}"))
    return config, node_kh, bastion, node


def test_unknown_bastion_key_is_named_as_the_bastion_s(fleet: SshdFleet,
                                                       tmp_path: Path) -> None:
    config, _, bastion, node = bastion_config(fleet, tmp_path, bastion_known=False,
                                              node_known=True)
    error = error_of(target("vpn", config))
    assert error.error_class is ErrorClass.HOST_KEY_UNKNOWN
    message = str(error)
    assert message.startswith(f"vpn:{node.port} via bastion jump-host:{bastion.port}: "
                              f"bastion jump-host:{bastion.port}'s host key is not known")
    # The bastion is reached directly: ssh-keyscan works for it.
    assert f"ssh-keyscan -p {bastion.port} -t ed25519 {bastion.host} >> " \
           f"{tmp_path}/bastion_kh" in message


def test_unknown_node_key_behind_a_bastion_says_how_to_fetch_it(fleet: SshdFleet,
                                                                 tmp_path: Path) -> None:
    config, node_kh, bastion, node = bastion_config(fleet, tmp_path, bastion_known=True,
                                                    node_known=False)
    error = error_of(target("vpn", config))
    assert error.error_class is ErrorClass.HOST_KEY_UNKNOWN
    message = str(error)
    assert message.startswith(f"vpn:{node.port}: node vpn:{node.port}'s host key is not known")
    assert f"reached through root@jump-host:{bastion.port}" in message
    assert "ssh-keyscan from here cannot reach it" in message
    assert "--accept-new-host-keys" in message
    command = re.search(r"run `(ssh [^`]+)` and answer yes if it shows (SHA256:\S+),",
                        message)
    assert command is not None, message
    fingerprint = command.group(2)
    assert fingerprint in message.split(";")[0], "the fingerprint is the node's, up front"
    # The suggested command works as written: in a terminal, ssh shows the
    # same fingerprint, records the key once answered, and awgcheck then
    # connects.
    shown = answer_host_key_prompt(shlex.split(command.group(1)))
    assert fingerprint in shown
    assert known_hosts_name(node.host, node.port) in node_kh.read_text()
    assert read_conf(target("vpn", config), node)


def answer_host_key_prompt(argv: list[str], timeout: float = 30.0) -> str:
    """Run ``argv`` in a pseudo-terminal, answer "yes" to ssh's host-key
    question, and return everything it printed."""
    env = {**os.environ, "SSH_AUTH_SOCK": ""}
    pid, fd = pty.fork()
    if pid == 0:  # the child: become ssh, with the pty as its terminal
        os.execvpe(argv[0], argv, env)
    output = b""
    answered = False
    ends = time.monotonic() + timeout
    try:
        while time.monotonic() < ends:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"(yes/no" in output:
                os.write(fd, b"yes\n")
                answered = True
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    text = output.decode("utf-8", "replace")
    assert answered, text
    assert os.waitstatus_to_exitcode(status) == 0, text
    return text
