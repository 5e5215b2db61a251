"""ssh_config read the way OpenSSH's client reads it (readconf.c).

paramiko's ``SSHConfig`` differs from ``ssh`` where it matters to a fleet:
it lets a later ``UserKnownHostsFile`` or ``ProxyCommand`` replace an
earlier one, matches ``Host`` patterns without case, reads ``Include``
relative to the wrong folder and evaluates ``Match`` against the wrong
host. This module follows ``ssh -G`` instead (tests/collect/
test_ssh_config_oracle.py compares the two on a corpus of files):

* a line is a keyword and arguments, split on whitespace or one ``=``,
  with ``"quotes"`` and ``# comments``; keywords are case-insensitive;
* ``Host`` patterns (``*``, ``?``, ``!negation``) match the name as given,
  case-sensitively; ``Match`` takes ``all``, ``host``, ``originalhost``,
  ``user``, ``localuser``, ``final`` and ``canonical``; ``Match exec`` is
  refused (awgcheck runs no commands from ssh_config);
* ``Include`` reads files relative to ``~/.ssh``, globbed and sorted; one
  in an inactive block is parsed but never matches;
* the first value obtained for a keyword wins; ``IdentityFile`` adds to a
  list; ``ProxyJump`` and ``ProxyCommand`` exclude each other (the first
  one set wins);
* a config ``ssh`` would refuse (an unknown keyword, a bad port, bad
  quotes, a bad ``Match``) is refused here too, naming file and line.

Values stay raw text with the file and line they came from; expanding
tokens and applying defaults is :mod:`.config`'s job.
"""

from __future__ import annotations

import glob
import ipaddress
import os
import re
import socket
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from awgcheck import limits
from awgcheck.collect.ssh.tokens import ExpansionError, LocalUser, expand, expand_tilde
from awgcheck.errors import CollectError, ErrorClass

T = TypeVar("T")

WHITESPACE = " \t\r\n"
MAX_INCLUDE_DEPTH = 16
"""readconf.c READCONF_MAX_DEPTH."""
MAX_IDENTITY_FILES = 100
MAX_KNOWN_HOSTS_FILES = 16

# Every keyword OpenSSH's client knows (readconf.c, up to 10.x), plus those
# distribution patches add (Debian's GSSAPI key exchange, Apple's keychain):
# a config written for any of them is not refused for a keyword awgcheck
# does not use. Anything else is a typo ssh itself would refuse.
_KEYWORDS_TEXT = """
addkeystoagent addressfamily afstokenpassing batchmode bindaddress bindinterface
canonicaldomains canonicalizefallbacklocal canonicalizehostname canonicalizemaxdots
canonicalizepermittedcnames casignaturealgorithms certificatefile
challengeresponseauthentication channeltimeout checkhostip cipher ciphers
clearallforwardings compression compressionlevel connectionattempts connecttimeout
controlmaster controlpath controlpersist dsaauthentication dynamicforward
enableescapecommandline enablesshkeysign escapechar exitonforwardfailure fallbacktorsh
fingerprinthash forkafterauthentication forwardagent forwardx11 forwardx11timeout
forwardx11trusted gatewayports globalknownhostsfile globalknownhostsfile2
gssapiauthentication gssapidelegatecredentials hashknownhosts host
hostbasedacceptedalgorithms hostbasedauthentication hostbasedkeytypes hostkeyalgorithms
hostkeyalias hostname identitiesonly identityagent identityfile identityfile2
ignoreunknown include ipqos kbdinteractiveauthentication kbdinteractivedevices keepalive
kerberosauthentication kerberostgtpassing kexalgorithms knownhostscommand localcommand
localforward loglevel logverbose macs match nohostauthenticationforlocalhost
numberofpasswordprompts obscurekeystroketiming passwordauthentication permitlocalcommand
permitremoteopen pkcs11provider port preferredauthentications protocol proxycommand
proxyjump proxyusefdpass pubkeyacceptedalgorithms pubkeyacceptedkeytypes
pubkeyauthentication refuseconnection rekeylimit remotecommand remoteforward requesttty
requiredrsasize revokedhostkeys rhostsauthentication rhostsrsaauthentication
rsaauthentication securitykeyprovider sendenv serveralivecountmax serveraliveinterval
sessiontype setenv skeyauthentication smartcarddevice stdinnull streamlocalbindmask
streamlocalbindunlink stricthostkeychecking syslogfacility tag tcpkeepalive
tisauthentication tunnel tunneldevice updatehostkeys useprivilegedport user
userknownhostsfile userknownhostsfile2 useroaming usersh verifyhostkeydns versionaddendum
visualhostkey warnweakcrypto xauthlocation
gssapikeyexchange gssapiclientidentity gssapiserveridentity gssapirenewalforcesrekey
gssapitrustdns gssapikexalgorithms usekeychain
"""
KNOWN_KEYWORDS = frozenset(_KEYWORDS_TEXT.split())

