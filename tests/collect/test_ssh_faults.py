"""Each failure class, provoked by a real fault against real sshd."""

from __future__ import annotations

import base64
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sshd_fleet import SshdFleet, Tarpit, free_port, keygen, kill_tree

from awgcheck.collect.ssh.config import SshTarget
from awgcheck.collect.ssh.connect import open_ssh
from awgcheck.collect.ssh.hostkeys import fingerprint
from awgcheck.errors import CollectError


def _error(target: SshTarget) -> CollectError:
    with pytest.raises(CollectError) as info:
        open_ssh(target).close()
    return info.value


def test_closed_port_is_connection_refused(fleet: SshdFleet) -> None:
    port = free_port()
    error = _error(fleet.target(fleet.nodes[0], port=port))
    assert error.error_class == "connection_refused"
    assert str(error).startswith(f"127.0.0.1:{port}: ")


def test_unresolvable_host_is_dns_failure(fleet: SshdFleet) -> None:
    error = _error(fleet.target(fleet.nodes[0], host="no-such-node.invalid"))
    assert error.error_class == "dns_failure"
    assert str(error).startswith("no-such-node.invalid:")


def test_tarpit_is_banner_timeout() -> None:
    with Tarpit() as tarpit:
        started = time.monotonic()
        error = _error(SshTarget(host=tarpit.host, port=tarpit.port, connect_timeout=1.0,
                                 deadline=30, ssh_config="none"))
    assert error.error_class == "banner_timeout"
    assert time.monotonic() - started < 1.0 + 5


def test_tarpit_node_stops_at_its_deadline() -> None:
    with Tarpit() as tarpit:
        started = time.monotonic()
        error = _error(SshTarget(host=tarpit.host, port=tarpit.port, connect_timeout=30,
                                 deadline=1.5, ssh_config="none"))
    assert error.error_class == "deadline_exceeded"
    assert time.monotonic() - started < 1.5 + 5


def test_wrong_client_key_is_auth_failed(fleet: SshdFleet, tmp_path: Path) -> None:
    stranger = tmp_path / "id_stranger"
    keygen(stranger)
    error = _error(fleet.target(fleet.nodes[0], identity=str(stranger)))
    assert error.error_class == "auth_failed"
    assert "root" in str(error)


def test_unknown_host_key_names_fingerprint(fleet: SshdFleet, tmp_path: Path) -> None:
    node = fleet.nodes[0]
    error = _error(fleet.target(node, known_hosts=str(tmp_path / "empty")))
    assert error.error_class == "host_key_unknown"
    host_fp = _fleet_fingerprint(fleet, node.sshd.host_pub)
    assert host_fp in str(error)
    assert f"ssh-keyscan -p {node.port}" in str(error)


def test_changed_host_key_warns_of_mitm(fleet: SshdFleet, known_hosts_copy: Path,
                                        tmp_path: Path) -> None:
    node = fleet.nodes[0]
    impostor = keygen(tmp_path / "impostor")
    kind, blob = impostor.split()[:2]
    known_hosts_copy.write_text(f"[{node.host}]:{node.port} {kind} {blob}\n")
    error = _error(fleet.target(node, known_hosts=str(known_hosts_copy)))
    assert error.error_class == "host_key_changed"
    assert "man-in-the-middle" in str(error)


def test_accept_new_records_key_then_refuses_a_changed_one(fleet: SshdFleet,
                                                           tmp_path: Path) -> None:
    node = fleet.nodes[1]
    known = tmp_path / "known_hosts"
    target = fleet.target(node, known_hosts=str(known), accept_new_host_keys=True)
    with open_ssh(target) as collector:
        assert collector.read_file(node.conf_path)
    recorded = known.read_text()
    assert recorded.startswith(f"[{node.host}]:{node.port} ssh-ed25519 ")
    open_ssh(target).close()  # now known: no second line
    assert known.read_text() == recorded
    impostor = keygen(tmp_path / "impostor").split()
    known.write_text(f"[{node.host}]:{node.port} {impostor[0]} {impostor[1]}\n")
    assert _error(target).error_class == "host_key_changed"


