"""The pipelined SFTP reader against servers that do not behave like OpenSSH.

The reader STATs a file first (a FIFO must never be opened), then guesses
the handle OPEN will return so that FSTAT and READ ride in the same flight
(awgcheck/collect/ssh/sftp.py). Against OpenSSH the guess is right
(tests/collect/test_ssh_rtt.py); these tests make it wrong on purpose and
check that a wrong or early guess never returns a wrong byte.
The server is OpenSSH's real ``sftp-server`` on pipes, behind a shim that
can disguise its handles or reorder the requests of one flight, which the
protocol allows a server to do.
"""

from __future__ import annotations

import os
import select
import stat
import struct
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sshd_fleet import SFTP_SERVER

from awgcheck.collect.ssh.sftp import SftpError, SftpNotRegular, SftpReader

INIT, OPEN, CLOSE, READ, FSTAT, STAT, HANDLE = 1, 3, 4, 5, 8, 17, 102
HANDLE_OPS = (CLOSE, READ, FSTAT)

Reorder = Callable[[list[bytes]], list[bytes]]


def _kind(packet: bytes) -> int:
    return packet[4]


class ServerPipe:
    """Stands in for the paramiko channel: ``sftp-server`` on stdin/stdout.

    Requests are held until the reader waits for a reply, so one flight
    reaches the server as one batch, in the order ``reorder`` gives it.
    ``disguise`` prefixes every handle the server returns with ``b"x"``
    (and strips it again on the way in), so OpenSSH's handle is never the
    one the reader guesses; a handle without the prefix is sent on as an
    invalid one. When the reader only peeks (``recv_ready``) the held
    requests go out, as time passing between two reads would send them,
    unless ``hold_when_idle``.
    """

    def __init__(self, reorder: Reorder | None = None, disguise: bool = False,
                 hold_when_idle: bool = False) -> None:
        self._server = subprocess.Popen([SFTP_SERVER], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE)
        self._reorder = reorder or (lambda batch: batch)
        self._disguise = disguise
        self._hold_when_idle = hold_when_idle
        self._held = b""
        self._replies = b""
        self.batches: list[list[int]] = []

    def sendall(self, data: bytes) -> None:
        self._held += data

    def recv_ready(self) -> bool:
        if not self._hold_when_idle:
            self._flush()
        self._pull(wait=False)
        return bool(self._replies)

    def recv(self, size: int) -> bytes:
        self._flush()
        while not self._replies:
            self._pull(wait=True)
        data, self._replies = self._replies[:size], self._replies[size:]
        return data

    def close(self) -> None:
        assert self._server.stdin is not None
        self._server.stdin.close()
        self._server.wait(timeout=5)

    def _flush(self) -> None:
        packets = []
        while self._held:
            (length,) = struct.unpack(">I", self._held[:4])
            packets.append(self._rewrite_request(self._held[: 4 + length]))
            self._held = self._held[4 + length:]
        if packets:
            batch = self._reorder(packets)
            self.batches.append([_kind(p) for p in batch])
            assert self._server.stdin is not None
            self._server.stdin.write(b"".join(batch))
            self._server.stdin.flush()

    def _pull(self, wait: bool) -> None:
        """Take in whole reply packets: wait for one if ``wait``, then
        whatever else is ready."""
        assert self._server.stdout is not None
        fd = self._server.stdout.fileno()
        buffered = b""
        timeout = 5.0 if wait else 0.05
        while select.select([fd], [], [], timeout)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buffered += chunk
            timeout = 0.0 if self._complete(buffered) else 5.0
        self._replies += self._rewrite_replies(buffered)

    @staticmethod
    def _complete(data: bytes) -> bool:
        while len(data) >= 4:
            (length,) = struct.unpack(">I", data[:4])
            if len(data) < 4 + length:
                return False
            data = data[4 + length:]
        return not data

    def _rewrite_request(self, packet: bytes) -> bytes:
        if not self._disguise or _kind(packet) not in HANDLE_OPS:
            return packet
        head, (size,) = packet[:9], struct.unpack(">I", packet[9:13])
        handle, rest = packet[13 : 13 + size], packet[13 + size:]
        handle = handle[1:] if handle.startswith(b"x") else b"\xff\xff\xff\xff"
        body = head[4:] + struct.pack(">I", len(handle)) + handle + rest
        return struct.pack(">I", len(body)) + body

    def _rewrite_replies(self, data: bytes) -> bytes:
        if not self._disguise:
            return data
        out = b""
        while data:
            (length,) = struct.unpack(">I", data[:4])
            packet, data = data[: 4 + length], data[4 + length:]
            if _kind(packet) == HANDLE:
                body = packet[4:9] + struct.pack(">I", length - 8) + b"x" + packet[13:]
                packet = struct.pack(">I", len(body)) + body
            out += packet
        return out


