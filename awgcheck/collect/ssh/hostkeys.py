"""known_hosts handling with OpenSSH's strict semantics.

paramiko's ``HostKeys.load`` crashes on ``@cert-authority`` lines and drops
``@revoked`` markers, and its ``RejectPolicy`` cannot tell an unknown key from
a changed one. This module reads known_hosts itself:

* plain, wildcard (``*``, ``?``, ``!negated``) and hashed (``|1|salt|hmac``)
  host patterns, with ``[host]:port`` names for non-22 ports;
* ``@revoked`` keys are honoured (a server offering one is refused);
* ``@cert-authority`` lines are skipped with a warning: paramiko cannot
  verify host certificates, so such hosts need a plain key line;
* lines whose key paramiko cannot use (``ssh-dss``, ``sk-ssh-ed25519@openssh.com``,
  ``sk-ecdsa-...``, unknown types, bad base64) are skipped, as OpenSSH skips
  types it does not know, and reported once per file with file:line. They
  still count for their hosts: a host whose recorded keys are all unusable
  is not "new", so a key it offers is refused as unknown, even with
  accept-new (stricter than OpenSSH, which records a new key next to a line
  it cannot parse; see docs/ssh.md);
* a host is checked against several files, as ssh_config's
  ``UserKnownHostsFile`` (a list) and ``GlobalKnownHostsFile`` name them;
  a key in any of them is trusted, a different key of its type in any of
  them is a change;
* ``accept-new`` appends new keys to the first user file under an
  ``fcntl`` lock so concurrent checkers (threads or processes) do not
  interleave or duplicate lines.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import hmac
import logging
import os
import re
import shlex
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
from paramiko.pkey import UnknownKeyType

from awgcheck.errors import CollectError, ErrorClass

log = logging.getLogger(__name__)

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's ``SHA256:<base64>`` fingerprint of a public key."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def key_line(name: str, key: paramiko.PKey) -> str:
    """The known_hosts line that trusts ``key`` for ``name``."""
    return f"{name} {key.get_name()} {key.get_base64()}"


@dataclass(frozen=True)
class KnownKey:
    """One usable known_hosts entry."""

    patterns: tuple[str, ...]
    key: paramiko.PKey
    lineno: int
    revoked: bool = False

    def matches(self, name: str) -> bool:
        """Whether the line's host patterns accept ``name``."""
        return _patterns_match(self.patterns, name)


@dataclass(frozen=True)
class UnusableKey:
    """A known_hosts line for some hosts whose key cannot be used (a type
    paramiko does not support, or a blob that does not decode)."""

    patterns: tuple[str, ...]
    key_type: str
    lineno: int
    reason: str

    def matches(self, name: str) -> bool:
        """Whether the line's host patterns accept ``name``."""
        return _patterns_match(self.patterns, name)


@dataclass(frozen=True)
class KnownHosts:
    """The parsed contents of one known_hosts file."""

    path: str
    entries: tuple[KnownKey, ...]
    warnings: tuple[str, ...]
    unusable: tuple[UnusableKey, ...] = ()
    # A fleet file has one plain line per node; scanning (and regex-matching)
    # all of them for each of a thousand nodes is quadratic, so plain names
    # are indexed and only wildcard or hashed lines are scanned.
    _exact: dict[str, list[KnownKey]] = field(default_factory=dict, init=False,
                                              repr=False, compare=False)
    _scanned: list[KnownKey] = field(default_factory=list, init=False, repr=False,
                                     compare=False)
    # Looked through for every node too (revocation is global): kept apart
    # so that is not a walk over the whole fleet's lines per node.
    _revoked: list[KnownKey] = field(default_factory=list, init=False, repr=False,
                                     compare=False)

    def __post_init__(self) -> None:
        for entry in self.entries:
            if entry.revoked:
                self._revoked.append(entry)
                continue
            plain = [p for p in entry.patterns if not any(c in p for c in "*?!|")]
            if len(plain) == len(entry.patterns):
                for pattern in plain:
                    self._exact.setdefault(pattern.lower(), []).append(entry)
            else:
                self._scanned.append(entry)

    def keys_for(self, name: str) -> list[KnownKey]:
        """Non-revoked entries whose patterns match ``name``, in file order."""
        found = list(self._exact.get(name.lower(), ()))
        found += [e for e in self._scanned if e.matches(name)]
        return sorted(found, key=lambda e: e.lineno)

    def unusable_for(self, name: str) -> list[UnusableKey]:
        """Lines for ``name`` whose key could not be read, in file order."""
        return [u for u in self.unusable if u.matches(name)]

    def revoked(self, key: paramiko.PKey) -> KnownKey | None:
        """The ``@revoked`` entry for ``key``, if any (revocation is global)."""
        blob = key.asbytes()
        for entry in self._revoked:
            if entry.key.asbytes() == blob:
                return entry
        return None