def test_cert_authority_and_revoked_lines_are_tolerated(
        fleet: SshdFleet, known_hosts_copy: Path, caplog: pytest.LogCaptureFixture) -> None:
    ca = fleet.nodes[0].sshd.host_pub.split()
    known_hosts_copy.write_text(
        f"@cert-authority *.example {ca[0]} {ca[1]}\n"
        f"@revoked old.example ssh-ed25519 {ca[1][:-8]}AAAAAAA=\n"
        + known_hosts_copy.read_text())
    node = fleet.nodes[0]
    with caplog.at_level(logging.WARNING, logger="awgcheck"), \
            open_ssh(fleet.target(node, known_hosts=str(known_hosts_copy))) as collector:
        assert collector.read_file(node.conf_path)
    assert any("@cert-authority" in r.getMessage() for r in caplog.records)


def test_revoked_host_key_is_refused(fleet: SshdFleet, known_hosts_copy: Path) -> None:
    node = fleet.nodes[0]
    kind, blob = node.sshd.host_pub.split()[:2]
    known_hosts_copy.write_text(known_hosts_copy.read_text() + f"@revoked * {kind} {blob}\n")
    error = _error(fleet.target(node, known_hosts=str(known_hosts_copy)))
    assert error.error_class == "host_key_revoked"


def test_ssh_config_supplies_hostname_port_user_identity(fleet: SshdFleet,
                                                         tmp_path: Path) -> None:
    node = fleet.nodes[3]
    config = tmp_path / "ssh_config"
    config.write_text(f"Host vpn-alias\n  HostName {node.host}\n  Port {node.port}\n"
                      f"  User root\n  IdentityFile {fleet.client_key}\n")
    target = SshTarget(host="vpn-alias", ssh_config=str(config),
                       known_hosts=str(fleet.known_hosts), deadline=20)
    with open_ssh(target) as collector:
        assert collector.read_file(node.conf_path) == Path(node.conf_path).read_bytes()


def test_proxyjump_through_a_bastion(fleet: SshdFleet) -> None:
    bastion, node = fleet.nodes[0], fleet.nodes[3]
    spec = f"root@{bastion.host}:{bastion.port}"
    with open_ssh(fleet.target(node, jump=(spec,))) as collector:
        assert collector.read_file(node.conf_path) == Path(node.conf_path).read_bytes()
        # The node's sshd sees the bastion as the client: a real hop.
        assert collector.transport.sock.channel.__class__.__name__ == "Channel"


def test_proxyjump_two_bastions_from_ssh_config(fleet: SshdFleet, tmp_path: Path) -> None:
    first, second, node = fleet.nodes[0], fleet.nodes[1], fleet.nodes[2]
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host b1\n  HostName {first.host}\n  Port {first.port}\n  User root\n"
        f"  IdentityFile {fleet.client_key}\n"
        f"Host b2\n  HostName {second.host}\n  Port {second.port}\n  User root\n"
        f"  IdentityFile {fleet.client_key}\n"
        f"Host vpn\n  HostName {node.host}\n  Port {node.port}\n  ProxyJump b1,b2\n")
    target = fleet.target(node, host="vpn", port=None, ssh_config=str(config))
    with open_ssh(target) as collector:
        assert collector.read_file(node.conf_path)


def test_bastion_cannot_reach_node(fleet: SshdFleet) -> None:
    bastion = fleet.nodes[0]
    port = free_port()
    target = fleet.target(fleet.nodes[1], port=port,
                          jump=(f"root@{bastion.host}:{bastion.port}",))
    error = _error(target)
    assert error.error_class == "connection_refused"
    assert "bastion" in str(error)


def test_node_killed_mid_command_is_connection_dropped(own_fleet: SshdFleet) -> None:
    node = own_fleet.nodes[0]
    with open_ssh(own_fleet.target(node)) as collector:
        assert collector.read_file(node.conf_path)
        threading.Timer(0.5, own_fleet.kill, args=(node,)).start()
        with pytest.raises(CollectError) as info:
            collector.run(["sleep", "20"], timeout=15)
        assert info.value.error_class == "connection_dropped"
        with pytest.raises(CollectError) as again:
            collector.read_file(node.conf_path)
        assert again.value.error_class == "connection_dropped"


def test_deadline_interrupts_a_hung_command(fleet: SshdFleet) -> None:
    started = time.monotonic()
    with (open_ssh(fleet.target(fleet.nodes[0], deadline=1.5)) as collector,
          pytest.raises(CollectError) as info):
        collector.run(["sleep", "20"], timeout=60)
    assert info.value.error_class == "deadline_exceeded"
    assert time.monotonic() - started < 1.5 + 5


