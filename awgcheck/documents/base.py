"""What every document a rule can read has in common, and what a document
kind must say to be read for a node."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from awgcheck.collect.base import Collector
from awgcheck.collect.runtime import Missing
from awgcheck.inventory import Node
from awgcheck.model import Finding, ParamDocument


class ReadOptions(Protocol):
    """The run's choices a document kind may read by (``nodes.RunOptions``
    has them all)."""

    @property
    def timeout(self) -> float: ...

    @property
    def runtime(self) -> bool: ...

    @property
    def compose_mode(self) -> str: ...

    @property
    def compose_env(self) -> tuple[tuple[str, str], ...]: ...


@dataclass(frozen=True)
class Reading:
    """One document kind as read on one node: the document, or None when it
    could not be had; ``missing`` says what was not read, why, and how to
    get it; ``findings`` are what the report must say about the reading
    itself (a warning that the node was checked without this document)."""

    document: ParamDocument | None
    missing: tuple[Missing, ...] = ()
    findings: tuple[Finding, ...] = ()


Wanted = Callable[[Node, ReadOptions], bool]
Read = Callable[[Collector, Node, ReadOptions], Reading]


@dataclass(frozen=True)
class DocumentKind:
    """How one kind of document is obtained for a node.

    ``wanted`` says whether this node, in this run, has the document at all.
    ``read`` gets it through the node's open collector. Whether a failure
    costs the node is ``read``'s contract, not a flag: it raises
    ``CollectError`` or ``ParseError`` when the node cannot be checked
    without the document (the conf), and returns a :class:`Reading` with
    ``missing`` entries or diagnostics when the node is still checked
    without it (the runtime, a compose project).
    """

    wanted: Wanted
    read: Read
