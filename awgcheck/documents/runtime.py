"""The node's running interface (``check --runtime``), as
``awg showconf`` and ``awg show dump`` report it.

Never fatal: a node whose runtime cannot be read is still checked from its
files, and the reading says what is missing, why, and how to get it.
"""

from __future__ import annotations

from awgcheck.collect.base import Collector
from awgcheck.collect.runtime import read_runtime
from awgcheck.documents.base import DocumentKind, Reading, ReadOptions
from awgcheck.inventory import Node


def wanted(node: Node, options: ReadOptions) -> bool:
    """Only when the run asks for it: it runs commands on the node."""
    return options.runtime


def read(collector: Collector, node: Node, options: ReadOptions) -> Reading:
    """The merged runtime state, or what is missing."""
    running = read_runtime(collector, node, timeout=options.timeout)
    return Reading(running.state, running.missing)


KIND = DocumentKind(wanted, read)