class _DropFirst:
    """Closes the first ``drops`` connections at once (as sshd does past
    MaxStartups), then forwards to the real sshd."""

    def __init__(self, upstream: tuple[str, int], drops: int) -> None:
        self.upstream, self.drops = upstream, drops
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.seen = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.seen += 1
            if self.seen <= self.drops:
                conn.close()
                continue
            up = socket.create_connection(self.upstream)
            for a, b in ((conn, up), (up, conn)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                s.close()


def test_throttled_connection_is_retried(fleet: SshdFleet, known_hosts_copy: Path) -> None:
    node = fleet.nodes[0]
    proxy = _DropFirst((node.host, node.port), drops=2)
    kind, blob = node.sshd.host_pub.split()[:2]
    known_hosts_copy.write_text(f"[127.0.0.1]:{proxy.port} {kind} {blob}\n")
    try:
        target = fleet.target(node, port=proxy.port, known_hosts=str(known_hosts_copy))
        with open_ssh(target) as collector:
            assert collector.read_file(node.conf_path)
        assert proxy.seen == 3
    finally:
        proxy.server.close()


def test_auth_failure_is_not_retried(fleet: SshdFleet, tmp_path: Path) -> None:
    node = fleet.nodes[0]
    proxy = _DropFirst((node.host, node.port), drops=0)
    kind, blob = node.sshd.host_pub.split()[:2]
    known = tmp_path / "kh"
    known.write_text(f"[127.0.0.1]:{proxy.port} {kind} {blob}\n")
    keygen(tmp_path / "stranger")
    try:
        error = _error(fleet.target(node, port=proxy.port, known_hosts=str(known),
                                    identity=str(tmp_path / "stranger")))
        assert error.error_class == "auth_failed"
        assert proxy.seen == 1
    finally:
        proxy.server.close()


def _fleet_fingerprint(fleet: SshdFleet, pub_line: str) -> str:
    import base64

    import paramiko

    kind, blob = pub_line.split()[:2]
    return fingerprint(paramiko.PKey.from_type_string(kind, base64.b64decode(blob)))


def test_proxycommand_from_ssh_config(fleet: SshdFleet, tmp_path: Path) -> None:
    bastion, node = fleet.nodes[0], fleet.nodes[2]
    config = tmp_path / "ssh_config"
    hop = (f"ssh -F none -i {fleet.client_key} -o BatchMode=yes "
           f"-o UserKnownHostsFile={fleet.known_hosts} -p {bastion.port} "
           f"-W %h:%p root@{bastion.host}")
    config.write_text(f"Host vpn\n  HostName {node.host}\n  Port {node.port}\n"
                      f"  ProxyCommand {hop}\n")
    target = fleet.target(node, host="vpn", port=None, ssh_config=str(config))
    with open_ssh(target) as collector:
        assert collector.read_file(node.conf_path) == Path(node.conf_path).read_bytes()


def test_ssh_agent_keys_are_used(fleet: SshdFleet, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.05)
        env = {"SSH_AUTH_SOCK": str(sock), "PATH": "/usr/bin:/bin"}
        subprocess.run(["ssh-add", str(fleet.client_key)], env=env, check=True,
                       capture_output=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        monkeypatch.setenv("HOME", str(tmp_path))  # no default key files
        node = fleet.nodes[0]
        with open_ssh(fleet.target(node, identity=None)) as collector:
            assert collector.read_file(node.conf_path)
    finally:
        agent.kill()
        agent.wait()


def test_full_accept_queue_is_connect_timeout() -> None:
    # listen(0) with one unaccepted connection queued: the kernel drops
    # further SYNs, so a connect hangs exactly like a filtered port.
    with socket.create_server(("127.0.0.1", 0), backlog=0) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            started = time.monotonic()
            error = _error(SshTarget(host="127.0.0.1", port=port, connect_timeout=1.0,
                                     ssh_config="none"))
    assert error.error_class == "connect_timeout"
    assert time.monotonic() - started < 1.0 + 5


def test_node_frozen_mid_read_stops_at_deadline(own_fleet: SshdFleet) -> None:
    node = own_fleet.nodes[0]
    started = time.monotonic()
    with open_ssh(own_fleet.target(node, deadline=2.0)) as collector:
        assert collector.read_file(node.conf_path)
        # SIGSTOP: the TCP connection stays up but nothing answers, the way
        # a wedged host behaves; only the watchdog can end the read.
        kill_tree(node.sshd.process.pid, signal.SIGSTOP)  # type: ignore[union-attr]
        with pytest.raises(CollectError) as info:
            collector.read_file(node.conf_path)
    assert info.value.error_class == "deadline_exceeded"
    assert time.monotonic() - started < 2.0 + 5


def test_hashed_known_hosts_from_ssh_keygen(fleet: SshdFleet, known_hosts_copy: Path) -> None:
    # ssh-keygen -H rewrites every name as |1|salt|hmac, as HashKnownHosts does.
    subprocess.run(["ssh-keygen", "-H", "-f", str(known_hosts_copy)], check=True,
                   capture_output=True)
    assert "|1|" in known_hosts_copy.read_text()
    node = fleet.nodes[1]
    with open_ssh(fleet.target(node, known_hosts=str(known_hosts_copy))) as collector:
        assert collector.read_file(node.conf_path)


def test_encrypted_key_is_explained(fleet: SshdFleet, tmp_path: Path) -> None:
    key = tmp_path / "id_locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret-pass", "-f", str(key)],
                   check=True, capture_output=True)
    error = _error(fleet.target(fleet.nodes[0], identity=str(key)))
    assert error.error_class == "auth_failed"
    assert "encrypted" in str(error) and "secret-pass" not in str(error)