_FLAGS = {"yes": True, "true": True, "no": False, "false": False}
_CANONICALIZE = {"yes": True, "true": True, "always": True, "no": False, "false": False}


class ConfigError(CollectError):
    """ssh_config that ``ssh`` would refuse; the message starts with file:line."""

    error_class = ErrorClass.BAD_TARGET


@dataclass(frozen=True)
class Value(Generic[T]):
    """One setting and where it came from: ``file:line``, or a word such as
    ``inventory`` or ``default`` for values that did not come from a file."""

    value: T
    origin: str


@dataclass(frozen=True)
class JumpHop:
    """One ``[user@]host[:port]`` of a ProxyJump list."""

    host: str
    user: str | None = None
    port: int | None = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return (f"{self.user}@" if self.user else "") + host + (
            f":{self.port}" if self.port else "")


@dataclass
class Options:
    """What one lookup found: the first value of each keyword awgcheck uses.

    Seed it with the values that win over the file (the inventory's, as
    ``ssh -l/-p/-i/-J/-o`` would) before :meth:`SshConfig.lookup`.
    """

    hostname: Value[str] | None = None
    user: Value[str] | None = None
    port: Value[int] | None = None
    identity_files: list[tuple[Value[str], bool]] = field(default_factory=list)
    user_known_hosts: tuple[Value[str], ...] = ()
    global_known_hosts: tuple[Value[str], ...] = ()
    host_key_alias: Value[str] | None = None
    proxy_command: Value[str] | None = None
    proxy_jump: Value[tuple[JumpHop, ...]] | None = None  # () is "ProxyJump none"
    connect_timeout: Value[int] | None = None
    identities_only: Value[bool] | None = None
    hash_known_hosts: Value[bool] | None = None
    ignore_unknown: Value[str] | None = None
    canonicalize: Value[bool] | None = None

    def add_identity(self, path: str, origin: str, *, user_provided: bool = True) -> None:
        """Append an IdentityFile unless the same path is listed already.

        OpenSSH compares only entries from the same side: the user's (the
        command line and the user's config) or the system config's.
        """
        if any(v.value == path and u == user_provided for v, u in self.identity_files):
            return
        if len(self.identity_files) >= MAX_IDENTITY_FILES:
            raise ConfigError(f"{origin}: more than {MAX_IDENTITY_FILES} IdentityFile entries")
        self.identity_files.append((Value(path, origin), user_provided))

    def set_jump(self, text: str, origin: str) -> None:
        """``ProxyJump`` (or the inventory's ``jump``): a later ProxyJump or
        ProxyCommand no longer applies."""
        hops = parse_jump(text, origin)
        if not hops:
            if self.proxy_jump is None:
                self.proxy_jump = Value((), origin)
            return
        if self.proxy_command is None and self.proxy_jump is None:
            self.proxy_jump = Value(hops, origin)
            self.proxy_command = Value("none", origin)


# --------------------------------------------------------------------------
# lexing, as misc.c strdelim() and argv_split() do it


def strdelim(text: str | None) -> tuple[str | None, str | None]:
    """misc.c ``strdelim``: the next word (``"quoted"`` allowed, split on
    whitespace or a single ``=``) and the rest; (None, None) at the end or
    for an unterminated quote."""
    if text is None:
        return None, None
    stop = next((i for i, c in enumerate(text) if c in WHITESPACE + '"='), None)
    if stop is None:
        return text, None
    if text[stop] == '"':
        body = text[:stop] + text[stop + 1:]
        close = body.find('"', stop)
        if close < 0:
            return None, None
        return body[:close], body[close + 1:].lstrip(WHITESPACE)
    word, rest = text[:stop], text[stop + 1:]
    had_equals = text[stop] == "="
    rest = rest.lstrip(WHITESPACE)
    if rest.startswith("=") and not had_equals:
        rest = rest[1:].lstrip(WHITESPACE)
    return word, rest


