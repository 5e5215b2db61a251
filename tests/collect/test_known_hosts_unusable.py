"""known_hosts lines paramiko cannot use, against real sshd.

``ssh-dss``, security-key (``sk-*``) and unknown key types, and keys that do
not decode, are skipped and reported once per file; the other hosts in the
file are checked as usual. A host whose only recorded key is unreadable is
not "new": the key it offers is refused as unknown, also with accept-new.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import paramiko
import pytest
import yaml
from sshd_fleet import SshdFleet, keygen, known_hosts_name

from awgcheck.collect.ssh.connect import open_ssh
from awgcheck.collect.ssh.hostkeys import load_known_hosts
from awgcheck.errors import CollectError


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _sk_ed25519() -> str:
    blob = (_string(b"sk-ssh-ed25519@openssh.com") + _string(os.urandom(32))
            + _string(b"ssh:"))
    return f"sk-ssh-ed25519@openssh.com {base64.b64encode(blob).decode()}"


def _sk_ecdsa() -> str:
    kind = b"sk-ecdsa-sha2-nistp256@openssh.com"
    blob = (_string(kind) + _string(b"nistp256") + _string(b"\x04" + os.urandom(64))
            + _string(b"ssh:"))
    return f"{kind.decode()} {base64.b64encode(blob).decode()}"


def _hashed(name: str) -> str:
    return paramiko.HostKeys.hash_host(name)


@pytest.fixture(scope="module")
def dss_key(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real ssh-dss public key (type and base64) made by ssh-keygen."""
    return " ".join(keygen(tmp_path_factory.mktemp("dss") / "id_dsa", "dsa").split()[:2])


def _unusable_keys(dss_key: str) -> dict[str, str]:
    return {
        "ssh-dss": dss_key,
        "sk-ed25519": _sk_ed25519(),
        "sk-ecdsa": _sk_ecdsa(),
        "unknown-type": "ssh-foo1024 AAAAC3NzaC1lZDI1NTE5AAAAIA==",
        "bad-base64": "ssh-ed25519 not*base64!",
        "truncated-ed25519": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==",
        "bad-rsa": "ssh-rsa AAAAB3NzaC1yc2EAAAABAQAAAAEA",
        "control-chars": "ssh-\x1b[31mred AAAA",
    }


def _error(target: object) -> CollectError:
    with pytest.raises(CollectError) as info:
        open_ssh(target).close()  # type: ignore[arg-type]
    return info.value


def test_unusable_lines_for_other_hosts_are_skipped_and_reported_once(
        fleet: SshdFleet, known_hosts_copy: Path, dss_key: str,
        caplog: pytest.LogCaptureFixture) -> None:
    keys = _unusable_keys(dss_key)
    hostile = [f"other{i}.example {key}" for i, key in enumerate(keys.values())]
    hostile.append(f"{_hashed('hashed.example')} {keys['ssh-dss']}")
    known_hosts_copy.write_text("\n".join(hostile) + "\n" + known_hosts_copy.read_text())
    with caplog.at_level(logging.WARNING, logger="awgcheck"):
        for node in fleet.nodes:
            with open_ssh(fleet.target(node, known_hosts=str(known_hosts_copy))) as collector:
                assert collector.read_file(node.conf_path)
    records = [r.getMessage() for r in caplog.records if str(known_hosts_copy) in r.getMessage()]
    assert len(records) == 1, records  # once per file, not per line or per node
    message = records[0]
    assert f"{len(hostile)} known_hosts lines skipped" in message
    for lineno in (1, 2, 3):  # the first lines, each with its key type
        assert f"line {lineno}: " in message
    assert "ssh-dss keys are not supported" in message
    assert "sk-ssh-ed25519@openssh.com keys are not supported" in message
    assert "\x1b" not in message
    known = load_known_hosts(str(known_hosts_copy))
    assert [u.lineno for u in known.unusable] == list(range(1, len(hostile) + 1))
    assert all(f"{known_hosts_copy}:{n}: " in w
               for n, w in zip(range(1, len(hostile) + 1), known.warnings, strict=True))


