"""A hostile SSH server: its banner, version string, auth banner and
disconnect reason carry terminal escapes, bidi overrides, C1 controls and
bytes that are not UTF-8. Whatever it sends, ``check`` (every format, on
stdout and in ``--output``) and ``triage``'s screen must print no raw
control character and only UTF-8, and the node must fail with a stable
class (never ``internal_error``, never a retried "MaxStartups" drop).

Two kinds of server, both real sockets on loopback: a raw TCP server that
writes a script of bytes (everything before key exchange), and a paramiko
``ServerInterface`` server for what comes after it (an auth banner, a
DISCONNECT during authentication), trusted through known_hosts so that
awgcheck gets that far.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import paramiko
import paths
import pytest
import yaml
from paramiko.common import cMSG_DISCONNECT
from paramiko.message import Message
from sshd_fleet import CONF_REL, keygen

EVIL = "\x1b]0;pwned\x07\x1b[2J\u202e\x9b31m\x7f"
"""OSC title + BEL, clear screen, a bidi override, a C1 CSI, DEL."""
EVIL_BYTES = EVIL.encode()

SCRIPTS = {
    # A version line with escapes, then bytes that are no SSH packet.
    "escaped-version": b"SSH-2.0-evil" + EVIL_BYTES + b"\r\n" + bytes(range(256)) * 8,
    # The protocol version itself is hostile: "Incompatible version (...)".
    "escaped-protocol": b"SSH-" + EVIL_BYTES + b"-evil\r\n",
    # 100 lines before any "SSH-": "Indecipherable protocol version "...""
    "indecipherable": (EVIL_BYTES + b"x" * 1000 + b"\r\n") * 101,
    # Bytes that are not UTF-8 in the version line.
    "not-utf8": b"SSH-2.0-\xff\xfe\xc0" + EVIL_BYTES + b"\r\n",
}
AFTER_KEX = ("auth-banner", "disconnect")
FORMATS = ("table", "json", "junit", "sarif", "github", "markdown")
# Raw C0 controls but the newline, DEL, C1 controls, bidi controls.
RAW = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class ScriptServer:
    """Writes ``script`` to every connection, then holds it open a moment
    (a server that closes at once only looks like a dropped connection)."""

    def __init__(self, script: bytes) -> None:
        self.script = script
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.sendall(self.script)
                conn.settimeout(2)
                while conn.recv(65536):
                    pass
            except OSError:
                pass


class EvilInterface(paramiko.ServerInterface):
    """Shows an escaped auth banner, refuses every key; with ``disconnect``
    it answers the first key with a DISCONNECT whose reason is escapes and
    bytes that are not UTF-8."""

    def __init__(self, transport: paramiko.Transport, disconnect: bool) -> None:
        self.transport = transport
        self.disconnect = disconnect

    def get_banner(self) -> tuple[str, str]:
        return f"{EVIL}welcome\r\n", "en"

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        if self.disconnect:
            message = Message()
            message.add_byte(cMSG_DISCONNECT)
            message.add_int(11)
            message.add_string(b"bye \xff\xfe " + EVIL_BYTES)
            message.add_string(b"")
            self.transport._send_message(message)  # no public way to send a reason
        return paramiko.AUTH_FAILED


class ParamikoServer(ScriptServer):
    """A paramiko SSH server whose version string carries ``EVIL``."""

    def __init__(self, key: paramiko.PKey, disconnect: bool) -> None:
        self.key = key
        self.disconnect = disconnect
        super().__init__(b"")

    def _talk(self, conn: socket.socket) -> None:
        transport = paramiko.Transport(conn)
        transport.local_version = f"SSH-2.0-evil{EVIL}"
        transport.add_server_key(self.key)
        try:
            transport.start_server(server=EvilInterface(transport, self.disconnect))
            transport.join(10)
        except (paramiko.SSHException, EOFError, OSError):
            pass
        finally:
            transport.close()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An inventory: the demo server as a local tree (the source), one node
    per hostile server."""
    root = tmp_path_factory.mktemp("hostile-ssh")
    conf = root / "server" / CONF_REL
    conf.parent.mkdir(parents=True)
    conf.write_text((paths.DEMO / "nodes" / "server" / CONF_REL).read_text())
    identity = root / "id_ed25519"
    keygen(identity)
    host_key = paramiko.ECDSAKey.generate()
    servers: dict[str, ScriptServer] = {name: ScriptServer(script)
                                        for name, script in SCRIPTS.items()}
    for name in AFTER_KEX:
        servers[name] = ParamikoServer(host_key, disconnect=name == "disconnect")
    known = root / "known_hosts"
    known.write_text("".join(f"[127.0.0.1]:{s.port} {host_key.get_name()} "
                             f"{host_key.get_base64()}\n" for s in servers.values()))
    nodes: dict[str, object] = {"server": {"local": "server"}}
    for name, server in servers.items():
        nodes[name] = {"host": "127.0.0.1", "port": server.port, "user": "audit",
                       "identity": str(identity), "known_hosts": str(known)}
    inventory = root / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "server", "nodes": nodes}))
    yield inventory
    for server in servers.values():
        server.sock.close()


def _awgcheck(*args: str) -> subprocess.CompletedProcess[bytes]:
    env = {"PATH": "/usr/bin:/bin"}  # no SSH_AUTH_SOCK: fleet keys only
    return subprocess.run([sys.executable, "-m", "awgcheck", *args, "--ssh-config", "none",
                           "--timeout", "10"], capture_output=True, timeout=120, env=env)


def _raw(data: bytes) -> str | None:
    """What is wrong with ``data`` as terminal-safe output, or None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8: {exc}"
    found = RAW.search(text)
    if found is None:
        return None
    return f"raw {found.group(0)!r} after {text[max(0, found.start() - 60):found.start()]!r}"


def test_hostile_server_reaches_no_output_raw(fleet: Path, tmp_path: Path) -> None:
    problems: dict[str, str] = {}
    json_report = b""
    for fmt in FORMATS:
        out = tmp_path / f"report.{fmt}"
        ran = _awgcheck("check", "-i", str(fleet), "--format", fmt, "--output", str(out))
        assert ran.returncode == 4, ran.stderr.decode(errors="replace")
        for stream, data in (("stdout", ran.stdout), ("stderr", ran.stderr),
                             ("output", out.read_bytes())):
            if (problem := _raw(data)) is not None:
                problems[f"check {fmt} {stream}"] = problem
        if fmt == "json":
            json_report = out.read_bytes()
    for name in [*SCRIPTS, *AFTER_KEX]:
        ran = _awgcheck("triage", name, "-i", str(fleet))
        for stream, data in (("stdout", ran.stdout), ("stderr", ran.stderr)):
            if (problem := _raw(data)) is not None:
                problems[f"triage {name} {stream}"] = problem
    assert not problems, problems
    nodes = {n["name"]: n for n in json.loads(json_report)["nodes"]}
    # The server's own words are shown, escaped, and cut short.
    assert nodes["escaped-protocol"]["error"].endswith(
        "SSH handshake failed: Incompatible version (\\x1b]0;pwned\\x07\\x1b[2J\\u202e"
        "\\u009b31m\\x7f instead of 2.0)")
    assert len(nodes["indecipherable"]["error"]) < 300
    classes = {name: node["error_class"] for name, node in nodes.items()}
    assert classes == {
        "server": None,
        "escaped-version": "handshake_failed", "escaped-protocol": "handshake_failed",
        "indecipherable": "handshake_failed", "not-utf8": "handshake_failed",
        "auth-banner": "auth_failed", "disconnect": "handshake_failed",
    }