def test_failures_print_nothing_on_stderr(fleet: SshdFleet, tmp_path: Path) -> None:
    # paramiko logs each transport failure with a traceback; with no logging
    # configured, Python would print those for every unreachable node.
    script = f"""
import sys
from awgcheck.collect.ssh.connect import open_ssh
from awgcheck.collect.ssh.config import SshTarget
from awgcheck.errors import CollectError
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from sshd_fleet import Tarpit
with Tarpit() as tarpit:
    for port, identity in (({fleet.nodes[0].port}, {str(tmp_path / 'none')!r}),
                           (tarpit.port, None)):
        try:
            open_ssh(SshTarget(host="127.0.0.1", port=port, identity=identity,
                               known_hosts={str(fleet.known_hosts)!r}, ssh_config="none",
                               connect_timeout=1, deadline=3))
        except CollectError as exc:
            print(exc.error_class)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=30, cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.split() == ["auth_failed", "banner_timeout"]
    assert done.stderr == ""


def test_hashknownhosts_from_ssh_config_on_accept_new(fleet: SshdFleet, tmp_path: Path) -> None:
    node = fleet.nodes[2]
    config = tmp_path / "ssh_config"
    config.write_text("Host *\n  HashKnownHosts yes\n")
    known = tmp_path / "known_hosts"
    target = fleet.target(node, known_hosts=str(known), accept_new_host_keys=True,
                          ssh_config=str(config))
    open_ssh(target).close()
    assert known.read_text().startswith("|1|")
    with open_ssh(fleet.target(node, known_hosts=str(known))) as collector:
        assert collector.read_file(node.conf_path)


def _silent_agent(path: Path, public_line: str, stop: threading.Event) -> socket.socket:
    """An ssh-agent that lists ``public_line`` and never answers a sign
    request (as one waiting for a confirmation nobody gives)."""
    blob = base64.b64decode(public_line.split()[1])
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()

    def message(kind: int, payload: bytes) -> bytes:
        return struct.pack(">IB", len(payload) + 1, kind) + payload

    def serve(conn: socket.socket) -> None:
        with conn:
            while not stop.is_set():
                header = conn.recv(5)
                if len(header) < 5:
                    return
                length, kind = struct.unpack(">IB", header)
                if length > 1:
                    conn.recv(length - 1, socket.MSG_WAITALL)
                if kind == 11:  # SSH2_AGENTC_REQUEST_IDENTITIES
                    comment = b"hung"
                    conn.sendall(message(12, struct.pack(">II", 1, len(blob)) + blob
                                         + struct.pack(">I", len(comment)) + comment))
                else:  # a sign request: say nothing until the test ends
                    stop.wait()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return server


def test_hung_agent_stops_at_the_deadline(fleet: SshdFleet, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    stop = threading.Event()
    server = _silent_agent(tmp_path / "agent.sock", fleet.client_pub, stop)
    try:
        monkeypatch.setenv("SSH_AUTH_SOCK", str(tmp_path / "agent.sock"))
        monkeypatch.setenv("HOME", str(tmp_path))  # no default key files
        errors: list[CollectError] = []
        # In a thread, so that a regression fails the test instead of hanging it.
        worker = threading.Thread(target=lambda: errors.append(
            _error(fleet.target(fleet.nodes[0], identity=None, deadline=2))), daemon=True)
        worker.start()
        worker.join(timeout=6)
        assert not worker.is_alive(), "a hung agent held the node past its deadline"
        assert errors[0].error_class == "deadline_exceeded"
    finally:
        stop.set()
        server.close()


def test_proxycommand_with_a_descriptor_above_select_range(fleet: SshdFleet,
                                                           tmp_path: Path) -> None:
    """A run with more than 1,024 files open (a raised ``ulimit -n`` and a
    high --concurrency) still reads a ProxyCommand node: select() refuses
    such a descriptor, so the command's output is waited for with poll()."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1200 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    assert wanted >= 1200, f"the hard open-file limit {hard} cannot reach 1,024"
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    held: list[int] = []
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        held.append(null)
        while max(held) < 1100:
            held.append(os.dup(null))
        bastion, node = fleet.nodes[0], fleet.nodes[1]
        hop = (f"ssh -F none -i {fleet.client_key} -o BatchMode=yes "
               f"-o UserKnownHostsFile={fleet.known_hosts} -p {bastion.port} "
               f"-W %h:%p root@{bastion.host}")
        config = tmp_path / "ssh_config"
        config.write_text(f"Host vpn\n  HostName {node.host}\n  Port {node.port}\n"
                          f"  ProxyCommand {hop}\n")
        target = fleet.target(node, host="vpn", port=None, ssh_config=str(config))
        with open_ssh(target) as collector:
            assert collector.read_file(node.conf_path) == Path(node.conf_path).read_bytes()
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_proxycommand_that_exits_fails_at_once(fleet: SshdFleet, tmp_path: Path) -> None:
    """The command's end is the connection's end, reported at once rather
    than read again and again until the deadline."""
    node = fleet.nodes[1]
    config = tmp_path / "ssh_config"
    config.write_text(f"Host vpn\n  HostName {node.host}\n"
                      f"  ProxyCommand sh -c 'echo no route to %h >&2; exit 3'\n")
    started = time.monotonic()
    error = _error(fleet.target(node, host="vpn", port=None, ssh_config=str(config),
                                deadline=20))
    assert time.monotonic() - started < 4  # the banner wait is 5 s
    assert error.error_class == "proxy_failed", error
    assert str(error) == f"vpn: ProxyCommand exited with status 3, saying: no route to {node.host}"


