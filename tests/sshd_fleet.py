"""Real OpenSSH servers for tests and benchmarks: a throwaway SSH fleet.

``SshdFleet`` starts ``sshd -D -e -f <config>`` processes on loopback
addresses (127.0.0.1, 127.0.0.2, ...), each serving up to 16 nodes (sshd's
listen-socket limit) on distinct ports. Every node has its own directory
holding its files, so a node's conf path is an absolute path in the fleet's
temporary directory. Host keys, a client key and a matching known_hosts are
generated with ssh-keygen; nothing is written outside the work directory
except ``/run/sshd`` (sshd's privilege-separation directory).

Also here: ``Tarpit`` (accepts TCP, never speaks), ``DelayProxy`` (adds
latency in both directions, for RTT benchmarks) and ``SudoUser`` (a
throwaway account with a sudoers rule, root only).

Plain classes with context managers, usable from pytest fixtures and from
``benchmarks/ssh_fleet.py`` alike. sshd missing is an error, never a skip:
as root it is installed with apt-get.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_LISTEN = 16
"""OpenSSH refuses more than 16 listen sockets per sshd process."""

CONF_REL = "etc/amnezia/amneziawg/awg0.conf"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"
"""OpenSSH's own sftp-server program (the fleet's sshd runs internal-sftp
unless told otherwise)."""

SAMPLE_CONF = """\
[Interface]
PrivateKey = {private}
Address = 10.8.0.1/24
ListenPort = 51820
Jc = 4
Jmin = 40
Jmax = 70
S1 = 0
S2 = 0
H1 = 1
H2 = 2
H3 = 3
H4 = 4
"""


def _run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)


def ensure_sshd() -> str:
    """Path of sshd; install openssh-server when root and missing, else fail."""
    found = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd")
                                     else None)
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "openssh-server"], check=False,
                       capture_output=True)
        found = shutil.which("sshd") or "/usr/sbin/sshd"
    if found is None or not os.path.exists(found):
        raise RuntimeError("sshd (openssh-server) is required for the SSH tests and is missing")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    return found


def keygen(path: Path, kind: str = "ed25519") -> str:
    """Generate an unencrypted key pair at ``path``; return the public line."""
    extra = ["-b", "2048"] if kind == "rsa" else []
    _run(["ssh-keygen", "-q", "-t", kind, *extra, "-N", "", "-C", "awgcheck-test",
          "-f", str(path)])
    path.chmod(0o600)
    return path.with_suffix(path.suffix + ".pub").read_text().strip()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (racy, good enough on lo)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def known_hosts_name(host: str, port: int) -> str:
    """OpenSSH's known_hosts name: ``host``, or ``[host]:port`` off port 22."""
    return host if port == 22 else f"[{host}]:{port}"


def children() -> dict[int, list[int]]:
    """Every process's children, by parent pid (from /proc)."""
    found: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        found.setdefault(ppid, []).append(int(entry))
    return found


def kill_tree(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal ``pid`` and every descendant (sshd forks per connection and
    its session children call setsid, so a process group is not enough)."""
    below = children()
    todo, seen = [pid], []
    while todo:
        current = todo.pop()
        seen.append(current)
        todo += below.get(current, [])
    for victim in seen:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, sig)


@dataclass
class Sshd:
    """One sshd process and the (host, port) pairs it listens on."""

    config: Path
    listen: list[tuple[str, int]]
    host_key: Path
    host_pub: str
    log: Path
    process: subprocess.Popen[bytes] | None = None
    flags: tuple[str, ...] = ()

    def start(self, sshd: str) -> None:
        """Launch ``sshd -D -e`` (foreground, log to stderr -> the log file)."""
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([sshd, "-D", "-e", *self.flags,
                                             "-f", str(self.config)],
                                            stdout=log, stderr=log, stdin=subprocess.DEVNULL)

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Block until every listen address accepts, or raise with the log."""
        deadline = time.monotonic() + timeout
        pending = list(self.listen)
        while pending:
            host, port = pending[0]
            try:
                with socket.create_connection((host, port), timeout=1):
                    pending.pop(0)
                    continue
            except OSError:
                pass
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"sshd exited: {self.log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"sshd not listening on {host}:{port}: "
                                   f"{self.log.read_text()[-2000:]}")
            time.sleep(0.05)

    def connections(self) -> list[int]:
        """Pids of the processes serving one client connection each (the
        children of the listening sshd); killing one drops that client."""
        assert self.process is not None
        return children().get(self.process.pid, [])

    def log_mark(self) -> int:
        """Where the log ends now, for :meth:`logged` to count from."""
        return self.log.stat().st_size

    def logged(self, text: str, since: int = 0) -> int:
        """Log lines since ``since`` that contain ``text`` (LogLevel VERBOSE
        logs "Connection from" and "Accepted publickey" once per connection)."""
        with open(self.log, "rb") as fh:
            fh.seek(since)
            return sum(text.encode() in line for line in fh)

    def kill(self) -> None:
        """SIGKILL sshd and every session it forked."""
        if self.process is not None and self.process.poll() is None:
            kill_tree(self.process.pid)
            self.process.wait(timeout=10)


