"""Round trips per node, counted through a real sshd behind an injected RTT.

A fleet audit is latency-bound (docs/performance.md): every round trip
removed from connecting and reading is worth ~100 ms per node on a real
link. These tests pin the counts, so a paramiko upgrade that brings back a
wait (the pipelined userauth request leans on two private paramiko
methods) or a change to the SFTP reader fails here rather than in a
benchmark. The RTT is large compared with the CPU spent per step, so
``elapsed // RTT`` is the number of round trips.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from paramiko.auth_handler import AuthHandler
from sshd_fleet import DelayProxy, SshdFleet, keygen

from awgcheck.collect.ssh.auth import can_pipeline
from awgcheck.collect.ssh.connect import open_ssh

RTT = 0.4
"""Large enough that scheduling noise on a busy 2-core box stays far
below one round trip."""


@pytest.fixture()
def slow_node(fleet: SshdFleet, tmp_path: Path) -> Iterator[tuple[SshdFleet, int, Path]]:
    """(fleet, proxied port, known_hosts naming it) for the fleet's first node."""
    node = fleet.nodes[0]
    with DelayProxy([(node.host, node.port)], delay=RTT / 2) as proxy:
        known = tmp_path / "known_hosts"
        known.write_text(f"[127.0.0.1]:{proxy.ports[0]} "
                         f"{' '.join(node.sshd.host_pub.split()[:2])}\n")
        yield fleet, proxy.ports[0], known
        # Let the closed connections drain through the delayed pipes, or the
        # proxy stops with tasks pending and asyncio complains at exit.
        time.sleep(RTT * 1.5)


def _round_trips(started: float) -> int:
    return int((time.monotonic() - started) // RTT)


def test_connect_and_authenticate_take_three_round_trips(
        slow_node: tuple[SshdFleet, int, Path]) -> None:
    # Banner + KEXINIT, ECDH + NEWKEYS, then the service request and the
    # signed userauth request in one flight (the proxy accepts TCP locally).
    fleet, port, known = slow_node
    target = fleet.target(fleet.nodes[0], host="127.0.0.1", port=port, known_hosts=str(known))
    started = time.monotonic()
    with open_ssh(target) as collector:
        assert _round_trips(started) == 3
        assert collector.transport.is_authenticated()


def test_without_the_private_auth_methods_the_public_path_authenticates(
        slow_node: tuple[SshdFleet, int, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # A paramiko release that renamed the two private methods the pipelined
    # request overrides: the names are gone from the real class, while
    # paramiko's own code still reaches them (under their "new" names).
    renamed = {name: getattr(AuthHandler, name)
               for name in ("_request_auth", "_parse_service_accept")}
    for name in renamed:
        monkeypatch.delattr(AuthHandler, name)

    def new_names(self: AuthHandler, name: str) -> object:
        if name in renamed:
            return renamed[name].__get__(self)
        raise AttributeError(name)

    monkeypatch.setattr(AuthHandler, "__getattr__", new_names, raising=False)
    assert not can_pipeline()
    fleet, port, known = slow_node
    node = fleet.nodes[0]
    target = fleet.target(node, host="127.0.0.1", port=port, known_hosts=str(known))
    started = time.monotonic()
    with open_ssh(target) as collector:
        # paramiko's public path: it waits for SERVICE_ACCEPT again.
        assert _round_trips(started) == 4
        assert collector.read_file(node.conf_path) == Path(node.conf_path).read_bytes()


def test_private_auth_method_with_a_changed_signature_falls_back_to_the_public_path(
        fleet: SshdFleet, monkeypatch: pytest.MonkeyPatch) -> None:
    # A paramiko release where _request_auth takes the service name, and
    # paramiko's own caller passes it: the method is there (can_pipeline
    # says yes), but calling the pipelined override raises TypeError.
    original = AuthHandler._request_auth

    def request_auth(self: AuthHandler, service: str) -> None:
        assert service == "ssh-userauth"
        original(self)

    def auth_publickey(self: AuthHandler, username: str, key: object,
                       event: threading.Event) -> None:
        with self.transport.lock:
            self.auth_event = event
            self.auth_method = "publickey"
            self.username = username
            self.private_key = key
            self._request_auth("ssh-userauth")

    monkeypatch.setattr(AuthHandler, "_request_auth", request_auth)
    monkeypatch.setattr(AuthHandler, "auth_publickey", auth_publickey)
    assert can_pipeline()
    node = fleet.nodes[0]
    with open_ssh(fleet.target(node)) as collector:
        assert collector.transport.is_authenticated()
        assert collector.read_file(node.conf_path) == Path(node.conf_path).read_bytes()


def test_first_read_takes_four_round_trips(slow_node: tuple[SshdFleet, int, Path]) -> None:
    # Channel open, subsystem start, INIT + STAT (a FIFO is refused before
    # it is opened), then OPEN + FSTAT + READ in one flight with the
    # guessed handle.
    fleet, port, known = slow_node
    node = fleet.nodes[0]
    target = fleet.target(node, host="127.0.0.1", port=port, known_hosts=str(known))
    with open_ssh(target) as collector:
        started = time.monotonic()
        assert collector.read_file(node.conf_path) == Path(node.conf_path).read_bytes()
        assert _round_trips(started) == 4


def test_later_read_takes_two_round_trips(slow_node: tuple[SshdFleet, int, Path]) -> None:
    # STAT, then OPEN + FSTAT + READ with the guessed handle: OpenSSH
    # answers the previous file's CLOSE before the STAT, so the guess is
    # always possible, read straight after or not.
    fleet, port, known = slow_node
    node = fleet.nodes[0]
    other = node.write("etc/rtt-other.conf", "x = 1\n")
    target = fleet.target(node, host="127.0.0.1", port=port, known_hosts=str(known))
    with open_ssh(target) as collector:
        collector.read_file(node.conf_path)
        started = time.monotonic()
        assert collector.read_file(other) == b"x = 1\n"
        assert _round_trips(started) == 2
        time.sleep(RTT * 1.25)
        started = time.monotonic()
        assert collector.read_file(node.conf_path) == Path(node.conf_path).read_bytes()
        assert _round_trips(started) == 2


def test_rsa_key_authenticates_with_a_sha2_signature(own_fleet: SshdFleet,
                                                     tmp_path: Path) -> None:
    # RSA is the one key type whose signature algorithm depends on the
    # server (server-sig-algs); OpenSSH 8.8+ refuses ssh-rsa (SHA-1).
    key = tmp_path / "id_rsa"
    public = keygen(key, "rsa")
    with own_fleet.authorized_keys.open("a") as keys:
        keys.write(public + "\n")
    node = own_fleet.nodes[0]
    with open_ssh(own_fleet.target(node, identity=str(key))) as collector:
        assert collector.read_file(node.conf_path) == Path(node.conf_path).read_bytes()