def test_a_handshake_failure_behind_a_healthy_proxycommand_keeps_its_class(
        fleet: SshdFleet, tmp_path: Path) -> None:
    """A failed handshake closes the transport and so ends the command:
    that end is awgcheck's own, not the proxy's failure."""
    node = fleet.nodes[1]
    config = tmp_path / "ssh_config"
    config.write_text(f"Host vpn\n  HostName {node.host}\n"
                      "  ProxyCommand sh -c 'printf \"SSH-1.0-old\\r\\n\"; exec sleep 30'\n")
    error = _error(fleet.target(node, host="vpn", port=None, ssh_config=str(config)))
    assert error.error_class == "handshake_failed", error
    assert "ProxyCommand" not in str(error)


def test_a_proxycommands_stderr_is_quoted_without_its_secrets(fleet: SshdFleet,
                                                               tmp_path: Path) -> None:
    node = fleet.nodes[1]
    secret = "s3cretpw-" + "q" * 12
    config = tmp_path / "ssh_config"
    config.write_text(f"Host vpn\n  HostName {node.host}\n  ProxyCommand sh -c 'echo "
                      f"cannot reach https://admin:{secret}@proxy.example >&2; exit 3'\n")
    error = _error(fleet.target(node, host="vpn", port=None, ssh_config=str(config)))
    assert error.error_class == "proxy_failed", error
    assert secret not in str(error) and "cannot reach" in str(error), error
