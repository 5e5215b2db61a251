"""The ``fix`` use: read one node's conf and the source of truth, refuse
what cannot be fixed safely, plan the edit and judge its result with the
same rules ``check`` runs.

Refused (:class:`FixRefused`, nothing changed): a node or source that
cannot be read, a node conf that does not load (``awg-quick up`` would
reject it: what it needs is not a param edit), and a source that itself
fails a rule at ``error`` or above that judges it as a param set
(:func:`awgcheck.rotation.verify.judges_param_set`: the constraint rules,
and for a conf conf-loads and the hazards; copying a broken value to every
node spreads it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from awgcheck import engine, params
from awgcheck.collect.base import Collector
from awgcheck.documents.base import DocumentKind
from awgcheck.documents.registry import DOCUMENTS
from awgcheck.errors import AwgcheckError, CollectError, ParseError
from awgcheck.fix import plan as planning
from awgcheck.inventory import Inventory, Node
from awgcheck.mesh import fleet as mesh_fleet
from awgcheck.mesh.model import Mesh
from awgcheck.model import ArtifactKind, Finding, Level, ParamDocument, Severity
from awgcheck.nodes import (
    CollectorFactory,
    RunOptions,
    open_collector,
    read_documents,
    read_source_file,
)
from awgcheck.parse import awgconf
from awgcheck.rotation.verify import judges_param_set
from awgcheck.ruleset.load import Rule

FAIL_AT = Severity.ERROR
"""What a remaining finding must reach to say the fixed conf still fails
(``check``'s default ``--fail-on``)."""


class FixRefused(AwgcheckError):
    """Why fix will not edit the node; nothing was changed."""


@dataclass(frozen=True)
class NodeConf:
    """One node's conf as read: its bytes, and their parse; with
    :func:`with_checked_documents`, also the node's other documents as
    ``check`` reads them (its compose project) and what reading them said,
    for judging the fixed conf as ``check`` will."""

    node: Node
    path: str  # on the node
    where: str  # as messages name it (host:path, a tree's file)
    data: bytes
    conf: awgconf.AwgConf
    others: Mapping[ArtifactKind, ParamDocument] = field(default_factory=dict)
    reading: tuple[Finding, ...] = ()  # the other kinds' findings about their reading

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Fix:
    """The edit for one node, and what ``check`` would still say after it."""

    read: NodeConf
    plan: planning.Plan
    remaining: tuple[Finding, ...]


def read_node_conf(collector: Collector, node: Node) -> NodeConf:
    """The node's conf bytes and parse through an open collector."""
    if node.conf is None:
        raise FixRefused(f"{node.name}: has no conf (inventory 'conf: none'); nothing to fix")
    data = collector.read_file(node.conf, sudo=node.sudo)
    where = collector.describe(node.conf)
    return NodeConf(node, node.conf, where, data, awgconf.parse(data, where))


def with_node(node: Node, options: RunOptions, factory: CollectorFactory = open_collector
              ) -> tuple[Collector, NodeConf]:
    """Open ``node`` and read its conf; the caller closes the collector.
    A node that cannot be opened or read is refused, saying why."""
    try:
        collector = factory(node, options)
    except CollectError as exc:
        raise FixRefused(f"{node.name}: cannot be read: {exc}") from None
    try:
        return collector, read_node_conf(collector, node)
    except (CollectError, ParseError) as exc:
        collector.close()
        raise FixRefused(f"{node.name}: cannot be read: {exc}") from None
    except BaseException:
        collector.close()
        raise


def with_checked_documents(collector: Collector, read: NodeConf,
                           options: RunOptions) -> NodeConf:
    """``read`` with the node's other documents, read as ``check`` reads
    them (:data:`awgcheck.documents.registry.DOCUMENTS` but the conf,
    already read), so the re-check after the fix runs every rule ``check``
    runs on the node; a node whose other documents cannot be read (a lost
    connection) is refused."""
    kinds: dict[ArtifactKind, DocumentKind] = {
        kind: doc for kind, doc in DOCUMENTS.items() if kind is not ArtifactKind.CONF}
    try:
        found = read_documents(collector, read.node, options, kinds)
    except (CollectError, ParseError) as exc:
        raise FixRefused(f"{read.node.name}: cannot be read: {exc}") from None
    assert found.documents is not None  # read_documents reads, or raises
    return replace(read, others=dict(found.documents.docs), reading=found.findings)


def read_source(fleet: Inventory, options: RunOptions,
                factory: CollectorFactory = open_collector) -> tuple[str, ParamDocument]:
    """The source of truth (a file, or the source node's conf), or a refusal."""
    if fleet.source_path is not None:
        try:
            return str(fleet.source_path), read_source_file(fleet.source_path)
        except (CollectError, ParseError) as exc:
            raise FixRefused(f"the source of truth cannot be read: {exc}") from None
    if fleet.source_node is None:
        raise FixRefused(f"{fleet.path}: names no source of truth ('source:' or --source)")
    collector, read = with_node(fleet.node(fleet.source_node), options, factory)
    collector.close()
    return fleet.source_node, read.conf


def refuse_unloadable(read: NodeConf) -> None:
    """A conf awg-quick would reject needs a person, not a param edit."""
    if read.conf.loads:
        return
    why = "; ".join(str(d) for d in read.conf.diagnostics if d.level is Level.FATAL)
    raise FixRefused(f"{read.node.name}: {read.where} does not load ({why}); "
                     "fix only edits confs that load")


def source_faults(rules: Sequence[Rule], name: str, source: ParamDocument,
                  profile: str) -> tuple[Finding, ...]:
    """What the source fails, at ``FAIL_AT`` or above, of the rules that
    judge it as a param set (not private-key-present: a source conf may
    hold params only, as ``params generate`` writes one): a source with any
    is broken, and copying its values would spread the fault (``fix``
    refuses; ``triage`` and ``verify`` name the fault on the source instead
    of a copy)."""
    kind = ArtifactKind.CONF if isinstance(source, awgconf.AwgConf) else ArtifactKind.PARAMS
    own = [rule for rule in rules if judges_param_set(rule)]
    findings = engine.evaluate(own, [engine.NodeDocuments(name, {kind: source}, is_source=True)],
                               engine.Source(name, source), profile)
    return tuple(f for f in findings if f.failed and f.severity.at_least(FAIL_AT))


def refuse_broken_source(rules: Sequence[Rule], name: str, source: ParamDocument,
                         profile: str) -> None:
    """The source must pass every rule that judges it as a param set."""
    broken = source_faults(rules, name, source, profile)
    if broken:
        said = "; ".join(f"{f.rule}: {f.message}" for f in broken)
        raise FixRefused(f"the source of truth {name} fails its own rules ({said}); "
                         "fix will not copy its values to a node")


def _mesh(fleet: Inventory, name: str, docs: Mapping[ArtifactKind, ParamDocument],
          source_name: str, source: ParamDocument) -> Mesh | None:
    """The mesh ``check --node NAME`` judges the node in: of the node and
    the source node it reads to compare with (None without ``mesh:``)."""
    read = {name: docs}
    if source_name == fleet.source_node and source_name != name:
        read[source_name] = {ArtifactKind.CONF: source}
    return mesh_fleet.of_run(fleet, read)


def remaining(rules: Sequence[Rule], read: NodeConf, data: bytes, source_name: str,
              source: ParamDocument, profile: str, *,
              fleet: Inventory | None = None) -> tuple[Finding, ...]:
    """What ``check`` would fail on the node once its conf holds ``data``:
    every rule on the fixed conf and the node's other documents (a compose
    listener fix cannot change is still listed), the mesh rules when
    ``fleet`` declares a mesh, and what reading the documents said."""
    fixed = awgconf.parse(data, read.where)
    docs = {**read.others, ArtifactKind.CONF: fixed}
    mesh = None if fleet is None else _mesh(fleet, read.node.name, docs, source_name, source)
    findings = engine.evaluate(rules, [engine.NodeDocuments(read.node.name, docs)],
                               engine.Source(source_name, source), profile, mesh=mesh)
    findings.extend(read.reading)
    return tuple(f for f in findings if f.failed and f.severity.at_least(FAIL_AT))


def fix(rules: Sequence[Rule], read: NodeConf, source_name: str, source: ParamDocument,
        profile: str, *, fleet: Inventory | None = None) -> Fix:
    """The edit for ``read`` under ``profile``, and what would still fail.

    Under ``protocol`` a side-local param is left as it is, unless its
    value fails a rule (a Jmax above 1280): then it too is set to the
    source's, whose values pass every rule."""
    refuse_unloadable(read)
    names = planning.targets(profile)
    for _ in range(2):
        plan = planning.plan(read.data, read.conf, source, names)
        left = remaining(rules, read, plan.data, source_name, source, profile, fleet=fleet)
        failing = {f.param for f in left if f.param in params.SIDE_LOCAL_PARAMS}
        more = tuple(sorted(failing - set(names), key=params.SIDE_LOCAL_PARAMS.index))
        if not more:
            break
        names = names + more
    return Fix(read, plan, left)
