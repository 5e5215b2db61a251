"""The mesh of a run, from its inventory and the confs it read."""

from __future__ import annotations

from collections.abc import Mapping

from awgcheck.inventory import Inventory
from awgcheck.mesh import model
from awgcheck.model import ArtifactKind, ParamDocument
from awgcheck.parse import awgconf


def of_run(inventory: Inventory,
           read: Mapping[str, Mapping[ArtifactKind, ParamDocument]]) -> model.Mesh | None:
    """The mesh of ``inventory``'s nodes, of which ``read`` maps the nodes
    read in this run to their documents; None when the inventory declares
    no ``mesh:``."""
    if inventory.mesh is None:
        return None
    members = [model.Member(n.name, n.host, n.public_address, n.behind_nat)
               for n in inventory.nodes if n.conf is not None]
    confs = {name: doc for name, docs in read.items()
             if isinstance(doc := docs.get(ArtifactKind.CONF), awgconf.AwgConf)}
    return model.build(inventory.mesh, members, confs)
