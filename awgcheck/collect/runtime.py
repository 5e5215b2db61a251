"""Reading a node's running interface through its collector.

Two commands are run on the node, with ``sudo -n`` when the inventory says
so: ``awg showconf <iface>`` (every param the runtime holds, in a fixed
order) and ``awg show <iface> dump`` (the tools generation, and per peer the
latest handshake and the rx/tx counters). They are merged into one
:class:`~awgcheck.parse.runtime.RuntimeState`: params from showconf, peers
and generation from the dump. Either view alone is still used when the
other fails.

Reading the runtime never fails the node: when neither view can be read
(a local node tree, no ``awg`` on the node, no sudo rule, the interface is
down), the result says what is missing, why, and how to get it, and the
node is checked from its files. Secrets never leave this module in clear:
the readers digest them, and stderr is scrubbed before it is quoted.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from awgcheck import params
from awgcheck.collect.base import Collector, CommandResult
from awgcheck.collect.machine import is_this_machine
from awgcheck.collect.sudo import SUDOERS_FILE, SudoRefused, refusal, rule, run_argv
from awgcheck.errors import CollectError, ErrorClass, ParseError
from awgcheck.inventory import Node
from awgcheck.parse.runtime import RuntimeState, parse_dump, parse_showconf
from awgcheck.text import printable

COMMAND_TIMEOUT = 15.0
"""Seconds one ``awg`` command may take; it answers in milliseconds when the
interface exists."""

_STDERR_QUOTE = 200


@dataclass(frozen=True)
class Missing:
    """A piece of evidence that could not be gathered, and how to get it."""

    what: str  # "runtime", "counters", "rx/tx growth", "ping", "source"
    why: str
    how: str


@dataclass(frozen=True)
class RuntimeRead:
    """The running interface as read, or why it could not be."""

    state: RuntimeState | None
    missing: tuple[Missing, ...] = ()
    commands: tuple[str, ...] = ()  # what was run, for the report


def showconf_argv(interface: str) -> tuple[str, ...]:
    """``awg showconf <iface>``: every param the running interface holds."""
    return ("awg", "showconf", interface)


def dump_argv(interface: str) -> tuple[str, ...]:
    """``awg show <iface> dump``: generation, handshakes and counters."""
    return ("awg", "show", interface, "dump")


def read_runtime(collector: Collector, node: Node, *,
                 timeout: float = COMMAND_TIMEOUT) -> RuntimeRead:
    """Read showconf and dump on ``node``; never raises for a node problem."""
    iface = node.interface
    conf_view, conf_missing = _view(collector, node, showconf_argv(iface), timeout,
                                    parse_showconf)
    if conf_missing is not None and conf_missing.what == "runtime-local":
        # A local tree has no running state at all: one message is enough.
        return RuntimeRead(None, (replace(conf_missing, what="runtime"),))
    dump_view, dump_missing = _view(collector, node, dump_argv(iface), timeout, parse_dump)
    commands = (_shown(node, showconf_argv(iface)), _shown(node, dump_argv(iface)))
    if conf_view is None and dump_view is None:
        assert conf_missing is not None
        return RuntimeRead(None, (conf_missing,), commands)
    missing: list[Missing] = []
    if dump_view is None and dump_missing is not None:
        missing.append(replace(dump_missing, what="counters"))
    return RuntimeRead(_merge(node, conf_view, dump_view), tuple(missing), commands)


def read_dump(collector: Collector, node: Node, *,
              timeout: float = COMMAND_TIMEOUT) -> tuple[RuntimeState | None, Missing | None]:
    """One more ``awg show <iface> dump`` (the second sample of a probe)."""
    return _view(collector, node, dump_argv(node.interface), timeout, parse_dump)


def _merge(node: Node, conf_view: RuntimeState | None,
           dump_view: RuntimeState | None) -> RuntimeState:
    """Params from showconf (it prints every key the runtime knows), peers,
    counters and the tools generation from the dump."""
    if conf_view is None:
        assert dump_view is not None
        return dump_view
    if dump_view is None:
        return conf_view
    return RuntimeState(
        source=conf_view.source, view="showconf+dump", generation=dump_view.generation,
        interface=conf_view.interface, peers=dump_view.peers,
        public_key=dump_view.public_key,
        diagnostics=conf_view.diagnostics + dump_view.diagnostics,
    )


def _shown(node: Node, argv: Sequence[str]) -> str:
    """The command as the node runs it (with sudo's words when it does)."""
    return shlex.join(run_argv(argv) if node.sudo else argv)


def sudo_how(node: Node, user: str | None) -> str:
    """How to let ``user`` run both commands under sudo: the exact command
    lines and the sudoers lines that allow exactly them."""
    commands = (showconf_argv(node.interface), dump_argv(node.interface))
    who = user or node.user or "<the login user>"
    return ("allow the two commands awgcheck runs ("
            + ", ".join(f"`{shlex.join(run_argv(c))}`" for c in commands)
            + f") with these lines in {SUDOERS_FILE} on the node (edit with visudo -f): "
            + "; ".join(f"`{rule(who, c)}`" for c in commands))


def _view(collector: Collector, node: Node, argv: tuple[str, ...], timeout: float,
          parser: Callable[..., RuntimeState]) -> tuple[RuntimeState | None, Missing | None]:
    source = f"{node.name}: {' '.join(argv)}"
    try:
        result = collector.run(argv, sudo=node.sudo, timeout=timeout)
    except CollectError as exc:
        return None, _collect_failure(node, exc)
    if result.exit_status != 0:
        return None, command_failure(node, argv, result)
    text = result.stdout.decode("utf-8", "surrogateescape")
    try:
        return parser(text, source=source), None
    except ParseError as exc:
        return None, Missing("runtime", f"the output of `{' '.join(argv)}` could not be "
                             f"read: {exc}", "report this output to the awgcheck maintainers")


def _collect_failure(node: Node, exc: CollectError) -> Missing:
    if exc.error_class is ErrorClass.NOT_SUPPORTED:
        return Missing("runtime-local", f"{node.name} is a local node tree: it has no "
                       "running interface to ask",
                       "triage the node over SSH (give it `host:` in the inventory, or "
                       "name it as ssh://user@host:port), or on the node itself "
                       "(`local: /`)")
    if exc.error_class in _SUDO_CLASSES:
        # The transport saw sudo refuse before awg ever ran.
        user = exc.user if isinstance(exc, SudoRefused) else None
        return Missing("runtime", f"sudo refused to run awg ({exc})", sudo_how(node, user))
    how = ("run the command by hand to see why" if _here(node)
           else "check that the node answers over SSH, then run triage again")
    return Missing("runtime", f"the running state could not be read: {exc}", how)


def _here(node: Node) -> bool:
    """Whether the node is this machine (``local: /``, ``verify``): no SSH
    advice then."""
    return node.local is not None and is_this_machine(node.local)


# Error classes of the SSH transport that mean sudo, not the node, said no.
_SUDO_CLASSES = frozenset({ErrorClass.SUDO_PASSWORD_REQUIRED, ErrorClass.PERMISSION_DENIED,
                           ErrorClass.SUDO_FAILED})


def command_failure(node: Node, argv: Sequence[str], result: CommandResult) -> Missing:
    """Why ``argv`` failed on the node, and what would make it work."""
    command = " ".join(argv)
    err = params.scrub(result.stderr.decode("utf-8", "replace").strip())
    lowered = err.lower()
    refused = refusal(err)
    if refused is ErrorClass.SUDO_PASSWORD_REQUIRED:
        return Missing("runtime", f"sudo wants a password for `{command}`",
                       sudo_how(node, None))
    if refused is not None:
        return Missing("runtime", f"sudo refused `{command}`", sudo_how(node, None))
    if result.exit_status == 127 or "not found" in lowered:
        if _here(node):
            return Missing("runtime", f"`{argv[0]}` is not installed on this machine (or not "
                           "on this PATH)", "install amneziawg-tools, or put awg on the PATH")
        return Missing("runtime", f"`{argv[0]}` is not installed on {node.name} (or not on "
                       "the PATH of a non-interactive SSH session)",
                       "install amneziawg-tools on the node, or put awg on the PATH sshd "
                       "gives to commands")
    if "operation not permitted" in lowered or "permission denied" in lowered:
        return Missing("runtime", f"`{command}` needs root on {node.name}",
                       f"set `sudo: true` for {node.name} in the inventory and "
                       + sudo_how(node, None))
    if "no such device" in lowered:
        return Missing("runtime", f"interface {node.interface} does not exist on "
                       f"{node.name} (the tunnel is down)",
                       f"check `interface:` in the inventory; bring it up with "
                       f"`awg-quick up {node.interface}`")
    said = node_message(result)
    if result.stdout.strip():
        # A failed command that printed on stdout: what a login shell that
        # refuses commands does (nologin on an SFTP-only account), not awg.
        return Missing("runtime", f"`{command}` exited {result.exit_status} on {node.name}, "
                       f"which said: {said}",
                       f"run `{command}` on the node as the login user to see why; an "
                       "account that may only use SFTP cannot run it: use one with a shell")
    return Missing("runtime", f"`{command}` exited {result.exit_status}: "
                   f"{said or 'no message'}",
                   f"run `{command}` on the node by hand to see why")


def node_message(result: CommandResult) -> str:
    """What a failed command said on stderr and stdout (a login shell that
    refuses commands prints on stdout), secrets scrubbed, control
    characters escaped, cut to a quotable length."""
    said = [text for stream in (result.stderr, result.stdout)
            if (text := params.scrub(stream.decode("utf-8", "replace").strip()))]
    shown = printable(" / ".join(said))
    return shown if len(shown) <= _STDERR_QUOTE else shown[:_STDERR_QUOTE] + " ..."
