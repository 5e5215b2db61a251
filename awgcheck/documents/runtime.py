"""The node's running interface (``check --runtime``), as
``awg showconf`` and ``awg show dump`` report it.

Never fatal: a node whose runtime cannot be read is still checked from its
files, and the reading says what is missing, why, and how to get it.
"""

from __future__ import annotations

from awgcheck.collect.base import Collector
from awgcheck.collect.runtime import Missing, read_runtime
from awgcheck.documents.base import DocumentKind, Reading, ReadOptions
from awgcheck.inventory import Node
from awgcheck.model import Finding, Severity, Status


def wanted(node: Node, options: ReadOptions) -> bool:
    """Only when the run asks for it (it runs commands on the node), and
    only on a node with AmneziaWG (``conf: none`` has no interface)."""
    return options.runtime and node.conf is not None


def read(collector: Collector, node: Node, options: ReadOptions) -> Reading:
    """The merged runtime state, or what is missing (and a warning when
    the node is checked from its files only)."""
    running = read_runtime(collector, node, timeout=options.timeout)
    unread = next((m for m in running.missing if m.what == "runtime"), None)
    warning = () if unread is None else (unavailable(node.name, unread),)
    return Reading(running.state, running.missing, warning)


RUNTIME_UNAVAILABLE = "runtime-unavailable"
"""Rule id of the warning for a node whose running state was asked for
(check --runtime) but could not be read; the node is checked from files."""


def unavailable(node: str, missing: Missing) -> Finding:
    """The warning that ``node``'s running state was not read, and how to get it."""
    return Finding(
        rule=RUNTIME_UNAVAILABLE, node=node, status=Status.FAIL, severity=Severity.WARNING,
        message=f"running state not read ({missing.why}); checked from its files only",
        remediation=f"to compare the running interface too: {missing.how}")


KIND = DocumentKind(wanted, read)
