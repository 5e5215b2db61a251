"""The commands awgcheck runs under sudo, and the sudoers rule each needs.

Both are written here once, so that a refused command's message names
exactly what ran and suggests a rule that lets exactly that run. sudo
matches a rule against the program's full path and every argument as
given, so ``cat -- /etc/x`` needs a rule for ``/usr/bin/cat -- /etc/x``
(not ``cat /etc/x``). The program paths are those of Debian and Ubuntu
(amneziawg-tools installs ``awg`` to ``/usr/bin``); docs/ssh.md gives the
rules for a default node and tests/collect/test_sudo_rules.py installs
them, as written there, on a real sudo.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from awgcheck.errors import CollectError, ErrorClass

SUDO = ("sudo", "-n")
"""``-n``: never prompt; a missing NOPASSWD rule fails at once."""

PROGRAMS = {"cat": "/usr/bin/cat", "awg": "/usr/bin/awg", "docker": "/usr/bin/docker",
            "env": "/usr/bin/env"}
"""Where sudo finds what awgcheck runs (its ``secure_path`` on Debian/Ubuntu)."""

SUDOERS_FILE = "/etc/sudoers.d/awgcheck"

_SUDOERS_SPECIAL = ",:=\\"


def read_argv(path: str) -> tuple[str, ...]:
    """``sudo -n cat -- <path>``: how a file is read with ``sudo: true``."""
    return (*SUDO, "cat", "--", path)


def run_argv(argv: Sequence[str]) -> tuple[str, ...]:
    """``sudo -n -- <argv>``: how a command runs with ``sudo: true``."""
    return (*SUDO, "--", *argv)


def command_of(sudo_argv: Sequence[str]) -> tuple[str, ...]:
    """What sudo runs of ``sudo -n [--] <command>``: the command."""
    words = list(sudo_argv[len(SUDO):])
    return tuple(words[1:] if words[:1] == ["--"] else words)


def _word(text: str) -> str:
    """A sudoers word: ``, : = \\`` escaped with a backslash (sudoers(5))."""
    return "".join(f"\\{c}" if c in _SUDOERS_SPECIAL else c for c in text)


def rule(user: str, command: Sequence[str]) -> str:
    """The sudoers line that lets ``user`` run exactly ``command`` as root
    without a password."""
    program = PROGRAMS.get(command[0], command[0] if command[0].startswith("/")
                           else f"/usr/bin/{command[0]}")
    return f"{_word(user)} ALL=(root) NOPASSWD: " + " ".join(
        [program, *(_word(arg) for arg in command[1:])])


class SudoRefused(CollectError):
    """sudo would not run a command without a password; says which command
    (exactly as awgcheck ran it) and the rule that allows it."""

    def __init__(self, where: str, user: str, sudo_argv: Sequence[str],
                 error_class: ErrorClass) -> None:
        self.user = user
        self.command = shlex.join(sudo_argv)
        self.rule = rule(user, command_of(sudo_argv))
        said = ("wants a password to run" if error_class is ErrorClass.SUDO_PASSWORD_REQUIRED
                else "refuses to run")
        super().__init__(
            f"{where}: sudo {said} `{self.command}`; allow exactly that with this line in "
            f"{SUDOERS_FILE} on the node (edit with visudo -f): {self.rule}",
            error_class=error_class)


def refusal(stderr: str) -> ErrorClass | None:
    """Whether sudo's complaint says it refused to run the command (and
    why, as an error class), or None for a command that ran and failed."""
    lowered = stderr.lower()
    if "password is required" in lowered or "a terminal is required" in lowered:
        return ErrorClass.SUDO_PASSWORD_REQUIRED
    if "not allowed to execute" in lowered or "not in the sudoers" in lowered:
        # sudo refusing the command outright is a permission problem: the
        # rule is missing rather than incomplete.
        return ErrorClass.PERMISSION_DENIED
    return None
