"""The audit pipeline: read every node (concurrently), evaluate, report.
One node is read by :mod:`awgcheck.nodes`, shared with triage and diff.

A node that cannot be read becomes a node result of status "error" with a
stable ``error_class``; it never hides the other nodes' results and is
never counted as passed. Waivers (:mod:`awgcheck.waivers`) apply to the
findings before the nodes are judged, so a waived failure fails no node.

Which nodes are checked is a :class:`~awgcheck.selection.Selection`: the
audit reads what it names and reports its nodes only (the source node,
when read only to compare the others with, is not reported).

One deadline bounds a node (``--timeout`` from when its reading starts):
the transport closes at it, and the node's rules get what reading left of
it (at least :data:`limits.EVALUATION_MIN`), so a slow node whose values
also make a rule's pattern explode costs its deadline, not twice it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from awgcheck import concurrency, engine, limits, waivers, workers
from awgcheck.collect.transports import WAITING
from awgcheck.documents.base import DocumentKind
from awgcheck.documents.registry import DOCUMENTS
from awgcheck.errors import CollectError, ErrorClass, ParseError, internal_error
from awgcheck.inventory import Inventory, Node
from awgcheck.mesh import fleet as mesh_fleet
from awgcheck.mesh.model import Mesh
from awgcheck.model import ArtifactKind, Finding, NodeResult, Report, Severity, Status, Waiver
from awgcheck.nodes import (
    CollectorFactory,
    NodeRead,
    RunOptions,
    open_collector,
    read_node,
    read_source_file,
    shared_connections,
)
from awgcheck.ruleset.load import RuleSet
from awgcheck.selection import Selection, select

# Collectors enforce the deadline themselves (the SSH one closes its socket);
# this grace covers a collector that does not, so the run still ends.
DEADLINE_GRACE = 2.0


def read_nodes(nodes: Sequence[Node], options: RunOptions,
               factory: CollectorFactory = open_collector,
               progress: Callable[[NodeRead], None] | None = None,
               documents: Mapping[ArtifactKind, DocumentKind] = DOCUMENTS) -> list[NodeRead]:
    """Read nodes, in order, with at most ``options.concurrency`` in flight
    (:func:`awgcheck.concurrency.for_run` when it is None) and one
    connection per SSH bastion for the whole run; one at a time when none
    waits on a network (local node trees: more threads only take turns at
    the GIL)."""
    # Checked for every fleet, so a limit too low is said before any node
    # is read, whatever the transports.
    in_flight = concurrency.for_run(len(nodes), options.concurrency)
    if not any(n.transport in WAITING for n in nodes):
        in_flight = 1

    def overrun(node: Node) -> NodeRead:
        return NodeRead(node, None, CollectError(
            f"{node.name}: no answer within the {options.timeout:g} s deadline",
            error_class=ErrorClass.DEADLINE_EXCEEDED))

    def failed(node: Node, exc: Exception) -> NodeRead:
        # read_node captures its own failures; this is the backstop that
        # keeps a node from waiting out the deadline if one slips through.
        return NodeRead(node, None, internal_error(node.name, "reading", exc))

    with shared_connections(options) as shared:
        return workers.run_bounded(
            nodes, lambda node: read_node(node, shared, factory, documents),
            concurrency=in_flight, deadline=options.timeout + DEADLINE_GRACE,
            on_overrun=overrun, on_error=failed, on_result=progress)


def audit(inventory: Inventory, rules: RuleSet, *, profile: str = "strict",
          fail_on: Severity = Severity.ERROR, selection: Selection | None = None,
          options: RunOptions | None = None,
          factory: CollectorFactory = open_collector,
          progress: Callable[[NodeRead], None] | None = None,
          documents: Mapping[ArtifactKind, DocumentKind] = DOCUMENTS,
          waived_by: Sequence[Waiver] = (), today: dt.date | None = None,
          mesh_seen: Callable[[Mesh | None], None] | None = None) -> Report:
    """Read the ``selection`` (every node by default; the source too, to
    compare with), evaluate ``rules`` and apply the waivers ``waived_by``
    as of ``today`` (UTC today by default). ``progress`` hears of each
    reported node as it is read; ``mesh_seen`` hears of the run's mesh
    (``awgcheck topology`` draws it)."""
    options = options or RunOptions()
    chosen = selection or select(inventory)
    reported = {n.name for n in chosen.nodes}

    def tick(read: NodeRead) -> None:
        if progress is not None and read.node.name in reported:
            progress(read)

    every = read_nodes(chosen.read, options, factory, tick, documents)
    source = _source(inventory, every)
    reads = [r for r in every if r.node.name in reported]
    node_docs = [
        engine.NodeDocuments(r.node.name, r.documents.docs,
                             is_source=r.node.name == inventory.source_node)
        for r in reads if r.documents is not None
    ]
    # Every node read counts for the mesh (the source too, when it is only
    # read to compare with): an edge needs both ends.
    mesh = mesh_fleet.of_run(inventory, {r.node.name: r.documents.docs for r in every
                                         if r.documents is not None})
    if mesh_seen is not None:
        mesh_seen(mesh)
    findings = engine.evaluate(rules.rules, node_docs, source, profile, options.timeout,
                               budget=_left_of_deadline(reads, options), mesh=mesh)
    findings.extend(f for r in reads if r.documents is not None for f in r.findings)
    findings = _located(findings, every)
    findings = waivers.apply(
        findings, waived_by, today=today or dt.datetime.now(dt.UTC).date(),
        fleet={n.name: n.groups for n in inventory.nodes},
        checked={r.node.name for r in reads if r.documents is not None})
    by_node: dict[str, list[Finding]] = {}
    for finding in findings:
        by_node.setdefault(finding.node, []).append(finding)
    index = {node.name: i for i, node in enumerate(inventory.nodes)}
    nodes = tuple(replace(_node_result(r, by_node.get(r.node.name, []), fail_on),
                          index=index[r.node.name], groups=r.node.groups) for r in reads)
    # Node by node, in inventory order (each node's rules, then what reading
    # it said), then the findings about no node by place: the order `merge`
    # rebuilds from reports of parts of the fleet.
    findings = [f for r in reads for f in by_node.pop(r.node.name, [])]
    findings.extend(sorted((f for rest in by_node.values() for f in rest), key=by_place))
    source_path = source.doc.path if source.doc is not None else (
        str(inventory.source_path) if inventory.source_path
        else inventory.node(inventory.source_node or "").conf or "")
    # An empty shard read no source and compared nothing: nothing failed.
    failure = engine.source_failure(rules.rules, node_docs, source) if reads else None
    return Report(inventory.source_node, source_path, nodes, tuple(findings), fail_on, profile,
                  shard=chosen.shard, source_failure=failure)


def _located(findings: list[Finding], reads: Sequence[NodeRead]) -> list[Finding]:
    """The findings of nodes read over SSH with their locations' host,
    port and path apart (the documents name a file as messages do,
    ``host:/path``); ``reads`` are every node read, so a mesh finding's
    other end is located too, whichever node it is on."""
    remotes = {r.node.name: r.remote for r in reads if r.remote is not None}
    if not remotes:
        return findings
    located = []
    for finding in findings:
        remote = remotes.get(finding.node)
        if remote is not None and finding.location is not None:
            finding = replace(finding, location=remote.locate(finding.location))
        # A mesh finding's other end is in another node's file.
        other = remotes.get(finding.related.node) if finding.related is not None else None
        if other is not None and finding.related is not None:
            finding = replace(finding, related=replace(
                finding.related, location=other.locate(finding.related.location)))
        located.append(finding)
    return located


def by_place(finding: Finding) -> tuple[str, int]:
    """The order of findings about no node (a waiver that matched nothing
    names its file): by file and line."""
    where = finding.location
    return ("", 0) if where is None else (where.place, where.line or 0)


def _left_of_deadline(reads: Sequence[NodeRead], options: RunOptions) -> engine.Budget:
    """A node's evaluation budget: what is left of its deadline when its
    rules start, never less than :data:`limits.EVALUATION_MIN` (or the
    whole timeout, if that is shorter)."""
    deadlines = {r.node.name: r.expires_at for r in reads}
    floor = min(limits.EVALUATION_MIN, options.timeout)

    def budget(node: engine.NodeDocuments) -> float:
        expires_at = deadlines.get(node.name)
        left = options.timeout if expires_at is None else expires_at - time.monotonic()
        return max(left, floor)

    return budget


def _source(inventory: Inventory, reads: Sequence[NodeRead]) -> engine.Source:
    """The source of truth, or why it could not be read: an error reply's
    own text is the one thing that tells the operator why."""
    if inventory.source_path is not None:
        name = str(inventory.source_path)
        try:
            return engine.Source(name, read_source_file(inventory.source_path))
        except CollectError as exc:
            return engine.Source(name, None, str(exc), exc.error_class)
        except ParseError as exc:
            return engine.Source(name, None, str(exc), ErrorClass.PARSE_ERROR)
    name = inventory.source_node or "source"
    for read in reads:
        if read.node.name != name:
            continue
        if read.error is not None:
            return engine.Source(name, None, str(read.error), read.error.error_class)
        if read.documents is not None:
            return engine.Source(name, read.documents.docs.get(ArtifactKind.CONF))
    return engine.Source(name, None, f"{name}: the source node was not read")


def _node_result(read: NodeRead, findings: Sequence[Finding], fail_on: Severity) -> NodeResult:
    """The node's status from its own findings (already grouped by node: a
    scan of every finding per node made large fleets quadratic)."""
    if read.error is not None:
        return NodeResult(read.node.name, Status.ERROR, str(read.error),
                          read.error.error_class)
    return NodeResult.judged(read.node.name, findings, fail_on)
