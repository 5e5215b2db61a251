"""OpenSSH's expansions of ssh_config values: ``~``, ``%x`` tokens and
``${VAR}``, as ``ssh(1)`` applies them (misc.c ``tilde_expand`` and
``percent_dollar_expand``).

Which keyword takes which expansion is decided by the caller
(:mod:`.config`); this module only knows how each one works. An expansion
OpenSSH refuses (an unknown token, a ``%`` at the end, an unset variable,
``~user`` of an unknown user) raises :class:`ExpansionError`, which the
caller turns into a ``bad_target`` error naming the keyword and the file
line it came from.
"""

from __future__ import annotations

import os
import pwd
import socket
from collections.abc import Mapping
from dataclasses import dataclass


class ExpansionError(ValueError):
    """A value OpenSSH would refuse to expand; the message says why."""


@dataclass(frozen=True)
class LocalUser:
    """Who runs awgcheck, as the tokens see it.

    ``home`` is ``$HOME`` (falling back to the password database), where
    OpenSSH always takes the password database's entry: the two agree
    unless ``HOME`` was changed, and then awgcheck follows ``HOME`` like
    every other Python tool (docs/ssh.md says so).
    """

    name: str
    uid: int
    home: str
    hostname: str

    @classmethod
    def current(cls) -> LocalUser:
        """The user running this process, and this machine's host name."""
        uid = os.getuid()
        try:
            entry = pwd.getpwuid(uid)
            name, pw_home = entry.pw_name, entry.pw_dir
        except KeyError:  # a container uid without a passwd entry
            name, pw_home = os.environ.get("USER") or str(uid), "/"
        return cls(name, uid, os.environ.get("HOME") or pw_home, socket.gethostname())

    @property
    def short_hostname(self) -> str:
        """``%L``: the host name up to its first dot."""
        return self.hostname.split(".", 1)[0]


def expand_tilde(path: str, home: str) -> str:
    """``~``, ``~/path``, ``~user`` and ``~user/path`` as OpenSSH reads them."""
    if not path.startswith("~"):
        return path
    rest = path[1:]
    if not rest or rest.startswith("/"):
        base, tail = home, rest.lstrip("/")
    else:
        user, _, tail = rest.partition("/")
        tail = tail.lstrip("/")
        try:
            base = pwd.getpwnam(user).pw_dir
        except (KeyError, ValueError, UnicodeError):
            raise ExpansionError(f"{path}: no such user {user!r}") from None
    return base if not tail and base.endswith("/") else base.rstrip("/") + "/" + tail


def expand(text: str, tokens: Mapping[str, str], *, environment: bool = False) -> str:
    """Replace ``%x`` tokens (and ``${VAR}`` when ``environment``) in ``text``.

    ``%%`` is a literal ``%``; a token not in ``tokens``, or a ``%`` that
    ends the text, is an error, as is an unset or unterminated ``${VAR}``.
    """
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if environment and text.startswith("${", index):
            end = text.find("}", index + 2)
            if end < 0:
                raise ExpansionError(f"environment variable '{text[index + 2:]}' is missing "
                                     "its closing '}'")
            name = text[index + 2:end]
            if not name:
                raise ExpansionError("an environment variable name is empty (${})")
            value = os.environ.get(name) if "\0" not in name else None
            if value is None:
                raise ExpansionError(f"environment variable ${{{name}}} is not set")
            out.append(value)
            index = end + 1
            continue
        if char != "%":
            out.append(char)
            index += 1
            continue
        if index + 1 >= len(text):
            raise ExpansionError("a '%' ends the value (write '%%' for a literal '%')")
        token = text[index + 1]
        if token == "%":
            out.append("%")
        elif token in tokens:
            out.append(tokens[token])
        else:
            allowed = " ".join(f"%{t}" for t in sorted(tokens))
            raise ExpansionError(f"unknown token %{token} (this keyword takes {allowed} "
                                 "and %%)")
        index += 2
    return "".join(out)
