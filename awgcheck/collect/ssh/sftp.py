"""A minimal, pipelined SFTP v3 reader: whole small files in few round trips.

paramiko's SFTPClient waits for every reply before sending the next
request: INIT, OPEN, READ, a second READ to see EOF, CLOSE — six round trips
per first file. On a 100 ms link that dominates a fleet audit. The protocol
lets a client keep requests in flight, so this reader needs two round trips
per small file: STAT, then OPEN, FSTAT and the first READ in one flight,
and CLOSE without waiting (INIT rides with the first STAT).

STAT comes first, alone, because opening is not harmless: OpenSSH's
sftp-server opens with a plain ``open(2)``, which blocks on a FIFO until a
writer comes, and the server answers nothing else meanwhile. A node whose
conf is a FIFO would keep its sftp-server blocked long after awgcheck's
deadline closed the connection. What is not a regular file is refused
(:class:`SftpNotRegular`) before it is opened. SFTP v3 has no
non-blocking open and no conditional request, so the STAT cannot share a
flight with the OPEN: the server would go on to the OPEN whatever the STAT
said.

FSTAT and READ need the handle that OPEN returns, so they are sent with a
*guessed* handle: OpenSSH's sftp-server hands out the lowest free slot, so
a session with no other file open always gets the same handle. The guess
is only made when no other handle of this session can be open (every
CLOSE acknowledged), so a guessed handle that the server accepts can only
be the file just opened; the replies are used only when OPEN returns that
very handle and FSTAT succeeded, and a READ that failed is asked again.
A wrong guess (another server, a failed open) costs two small requests
whose replies are discarded, never a round trip or a wrong byte.

Only what awgcheck needs is implemented: stat, open for reading, fstat,
read, close. Replies are matched by request id; late replies to requests
we no longer care about (reads past a short read, a wrong guess) are
discarded.
"""

from __future__ import annotations

import contextlib
import errno
import stat
import struct
import threading

import paramiko

# SSH_FXP_* packet types and SSH_FX_* status codes (draft-ietf-secsh-filexfer-02)
_INIT, _VERSION, _OPEN, _CLOSE, _READ, _FSTAT, _STAT = 1, 2, 3, 4, 5, 8, 17
_STATUS, _HANDLE, _DATA, _ATTRS = 101, 102, 103, 105
_FX_OK, _FX_EOF, _FX_NO_SUCH_FILE, _FX_PERMISSION_DENIED = 0, 1, 2, 3
_FXF_READ = 0x01
_ATTR_SIZE, _ATTR_UIDGID, _ATTR_PERMISSIONS = 0x01, 0x02, 0x04

CHUNK = 32768
"""Read request size every SFTP server must honour."""
WINDOW = 16
"""Reads kept in flight for files larger than one chunk."""
MAX_PACKET = 512 * 1024
FIRST_HANDLE = bytes(4)
"""The handle OpenSSH's sftp-server gives the first file a session opens
(slot 0 as a big-endian u32); the first guess before any OPEN was seen."""


class SftpError(OSError):
    """A failed SFTP request; ``errno`` is ENOENT/EACCES/EISDIR when known."""


class SftpNotRegular(SftpError):
    """The path is a FIFO, a device or a socket (its STAT said so); it was
    not opened. ``mode`` is the ``st_mode`` the server reported."""

    def __init__(self, mode: int, path: str) -> None:
        super().__init__(f"{path}: not a regular file (mode {mode:o})")
        self.mode = mode


class SftpUnavailable(Exception):
    """The node's sshd refused to start the ``sftp`` subsystem (no
    ``Subsystem sftp`` line, or its program is missing)."""


class SftpTooLarge(Exception):
    """The file is longer than the caller's limit (known from a regular
    file's fstat size, or from reading past the limit)."""


