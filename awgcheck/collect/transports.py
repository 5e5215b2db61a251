"""The registry that picks a node's transport.

An inventory node says where it lives (``local:`` a node tree, ``host:`` an
SSH node; :attr:`awgcheck.inventory.Node.transport` names which), and
:data:`TRANSPORTS` maps that to the function that opens its collector. A new
transport is its own module plus one entry here.

Its own module, not the package's ``__init__``: importing any part of
:mod:`awgcheck.collect` must not load every transport (paramiko for SSH).
"""

from __future__ import annotations

from awgcheck.collect.base import Opener
from awgcheck.collect.local import open_local
from awgcheck.collect.ssh.connect import open_ssh_node

TRANSPORTS: dict[str, Opener] = {
    "local": open_local,
    "ssh": open_ssh_node,
}
