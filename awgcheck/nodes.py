"""Reading one node: open its transport, read the documents it wants,
close, and turn every failure into a node error. Shared by the three uses
(the ``check`` audit, ``triage`` and ``diff``), so a node that cannot be
read is told the same way everywhere.

Also how a node is named on the command line (an inventory name or an
``ssh://`` URL) and how a source-of-truth file is read.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from awgcheck import engine
from awgcheck.collect.base import Collector, ConnectOptions, Remote
from awgcheck.collect.runtime import Missing
from awgcheck.collect.scope import RunScope
from awgcheck.collect.transports import TRANSPORTS
from awgcheck.documents import params
from awgcheck.documents.base import DocumentKind
from awgcheck.documents.registry import DOCUMENTS
from awgcheck.errors import CollectError, ErrorClass, ParseError, UsageError, internal_error
from awgcheck.filenames import looks_like_path
from awgcheck.inventory import Inventory, Node, node_from_url
from awgcheck.model import ArtifactKind, Finding, ParamDocument


@dataclass(frozen=True)
class RunOptions:
    """The run's choices for reading nodes (the shared SSH options, and
    what ``check`` reads besides the conf)."""

    concurrency: int | None = None  # None: awgcheck.concurrency decides from the fleet
    timeout: float = 30.0
    ssh_config: str | None = None  # None: what plain ssh reads (~/.ssh/config, /etc/ssh/ssh_config)
    accept_new_host_keys: bool = False
    runtime: bool = False  # also read the running interface (check --runtime)
    compose_mode: str = "file"  # file: read compose files; node: docker compose config
    compose_env: tuple[tuple[str, str], ...] = ()  # --compose-env KEY=VALUE
    expires_at: float | None = None
    """The node's deadline as a ``time.monotonic()`` value: set by
    :func:`read_node` when the node's reading starts (``timeout`` from
    then), so the transport, the reading and the rule evaluation all end by
    the same moment."""
    bastion_channels: int | None = None  # None: the SSH transport's default
    scope: RunScope | None = field(default=None, compare=False)  # see shared_connections

    @property
    def connect(self) -> ConnectOptions:
        """What the node's transport is opened with."""
        return ConnectOptions(deadline=self.timeout, ssh_config=self.ssh_config,
                              accept_new_host_keys=self.accept_new_host_keys,
                              expires_at=self.expires_at, scope=self.scope,
                              bastion_channels=self.bastion_channels)


@contextlib.contextmanager
def shared_connections(options: RunOptions) -> Iterator[RunOptions]:
    """``options`` for one run whose nodes share what they can (one
    connection per SSH bastion): a scope made here is closed on leaving,
    one the options already carry is left to whoever made it."""
    if options.scope is not None:
        yield options
        return
    with RunScope() as scope:
        yield replace(options, scope=scope)


CollectorFactory = Callable[[Node, RunOptions], Collector]


def open_collector(node: Node, options: RunOptions) -> Collector:
    """Open ``node`` with the transport its inventory entry names."""
    return TRANSPORTS[node.transport](node, options.connect)


T = TypeVar("T")


def with_collector(node: Node, options: RunOptions, factory: CollectorFactory,
                   body: Callable[[Collector], T], failed: Callable[[CollectError], T]) -> T:
    """``body`` run on ``node``'s open collector, which is closed after;
    any failure, opening or reading, is ``failed`` with it as a
    :class:`CollectError` (a transport or reader bug costs this node, never
    the run, and is never a traceback)."""
    try:
        collector = factory(node, options)
    except CollectError as exc:
        return failed(exc)
    except Exception as exc:
        return failed(internal_error(node.name, "opening the node", exc))
    try:
        return body(collector)
    except CollectError as exc:
        return failed(exc)
    except ParseError as exc:
        return failed(CollectError(str(exc), error_class=ErrorClass.PARSE_ERROR))
    except Exception as exc:
        return failed(internal_error(node.name, "reading", exc))
    finally:
        with contextlib.suppress(Exception):  # closing a broken transport may fail too
            collector.close()


