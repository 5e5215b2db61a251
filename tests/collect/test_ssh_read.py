"""Reading files and running commands through a real sshd."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sshd_fleet import SshdFleet, SudoUser

from awgcheck.collect.ssh.connect import open_ssh
from awgcheck.errors import CollectError


def test_read_file_returns_bytes_over_sftp(fleet: SshdFleet) -> None:
    node = fleet.nodes[0]
    with open_ssh(fleet.target(node)) as collector:
        assert collector.read_file(node.conf_path) == Path(node.conf_path).read_bytes()
        assert collector.describe(node.conf_path) == f"{node.host}:{node.port}:{node.conf_path}"


def test_one_connection_serves_every_read(fleet: SshdFleet) -> None:
    node = fleet.nodes[0]
    other = node.write("etc/other.conf", "x = 1\n")
    with open_ssh(fleet.target(node)) as collector:
        transport = collector.transport
        collector.read_file(node.conf_path)
        collector.read_file(other)
        collector.run(["true"])
        assert collector.transport is transport and transport.is_active()


def test_read_file_missing(fleet: SshdFleet) -> None:
    node = fleet.nodes[0]
    with open_ssh(fleet.target(node)) as collector, pytest.raises(CollectError) as info:
        collector.read_file(str(node.root / "absent.conf"))
    assert info.value.error_class == "file_missing"
    assert str(info.value).startswith(f"{node.host}:{node.port}:")


def test_read_file_too_large(fleet: SshdFleet) -> None:
    node = fleet.nodes[1]
    big = node.write("etc/big.conf", b"#" * 5000)
    with open_ssh(fleet.target(node)) as collector:
        assert len(collector.read_file(big, limit=5000)) == 5000
        with pytest.raises(CollectError) as info:
            collector.read_file(big, limit=4999)
    assert info.value.error_class == "file_too_large"


def test_run_quotes_every_word(fleet: SshdFleet) -> None:
    tricky = ["it's", "$HOME", "a b", "; touch /tmp/awgcheck-pwned", "*"]
    with open_ssh(fleet.target(fleet.nodes[0])) as collector:
        result = collector.run(["printf", "%s\\n", *tricky])
    assert result.exit_status == 0
    assert result.stdout.decode().splitlines() == tricky
    assert not Path("/tmp/awgcheck-pwned").exists()


def test_run_drains_stdout_and_stderr_together(fleet: SshdFleet) -> None:
    # 600 KiB on stderr overflows the channel window (and the pipe) long
    # before stdout ends: a reader waiting on stdout only would hang.
    script = "head -c 614400 /dev/zero >&2; head -c 300000 /dev/zero; exit 3"
    with open_ssh(fleet.target(fleet.nodes[0], deadline=20)) as collector:
        result = collector.run(["sh", "-c", script], timeout=15)
    assert result.exit_status == 3
    assert len(result.stdout) == 300000
    assert len(result.stderr) == 64 * 1024


def test_run_timeout_is_reported(fleet: SshdFleet) -> None:
    with open_ssh(fleet.target(fleet.nodes[0])) as collector:
        with pytest.raises(CollectError) as info:
            collector.run(["sleep", "10"], timeout=0.5)
        assert info.value.error_class == "command_timeout"
        assert collector.run(["echo", "ok"]).stdout == b"ok\n"


def test_concurrent_reads_of_many_nodes(fleet: SshdFleet) -> None:
    nodes = fleet.nodes * 5  # 20 connections at once, 5 per node

    def read(index: int) -> bytes:
        node = nodes[index]
        with open_ssh(fleet.target(node)) as collector:
            return collector.read_file(node.conf_path)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(read, range(len(nodes))))
    assert results == [Path(n.conf_path).read_bytes() for n in nodes]


@pytest.fixture(scope="module")
def sudo_setup(fleet: SshdFleet) -> tuple[SshdFleet, SudoUser, str, str]:
    node = fleet.nodes[2]
    allowed = node.write("etc/amnezia/amneziawg/sudo-ok.conf", "[Interface]\n", 0o600)
    denied = node.write("etc/amnezia/amneziawg/sudo-denied.conf", "[Interface]\n", 0o600)
    with SudoUser([allowed]) as user:
        yield fleet, user, allowed, denied  # type: ignore[misc]


def test_sudo_reads_with_nopasswd_rule(sudo_setup: tuple[SshdFleet, SudoUser, str, str]
                                       ) -> None:
    fleet, user, allowed, _ = sudo_setup
    target = fleet.target(fleet.nodes[2], user=user.name, sudo=True)
    with open_ssh(target) as collector:
        assert collector.read_file(allowed) == b"[Interface]\n"


def test_sudo_password_required(sudo_setup: tuple[SshdFleet, SudoUser, str, str]) -> None:
    fleet, user, _, denied = sudo_setup
    target = fleet.target(fleet.nodes[2], user=user.name, sudo=True)
    with open_ssh(target) as collector, pytest.raises(CollectError) as info:
        collector.read_file(denied)
    assert info.value.error_class == "sudo_password_required"
    assert f"sudo wants a password to run `sudo -n cat -- {denied}`" in str(info.value)
    assert f"{user.name} ALL=(root) NOPASSWD: /usr/bin/cat -- {denied}" in str(info.value)


def test_permission_denied_without_sudo(sudo_setup: tuple[SshdFleet, SudoUser, str, str]
                                        ) -> None:
    fleet, user, allowed, _ = sudo_setup
    target = fleet.target(fleet.nodes[2], user=user.name)
    with open_ssh(target) as collector, pytest.raises(CollectError) as info:
        collector.read_file(allowed)
    assert info.value.error_class == "permission_denied"


@pytest.mark.parametrize("size", [0, 1, 32767, 32768, 32769, 100_000, 600_000, 1024 * 1024],
                         ids=lambda s: f"{s}B")
def test_read_file_any_size_up_to_the_cap(fleet: SshdFleet, size: int) -> None:
    # Sizes around the 32 KiB read chunk and past the 16-read window
    # exercise the pipelined SFTP reader's bookkeeping.
    node = fleet.nodes[1]
    data = os.urandom(size)
    path = node.write(f"var/size-{size}.bin", data)
    with open_ssh(fleet.target(node)) as collector:
        assert collector.read_file(path) == data


def test_session_stays_usable_after_failed_reads(fleet: SshdFleet) -> None:
    node = fleet.nodes[1]
    big = node.write("var/big.bin", os.urandom(200_000))
    with open_ssh(fleet.target(node)) as collector:
        for path, limit, error_class in [(big, 50_000, "file_too_large"),
                                         (str(node.root / "nope"), 10, "file_missing"),
                                         (str(node.root / "etc"), 10, "not_a_file")]:
            with pytest.raises(CollectError) as info:
                collector.read_file(path, limit=limit)
            assert info.value.error_class == error_class
            assert collector.read_file(node.conf_path) == Path(node.conf_path).read_bytes()


def test_run_with_sudo_needs_password(sudo_setup: tuple[SshdFleet, SudoUser, str, str]
                                      ) -> None:
    fleet, user, _, _ = sudo_setup
    target = fleet.target(fleet.nodes[2], user=user.name)
    with open_ssh(target) as collector, pytest.raises(CollectError) as info:
        collector.run(["awg", "show", "all", "dump"], sudo=True)
    assert info.value.error_class == "sudo_password_required"
    assert "`sudo -n -- awg show all dump`" in str(info.value)
    assert f"{user.name} ALL=(root) NOPASSWD: /usr/bin/awg show all dump" in str(info.value)