@dataclass
class FleetNode:
    """One simulated node: an address served by an sshd, and its files."""

    name: str
    host: str
    port: int
    root: Path
    sshd: Sshd

    @property
    def conf_path(self) -> str:
        """Absolute path of the node's AmneziaWG conf."""
        return str(self.root / CONF_REL)

    def write(self, rel: str, data: bytes | str, mode: int = 0o644) -> str:
        """Create a file under the node's root; return its absolute path."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        path.chmod(mode)
        return str(path)


@dataclass
class SshdFleet:
    """A set of sshd-served nodes in a fresh work directory.

    ``with SshdFleet(nodes=3) as fleet:`` starts them; ``fleet.target(node)``
    builds an awgcheck SshTarget that authenticates with the fleet's client
    key and trusts its known_hosts.
    """

    nodes_wanted: int = 1
    nodes_per_sshd: int = MAX_LISTEN
    workdir: Path | None = None
    host_key_type: str = "ed25519"
    extra_config: str = ""
    sshd_flags: tuple[str, ...] = ()
    # A fleet audit opens many connections at once; sshd's defaults
    # (MaxStartups 10:30:100, MaxSessions 10) are for a stock bastion.
    max_startups: str = "1000"
    max_sessions: int = 100
    log_level: str = "ERROR"  # VERBOSE logs every connection and authentication
    sftp_server: str = "internal-sftp"  # or OpenSSH's own sftp-server program; "" for none
    nodes: list[FleetNode] = field(default_factory=list)
    daemons: list[Sshd] = field(default_factory=list)
    trusted: list[str] = field(default_factory=list)  # more known_hosts lines (bastions)
    _owns_dir: bool = False

    def __post_init__(self) -> None:
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="awgcheck-sshd-"))
            self._owns_dir = True
        # Other local users (the sudo test account) must reach the
        # authorized_keys file through this directory.
        self.workdir.chmod(0o755)
        self.client_key = self.workdir / "client_ed25519"
        self.authorized_keys = self.workdir / "authorized_keys"
        self.known_hosts = self.workdir / "known_hosts"

    @property
    def dir(self) -> Path:
        """The fleet's work directory."""
        assert self.workdir is not None
        return self.workdir

    def __enter__(self) -> SshdFleet:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Generate the client key and start ``nodes_wanted`` nodes."""
        sshd = ensure_sshd()
        self.client_pub = keygen(self.client_key)
        self.authorized_keys.write_text(self.client_pub + "\n")
        self.authorized_keys.chmod(0o644)
        self.add_nodes(self.nodes_wanted, sshd=sshd)

    def add_nodes(self, count: int, *, sshd: str | None = None) -> list[FleetNode]:
        """Start ``count`` more nodes (new sshd processes) and return them."""
        sshd = sshd or ensure_sshd()
        added: list[FleetNode] = []
        started: list[Sshd] = []
        while len(added) < count:
            index = len(self.daemons)
            host = f"127.0.0.{2 + index % 250}" if index else "127.0.0.1"
            batch = min(self.nodes_per_sshd, count - len(added))
            daemon = self._make_sshd(index, host, batch)
            for host_, port in daemon.listen:
                number = len(self.nodes) + 1
                root = self.dir / "nodes" / f"node{number}"
                node = FleetNode(f"node{number}", host_, port, root, daemon)
                node.write(CONF_REL, SAMPLE_CONF.format(private=f"node{number}-secret"), 0o600)
                self.nodes.append(node)
                added.append(node)
            daemon.start(sshd)
            self.daemons.append(daemon)
            started.append(daemon)
        for daemon in started:
            daemon.wait_ready()
        self.write_known_hosts()
        return added

    def _make_sshd(self, index: int, host: str, count: int) -> Sshd:
        base = self.dir / f"sshd{index}"
        base.mkdir()
        host_key = base / f"ssh_host_{self.host_key_type}_key"
        host_pub = keygen(host_key, self.host_key_type)
        listen = [(host, free_port(host)) for _ in range(count)]
        lines = [f"ListenAddress {h}:{p}" for h, p in listen]
        lines += [
            f"HostKey {host_key}",
            f"PidFile {base / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            "UsePAM no",
            "StrictModes no",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "PermitRootLogin prohibit-password",
            f"MaxStartups {self.max_startups}",
            f"MaxSessions {self.max_sessions}",
            "AllowTcpForwarding yes",
            f"Subsystem sftp {self.sftp_server}" if self.sftp_server else "",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            f"LogLevel {self.log_level}",
            self.extra_config,
        ]
        config = base / "sshd_config"
        config.write_text("\n".join(lines) + "\n")
        return Sshd(config, listen, host_key, host_pub, base / "sshd.log",
                    flags=self.sshd_flags)

    def write_known_hosts(self) -> None:
        """(Re)write the client's known_hosts with every node's host key."""
        lines = []
        for node in self.nodes:
            kind, blob = node.sshd.host_pub.split()[:2]
            lines.append(f"{known_hosts_name(node.host, node.port)} {kind} {blob}")
        self.known_hosts.write_text("\n".join([*lines, *self.trusted]) + "\n")

    def kill(self, node: FleetNode) -> None:
        """SIGKILL the node's sshd and all its sessions (a node crash)."""
        node.sshd.kill()

    def stop(self) -> None:
        """Kill every sshd and remove the work directory if we made it."""
        for daemon in self.daemons:
            with contextlib.suppress(Exception):
                daemon.kill()
        if self._owns_dir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def inventory_fields(self, node: FleetNode, **extra: Any) -> dict[str, Any]:
        """The node as an awgcheck inventory entry (fleet key, known_hosts,
        the node's conf path); ``extra`` adds or overrides fields."""
        return {"host": node.host, "port": node.port, "user": "root",
                "identity": str(self.client_key), "known_hosts": str(self.known_hosts),
                "conf": node.conf_path, **extra}

    def target(self, node: FleetNode, **overrides: Any) -> Any:
        """An awgcheck SshTarget for ``node`` using the fleet's key and known_hosts."""
        from awgcheck.collect.ssh.config import SshTarget

        fields: dict[str, Any] = {
            "host": node.host,
            "port": node.port,
            "user": "root",
            "identity": str(self.client_key),
            "known_hosts": str(self.known_hosts),
            "ssh_config": "none",
            "connect_timeout": 5.0,
            "deadline": 30.0,
        }
        fields.update(overrides)
        return SshTarget(**fields)