def argv_split(text: str) -> list[str] | None:
    """misc.c ``argv_split`` (ending at a ``#`` between words): the words,
    with quotes and the escapes ``\\\\ \\" \\'`` (and ``\\ `` unquoted)
    removed; None for an unterminated quote."""
    words: list[str] = []
    index = 0
    while index < len(text):
        if text[index] in " \t":
            index += 1
            continue
        if text[index] == "#":
            break
        word: list[str] = []
        quote = ""
        while index < len(text):
            char = text[index]
            following = text[index + 1] if index + 1 < len(text) else ""
            if char == "\\" and ((following and following in "'\"\\") or
                                 (not quote and following == " ")):
                word.append(following)
                index += 2
                continue
            if not quote and char in " \t":
                break
            if not quote and char in "'\"":
                quote = char
            elif quote and char == quote:
                quote = ""
            else:
                word.append(char)
            index += 1
        if quote:
            return None
        words.append("".join(word))
    return words


@dataclass(frozen=True)
class Line:
    """One keyword line of a file: the keyword lowercased, the text after it
    (leading blanks removed), and where it is."""

    keyword: str
    rest: str
    origin: str
    name: str = ""  # the keyword as written, for messages
    words: tuple[str, ...] | None = None  # argv_split(rest); None: bad quoting


_PLAIN = re.compile(r"[^\"'\\#]*")
_BLANKS = re.compile(r"[ \t]+")


def _words(text: str) -> tuple[str, ...] | None:
    """:func:`argv_split`, with a fast path for the common line that has
    no quote, escape or comment (read once per file, used per lookup)."""
    if _PLAIN.fullmatch(text):
        return tuple(w for w in _BLANKS.split(text) if w)
    words = argv_split(text)
    return None if words is None else tuple(words)


def split_line(raw: str, origin: str) -> Line | None:
    """A file line as readconf.c reads it; None for blank and comment lines."""
    text = raw.rstrip(WHITESPACE + "\f")
    keyword, rest = strdelim(text)
    if keyword == "":
        keyword, rest = strdelim(rest)
    if not keyword or keyword.startswith("#"):
        return None
    rest = (rest or "").lstrip(WHITESPACE)
    if not rest:
        raise ConfigError(f"{origin}: no argument after keyword {keyword!r}")
    return Line(keyword.lower(), rest, origin, keyword, _words(rest))


# --------------------------------------------------------------------------
# patterns, as match.c does them


def match_pattern(text: str, pattern: str) -> bool:
    """match.c ``match_pattern``: ``*`` and ``?`` wildcards, nothing else
    special, case-sensitive. Iterative (back to the last ``*`` on a
    mismatch), so a long name costs length times pattern, no recursion."""
    if "*" not in pattern and "?" not in pattern:
        return text == pattern
    t = p = 0
    star = -1
    resume = 0
    while t < len(text):
        if p < len(pattern) and pattern[p] == "*":
            star, resume = p, t
            p += 1
        elif p < len(pattern) and pattern[p] in ("?", text[t]):
            t += 1
            p += 1
        elif star >= 0:
            resume += 1
            t, p = resume, star + 1
        else:
            return False
    return pattern[p:].strip("*") == ""


def match_pattern_list(text: str, patterns: str, *, lower: bool) -> int:
    """match.c ``match_pattern_list``: 1 for a positive match, -1 when a
    ``!negated`` pattern matches, 0 for none. ``lower`` lowercases the
    patterns (callers lowercase ``text`` themselves)."""
    matched = 0
    for sub in patterns.split(","):
        negated = sub.startswith("!")
        sub = sub[1:] if negated else sub
        if len(sub) >= 1023:
            return 0
        if match_pattern(text, sub.lower() if lower else sub):
            if negated:
                return -1
            matched = 1
    return matched


