"""The node's conf (inventory ``conf:``), the document every node is
checked from.

Fatal: a node whose conf cannot be read or parsed is unreadable, and its
result says why (the ``CollectError``'s error_class, or ``parse_error``).
A node declared ``conf: none`` (no AmneziaWG, only a compose stack) does
not want one: rules that read a conf do not apply to it.
"""

from __future__ import annotations

from awgcheck.collect.base import Collector
from awgcheck.documents.base import DocumentKind, Reading, ReadOptions
from awgcheck.errors import CollectError, ErrorClass
from awgcheck.inventory import NO_CONF, Node
from awgcheck.parse import awgconf


def wanted(node: Node, options: ReadOptions) -> bool:
    """Every node has a conf (the inventory defaults its path), except one
    declared ``conf: none``."""
    return node.conf is not None


def read_conf(collector: Collector, node: Node) -> awgconf.AwgConf:
    """The node's conf, named as the collector names it; raises
    ``CollectError`` or ``ParseError``."""
    if node.conf is None:
        raise CollectError(f"{node.name}: has no conf (inventory 'conf: {NO_CONF}')",
                           error_class=ErrorClass.BAD_PATH)
    data = collector.read_file(node.conf, sudo=node.sudo)
    return awgconf.parse(data, collector.describe(node.conf))


def read(collector: Collector, node: Node, options: ReadOptions) -> Reading:
    """The conf as a document kind reads it."""
    return Reading(read_conf(collector, node))


KIND = DocumentKind(wanted, read)