def _open_last(batch: list[bytes]) -> list[bytes]:
    """The guessed FSTAT and READ reach the server before the OPEN."""
    return [p for p in batch if _kind(p) != OPEN] + [p for p in batch if _kind(p) == OPEN]


def _read_first(batch: list[bytes]) -> list[bytes]:
    """Only the guessed READ overtakes the OPEN (not the INIT, which
    sftp-server insists on first); FSTAT still succeeds."""
    first = [p for p in batch if _kind(p) == INIT] + [p for p in batch if _kind(p) == READ]
    return first + [p for p in batch if p not in first]


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, bytes]:
    contents = {"a.conf": b"[Interface]\nListenPort = 1\n", "b.conf": b"second file\n",
                "empty.conf": b"", "big.bin": os.urandom(100_000)}
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
    return {str(tmp_path / name): data for name, data in contents.items()}


@pytest.fixture(params=[
    pytest.param({}, id="openssh"),
    pytest.param({"disguise": True}, id="other-handles"),
    pytest.param({"reorder": _open_last}, id="open-processed-last"),
    pytest.param({"reorder": _read_first}, id="read-processed-first"),
])
def reader(request: pytest.FixtureRequest) -> Iterator[tuple[SftpReader, ServerPipe]]:
    pipe = ServerPipe(**request.param)
    yield SftpReader(pipe), pipe  # type: ignore[arg-type]
    pipe.close()


def test_sftpread_reads_every_file_whatever_the_server_does(
        reader: tuple[SftpReader, ServerPipe], files: dict[str, bytes]) -> None:
    sftp, _ = reader
    for _ in range(2):
        for path, data in files.items():
            assert sftp.read(path, 1 << 20) == data


def test_sftpread_errors_survive_a_guess(reader: tuple[SftpReader, ServerPipe],
                                         files: dict[str, bytes], tmp_path: Path) -> None:
    sftp, _ = reader
    with pytest.raises(SftpError) as missing:
        sftp.read(str(tmp_path / "absent"), 100)
    assert missing.value.errno == 2
    with pytest.raises(SftpError) as directory:
        sftp.read(str(tmp_path), 100)
    assert directory.value.errno == 21
    path, data = next(iter(files.items()))
    assert sftp.read(path, 100) == data


def test_sftpread_first_file_in_two_flights_against_openssh(files: dict[str, bytes]) -> None:
    pipe = ServerPipe()
    sftp = SftpReader(pipe)  # type: ignore[arg-type]
    path, data = next(iter(files.items()))
    try:
        assert sftp.read(path, 100) == data
    finally:
        pipe.close()
    # STAT alone (a FIFO must not be opened), then the guessed flight.
    assert pipe.batches == [[INIT, STAT], [OPEN, FSTAT, READ]]  # the CLOSE is never awaited


class _CloseLate:
    """A server that answers a CLOSE after the STAT sent behind it (it
    reaches the server one flight later), and takes READs before the rest
    of their flight."""

    def __init__(self) -> None:
        self.held: list[bytes] = []

    def __call__(self, batch: list[bytes]) -> list[bytes]:
        batch, self.held = self.held + batch, []
        if any(_kind(p) == STAT for p in batch):
            self.held = [p for p in batch if _kind(p) == CLOSE]
            batch = [p for p in batch if _kind(p) != CLOSE]
        return _read_first(batch)


def test_sftpread_never_guesses_while_a_close_is_unanswered(files: dict[str, bytes]) -> None:
    # Were the guessed READ processed before the previous file's CLOSE, it
    # would read the previous file; so no guess until the CLOSE is answered.
    pipe = ServerPipe(reorder=_CloseLate(), hold_when_idle=True)
    sftp = SftpReader(pipe)  # type: ignore[arg-type]
    (first, first_data), (second, second_data) = list(files.items())[:2]
    try:
        assert sftp.read(first, 100) == first_data
        assert sftp.read(second, 100) == second_data
    finally:
        pipe.close()
    # The held CLOSE goes out with the OPEN alone; FSTAT and READ wait for the handle.
    assert pipe.batches[-3:] == [[STAT], [CLOSE, OPEN], [READ, FSTAT]]


def test_sftpread_refuses_a_fifo_without_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "awg0.conf"
    os.mkfifo(fifo)
    pipe = ServerPipe()
    sftp = SftpReader(pipe)  # type: ignore[arg-type]
    try:
        with pytest.raises(SftpNotRegular) as caught:
            sftp.read(str(fifo), 100)
    finally:
        pipe.close()
    assert stat.S_ISFIFO(caught.value.mode)
    assert OPEN not in [kind for batch in pipe.batches for kind in batch]