class Tarpit:
    """A TCP server that accepts connections and never says anything."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind((host, 0))
        self.server.listen(128)
        self.host = host
        self.port = int(self.server.getsockname()[1])
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            self._held.append(conn)

    def __enter__(self) -> Tarpit:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self.server.close()


class DelayProxy:
    """Userspace TCP proxy adding ``delay`` seconds each way (RTT = 2*delay).

    Listens on one port per upstream; bytes are forwarded in order, each
    chunk released ``delay`` after it arrived, so bandwidth is not throttled,
    only latency added. Runs an asyncio loop in a background thread.
    """

    def __init__(self, upstreams: list[tuple[str, int]], delay: float = 0.05,
                 listen_host: str = "127.0.0.1", *, connect_delay: float = 0.0) -> None:
        self.upstreams = upstreams
        self.delay = delay
        # The proxy accepts at once, so a client's TCP handshake costs no
        # RTT; connect_delay holds the upstream connection back to model it.
        self.connect_delay = connect_delay
        self.listen_host = listen_host
        self.ports: list[int] = []
        self._loop = asyncio.new_event_loop()
        self._servers: list[asyncio.Server] = []
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        async def close() -> None:
            for server in self._servers:
                server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _start(self) -> None:
        for upstream in self.upstreams:
            server = await asyncio.start_server(
                lambda r, w, up=upstream: self._handle(r, w, up), self.listen_host, 0,
                backlog=1024)
            self._servers.append(server)
            self.ports.append(int(server.sockets[0].getsockname()[1]))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      upstream: tuple[str, int]) -> None:
        try:
            if self.connect_delay:
                await asyncio.sleep(self.connect_delay)
            up_reader, up_writer = await asyncio.open_connection(*upstream)
        except (OSError, asyncio.CancelledError):
            writer.close()
            return
        for w in (writer, up_writer):
            sock = w.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer),
                                 return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def release() -> None:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    writer.close()
                    return
                writer.write(data)
                await writer.drain()

        sender = asyncio.ensure_future(release())
        try:
            while True:
                data = await reader.read(65536)
                queue.put_nowait((loop.time() + self.delay, data))
                if not data:
                    break
            await sender
        except (OSError, asyncio.CancelledError):
            sender.cancel()
            writer.close()


class SudoUser:
    """A throwaway local account that sshd lets in with the fleet's key,
    plus ``/etc/sudoers.d/awgcheck-test-<random>``: NOPASSWD for
    ``cat -- <allowed>`` only (or the sudoers ``rules`` given, with
    ``{user}`` for the account's name), a password for everything else.
    Every version of the file is checked with ``visudo -c`` first.
    Root only; removed again on exit."""

    def __init__(self, allowed: list[str] | None = None, rules: str | None = None) -> None:
        if os.geteuid() != 0:
            raise RuntimeError("creating a sudo test user needs root")
        if shutil.which("sudo") is None and shutil.which("apt-get"):
            subprocess.run(["apt-get", "install", "-y", "sudo"], check=False,
                           capture_output=True)
        if shutil.which("sudo") is None:
            raise RuntimeError("sudo is not installed")
        self.allowed = allowed or []
        self.name = "awgt" + secrets.token_hex(4)
        self.sudoers = Path(f"/etc/sudoers.d/awgcheck-test-{self.name}")
        cat = shutil.which("cat") or "/usr/bin/cat"
        self.rules = [f"{self.name} ALL=(root) NOPASSWD: {cat} -- {p}" for p in self.allowed]
        if rules is not None:
            self.rules.append(rules.replace("{user}", self.name))

    def __enter__(self) -> SudoUser:
        _run(["useradd", "--no-create-home", "--home-dir", "/nonexistent",
              "--shell", "/bin/sh", self.name])
        # "!" (locked) makes sshd refuse even key logins without PAM; "*"
        # means "no password" and keeps sudo's password rule unusable.
        _run(["usermod", "-p", "*", self.name])
        self._write()
        return self

    def allow(self, line: str) -> None:
        """Add one sudoers line (as given) to the account's file."""
        self.rules.append(line)
        self._write()

    def _write(self) -> None:
        # NOPASSWD must come last to win: sudoers applies the last match.
        text = "\n".join([f"{self.name} ALL=(ALL) ALL", *self.rules]) + "\n"
        tmp = self.sudoers.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.chmod(0o440)
        _run(["visudo", "-cf", str(tmp)])
        tmp.rename(self.sudoers)

    def __exit__(self, *exc: object) -> None:
        self.sudoers.unlink(missing_ok=True)
        subprocess.run(["userdel", "-f", self.name], check=False, capture_output=True)


@contextlib.contextmanager
def stock_bastion(behind: SshdFleet, **kwargs: Any) -> Iterator[FleetNode]:
    """A jump host for ``behind``'s nodes, its sshd as distributions ship
    it (MaxStartups 10:30:100, MaxSessions 10) and logging every connection
    (LogLevel VERBOSE): it trusts ``behind``'s client key, and ``behind``'s
    known_hosts trusts its host key. ``kwargs`` change its SshdFleet."""
    settings: dict[str, Any] = {"max_startups": "10:30:100", "max_sessions": 10,
                                "log_level": "VERBOSE", **kwargs}
    with SshdFleet(nodes_wanted=1, **settings) as jump:
        with open(jump.authorized_keys, "a") as keys:
            keys.write(behind.client_pub + "\n")
        host = jump.nodes[0]
        # wait_ready's probe connection is logged a moment later: let it
        # be, so a test's log mark counts only its own connections.
        ends = time.monotonic() + 10
        while host.sshd.logged("Connection closed by") < 1 and time.monotonic() < ends:
            time.sleep(0.02)
        kind, blob = host.sshd.host_pub.split()[:2]
        line = f"{known_hosts_name(host.host, host.port)} {kind} {blob}"
        behind.trusted.append(line)
        behind.write_known_hosts()
        try:
            yield host
        finally:
            behind.trusted.remove(line)
            behind.write_known_hosts()


@contextlib.contextmanager
def fleet(nodes: int = 1, **kwargs: Any) -> Iterator[SshdFleet]:
    """``with fleet(3) as f:`` — shorthand for ``SshdFleet(nodes_wanted=3)``."""
    with SshdFleet(nodes_wanted=nodes, **kwargs) as started:
        yield started