class SftpReader:
    """Reads whole files over one SFTP channel (not thread-safe by itself;
    a lock serialises callers)."""

    def __init__(self, channel: paramiko.Channel) -> None:
        self._channel = channel
        self._buffer = bytearray()
        self._next_id = 0
        self._ignored: set[int] = set()
        self._stash: dict[int, tuple[int, bytes]] = {}
        self._closing: set[int] = set()
        """CLOSE requests not yet answered: their handles may still be open."""
        self._guess: bytes | None = FIRST_HANDLE
        """Handle to send FSTAT and READ with before OPEN answers; None once
        a CLOSE failed (a handle of ours may stay open: never guess again)."""
        self._version_pending = True
        self._lock = threading.Lock()
        self._send(_INIT, struct.pack(">I", 3), with_id=False)

    @classmethod
    def start(cls, transport: paramiko.Transport, timeout: float) -> SftpReader:
        """Open a session channel and start the ``sftp`` subsystem on it."""
        channel = transport.open_session(timeout=timeout)
        channel.settimeout(timeout)
        # Waiting for the reply costs a round trip, but INIT may not go out
        # earlier: OpenSSH opens session channels with a zero window and
        # grants one only once the subsystem runs, and RFC 4254 section 5.2
        # forbids sending data beyond the window.
        try:
            channel.invoke_subsystem("sftp")
        except paramiko.SSHException:
            if not transport.is_active():
                raise  # the connection itself is gone: a dropped connection
            channel.close()
            raise SftpUnavailable from None
        return cls(channel)

    def close(self) -> None:
        """End the SFTP session (the server closes any open handles)."""
        self._channel.close()

    # -- wire ---------------------------------------------------------------

    def _send(self, kind: int, payload: bytes, *, with_id: bool = True) -> int:
        request_id = self._next_id
        if with_id:
            self._next_id += 1
            payload = struct.pack(">I", request_id) + payload
        body = bytes([kind]) + payload
        self._channel.sendall(struct.pack(">I", len(body)) + body)
        return request_id

    def _packet(self) -> tuple[int, bytes]:
        """The next packet, waiting for it if needed."""
        while (packet := self._buffered_packet()) is None:
            chunk = self._channel.recv(CHUNK * 2)
            if not chunk:
                if self._version_pending and self._channel.get_transport().is_active():
                    # Closed before its VERSION, on a live connection: the
                    # subsystem's program did not start on the node.
                    raise SftpUnavailable
                raise EOFError("SFTP channel closed")
            self._buffer += chunk
        return packet

    def _buffered_packet(self) -> tuple[int, bytes] | None:
        if len(self._buffer) < 4:
            return None
        (length,) = struct.unpack(">I", self._buffer[:4])
        if not 0 < length <= MAX_PACKET:
            raise SftpError(f"bad SFTP packet length {length}")
        if len(self._buffer) < 4 + length:
            return None
        body = bytes(self._buffer[4 : 4 + length])
        del self._buffer[: 4 + length]
        return body[0], body[1:]

    def _reply(self, request_id: int) -> tuple[int, bytes]:
        """The reply to ``request_id``; replies to ignored ids are dropped.

        OpenSSH answers in request order, but the protocol allows any order,
        so replies for other wanted requests are kept until asked for.
        """
        while request_id not in self._stash:
            self._sort(*self._packet())
        return self._stash.pop(request_id)

    def _settle(self) -> None:
        """Take in the replies that have already arrived, without waiting
        (acknowledged CLOSEs make a handle guess safe again)."""
        while self._channel.recv_ready():
            self._buffer += self._channel.recv(CHUNK * 2)
        while (packet := self._buffered_packet()) is not None:
            self._sort(*packet)

    def _sort(self, kind: int, body: bytes) -> None:
        if self._version_pending:
            if kind != _VERSION:
                raise SftpError(f"expected SFTP VERSION, got packet type {kind}")
            self._version_pending = False
            return
        (got,) = struct.unpack(">I", body[:4])
        if got in self._closing:
            self._closing.discard(got)
            if kind != _STATUS or _status(body[4:])[0] != _FX_OK:
                self._guess = None
        elif got in self._ignored:
            self._ignored.discard(got)
        else:
            self._stash[got] = (kind, body[4:])

    # -- operations ---------------------------------------------------------

    def read(self, path: str, limit: int) -> bytes:
        """Return the file's bytes.

        Raises SftpTooLarge past ``limit``, SftpNotRegular for a FIFO, device
        or socket (never opened), SftpError (errno ENOENT, EACCES, EISDIR or
        None) for a failed request, EOFError or socket.timeout when the
        channel dies or stalls.
        """
        with self._lock:
            return self._read(path, limit)

    def _read(self, path: str, limit: int) -> bytes:
        name = path.encode("utf-8", "surrogateescape")
        self._refuse_irregular(name, path)
        if self._closing:
            self._settle()
        guess = self._guess if not self._closing else None
        open_id = self._send(_OPEN, _string(name) + struct.pack(">II", _FXF_READ, 0))
        guessed = self._stat_and_read(guess) if guess is not None else None
        try:
            handle = _unstring(self._expect(open_id, _HANDLE, path))
        except BaseException:
            self._drop(*guessed or ())
            raise
        if guess is not None and self._guess is not None:
            # With no other handle open this session, the server's answer is
            # the best guess for the next file too.
            self._guess = handle
        if guessed is not None and handle != guess:
            self._drop(*guessed)
            guessed = None
        handle_field = _string(handle)
        pending: list[tuple[int, int, int]] = []
        try:
            first_id, size, is_dir = self._first(handle, guessed, path)
            if is_dir:
                self._drop(first_id)
                raise SftpError(errno.EISDIR, "is a directory", path)
            if size is not None and size > limit:
                self._drop(first_id)
                raise SftpTooLarge(size)
            data = bytearray()
            pending.append((first_id, 0, CHUNK))
            while pending:
                request_id, offset, wanted = pending.pop(0)
                kind, body = self._reply(request_id)
                if kind == _STATUS and _status(body)[0] == _FX_EOF:
                    break
                chunk = _unstring(self._check(kind, body, _DATA, path))
                if offset != len(data):
                    continue  # overtaken by a short read: re-requested below
                data += chunk
                if len(data) > limit:
                    raise SftpTooLarge(len(data))
                if len(chunk) == wanted and pending:
                    continue
                if size is not None and len(data) >= size:
                    break  # the stat size is reached: no round trip to see EOF
                # Ask for the rest: up to WINDOW reads, enough to cover the
                # stat size and one more chunk to see EOF; with no size to
                # believe and a full chunk read, a whole window.
                for request_id, _, _ in pending:
                    self._drop(request_id)
                pending = []
                ahead = CHUNK * WINDOW if size is None and len(data) >= CHUNK else CHUNK
                end = min(limit + 1, max(size or 0, len(data)) + ahead)
                for start in range(len(data), end, CHUNK):
                    if len(pending) >= WINDOW:
                        break
                    rid = self._send(_READ, handle_field + struct.pack(">QI", start, CHUNK))
                    pending.append((rid, start, CHUNK))
            return bytes(data)
        finally:
            for request_id, _, _ in pending:
                self._drop(request_id)
            # Not awaited: the reply is taken in whenever it turns up, and
            # until then no handle is guessed. A dead channel must not hide
            # the error that is propagating.
            with contextlib.suppress(OSError, EOFError):
                self._closing.add(self._send(_CLOSE, handle_field))

    def _refuse_irregular(self, name: bytes, path: str) -> None:
        """STAT ``path`` (following symlinks, as OPEN would) and raise
        unless it is a regular file: the one round trip a file costs before
        it may be opened. A server that leaves the mode out is believed."""
        _, mode = _attrs(self._expect(self._send(_STAT, _string(name)), _ATTRS, path))
        if mode is None or stat.S_ISREG(mode):
            return
        if stat.S_ISDIR(mode):
            raise SftpError(errno.EISDIR, "is a directory", path)
        raise SftpNotRegular(mode, path)

    def _stat_and_read(self, handle: bytes) -> tuple[int, int]:
        """Send FSTAT and the first READ on ``handle``; their request ids."""
        field = _string(handle)
        return (self._send(_FSTAT, field),
                self._send(_READ, field + struct.pack(">QI", 0, CHUNK)))

    def _first(self, handle: bytes, guessed: tuple[int, int] | None, path: str
               ) -> tuple[int, int | None, bool]:
        """FSTAT the open file with its first READ in flight.

        Returns (id of that READ, size, is_directory). Guessed requests are
        believed only when they succeeded: a server may process them before
        the OPEN (the protocol allows reordering), so a failed one is asked
        again with the handle now known to be open.
        """
        if guessed is not None:
            fstat_id, first_id = guessed
            kind, body = self._reply(fstat_id)
            if kind == _ATTRS:
                size, is_dir = _parse_attrs(body)
                if not is_dir and not self._read_answered(first_id):
                    first_id = self._send(_READ, _string(handle) + struct.pack(">QI", 0, CHUNK))
                return first_id, size, is_dir
            self._drop(first_id)
        fstat_id, first_id = self._stat_and_read(handle)
        size, is_dir = _parse_attrs(self._expect(fstat_id, _ATTRS, path))
        return first_id, size, is_dir

    def _read_answered(self, first_id: int) -> bool:
        """Whether the guessed first READ can be believed: it returned data.
        Otherwise it is dropped (an EOF might have come before the OPEN)."""
        kind, body = self._reply(first_id)
        if kind == _DATA:
            self._stash[first_id] = (kind, body)  # the read loop takes it from here
            return True
        return False

    def _drop(self, *request_ids: int) -> None:
        """Forget requests: their replies are discarded now or when they come."""
        for request_id in request_ids:
            if self._stash.pop(request_id, None) is None:
                self._ignored.add(request_id)

    def _expect(self, request_id: int, kind_wanted: int, path: str) -> bytes:
        kind, body = self._reply(request_id)
        return self._check(kind, body, kind_wanted, path)

    @staticmethod
    def _check(kind: int, body: bytes, kind_wanted: int, path: str) -> bytes:
        if kind == kind_wanted:
            return body
        if kind != _STATUS:
            raise SftpError(f"unexpected SFTP reply type {kind}")
        code, message = _status(body)
        mapped = {_FX_NO_SUCH_FILE: errno.ENOENT, _FX_PERMISSION_DENIED: errno.EACCES,
                  _FX_EOF: None}.get(code)
        if mapped is None:
            raise SftpError(f"SFTP error {code}: {message}")
        raise SftpError(mapped, message, path)


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _unstring(body: bytes) -> bytes:
    (length,) = struct.unpack(">I", body[:4])
    return body[4 : 4 + length]


