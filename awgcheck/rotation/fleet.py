"""The fleet a plan starts from: its source of truth's params, read the way
``check`` reads them (:func:`awgcheck.nodes.read_node` for a source node,
:func:`awgcheck.nodes.read_source_file` for a source file), and the nodes
that follow it.

A plan made without the current params would be a guess: a source that
cannot be read is a :class:`~awgcheck.rotation.RotationError` (exit 2)
naming it and why, never a plan.
"""

from __future__ import annotations

from awgcheck import nodes
from awgcheck.documents import conf
from awgcheck.errors import CollectError, ParseError
from awgcheck.inventory import Inventory
from awgcheck.model import ArtifactKind, ParamDocument
from awgcheck.rotation import RotationError
from awgcheck.rotation.plan import Fleet

_CONF_ONLY = {ArtifactKind.CONF: conf.KIND}


def fleet_of(inventory: Inventory, named_as: str) -> Fleet:
    """The plan's view of ``inventory`` (named ``named_as`` on the command line)."""
    source = inventory.source_node or str(inventory.source_path)
    others = tuple(n.name for n in inventory.nodes
                   if n.name != inventory.source_node and n.conf is not None)
    return Fleet(named_as, source, others,
                 ssh=any(n.transport == "ssh" for n in inventory.nodes if n.conf is not None),
                 source_is_node=inventory.source_node is not None)


def read_current(inventory: Inventory, options: nodes.RunOptions) -> ParamDocument:
    """The source of truth's params as they are now."""
    if inventory.source_path is not None:
        try:
            return nodes.read_source_file(inventory.source_path)
        except (CollectError, ParseError) as exc:
            raise RotationError(f"plan: the source of truth could not be read: {exc}") from None
    name = inventory.source_node
    if name is None:
        raise RotationError(f"{inventory.path}: the inventory names no source of truth")
    read = nodes.read_node(inventory.node(name), options, documents=_CONF_ONLY)
    if read.error is not None or read.documents is None:
        why = f"{read.error} (error_class {read.error.error_class})" if read.error else "not read"
        raise RotationError(f"plan: the source of truth, node {name}, could not be read: {why}")
    return read.documents.docs[ArtifactKind.CONF]
