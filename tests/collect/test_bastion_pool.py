"""One connection per bastion (BastionPool), against real sshd: a stock
jump host (MaxStartups 10:30:100, MaxSessions 10) whose VERBOSE log counts
the connections awgcheck opens to it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from sshd_fleet import (
    DelayProxy,
    FleetNode,
    SshdFleet,
    keygen,
    kill_tree,
    known_hosts_name,
    stock_bastion,
)

from awgcheck.collect.ssh.config import SshTarget
from awgcheck.collect.ssh.connect import SshCollector, open_ssh
from awgcheck.collect.ssh.jumps import BastionPool
from awgcheck.errors import CollectError

CONNECTED = "Connection from"
ACCEPTED = "Accepted publickey"


@pytest.fixture(scope="module")
def nodes() -> Iterator[SshdFleet]:
    """Twelve nodes (one sshd), logging every connection they get."""
    with SshdFleet(nodes_wanted=12, log_level="VERBOSE") as started:
        yield started


@pytest.fixture()
def bastion(nodes: SshdFleet) -> Iterator[FleetNode]:
    with stock_bastion(nodes) as host:
        yield host


def jump(bastion: FleetNode) -> str:
    return f"root@{bastion.host}:{bastion.port}"


def behind(nodes: SshdFleet, node: FleetNode, *bastions: FleetNode,
           **overrides: object) -> SshTarget:
    return nodes.target(node, jump=tuple(jump(b) for b in bastions), **overrides)


def wait_for(condition: object, seconds: float = 10.0) -> bool:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_nodes_share_one_bastion_connection_beyond_max_sessions(
        nodes: SshdFleet, bastion: FleetNode) -> None:
    # Twelve channels open at once on one connection to an sshd with
    # MaxSessions 10: direct-tcpip channels are not sessions.
    mark = bastion.sshd.log_mark()
    opened: list[SshCollector] = []
    with BastionPool() as pool:
        try:
            for node in nodes.nodes:
                opened.append(open_ssh(behind(nodes, node, bastion), pool))
            for node, collector in zip(nodes.nodes, opened, strict=True):
                assert collector.read_file(node.conf_path) == Path(node.conf_path).read_bytes()
                assert collector.transport.sock.channel.__class__.__name__ == "Channel"
        finally:
            for collector in opened:
                collector.close()
    assert bastion.sshd.logged(CONNECTED, mark) == 1
    assert bastion.sshd.logged(ACCEPTED, mark) == 1


def test_nodes_opened_at_once_wait_for_one_bastion_opening(
        nodes: SshdFleet, bastion: FleetNode) -> None:
    # Twelve threads ask for the bastion at the same moment: one opens it,
    # the others wait for that opening instead of connecting themselves
    # (MaxStartups 10:30:100 would start dropping them).
    mark = bastion.sshd.log_mark()
    results: dict[str, bytes | CollectError] = {}
    start = threading.Barrier(len(nodes.nodes))

    def read(node: FleetNode) -> None:
        start.wait()
        try:
            with open_ssh(behind(nodes, node, bastion), pool) as collector:
                results[node.name] = collector.read_file(node.conf_path)
        except CollectError as exc:
            results[node.name] = exc

    with BastionPool() as pool:
        threads = [threading.Thread(target=read, args=(n,)) for n in nodes.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert results == {n.name: Path(n.conf_path).read_bytes() for n in nodes.nodes}
    assert bastion.sshd.logged(CONNECTED, mark) == 1


def test_channel_limit_makes_a_node_wait_within_its_deadline(
        nodes: SshdFleet, bastion: FleetNode) -> None:
    first, second, third = nodes.nodes[:3]
    with BastionPool(channels=2) as pool:
        a = open_ssh(behind(nodes, first, bastion), pool)
        b = open_ssh(behind(nodes, second, bastion), pool)
        started = time.monotonic()
        with pytest.raises(CollectError) as info:
            open_ssh(behind(nodes, third, bastion, deadline=1.5), pool)
        assert info.value.error_class == "deadline_exceeded"
        assert f"no free channel on bastion {bastion.host}:{bastion.port}" in str(info.value)
        assert "2 in use" in str(info.value)
        assert time.monotonic() - started < 1.5 + 5
        a.close()  # frees a channel
        with open_ssh(behind(nodes, third, bastion), pool) as c:
            assert c.read_file(third.conf_path)
        assert b.read_file(second.conf_path)
        b.close()


def test_dropped_bastion_is_reestablished_once_and_the_node_retried(
        nodes: SshdFleet, bastion: FleetNode) -> None:
    first, second, third = nodes.nodes[:3]
    mark = bastion.sshd.log_mark()
    started = time.monotonic()
    with BastionPool() as pool:
        a = open_ssh(behind(nodes, first, bastion), pool)
        assert a.read_file(first.conf_path)
        for pid in bastion.sshd.connections():  # the bastion drops awgcheck
            kill_tree(pid)
        # The read fails with the bastion, which is re-established, and
        # the node is read again over the new connection.
        assert a.read_file(first.conf_path) == Path(first.conf_path).read_bytes()
        assert bastion.sshd.logged(CONNECTED, mark) == 2
        b = open_ssh(behind(nodes, second, bastion), pool)
        for pid in bastion.sshd.connections():  # and drops it again
            kill_tree(pid)
        with pytest.raises(CollectError) as info:
            b.read_file(second.conf_path)
        assert info.value.error_class == "connection_dropped"
        assert str(info.value).startswith(
            f"{second.host}:{second.port} via bastion {bastion.host}:{bastion.port}: "
            f"bastion {bastion.host}:{bastion.port} dropped the connection again after it "
            "was re-established once")
        # Nodes still to come are told the same, without a third connection.
        with pytest.raises(CollectError) as later:
            open_ssh(behind(nodes, third, bastion), pool)
        assert later.value.error_class == "connection_dropped"
        assert bastion.sshd.logged(CONNECTED, mark) == 2
        a.close()
        b.close()
    assert time.monotonic() - started < 30


def test_changed_bastion_host_key_fails_every_node_naming_the_bastion(
        nodes: SshdFleet, bastion: FleetNode, tmp_path: Path) -> None:
    name = known_hosts_name(bastion.host, bastion.port)
    kind, blob = keygen(tmp_path / "impostor").split()[:2]
    lines = [line for line in nodes.known_hosts.read_text().splitlines()
             if not line.startswith(f"{name} ")]
    known = tmp_path / "known_hosts"
    known.write_text("\n".join([*lines, f"{name} {kind} {blob}"]) + "\n")
    bastion_mark, node_mark = bastion.sshd.log_mark(), nodes.nodes[0].sshd.log_mark()
    label = f"{bastion.host}:{bastion.port}"
    with BastionPool() as pool:
        for node in nodes.nodes[:4]:
            with pytest.raises(CollectError) as info:
                open_ssh(behind(nodes, node, bastion, known_hosts=str(known)), pool)
            assert info.value.error_class == "host_key_changed"
            assert str(info.value).startswith(
                f"{node.host}:{node.port} via bastion {label}: ")
            assert f"HOST KEY CHANGED: the ssh-ed25519 key bastion {label} offered" \
                in str(info.value)
    # The bastion's key was checked once, and no node was ever reached.
    assert bastion.sshd.logged(CONNECTED, bastion_mark) == 1
    assert bastion.sshd.logged(ACCEPTED, bastion_mark) == 0
    assert nodes.nodes[0].sshd.logged(CONNECTED, node_mark) == 0


def test_two_bastions_share_each_hop_of_the_chain(nodes: SshdFleet) -> None:
    with stock_bastion(nodes) as outer, stock_bastion(nodes) as inner:
        marks = outer.sshd.log_mark(), inner.sshd.log_mark()
        with BastionPool() as pool:
            for node in nodes.nodes[:3]:
                with open_ssh(behind(nodes, node, outer, inner), pool) as collector:
                    assert collector.read_file(node.conf_path)
        assert outer.sshd.logged(CONNECTED, marks[0]) == 1
        assert inner.sshd.logged(CONNECTED, marks[1]) == 1
        # Both connections end with the run.
        assert wait_for(lambda: not outer.sshd.connections() and not inner.sshd.connections())


def test_closing_the_pool_closes_the_bastion_connection(
        nodes: SshdFleet, bastion: FleetNode) -> None:
    node = nodes.nodes[0]
    pool = BastionPool()
    with open_ssh(behind(nodes, node, bastion), pool) as collector:
        assert collector.read_file(node.conf_path)
    # The node is done; the bastion stays open for nodes still to come.
    assert bastion.sshd.connections()
    pool.close()
    assert wait_for(lambda: not bastion.sshd.connections())
    assert not [t for t in threading.enumerate()
                if isinstance(t, paramiko.Transport) and t.is_alive()
                and _peer_port(t) == bastion.port]


def _peer_port(transport: paramiko.Transport) -> int | None:
    try:
        return int(transport.sock.getpeername()[1])
    except (OSError, AttributeError, IndexError):
        return None


def test_a_node_without_a_pool_closes_its_own_bastion(
        nodes: SshdFleet, bastion: FleetNode) -> None:
    node = nodes.nodes[1]
    with open_ssh(behind(nodes, node, bastion)) as collector:
        assert collector.read_file(node.conf_path)
    assert wait_for(lambda: not bastion.sshd.connections())


RTT = 0.4
"""As in test_ssh_rtt.py: far above a busy box's scheduling noise."""