def _status(body: bytes) -> tuple[int, str]:
    (code,) = struct.unpack(">I", body[:4])
    message = _unstring(body[4:]).decode("utf-8", "replace") if len(body) >= 8 else ""
    return code, message


def _attrs(body: bytes) -> tuple[int | None, int | None]:
    """(size, st_mode) from an ATTRS reply, each None when not sent."""
    (flags,) = struct.unpack(">I", body[:4])
    offset = 4
    size = mode = None
    if flags & _ATTR_SIZE:
        (size,) = struct.unpack(">Q", body[offset : offset + 8])
        offset += 8
    if flags & _ATTR_UIDGID:
        offset += 8
    if flags & _ATTR_PERMISSIONS:
        (mode,) = struct.unpack(">I", body[offset : offset + 4])
    return size, mode


def _parse_attrs(body: bytes) -> tuple[int | None, bool]:
    """(size, is_directory) from an ATTRS reply.

    The size is None unless it can be believed: only a regular file's
    non-zero size says where its end is. ``/dev/zero`` reports 0 and never
    ends; files under ``/proc`` report 0 (or a page) whatever they hold;
    so those are read to EOF or the caller's limit instead."""
    size, mode = _attrs(body)
    regular = mode is not None and stat.S_ISREG(mode)
    is_dir = mode is not None and stat.S_ISDIR(mode)
    return (size if regular and size else None), is_dir