def is_address(host: str) -> bool:
    """Whether ``host`` is a numeric address (OpenSSH leaves those unlowered)."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------
# values


def parse_port(text: str, origin: str) -> int:
    """misc.c ``a2port``: 1..65535, or a service name from /etc/services."""
    if text.isascii() and text.isdigit():
        number = int(text)
    else:
        try:
            number = socket.getservbyname(text, "tcp")
        except (OSError, UnicodeError, ValueError):  # unknown, or not a name at all
            number = 0
    if not 0 < number < 65536:
        raise ConfigError(f"{origin}: Port: bad port {text!r}")
    return number


_TIME_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(text: str, origin: str) -> int | None:
    """misc.c ``convtime``: ``90``, ``1m30s``, ...; None for ``none``."""
    if text == "none":
        return None
    total = 0
    rest = text
    while rest:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        unit = rest[digits:digits + 1].lower()
        if not digits or unit not in _TIME_UNITS or len(rest[:digits]) > 10:
            raise ConfigError(f"{origin}: ConnectTimeout: invalid time value {text!r}")
        total += int(rest[:digits]) * _TIME_UNITS[unit]
        rest = rest[digits + len(unit):]
    if total > 2**31 - 1:
        raise ConfigError(f"{origin}: ConnectTimeout: invalid time value {text!r}")
    return total


def _split_hop(text: str, origin: str) -> JumpHop:
    """misc.c ``parse_ssh_uri`` / ``parse_user_host_port`` for one hop."""
    port: int | None = None
    body = text
    if body.startswith("ssh://"):
        body = body[len("ssh://"):].rstrip("/")
    user, at, host = body.rpartition("@")
    if at and not user:
        raise ConfigError(f"{origin}: ProxyJump: invalid hop {text!r}")
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            raise ConfigError(f"{origin}: ProxyJump: invalid hop {text!r}")
        name, tail = host[1:end], host[end + 1:]
        if tail and not tail.startswith(":"):
            raise ConfigError(f"{origin}: ProxyJump: invalid hop {text!r}")
        port_text = tail[1:]
    else:
        name, _, port_text = host.partition(":")
        if "/" in name:
            raise ConfigError(f"{origin}: ProxyJump: invalid hop {text!r}")
    if not name:
        raise ConfigError(f"{origin}: ProxyJump: invalid hop {text!r}")
    if port_text:
        port = parse_port(port_text, origin)
    return JumpHop(name, user or None, port)


def parse_jump(text: str, origin: str) -> tuple[JumpHop, ...]:
    """A ProxyJump value: hops outermost first; () for ``none``."""
    if text.lower() == "none":
        return ()
    body = text.split("#", 1)[0].rstrip()
    return tuple(_split_hop(part, origin) for part in body.split(","))


# --------------------------------------------------------------------------
# files


Entry = Line | ConfigError
"""A file's keyword line, or why ssh would refuse it (raised when reached)."""

_file_cache: dict[str, tuple[tuple[int, int, int], tuple[Entry, ...]]] = {}
_file_lock = threading.Lock()