@functools.lru_cache(maxsize=4096)
def _glob_to_regex(pattern: str) -> re.Pattern[str]:
    # Only * and ? are special in known_hosts; "[host]:port" brackets are
    # literal, so fnmatch (which reads them as a character class) is wrong.
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.IGNORECASE)


def _patterns_match(patterns: tuple[str, ...], name: str) -> bool:
    matched = False
    for pattern in patterns:
        if pattern.startswith("|1|"):
            if _hashed_match(pattern, name):
                matched = True
            continue
        negated = pattern.startswith("!")
        text = pattern[1:] if negated else pattern
        if _glob_to_regex(text).match(name):
            if negated:
                return False  # OpenSSH: a matching negation vetoes the line
            matched = True
    return matched


def _hashed_match(pattern: str, name: str) -> bool:
    parts = pattern.split("|")
    if len(parts) != 4:
        return False
    try:
        salt = base64.b64decode(parts[2])
        want = base64.b64decode(parts[3])
    except (binascii.Error, ValueError):
        return False
    got = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(got, want)


def _printable(text: str, limit: int = 64) -> str:
    """Hostile file text as it may appear in a message: short, no controls."""
    shown = text[:limit].encode("unicode_escape", "backslashreplace").decode("ascii")
    return shown + ("..." if len(text) > limit else "")


Parsed = KnownKey | UnusableKey | None


def _parse_line(line: str) -> tuple[Parsed, str | None]:
    """One known_hosts line -> (entry, why it is skipped)."""
    fields = line.split()
    revoked = False
    if fields[0].startswith("@"):
        marker = fields[0]
        if marker == "@cert-authority":
            return None, ("@cert-authority: host certificates are not supported; add a "
                          "plain key line for hosts that need it")
        if marker != "@revoked":
            return None, f"unknown marker {_printable(marker)}"
        revoked = True
        fields = fields[1:]
    if len(fields) < 3:
        return None, "malformed (fewer than three fields)"
    names, key_type, blob = fields[0], fields[1], fields[2]
    patterns = tuple(names.split(","))
    reason = None
    try:
        data = base64.b64decode(blob, validate=True)
        key = paramiko.PKey.from_type_string(key_type, data)
        if key.asbytes() != data:
            # paramiko pads a truncated blob with zeros; OpenSSH rejects it.
            reason = f"the {_printable(key_type)} key is truncated or has trailing data"
    except UnknownKeyType:
        reason = f"{_printable(key_type)} keys are not supported"
    except Exception as exc:
        # Whatever a hostile blob makes paramiko or cryptography raise
        # (binascii.Error, ValueError, SSHException, UnsupportedAlgorithm,
        # struct errors), the line is unusable, never a crash of the run.
        reason = f"the {_printable(key_type)} key does not decode ({type(exc).__name__})"
    if reason is None:
        return KnownKey(patterns, key, 0, revoked), None
    if revoked:
        # A revoked key awgcheck cannot read cannot be offered to it either.
        return None, f"@revoked key unusable: {reason}"
    return UnusableKey(patterns, _printable(key_type), 0, reason), reason


def _log_skipped(path: str, skipped: list[tuple[int, str]]) -> None:
    """One log record per file for the lines it skips (a file may have many)."""
    if len(skipped) == 1:
        log.warning("%s:%d: line skipped: %s", path, *skipped[0])
    elif skipped:
        shown = "; ".join(f"line {n}: {why}" for n, why in skipped[:5])
        more = f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        log.warning("%s: %d known_hosts lines skipped: %s%s", path, len(skipped), shown, more)