def test_a_node_behind_an_open_bastion_costs_its_channel_and_its_handshake(
        nodes: SshdFleet, bastion: FleetNode, tmp_path: Path) -> None:
    # The bastion sits across the slow link, the nodes next to it. The
    # first node pays the bastion's handshake (3 round trips: the proxy
    # accepts TCP locally), then its channel (1) and its own handshake (3);
    # the next one only the last two, as a direct node pays TCP and 3.
    with DelayProxy([(bastion.host, bastion.port)], delay=RTT / 2) as proxy:
        port = proxy.ports[0]
        known = tmp_path / "known_hosts"
        known.write_text(nodes.known_hosts.read_text() + f"[127.0.0.1]:{port} "
                         f"{' '.join(bastion.sshd.host_pub.split()[:2])}\n")
        far = (f"root@127.0.0.1:{port}",)
        with BastionPool() as pool:
            for node, expected in zip(nodes.nodes[:2], (7, 4), strict=True):
                started = time.monotonic()
                with open_ssh(nodes.target(node, jump=far, known_hosts=str(known)),
                              pool) as collector:
                    assert int((time.monotonic() - started) // RTT) == expected
                    assert collector.transport.is_authenticated()
        time.sleep(RTT * 1.5)  # let the closed connection drain through the proxy
