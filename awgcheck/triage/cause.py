"""Which differing param is the likely cause: the one the evidence supports.

Several params can differ at once. Each belongs to a class of the symptom
table (:mod:`awgcheck.symptoms`), and each class predicts what the tunnel
looks like; the likely cause is the difference whose prediction the health
evidence matches (an S4 drift explains "handshake ok, no data"; an H2
difference, which predicts no handshake, does not). Among equally
supported ones the table's order decides: the one that breaks the tunnel
most completely first. Side-local params have no data-plane effect: they
are a policy difference, never the cause while a must-match param differs.

A fault of the mesh edge to the source (:mod:`awgcheck.triage.edge`: an old
key, a missing [Peer], an Endpoint or AllowedIPs gap) is a candidate too,
with its own class: a key mismatch predicts no handshake at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from awgcheck.symptoms import CLASSES, OVERLAP, SIDE_LOCAL, Health, MismatchClass, class_of
from awgcheck.triage import edge
from awgcheck.triage.rows import Row


@dataclass(frozen=True)
class Candidate:
    """A difference that might explain the tunnel's state."""

    cls: MismatchClass
    row: Row | None  # None for overlapping H ranges (a property of one side, not a row)
    matches: bool | None  # what the evidence says of its prediction
    fault: edge.EdgeFault | None = None  # a fault of the mesh edge, not a param

    @property
    def policy(self) -> bool:
        return self.cls is SIDE_LOCAL


# A wrong key or Endpoint breaks the edge before any param is read; an
# AllowedIPs gap loses some traffic, like the param classes that follow it.
_TABLE_ORDER = {cls.id: index for index, cls in enumerate(
    (edge.KEY, edge.ENDPOINT, *CLASSES, edge.ALLOWED_IPS, OVERLAP, SIDE_LOCAL))}
# Supported first, then those the evidence cannot judge, then contradicted.
_SUPPORT_ORDER = {True: 0, None: 1, False: 2}


def rank(wire_rows: list[Row], overlaps: bool, seen: Health,
         faults: Sequence[edge.EdgeFault] = ()) -> list[Candidate]:
    """Every difference on the wire (and overlapping H ranges, and the mesh
    edge's ``faults``), most likely cause first; side-local (policy)
    differences last."""
    found = [Candidate(f.cls, None, f.cls.explains(seen), f) for f in faults]
    for row in wire_rows:
        cls = class_of(row.param) or SIDE_LOCAL
        found.append(Candidate(cls, row, cls.explains(seen)))
    if overlaps:
        found.append(Candidate(OVERLAP, None, OVERLAP.explains(seen)))
    # sorted() is stable: rows of one class keep the catalog's param order.
    return sorted(found, key=lambda c: (c.policy, _SUPPORT_ORDER[c.matches],
                                        _TABLE_ORDER[c.cls.id]))