_cache: dict[str, tuple[tuple[int, int, int], bytes, KnownHosts]] = {}
_cache_lock = threading.Lock()
_warned: set[str] = set()


def load_known_hosts(path: str | None) -> KnownHosts:
    """Parse ``path`` (None: ``~/.ssh/known_hosts``); a missing file is empty.

    Parsed files are cached by (inode, size, mtime), or by content digest
    for a file changed in the last two seconds, so a fleet of a thousand
    nodes decodes the file once, not a thousand times. Warnings about
    skipped lines are logged once per file and kept on the result.
    """
    file = os.path.expanduser(path or DEFAULT_KNOWN_HOSTS)
    try:
        st = os.stat(file)
    except FileNotFoundError:
        return KnownHosts(file, (), ())
    except OSError as exc:
        raise CollectError(f"{file}: cannot read known_hosts: {exc.strerror}",
                           error_class=ErrorClass.KNOWN_HOSTS_UNREADABLE) from None
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    # A file rewritten within the filesystem's timestamp granularity can keep
    # its size and mtime; like git's "racily clean" check, a file modified
    # in the last two seconds is compared by content, not by its stat.
    settled = time.time_ns() - st.st_mtime_ns > 2_000_000_000
    with _cache_lock:
        cached = _cache.get(file)
    if settled and cached is not None and cached[0] == stamp:
        return cached[2]
    try:
        raw_bytes = Path(file).read_bytes()
    except OSError as exc:
        raise CollectError(f"{file}: cannot read known_hosts: {exc.strerror}",
                           error_class=ErrorClass.KNOWN_HOSTS_UNREADABLE) from None
    digest = hashlib.sha256(raw_bytes).digest()
    if cached is not None and cached[1] == digest:
        with _cache_lock:
            _cache[file] = (stamp, digest, cached[2])
        return cached[2]
    text = raw_bytes.decode("utf-8", errors="replace")
    entries: list[KnownKey] = []
    unusable: list[UnusableKey] = []
    skipped: list[tuple[int, str]] = []
    # OpenSSH splits lines on "\n" only (str.splitlines would also split on
    # \x0b, \x1c, U+2028 ... and shift every line number after them).
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        entry, reason = _parse_line(line)
        if isinstance(entry, KnownKey):
            entries.append(dataclasses.replace(entry, lineno=lineno))
        elif isinstance(entry, UnusableKey):
            unusable.append(dataclasses.replace(entry, lineno=lineno))
        if reason is not None:
            skipped.append((lineno, reason))
    warnings = [f"{file}:{n}: line skipped: {why}" for n, why in skipped]
    result = KnownHosts(file, tuple(entries), tuple(warnings), tuple(unusable))
    with _cache_lock:
        _cache[file] = (stamp, digest, result)
        fresh = [(n, why) for (n, why), w in zip(skipped, warnings, strict=True)
                 if w not in _warned]
        _warned.update(warnings)
    _log_skipped(file, fresh)
    return result


@dataclass(frozen=True)
class Peer:
    """Whose host key is checked, and how a user reaches that host with
    ``ssh``: messages say whether the bastion's or the node's key is the
    problem, and how to fetch it (from behind the bastions, if any)."""

    role: str  # "node" or "bastion"
    label: str  # as the user named it: alias or alias:port
    alias: str  # the name ssh resolves through ssh_config
    hostname: str
    port: int
    user: str
    jump: str | None = None  # the hops before it, as ``ssh -J`` takes them
    ssh_config: str | None = None  # for ``ssh -F``; None: ssh's own files
    proxied: bool = False  # reached through a ProxyCommand

    @property
    def subject(self) -> str:
        """``node vpn1's host key`` / ``bastion b1's host key``."""
        return f"{self.role} {self.label}'s host key"


def _subject(peer: Peer | None) -> str:
    return peer.subject if peer is not None else "host key"


