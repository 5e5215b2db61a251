"""How many nodes a run reads at once, and whether the open-file limit allows it.

Reading a node is waiting for round trips (six or so per node, 100 ms each
on a far fleet) far more than computing (about 4 ms of CPU per node), so a
run is as fast as the nodes it keeps in flight: 1,000 nodes at 100 ms RTT
need about a hundred in flight to finish in 10 s. What bounds that number
is the process's open-file limit (``ulimit -n``, ``RLIMIT_NOFILE``): every
node in flight holds a few files, and running out of them fails nodes
with errors that say nothing of the cause.
"""

from __future__ import annotations

import resource

from awgcheck.errors import UsageError

MAX_IN_FLIGHT = 128
"""The most nodes read at once by default. A node costs about seven round
trips, so 1,000 nodes at 100 ms RTT in 10 s need some 70-100 in flight;
beyond this the reads mostly compete for the interpreter's lock and each
node gets slower (docs/performance.md)."""

BASTION_CHANNELS = MAX_IN_FLIGHT
"""Nodes reached through one ProxyJump bastion at a time by default
(``--bastion-channels``): as many as a run reads at once, so a fleet
behind one bastion is read as fast as direct. sshd sets no per-connection
limit on forwarded channels that this comes near (see
:mod:`awgcheck.collect.ssh.jumps`)."""

FILES_PER_NODE = 4
"""Open files one node in flight may hold: its socket (none behind a
shared bastion), the pipe pair paramiko makes while a command runs, and a
key or known_hosts file being read. Measured on 40 held SSH nodes: one
file each, three while a command ran."""

RESERVED_FILES = 64
"""Open files kept for everything else: the interpreter, the inventory,
rules and report, and the bastion connections kept open between nodes."""


def open_file_limit() -> int:
    """The soft ``RLIMIT_NOFILE``: what this process may open (a very large
    number when unlimited)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def default_concurrency(fleet_size: int, open_files: int) -> int:
    """Nodes to read at once when ``--concurrency`` is not given.

    Every node at once for a small fleet, but never more than
    :data:`MAX_IN_FLIGHT` (the goals are met there and more only adds
    contention), and never more than the open-file limit ``open_files``
    leaves room for: :data:`RESERVED_FILES` for the process, then
    :data:`FILES_PER_NODE` per node in flight. The default ``ulimit -n``
    of 1,024 allows 240, so the cap of 128 is what applies; a limit of
    256 allows 48. The result is at least 1: whether even one node fits
    is :func:`check_open_files`' question.
    """
    room = (open_files - RESERVED_FILES) // FILES_PER_NODE
    return max(1, min(fleet_size, MAX_IN_FLIGHT, room))


def files_needed(in_flight: int) -> int:
    """Open files a run with ``in_flight`` nodes at once may hold."""
    return RESERVED_FILES + FILES_PER_NODE * in_flight


def check_open_files(in_flight: int, open_files: int, *, requested: bool) -> None:
    """Raise a UsageError when ``open_files`` is too low for ``in_flight``
    nodes at once (``requested``: the number came from ``--concurrency``)."""
    needed = files_needed(in_flight)
    if needed <= open_files:
        return
    fits = (open_files - RESERVED_FILES) // FILES_PER_NODE
    if requested and fits >= 1:
        raise UsageError(
            f"--concurrency {in_flight} needs up to {needed} open files, but the open-file "
            f"limit (ulimit -n) is {open_files}: lower --concurrency to {fits} or raise the "
            f"limit (ulimit -n {needed})")
    raise UsageError(
        f"the open-file limit (ulimit -n) is {open_files}, too low to read even one node "
        f"(awgcheck needs at least {files_needed(1)}): raise it, e.g. ulimit -n 1024")


def for_run(fleet_size: int, requested: int | None, open_files: int | None = None) -> int:
    """How many of ``fleet_size`` nodes to read at once: ``requested``
    (``--concurrency``) when given, else :func:`default_concurrency`;
    a UsageError when the open-file limit cannot serve it."""
    limit = open_file_limit() if open_files is None else open_files
    if requested is not None:
        check_open_files(min(requested, max(1, fleet_size)), limit, requested=True)
        return requested
    chosen = default_concurrency(fleet_size, limit)
    check_open_files(min(chosen, max(1, fleet_size)), limit, requested=False)
    return chosen
