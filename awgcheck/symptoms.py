"""The symptom table: what a mismatch of each param does to the tunnel.

One table (docs/triage.md, "The symptom table") read by every output that names a
symptom: the drift rules' findings (and so the table, JSON, SARIF,
markdown, GitHub and JUnit reports), triage's verdict and the gate's
change summary. A rule may still override the text with its own
``symptom:`` (docs/rules.md, "Symptoms"); nothing else writes one.

Each class also says what triage expects to see when it is the cause, so
the verdict can tell whether the evidence fits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from awgcheck import params


class Expect(enum.StrEnum):
    """What a tunnel with this mismatch looks like from the outside."""

    NO_HANDSHAKE = "no-handshake"
    UP_BUT_DEAD = "up-but-dead"  # handshakes refresh, no data flows
    DEAD = "dead"  # no data in at least one direction
    INVISIBLE = "invisible"  # nothing visible until load
    PARTIAL = "partial"  # some loss, one direction or intermittent
    HEALTHY = "healthy"  # no data-plane effect


@dataclass(frozen=True)
class MismatchClass:
    """One row of the symptom table."""

    id: str
    params: tuple[str, ...]
    symptom: str
    expects: Expect


# Param mismatches ordered by how completely each breaks the tunnel: when
# several params differ, the first class present is the likely cause.
CLASSES: tuple[MismatchClass, ...] = (
    MismatchClass("HeaderProtectionKey", ("HeaderProtectionKey",),
                  "total blackhole: no handshake and no data, in either direction",
                  Expect.NO_HANDSHAKE),
    MismatchClass("S1/H1", ("S1", "H1"),
                  "no handshake at all: the responder drops the initiation",
                  Expect.NO_HANDSHAKE),
    MismatchClass("S2/H2", ("S2", "H2"),
                  "the initiator never completes the handshake: the responder's rx/tx grow "
                  "but its latest-handshake stays 0", Expect.NO_HANDSHAKE),
    # The field incident's wording (server S4 = 18, partner S4 = 17): what an
    # operator sees is an interface that looks up and carries nothing.
    MismatchClass("S4/H4", ("S4", "H4"),
                  "handshakes complete and keep refreshing, but every data packet is "
                  "silently dropped: looks up, carries nothing", Expect.UP_BUT_DEAD),
    MismatchClass("RandomTrailers", ("RandomTrailers",),
                  "the tunnel is dead in at least one direction", Expect.DEAD),
    MismatchClass("S3/H3", ("S3", "H3"),
                  "only cookie replies (a server under load) are lost: usually invisible "
                  "until load", Expect.INVISIBLE),
)
# Not a difference between two sides but H ranges of one side overlapping.
OVERLAP = MismatchClass("overlapping-H", ("H1", "H2", "H3", "H4"),
                        "partial, one-direction or intermittent loss", Expect.PARTIAL)
# Fleets may still require side-local params to equal what the server issued
# (an installer must write exactly that): a difference is then policy drift.
SIDE_LOCAL = MismatchClass("side-local", params.SIDE_LOCAL_PARAMS,
                           "no data-plane effect (side-local param): policy drift only, this "
                           "side does not have what the server issued", Expect.HEALTHY)

# Each param is in exactly one of these (OVERLAP is not a per-param mismatch).
_BY_PARAM: dict[str, MismatchClass] = {
    name: cls for cls in (*CLASSES, SIDE_LOCAL) for name in cls.params
}


def class_of(param: str) -> MismatchClass | None:
    """The class a mismatch of ``param`` (any spelling) belongs to, or None
    for params whose difference is not a tunnel symptom (keys, ports)."""
    return _BY_PARAM.get(params.canonical(param))


def symptom_for(param: str) -> str:
    """The symptom of a mismatch of ``param``; KeyError for a param the
    table has no row for (see :func:`class_of`)."""
    found = class_of(param)
    if found is None:
        raise KeyError(f"no symptom for {param!r}: not a must-match or side-local param")
    return found.symptom
