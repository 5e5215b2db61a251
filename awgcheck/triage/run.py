"""``awgcheck triage``: one node, file vs runtime vs source, and the likely cause.

The flow is the audit's, for one node and with more to say: open the
node's collector, read its conf, read its running interface (never fatal),
gather health evidence (a second dump and a ping only with ``probe``),
close, then compare and decide (:mod:`awgcheck.triage.verdict`). A source
that is an SSH node has its running interface read too, so a source whose
file was changed but not applied is seen. Renderers live in
:mod:`awgcheck.triage.render`; the command in :mod:`awgcheck.cli.triage`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from awgcheck import exitcodes, inventory, nodes
from awgcheck.collect.base import Collector
from awgcheck.collect.runtime import Missing, RuntimeRead, read_runtime
from awgcheck.documents.conf import read_conf
from awgcheck.errors import CollectError, ErrorClass, ParseError
from awgcheck.fix.run import source_faults
from awgcheck.mesh.model import Member
from awgcheck.model import ArtifactKind, Finding, ParamDocument
from awgcheck.parse import awgconf
from awgcheck.parse.runtime import RuntimeState
from awgcheck.ruleset.load import Rule
from awgcheck.triage import edge
from awgcheck.triage.edge import EdgeFault
from awgcheck.triage.evidence import DEFAULT_WINDOW, PING_TIMEOUT, Evidence, gather
from awgcheck.triage.rows import Row, Sides, build_rows
from awgcheck.triage.verdict import Verdict, decide


@dataclass(frozen=True)
class TriageOptions:
    """``--probe``, ``--window`` and the SSH options of one triage."""

    probe: bool = False
    window: float = DEFAULT_WINDOW
    run: nodes.RunOptions = field(default_factory=nodes.RunOptions)
    target: str | None = None  # the address to ping; None: the source's mesh address
    ping_first: bool = False  # ping between the two dumps (see evidence.gather)


@dataclass(frozen=True)
class SourceRead:
    """The source of truth triage compares with, or why there is none."""

    name: str | None
    doc: ParamDocument | None
    missing: Missing | None = None
    node: inventory.Node | None = None  # when the source is an inventory node
    runtime: RuntimeState | None = None  # its running interface, when read (SSH nodes)
    runtime_missing: Missing | None = None
    faults: tuple[Finding, ...] = ()  # its own rules it fails (:func:`judge_source`)


@dataclass(frozen=True)
class TriageReport:
    """Everything one triage found; what the renderers print."""

    node: str
    interface: str
    conf_path: str | None
    source: SourceRead
    runtime: RuntimeState | None
    rows: tuple[Row, ...]
    evidence: Evidence
    missing: tuple[Missing, ...]
    verdict: Verdict | None
    commands: tuple[str, ...] = ()
    unreachable: str | None = None  # the node's files could not be read
    unreachable_class: ErrorClass | None = None

    def exit_code(self) -> int:
        """0 nothing wrong found; 1 something wrong (a mismatch, or a source
        that fails its own rules); 4 the node, or the source, could not be
        read; 5 a mismatch shown without the source (file vs runtime)."""
        if self.unreachable is not None:
            return exitcodes.UNCHECKED
        failed = self.verdict is not None and self.verdict.failed
        return exitcodes.for_outcome(failed=failed, unchecked=self.source.doc is None)


# --------------------------------------------------------------------------
# the source of truth


def resolve_source(against: str | None, fleet_file: inventory.Inventory | None,
                   options: nodes.RunOptions,
                   ad_hoc: nodes.AdHocSsh = nodes.NO_AD_HOC) -> SourceRead:
    """``--against`` (a conf file, an inventory node, an ssh:// URL read with
    ``ad_hoc``), else the inventory's source; a source that cannot be read
    is missing evidence."""
    if against is not None:
        if Path(against).is_file():
            return _source_file(Path(against))
        return _source_node(nodes.named_node(against, fleet_file, label=f"--against {against}",
                                             or_file=True, ad_hoc=ad_hoc), options)
    if fleet_file is None:
        return SourceRead(None, None, Missing(
            "source", "no source of truth was named",
            "pass --against SOURCE (a conf file, or a node of --inventory)"))
    if fleet_file.source_path is not None:
        return _source_file(fleet_file.source_path)
    return _source_node(fleet_file.node(fleet_file.source_node or ""), options)


def judge_source(source: SourceRead, rules: Sequence[Rule]) -> SourceRead:
    """``source`` with what it fails of the rules that do not compare with
    a source, the decision ``fix`` refuses on: a broken source is named as
    the fault, never copied to the node."""
    if source.doc is None:
        return source
    # strict: check's and fix's default profile; triage has no --profile.
    return replace(source, faults=source_faults(rules, source.name or "the source",
                                                source.doc, "strict"))


def _source_file(path: Path) -> SourceRead:
    try:
        return SourceRead(str(path), nodes.read_source_file(path))
    except (CollectError, ParseError) as exc:
        return SourceRead(str(path), None, Missing(
            "source", f"the source could not be read: {exc}",
            "fix the file, or pass --against a conf or params document that reads"))


def _source_node(node: inventory.Node, options: nodes.RunOptions) -> SourceRead:
    """The source node's conf and, over SSH, its running interface (a
    local tree has none): the tunnel's other end runs what that says."""
    over_ssh = node.local is None
    read = nodes.read_node(node, replace(options, runtime=over_ssh))
    if read.documents is None:
        return SourceRead(node.name, None, Missing(
            "source", f"the source node could not be read: {read.error}",
            "make the source reachable, or pass --against with a copy of its conf"), node)
    docs = read.documents.docs
    runtime = docs.get(ArtifactKind.RUNTIME)
    state = runtime if isinstance(runtime, RuntimeState) else None
    unread = next((m for m in read.missing if m.what == "runtime"), None)
    missing = None if unread is None or not over_ssh else Missing(
        "source runtime", f"{node.name}'s running interface could not be read, so a "
        f"change to its file that was never applied would not show: {unread.why}",
        unread.how)
    return SourceRead(node.name, docs[ArtifactKind.CONF], node=node, runtime=state,
                      runtime_missing=missing)


