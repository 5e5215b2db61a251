"""The registry that picks a node's transport.

An inventory node says where it lives (``local:`` a node tree, ``host:`` an
SSH node; :attr:`awgcheck.inventory.Node.transport` names which), and
:data:`TRANSPORTS` maps that to the function that opens its collector. A new
transport is its own module plus one entry here.

Its own module, not the package's ``__init__``: importing any part of
:mod:`awgcheck.collect` must not load every transport. The SSH transport is
named by module and function and loaded when the first SSH node is opened:
paramiko and the cryptography it pulls in were a third of the start-up of
every command (0.14 s of 0.43 s), and a run over local node trees never
needs them.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field

from awgcheck.collect.base import Collector, ConnectOptions, Opener
from awgcheck.collect.machine import open_local_node
from awgcheck.inventory import Node


@dataclass(frozen=True)
class Deferred:
    """An opener loaded from ``module`` on its first use (by any thread)."""

    module: str
    name: str
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def load(self) -> Opener:
        """The opener itself (importing its module once)."""
        with self._lock:  # one import, even when 32 workers open nodes at once
            opener: Opener = getattr(importlib.import_module(self.module), self.name)
        return opener

    def __call__(self, node: Node, options: ConnectOptions) -> Collector:
        return self.load()(node, options)


TRANSPORTS: dict[str, Opener] = {
    "local": open_local_node,  # a node tree, or this machine (`local: /`)
    "ssh": Deferred("awgcheck.collect.ssh.connect", "open_ssh_node"),
}

WAITING = frozenset({"ssh"})
"""Transports whose reads wait on the network, so reading many nodes at
once pays. A local tree's reads are the interpreter's own work: more
threads than one only take turns at the GIL (a fifth more CPU for 1,000
nodes)."""
