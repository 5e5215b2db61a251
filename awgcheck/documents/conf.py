"""The node's conf (inventory ``conf:``), the document every node is
checked from.

Fatal: a node whose conf cannot be read or parsed is unreadable, and its
result says why (the ``CollectError``'s error_class, or ``parse_error``).
"""

from __future__ import annotations

from awgcheck.collect.base import Collector
from awgcheck.documents.base import DocumentKind, Reading, ReadOptions
from awgcheck.inventory import Node
from awgcheck.parse import awgconf


def wanted(node: Node, options: ReadOptions) -> bool:
    """Every node has a conf (the inventory defaults its path)."""
    return bool(node.conf)


def read_conf(collector: Collector, node: Node) -> awgconf.AwgConf:
    """The node's conf, named as the collector names it; raises
    ``CollectError`` or ``ParseError``."""
    data = collector.read_file(node.conf, sudo=node.sudo)
    return awgconf.parse(data, collector.describe(node.conf))


def read(collector: Collector, node: Node, options: ReadOptions) -> Reading:
    """The conf as a document kind reads it."""
    return Reading(read_conf(collector, node))


KIND = DocumentKind(wanted, read)