def _keyscan_hint(name: str, key: paramiko.PKey, path: str, peer: Peer | None) -> str:
    """How to fetch and add the key: ssh-keyscan for a host this machine
    reaches, an ``ssh -J`` that asks for it from behind bastions."""
    host, port = name, "22"
    if peer is not None:
        host, port = peer.hostname, str(peer.port)
    elif name.startswith("[") and "]:" in name:
        host, port = name[1:].split("]:", 1)
    line = f"append this line to {shlex.quote(path)}: {key_line(name, key)}"
    if peer is not None and (peer.jump is not None or peer.proxied):
        config = f" -F {shlex.quote(peer.ssh_config)}" if peer.ssh_config else ""
        jump = f" -J {shlex.quote(peer.jump)}" if peer.jump else ""
        command = (f"ssh{config}{jump} -o StrictHostKeyChecking=ask "
                   f"-o UserKnownHostsFile={shlex.quote(path)} -p {port} "
                   f"{shlex.quote(peer.user)}@{shlex.quote(peer.alias)} true")
        via = f"through {peer.jump}" if peer.jump else "through its ProxyCommand"
        return (f"{peer.label} is reached {via}, so ssh-keyscan from here "
                f"cannot reach it: verify the fingerprint out of band, then either run "
                f"`{command}` and answer yes if it shows {fingerprint(key)}, or run "
                f"awgcheck once with --accept-new-host-keys, or {line}")
    kind = key.get_name().removeprefix("ssh-").split("-")[0]
    if peer is not None and name not in (host, f"[{host}]:{port}"):
        # HostKeyAlias: ssh-keyscan would file the key under the host name.
        return f"verify the fingerprint out of band, then {line} (HostKeyAlias {name})"
    return (f"verify the fingerprint out of band, then add it with: "
            f"ssh-keyscan -p {port} -t {kind} {shlex.quote(host)} >> {shlex.quote(path)} "
            f"(compare with: ssh-keygen -lf <(ssh-keyscan -p {port} {shlex.quote(host)})), "
            f"or {line}")


def _paths(known_hosts: str | Sequence[str] | None) -> tuple[str, ...]:
    if known_hosts is None:
        return (DEFAULT_KNOWN_HOSTS,)
    if isinstance(known_hosts, str):
        return (known_hosts,)
    return tuple(known_hosts)


def verify_host_key(
    where: str,
    name: str,
    key: paramiko.PKey,
    known_hosts: str | Sequence[str] | None,
    *,
    global_files: Sequence[str] = (),
    accept_new: bool = False,
    hash_names: bool = False,
    peer: Peer | None = None,
) -> None:
    """Accept ``key`` for ``name`` or raise CollectError (never prompts).

    ``known_hosts`` are the user's files (ssh_config UserKnownHostsFile,
    in order; None: ``~/.ssh/known_hosts``), ``global_files`` the
    system's; a key recorded in any of them is trusted, a different key of
    the same type in any of them is a change. ``accept_new`` is OpenSSH's
    ``StrictHostKeyChecking=accept-new``: a host with no recorded key has
    it recorded in the first user file (as ``|1|salt|hmac`` when
    ``hash_names``, ssh_config's HashKnownHosts); a recorded key that
    differs is still refused.
    """
    user_paths = _paths(known_hosts)
    files = [load_known_hosts(p) for p in (*user_paths, *global_files)]
    _check(where, name, key, files, user_paths[0] if user_paths else None,
           accept_new=accept_new, hash_names=hash_names, peer=peer)