@pytest.mark.parametrize("accept_new", [False, True], ids=["strict", "accept-new"])
@pytest.mark.parametrize("hashed", [False, True], ids=["plain", "hashed"])
@pytest.mark.parametrize("kind", ["ssh-dss", "sk-ed25519", "sk-ecdsa", "unknown-type",
                                  "bad-base64"])
def test_only_key_unreadable_is_unknown_never_trusted(
        fleet: SshdFleet, tmp_path: Path, dss_key: str, kind: str, hashed: bool,
        accept_new: bool) -> None:
    node = fleet.nodes[0]
    name = known_hosts_name(node.host, node.port)
    known = tmp_path / "known_hosts"
    line = f"{_hashed(name) if hashed else name} {_unusable_keys(dss_key)[kind]}\n"
    known.write_text(line)
    started = time.monotonic()
    error = _error(fleet.target(node, known_hosts=str(known), accept_new_host_keys=accept_new))
    assert time.monotonic() - started < 10  # refused at once, not at the deadline
    assert error.error_class == "host_key_unknown"
    assert str(error).startswith(f"{node.host}:{node.port}: ")
    assert "cannot read (line 1 (" in str(error)
    assert known.read_text() == line  # accept-new recorded nothing


def test_unreadable_line_next_to_the_real_key_still_connects(
        fleet: SshdFleet, known_hosts_copy: Path, dss_key: str) -> None:
    node = fleet.nodes[1]
    name = known_hosts_name(node.host, node.port)
    known_hosts_copy.write_text(f"{name} {dss_key}\n{_hashed(name)} {_sk_ed25519()}\n"
                                + known_hosts_copy.read_text())
    with open_ssh(fleet.target(node, known_hosts=str(known_hosts_copy))) as collector:
        assert collector.read_file(node.conf_path)


def test_unreadable_line_and_other_type_on_record_names_both(
        fleet: SshdFleet, tmp_path: Path, dss_key: str) -> None:
    node = fleet.nodes[2]
    name = known_hosts_name(node.host, node.port)
    rsa = keygen(tmp_path / "rsa", "rsa").split()
    known = tmp_path / "known_hosts"
    known.write_text(f"{name} {dss_key}\n{name} {rsa[0]} {rsa[1]}\n")
    error = _error(fleet.target(node, known_hosts=str(known), accept_new_host_keys=True))
    assert error.error_class == "host_key_unknown"
    assert "line 1 (ssh-dss)" in str(error) and "only has ssh-rsa keys" in str(error)


def test_check_with_an_ssh_dss_line_reports_each_node_at_once(
        fleet: SshdFleet, known_hosts_copy: Path, tmp_path: Path, dss_key: str) -> None:
    """The reported bug: one ssh-dss line made every node sharing the file
    end as deadline_exceeded after the whole timeout, with a traceback."""
    known_hosts_copy.write_text(f"legacy.example {dss_key}\n" + known_hosts_copy.read_text())
    dss_only = tmp_path / "known_hosts_dss_only"
    first = fleet.nodes[0]
    dss_only.write_text(f"{known_hosts_name(first.host, first.port)} {dss_key}\n")
    nodes = {node.name: fleet.inventory_fields(node, known_hosts=str(known_hosts_copy))
             for node in fleet.nodes}
    nodes["dss-only"] = fleet.inventory_fields(first, known_hosts=str(dss_only))
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "node1", "nodes": nodes}))
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "awgcheck", "check", "-i", str(inventory), "--format", "json",
         "--timeout", "30", "--ssh-config", "none"],
        capture_output=True, text=True, timeout=120, env=env)
    assert time.monotonic() - started < 25
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    classes = {n["name"]: (n["status"], n["error_class"]) for n in report["nodes"]}
    assert classes.pop("dss-only") == ("error", "host_key_unknown")
    # Every other node was read and checked (the sample confs fail some rules).
    assert {error for _, error in classes.values()} == {None} and len(classes) == 4
    assert proc.stderr.count("known_hosts lines skipped") + proc.stderr.count(
        "line skipped") <= 2  # one per file