def _entries_of(path: str) -> tuple[Entry, ...] | None:
    """The keyword lines of ``path``, split once and cached by inode, size
    and mtime (a fleet looks every node up in the same files); None when it
    does not exist. A directory reads as empty, as fopen()+getline() does."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ssh_config: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        return ()
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    with _file_lock:
        cached = _file_cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        text = Path(path).read_bytes().decode("utf-8", errors="surrogateescape")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ssh_config: {exc.strerror}") from None
    entries: list[Entry] = []
    for number, raw in enumerate(text.split("\n"), 1):
        if len(raw) > limits.SSH_CONFIG_MAX_LINE:
            raise ConfigError(f"{path}:{number}: ssh_config line is longer than "
                              f"{limits.SSH_CONFIG_MAX_LINE} characters")
        try:
            # ssh reads each line as a C string: a NUL ends it.
            line = split_line(raw.split("\0", 1)[0], f"{path}:{number}")
        except ConfigError as exc:
            entries.append(exc)
            continue
        if line is not None:
            entries.append(line)
    with _file_lock:
        _file_cache[path] = (stamp, tuple(entries))
    return tuple(entries)


def _check_owner(path: str) -> None:
    """OpenSSH refuses a user or included config that others may write."""
    try:
        st = os.stat(path)
    except OSError:
        return
    if (st.st_uid not in (0, os.getuid())) or st.st_mode & 0o022:
        raise ConfigError(f"{path}: bad owner or permissions (ssh refuses a config file "
                          "writable by others; chmod go-w it)")


# --------------------------------------------------------------------------
# evaluation


@dataclass
class _Pass:
    """The state of one pass over the files for one host."""

    host: str  # what Host patterns match: the name given, or the final hostname
    original: str  # the name given (Match originalhost, %n)
    final: bool
    options: Options
    local: LocalUser
    user_config: bool = True
    wants_final: bool = False


@dataclass(frozen=True)
class ConfigFile:
    """One top-level file ``ssh`` reads: the user's (Include relative to
    ``~/.ssh``, IdentityFile entries counted as the user's) or the
    system's; ``optional`` for a default path that need not exist;
    ``check_owner`` for files ssh refuses when others may write them."""

    path: str
    user_config: bool = True
    optional: bool = False
    check_owner: bool = False


NAME_GIVEN = "the name given"
"""Origin of the host name a final pass matches when no HostName set it."""

USER_CONFIG = "~/.ssh/config"
SYSTEM_CONFIG = "/etc/ssh/ssh_config"


class SshConfig:
    """The ssh_config files ``ssh`` would read, and what they say of a host."""

    def __init__(self, files: tuple[ConfigFile, ...], local: LocalUser | None = None) -> None:
        self.files = files
        self.local = local or LocalUser.current()

    def check(self) -> None:
        """Read the top-level files now: a named file that is missing or
        unreadable, or a line too long, raises ConfigError before any
        lookup (included files are read when a lookup reaches them)."""
        for file in self.files:
            if os.path.isdir(file.path):
                raise ConfigError(f"{file.path}: is a folder, not an ssh_config file")
            if _entries_of(file.path) is None and not file.optional:
                raise ConfigError(f"{file.path}: no such ssh_config file")

    @classmethod
    def named(cls, path: str | None, local: LocalUser | None = None) -> SshConfig:
        """What ``ssh -F path`` reads (``none``: nothing), or for None what
        plain ``ssh`` reads: ``~/.ssh/config``, then ``/etc/ssh/ssh_config``."""
        local = local or LocalUser.current()
        if path == "none":
            return cls((), local)
        if path is not None:
            return cls((ConfigFile(expand_tilde(path, local.home)),), local)
        return cls((ConfigFile(expand_tilde(USER_CONFIG, local.home), optional=True,
                               check_owner=True),
                    ConfigFile(SYSTEM_CONFIG, user_config=False, optional=True)), local)

    def lookup(self, host: str, options: Options | None = None) -> tuple[Options, str]:
        """The options for ``host`` (seeded with ``options``) and the final
        host name (HostName applied, lowercased unless an address), after
        a second pass when the config asks for one (``Match final``,
        ``CanonicalizeHostname``), as ``ssh`` does."""
        options = options or Options()
        first = _Pass(host, host, False, options, self.local)
        self._read(first)
        name = final_hostname(options, host)
        wants_final = first.wants_final or bool(
            options.canonicalize and options.canonicalize.value)
        if wants_final:
            origin = options.hostname.origin if options.hostname else NAME_GIVEN
            options.hostname = Value(name, origin)
            self._read(_Pass(name, host, True, options, self.local))
        return options, name

    def _read(self, state: _Pass) -> None:
        for file in self.files:
            lines = _entries_of(file.path)
            if lines is None:
                if file.optional:
                    continue
                raise ConfigError(f"{file.path}: no such ssh_config file")
            if file.check_owner:
                _check_owner(file.path)
            state.user_config = file.user_config
            _read_lines(lines, state, active=[True], never=False, depth=0)


def final_hostname(options: Options, host: str) -> str:
    """ssh.c: HostName with ``%h`` expanded, lowercased unless an address."""
    name = host
    if options.hostname is not None:
        name = _expand_hostname(options.hostname, host)
    return name if is_address(name) else name.lower()


def _expand_hostname(hostname: Value[str], host: str) -> str:
    try:
        return expand(hostname.value, {"h": host})
    except ExpansionError as exc:
        raise ConfigError(f"{hostname.origin}: HostName: {exc}") from None


def _read_lines(entries: tuple[Entry, ...], state: _Pass, *, active: list[bool],
                never: bool, depth: int) -> None:
    """readconf.c ``read_config_file_depth``: every line of one file.
    ``active`` is a one-item list so Host/Match lines can switch it."""
    for entry in entries:
        if isinstance(entry, ConfigError):
            raise ConfigError(str(entry))
        _apply(entry, state, active, never, depth)


def _args(line: Line, *, single: bool = False) -> tuple[str, ...]:
    words = line.words
    if words is None:
        raise ConfigError(f"{line.origin}: unterminated quote")
    if not words or words[0] == "":
        raise ConfigError(f"{line.origin}: {line.name}: missing argument")
    if single and len(words) > 1:
        raise ConfigError(f"{line.origin}: {line.name}: extra arguments at end of line")
    return words


def _apply(line: Line, state: _Pass, active: list[bool], never: bool, depth: int) -> None:
    """One keyword line (readconf.c ``process_config_line_depth``)."""
    options = state.options
    keyword = line.keyword
    on = active[0]
    if keyword == "host":
        active[0] = False if never else _host_matches(line, state.host)
    elif keyword == "match":
        result = _match(line, state)
        active[0] = False if never else result
    elif keyword == "include":
        _include(line, state, active, never, depth)
    elif keyword == "hostname":
        value = _args(line, single=True)[0]
        if on and options.hostname is None:
            options.hostname = Value(value, line.origin)
    elif keyword == "user":
        value = _args(line, single=True)[0]
        if on and options.user is None:
            options.user = Value(value, line.origin)
    elif keyword == "port":
        port = parse_port(_args(line, single=True)[0], line.origin)
        if on and options.port is None:
            options.port = Value(port, line.origin)
    elif keyword == "identityfile":
        value = _args(line, single=True)[0]
        if on:
            options.add_identity(value, line.origin, user_provided=state.user_config)
    elif keyword in ("userknownhostsfile", "globalknownhostsfile"):
        files = _known_hosts_list(line)
        attr = "user_known_hosts" if keyword == "userknownhostsfile" else "global_known_hosts"
        if on and not getattr(options, attr):
            setattr(options, attr, files)
    elif keyword == "hostkeyalias":
        value = _args(line, single=True)[0]
        if on and options.host_key_alias is None:
            options.host_key_alias = Value(value, line.origin)
    elif keyword == "proxycommand":
        command = line.rest.lstrip(WHITESPACE + "=")
        if on and options.proxy_command is None:
            options.proxy_command = Value(command, line.origin)
    elif keyword == "proxyjump":
        text = line.rest.lstrip(WHITESPACE + "=")
        if on:
            options.set_jump(text, line.origin)
        else:
            parse_jump(text, line.origin)  # ssh checks the syntax of every line
    elif keyword == "connecttimeout":
        seconds = parse_time(_args(line, single=True)[0], line.origin)
        if on and options.connect_timeout is None and seconds is not None:
            options.connect_timeout = Value(seconds, line.origin)
    elif keyword in ("identitiesonly", "hashknownhosts", "canonicalizehostname"):
        _flag(line, options, on)
    elif keyword == "ignoreunknown":
        value = _args(line, single=True)[0]
        if on and options.ignore_unknown is None:
            options.ignore_unknown = Value(value, line.origin)
    elif keyword not in KNOWN_KEYWORDS:
        ignored = options.ignore_unknown
        if ignored is None or match_pattern_list(keyword, ignored.value, lower=True) != 1:
            raise ConfigError(f"{line.origin}: unknown ssh_config keyword {keyword!r} "
                              "(ssh refuses it too; IgnoreUnknown can list it)")


def _flag(line: Line, options: Options, on: bool) -> None:
    word = _args(line, single=True)[0]
    table = _CANONICALIZE if line.keyword == "canonicalizehostname" else _FLAGS
    if word.lower() not in table:
        raise ConfigError(f"{line.origin}: {line.name}: unsupported value {word!r} "
                          f"(expected {', '.join(table)})")
    attr = {"identitiesonly": "identities_only", "hashknownhosts": "hash_known_hosts",
            "canonicalizehostname": "canonicalize"}[line.keyword]
    if on and getattr(options, attr) is None:
        setattr(options, attr, Value(table[word.lower()], line.origin))


def _known_hosts_list(line: Line) -> tuple[Value[str], ...]:
    words = line.words
    if words is None:
        raise ConfigError(f"{line.origin}: unterminated quote")
    if "" in words:
        raise ConfigError(f"{line.origin}: {line.name}: empty argument")
    if any(w.lower() == "none" for w in words) and len(words) > 1:
        raise ConfigError(f"{line.origin}: {line.name}: \"none\" must appear alone")
    if len(words) > MAX_KNOWN_HOSTS_FILES:
        raise ConfigError(f"{line.origin}: {line.name}: more than "
                          f"{MAX_KNOWN_HOSTS_FILES} files")
    return tuple(Value(w, line.origin) for w in words)


def _host_matches(line: Line, host: str) -> bool:
    """A ``Host`` line: any positive pattern matches and no negated one."""
    matched = False
    for pattern in _args(line):
        negated = pattern.startswith("!")
        if match_pattern(host, pattern[1:] if negated else pattern):
            if negated:
                return False
            matched = True
    return matched


def _criteria(rest: str | None) -> Iterator[str]:
    while True:
        word, rest = strdelim(rest)
        if word is None or word == "":
            return
        yield word
        if word.startswith("#"):
            return


def _match(line: Line, state: _Pass) -> bool:
    """readconf.c ``match_cfg_line``: every criterion must hold."""
    options = state.options
    user = options.user.value if options.user else state.local.name
    if state.final and options.hostname is not None:
        host = options.hostname.value
    elif options.hostname is not None:
        host = _expand_hostname(options.hostname, state.original)
    else:
        host = state.original
    words = _criteria(line.rest)
    result = True
    count = 0
    for word in words:
        if word.startswith("#"):
            break
        negate = word.startswith("!")
        name = (word[1:] if negate else word).lower()
        if name == "all":
            extra = next(words, None)
            if count > 1 or (extra is not None and not extra.startswith("#")):
                raise ConfigError(f"{line.origin}: Match: 'all' cannot be combined with "
                                  "other criteria")
            return result and not negate
        count += 1
        if name in ("canonical", "final"):
            if name == "final":
                state.wants_final = True
            if state.final == negate:
                result = False
            continue
        arg = next(words, None)
        if arg is None or arg.startswith("#"):
            raise ConfigError(f"{line.origin}: Match: {name} needs an argument")
        if name == "host":
            hit = match_pattern_list(host.lower(), arg, lower=True) == 1
        elif name == "originalhost":
            hit = match_pattern_list(state.original.lower(), arg, lower=True) == 1
        elif name == "user":
            hit = match_pattern_list(user, arg, lower=False) == 1
        elif name == "localuser":
            hit = match_pattern_list(state.local.name, arg, lower=False) == 1
        elif name == "exec":
            if not result:
                continue  # ssh skips the command once an earlier criterion failed
            raise ConfigError(f"{line.origin}: Match exec is not supported: awgcheck runs "
                              "no commands from ssh_config (put this host's settings in a "
                              "Host block, or in the inventory)")
        else:
            raise ConfigError(f"{line.origin}: Match: unsupported criterion {name!r}")
        if hit == negate:
            result = False
    if count == 0:
        raise ConfigError(f"{line.origin}: Match needs one or more criteria")
    return result


def _include(line: Line, state: _Pass, active: list[bool], never: bool, depth: int) -> None:
    """``Include``: each glob's files in sorted order; a file included from
    an inactive block is read but none of its blocks match."""
    was_active = active[0]
    for pattern in _args(line):
        if pattern.startswith("~") and not state.user_config:
            raise ConfigError(f"{line.origin}: bad include path {pattern}")
        if not pattern.startswith(("/", "~")):
            pattern = ("~/.ssh/" if state.user_config else "/etc/ssh/") + pattern
        try:
            pattern = expand_tilde(pattern, state.local.home)
        except ExpansionError as exc:
            raise ConfigError(f"{line.origin}: Include: {exc}") from None
        for path in sorted(glob.glob(pattern)):
            if depth + 1 > MAX_INCLUDE_DEPTH:
                raise ConfigError(f"{line.origin}: Include nests deeper than "
                                  f"{MAX_INCLUDE_DEPTH} files (an Include loop?)")
            _check_owner(path)
            lines = _entries_of(path)
            if lines is not None:
                _read_lines(lines, state, active=active,
                            never=never or not was_active, depth=depth + 1)
            # Blocks in an included file do not change the including one's.
            active[0] = was_active