@dataclass(frozen=True)
class NodeRead:
    """One node as read: its documents, or the error that cost it."""

    node: Node
    documents: engine.NodeDocuments | None
    error: CollectError | None = None
    missing: tuple[Missing, ...] = ()  # evidence asked for but not read (runtime)
    findings: tuple[Finding, ...] = ()  # what the document kinds said of their reading
    expires_at: float | None = None  # the node's deadline (RunOptions.expires_at)
    remote: Remote | None = None  # the host its files were read on (None: local files)


def read_node(node: Node, options: RunOptions,
              factory: CollectorFactory = open_collector,
              documents: Mapping[ArtifactKind, DocumentKind] = DOCUMENTS) -> NodeRead:
    """Read and parse the ``documents`` the node wants, in order; every
    failure is captured (a kind that raises makes the node unreadable).

    The node's deadline starts now, unless ``options`` already carry one."""
    if options.expires_at is None:
        options = replace(options, expires_at=time.monotonic() + options.timeout)
    return with_collector(node, options, factory,
                          lambda collector: read_documents(collector, node, options, documents),
                          lambda error: NodeRead(node, None, error,
                                                 expires_at=options.expires_at))


def read_documents(collector: Collector, node: Node, options: RunOptions,
                   documents: Mapping[ArtifactKind, DocumentKind]) -> NodeRead:
    """The ``documents`` ``node`` wants, read through its open collector
    (which the caller closes); raises as the kinds' readers do."""
    docs: dict[ArtifactKind, ParamDocument] = {}
    missing: list[Missing] = []
    findings: list[Finding] = []
    for kind, document in documents.items():
        if not document.wanted(node, options):
            continue
        reading = document.read(collector, node, options)
        missing.extend(reading.missing)
        findings.extend(reading.findings)
        if reading.document is not None:
            docs[kind] = reading.document
    return NodeRead(node, engine.NodeDocuments(node.name, docs), missing=tuple(missing),
                    findings=tuple(findings), expires_at=options.expires_at,
                    remote=collector.remote)


@dataclass(frozen=True)
class AdHocSsh:
    """What the command line gives a node named as ``ssh://...`` (an
    inventory node has these fields in the inventory instead)."""

    identity: Path | None = None
    known_hosts: Path | None = None


NO_AD_HOC = AdHocSsh()
"""An ssh:// node that takes its key and known_hosts from ssh_config."""


def named_node(spec: str, fleet_file: Inventory | None, *, label: str | None = None,
               or_file: bool = False, ad_hoc: AdHocSsh = NO_AD_HOC) -> Node:
    """A node named on the command line: ``ssh://user@host:port`` (with
    ``ad_hoc``'s key and known_hosts), or a name from ``fleet_file``.
    ``label`` is what the error names (the spec itself by default);
    ``or_file`` says the argument could also have been a file, so the
    error says there is none: "file not found" when it looks like a path
    (:func:`looks_like_path`) and no node has that name."""
    if spec.startswith("ssh://"):
        return node_from_url(spec, identity=ad_hoc.identity, known_hosts=ad_hoc.known_hosts)
    named = fleet_file is not None and any(n.name == spec for n in fleet_file.nodes)
    if or_file and not named and looks_like_path(spec):
        problem = "not a file" if Path(spec).exists() else "file not found"
        raise UsageError(f"{label}: {spec}: {problem}" if label else f"{spec}: {problem}")
    if fleet_file is None:
        hint = "to name a node, pass --inventory, or give ssh://user@host:port"
        raise UsageError(f"{label or spec}: " + (f"no such file ({hint})" if or_file else hint))
    return fleet_file.node(spec)


def read_source_file(path: Path) -> ParamDocument:
    """The source of truth from a file: a conf, or a params document (told
    apart by name or content, see :func:`awgcheck.documents.params.parse_source`)."""
    try:
        return params.read_source(path)
    except CollectError as exc:
        raise CollectError(f"source of truth: {exc}", error_class=exc.error_class) from None
