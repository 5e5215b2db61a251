"""What an ``ssh`` command line's arguments say about how a host is
reached, as OpenSSH reads them: the ssh arguments an Ansible inventory
gives a host (``ansible_ssh_common_args``, ``ansible_ssh_extra_args``).

Read: the bastion chain, from ``-J HOPS``, ``-o ProxyJump=HOPS`` or ``-o
ProxyCommand="ssh -W %h:%p [-q] [-p PORT] [-l USER] [-J HOPS]
[user@]bastion"`` (the classic spelling of a jump), and the known_hosts
file, from ``-o UserKnownHostsFile=PATH``. As in ssh, across all the
arguments the first value of an option wins (and the first of ProxyJump
and ProxyCommand), and ``none`` means no proxy. Any other ProxyCommand
(``nc``, a script, a cloud CLI) cannot be followed over awgcheck's SSH
transport and is an :class:`ArgsError`: ignoring it would connect straight
to the host. Other options are not read (ssh_config, read as
``--ssh-config`` says, covers them).

Errors never quote the arguments: they may carry a password
(``sshpass -p``) or a token.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# OpenSSH's getopt string (ssh.c): a letter followed by ":" takes a value,
# attached ("-p22") or as the next word.
_SSH_OPTSTRING = "1246ab:c:e:fgi:kl:m:no:p:qstvxAB:CD:E:F:GI:J:KL:MNO:PQ:R:S:TVw:W:XYy"
_TAKES_VALUE = frozenset(c for i, c in enumerate(_SSH_OPTSTRING)
                         if c != ":" and _SSH_OPTSTRING[i + 1:i + 2] == ":")
# Flags a jump's ssh may carry that do not change where it connects.
_HARMLESS = frozenset("q46ACTNavxnk")


class ArgsError(ValueError):
    """The arguments cannot be read, or name a proxy awgcheck cannot follow.
    The message names where they came from and never quotes them."""


@dataclass(frozen=True)
class SshArgs:
    """What the arguments set; ``None``: they do not say."""

    jump: tuple[str, ...] | None = None  # bastions, outermost first; () for "none"
    known_hosts: str | None = None


def read(parts: Sequence[tuple[str, str]]) -> SshArgs:
    """Read ``(where, args)`` parts in the order ssh sees them; ``where``
    names a part in errors (``var 'ansible_ssh_common_args'``)."""
    found: dict[str, tuple[str, str, str]] = {}  # setting -> (where, option, value)
    for where, args in parts:
        try:
            options = list(_options(_words(args)))
        except ArgsError as exc:
            raise ArgsError(f"{where} {exc}") from None
        for key, value in options:
            if key in ("proxyjump", "proxycommand"):
                found.setdefault("proxy", (where, key, value))
            elif key == "userknownhostsfile":
                found.setdefault("known_hosts", (where, key, value))
    jump = known_hosts = None
    if "proxy" in found:
        where, key, value = found["proxy"]
        try:
            jump = _hops(value) if key == "proxyjump" else _proxy_command(value)
        except ArgsError as exc:
            raise ArgsError(f"{where} {exc}") from None
    if "known_hosts" in found:
        where, _, value = found["known_hosts"]
        files = _words(value)
        if len(files) != 1 or "%" in files[0]:
            raise ArgsError(f"{where} has a UserKnownHostsFile awgcheck cannot use (it "
                            "reads one file, named without % tokens)")
        known_hosts = files[0]
    return SshArgs(jump, known_hosts)


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        raise ArgsError("cannot be split into words (an unclosed quote?)") from None


def _getopt(words: list[str]) -> Iterator[tuple[str, str | None]]:
    """(flag, value) and ("", word) for each operand, as ssh's getopt sees
    ``words``; a flag missing its value is an :class:`ArgsError`."""
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if not word.startswith("-") or word == "-":
            yield "", word
            continue
        if word == "--":
            yield from (("", rest) for rest in words[i:])
            return
        for at, flag in enumerate(word[1:], 1):
            if flag not in _TAKES_VALUE:
                yield flag, None
                continue
            value = word[at + 1:]
            if not value:
                if i == len(words):
                    raise ArgsError(f"option -{flag} has no value")
                value = words[i]
                i += 1
            yield flag, value
            break


def _options(words: list[str]) -> Iterator[tuple[str, str]]:
    """(lower-case option name, value) for each ``-o`` and ``-J``."""
    for flag, value in _getopt(words):
        if flag == "J" and value is not None:
            yield "proxyjump", value
        elif flag == "o" and value is not None:
            key, value = _split_option(value)
            yield key.lower(), value


def _split_option(text: str) -> tuple[str, str]:
    """``Key=Value`` or ``Key Value``, as ssh's ``-o`` takes it."""
    text = text.strip()
    cut = min((i for i in (text.find("="), *(text.find(c) for c in " \t")) if i >= 0),
              default=len(text))
    return text[:cut], text[cut + 1:].strip().lstrip("=").strip()


def _hops(value: str) -> tuple[str, ...]:
    if value.lower() == "none":
        return ()
    hops = tuple(hop.strip() for hop in value.split(","))
    if not all(hops):
        raise ArgsError("ProxyJump has no value, or an empty hop")
    return hops


def _proxy_command(value: str) -> tuple[str, ...]:
    if value.strip().lower() == "none":
        return ()
    unfollowable = ArgsError(
        "has a ProxyCommand awgcheck cannot follow (it follows `ssh -W %h:%p [-q] "
        "[-p PORT] [-l USER] [-J HOPS] [user@]bastion`); use ProxyJump, or give the host "
        "a Host block with that ProxyCommand in the ssh_config awgcheck reads")
    words = _words(value)
    if not words or words[0].rsplit("/", 1)[-1] != "ssh":
        raise unfollowable
    # As in ssh, the first user and port given win, however spelt.
    said: dict[str, str] = {}
    before: tuple[str, ...] = ()
    forwards = False
    hosts: list[str] = []
    for flag, arg in _getopt(words[1:]):
        if flag == "" and arg is not None:
            if "%" in arg:  # a token (%r, %h) only ssh can fill in
                raise unfollowable
            named, at, host = arg.rpartition("@")
            if at:
                said.setdefault("user", named)
            hosts.append(host)
        elif flag == "W":
            forwards = arg in ("%h:%p", "[%h]:%p")
        elif flag in ("p", "l") and arg is not None:
            said.setdefault("port" if flag == "p" else "user", arg)
        elif flag == "J" and arg is not None:
            before = _hops(arg)
        elif flag == "o" and arg is not None:
            key, option = _split_option(arg)
            if key.lower() in ("port", "user"):
                said.setdefault(key.lower(), option)
            elif key.lower() in ("proxyjump", "proxycommand", "hostname"):
                raise unfollowable
        elif flag not in _HARMLESS:
            raise unfollowable
    if not forwards or len(hosts) != 1 or hosts[0].startswith("ssh:"):
        raise unfollowable
    return (*before, _spec(hosts[0], said.get("user"), said.get("port")))


def _spec(host: str, user: str | None, port: str | None) -> str:
    """``[user@]host[:port]`` in the transport's jump grammar (an IPv6
    address in brackets)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return (f"{user}@" if user else "") + host + (f":{port}" if port else "")