# --------------------------------------------------------------------------
# the node


@dataclass(frozen=True)
class _NodeRead:
    conf: awgconf.AwgConf | None
    runtime: RuntimeRead
    evidence: Evidence
    error: CollectError | None = None


def triage(node: inventory.Node, source: SourceRead, options: TriageOptions, *,
           fleet: inventory.Inventory | None = None,
           factory: nodes.CollectorFactory = nodes.open_collector,
           now: Callable[[], float] = time.time,
           sleep: Callable[[float], None] = time.sleep) -> TriageReport:
    """Read ``node`` once and say what differs, why it matters, and the fix.
    With ``fleet`` (the inventory) declaring a ``mesh:``, the edge between
    ``node`` and a source that is a node of it is judged too (:mod:`.edge`)."""
    read = _read(node, source, options, factory, now, sleep)
    missing = tuple(m for m in (source.missing, source.runtime_missing,
                                *read.runtime.missing, *read.evidence.missing)
                    if m is not None)
    if read.error is not None:
        return TriageReport(node.name, node.interface, None, source, None, (),
                            read.evidence, missing, None, read.runtime.commands,
                            str(read.error), read.error.error_class)
    state = read.runtime.state
    source_name = source.name or "the source"
    rows = build_rows(read.conf, state, source.doc, source.runtime, source_name)
    hub = source.node
    sides = Sides(node.name, node.interface, read.conf, state, source.doc, source_name,
                  node.sudo, file_path=_edit_path(node, read.conf),
                  source_state=source.runtime,
                  source_interface=hub.interface if hub is not None else "awg0",
                  source_sudo=hub.sudo if hub is not None else False,
                  source_named=source.name is not None)
    verdict = decide(sides, rows, read.evidence, _edge_faults(fleet, node, read.conf, source),
                     source.faults)
    return TriageReport(node.name, node.interface, sides.edit_path, source, state,
                        tuple(rows), read.evidence, missing, verdict, read.runtime.commands)


def _edge_faults(fleet: inventory.Inventory | None, node: inventory.Node,
                 conf: awgconf.AwgConf | None, source: SourceRead) -> tuple[EdgeFault, ...]:
    """The faults of the mesh edge ``node``-source, when the inventory
    declares a mesh and the source is another node of it with a read conf."""
    partner = source.node
    if fleet is None or fleet.mesh is None or partner is None or conf is None \
            or not isinstance(source.doc, awgconf.AwgConf):
        return ()
    members = {n.name for n in fleet.nodes}
    if partner.name == node.name or not {node.name, partner.name} <= members:
        return ()  # an ad-hoc ssh:// node or --against file is no end of the mesh
    return edge.faults(fleet.mesh, _end(node, conf), _end(partner, source.doc))


def _end(node: inventory.Node, conf: awgconf.AwgConf) -> edge.End:
    member = Member(node.name, node.host, node.public_address, node.behind_nat)
    return edge.End(member, conf, _edit_path(node, conf) or conf.path, node.interface,
                    node.sudo)


def _edit_path(node: inventory.Node, conf: awgconf.AwgConf | None) -> str | None:
    """The conf as the operator edits it: the local tree's file, or the
    path on an SSH node (not ``host:path``, which no editor opens)."""
    if node.local is not None:
        return conf.path if conf is not None else None
    return node.conf


def _read(node: inventory.Node, source: SourceRead, options: TriageOptions,
          factory: nodes.CollectorFactory, now: Callable[[], float],
          sleep: Callable[[float], None]) -> _NodeRead:
    nothing = RuntimeRead(None)
    run = options.run
    if options.probe:
        # The node's deadline covers the whole connection: leave room for
        # the probe window and the ping on top of the reads.
        run = replace(run, timeout=run.timeout + options.window + PING_TIMEOUT)
    return nodes.with_collector(
        node, run, factory,
        lambda collector: _read_open(collector, node, source, options, now, sleep),
        lambda error: _NodeRead(None, nothing, Evidence(), error))


def _read_open(collector: Collector, node: inventory.Node, source: SourceRead,
               options: TriageOptions, now: Callable[[], float],
               sleep: Callable[[float], None]) -> _NodeRead:
    conf = read_conf(collector, node)
    running = read_runtime(collector, node, timeout=min(options.run.timeout, 15.0))
    evidence = gather(running.state, node, source.doc, collector=collector,
                      probe=options.probe, window=options.window, now=now, sleep=sleep,
                      target=options.target, ping_first=options.ping_first)
    return _NodeRead(conf, running, evidence)