def _check(where: str, name: str, key: paramiko.PKey, files: Sequence[KnownHosts],
           write_to: str | None, *, accept_new: bool, hash_names: bool = False,
           peer: Peer | None = None) -> None:
    subject = _subject(peer)
    hint_path = write_to or (files[0].path if files else DEFAULT_KNOWN_HOSTS)
    for known in files:
        revoked = known.revoked(key)
        if revoked is not None:
            raise CollectError(
                f"{where}: {subject} {fingerprint(key)} is marked @revoked in "
                f"{known.path}:{revoked.lineno}; refusing to connect",
                error_class=ErrorClass.HOST_KEY_REVOKED)
    entries = [(known, e) for known in files for e in known.keys_for(name)]
    blob = key.asbytes()
    if any(e.key.asbytes() == blob for _, e in entries):
        return
    same_type = [(known, e) for known, e in entries if e.key.get_name() == key.get_name()]
    if same_type:
        known, old = same_type[0]
        raise CollectError(
            f"{where}: HOST KEY CHANGED: the {key.get_name()} key {_of(peer)}offered "
            f"({fingerprint(key)}) differs from the one recorded in "
            f"{known.path}:{old.lineno} ({fingerprint(old.key)}). Someone may be doing a "
            f"man-in-the-middle attack, or the host was reinstalled. If the change is "
            f"expected, remove the old key with: ssh-keygen -R {shlex.quote(name)} "
            f"-f {shlex.quote(known.path)}",
            error_class=ErrorClass.HOST_KEY_CHANGED)
    types = ", ".join(sorted({e.key.get_name() for _, e in entries}))
    if any(known.unusable_for(name) for known in files):
        # A line for this host that cannot be read still says the host is
        # known: trusting (or recording, under accept-new) whatever key it
        # offers now would let a man-in-the-middle pass as a host whose real
        # key is the unreadable one.
        records = " and ".join(
            f"{known.path} records {name} with keys awgcheck cannot read (line "
            + ", ".join(f"{u.lineno} ({u.key_type})" for u in known.unusable_for(name)[:5])
            + ")" for known in files if known.unusable_for(name))
        on_record = f" and only has {types} keys" if entries else ""
        raise CollectError(
            f"{where}: {_who(peer)}offers a {key.get_name()} key ({fingerprint(key)}) but "
            f"{records}"
            f"{on_record}; {_keyscan_hint(name, key, hint_path, peer)}, and remove or "
            f"replace the unreadable line",
            error_class=ErrorClass.HOST_KEY_UNKNOWN)
    searched = ", ".join(k.path for k in files) or "no known_hosts file (UserKnownHostsFile none)"
    if entries:
        # Keys of other types are on record: the server now offers a type we
        # have not seen. accept-new does not auto-trust it, because a
        # man-in-the-middle could pick a type on purpose.
        raise CollectError(
            f"{where}: {_who(peer)}offers a {key.get_name()} key ({fingerprint(key)}) but "
            f"{searched} only has {types} keys for {name}; "
            f"{_keyscan_hint(name, key, hint_path, peer)}",
            error_class=ErrorClass.HOST_KEY_UNKNOWN)
    if not accept_new or write_to is None:
        nowhere = "" if write_to is not None or not accept_new else (
            "; --accept-new-host-keys has nowhere to record it (UserKnownHostsFile none)")
        raise CollectError(
            f"{where}: {subject} is not known ({key.get_name()} {fingerprint(key)}, "
            f"not in {searched}){nowhere}; {_keyscan_hint(name, key, hint_path, peer)}",
            error_class=ErrorClass.HOST_KEY_UNKNOWN)
    record_host_key(where, name, key, write_to, hash_names=hash_names, peer=peer)


def _of(peer: Peer | None) -> str:
    return f"{peer.role} {peer.label} " if peer is not None else ""


def _who(peer: Peer | None) -> str:
    return f"{peer.role} {peer.label} " if peer is not None else "host "


@contextlib.contextmanager
def _locked(path: str) -> Iterator[int]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing drops the lock


def record_host_key(where: str, name: str, key: paramiko.PKey, path: str, *,
                    hash_names: bool = False, peer: Peer | None = None) -> None:
    """Append ``name key`` to ``path`` unless a concurrent writer beat us.

    The file is re-read under an exclusive lock: another checker may have
    recorded this host meanwhile, and if it recorded a *different* key the
    change is reported rather than papered over.
    """
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, mode=0o700, exist_ok=True)
    with _locked(path) as fd:
        with _cache_lock:
            _cache.pop(path, None)
        current = load_known_hosts(path)
        if current.keys_for(name) or current.unusable_for(name):
            _check(where, name, key, [current], path, accept_new=False, peer=peer)
            return
        size = os.fstat(fd).st_size
        prefix = ""
        if size:
            os.lseek(fd, size - 1, os.SEEK_SET)
            if os.read(fd, 1) != b"\n":
                prefix = "\n"
        stored = paramiko.HostKeys.hash_host(name) if hash_names else name
        os.write(fd, (prefix + key_line(stored, key) + "\n").encode())
    with _cache_lock:
        _cache.pop(path, None)
    log.warning("%s: recorded new %s %s %s in %s", where, _subject(peer), key.get_name(),
                fingerprint(key), path)
