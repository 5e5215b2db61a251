"""Loading user-written YAML (inventories, rule files, gate configs, compose
files, params documents) safely and within bounds.

Always the SafeLoader: these files come from users, repositories and nodes
and must never construct arbitrary objects. :class:`BoundedLoader` adds the
limits of :mod:`awgcheck.limits`: nesting depth, nodes after alias
expansion (a 500-byte "billion laughs" file expands to a billion nodes),
an alias inside the node it names (a cycle every later walk would follow
for ever) and integers too long for ``int()``. Each breach is a
``yaml.YAMLError`` with a mark, so every caller reports it as it reports a
syntax error: naming the file and line.

awgcheck's own settings files (:func:`load`, :func:`safe_load`,
:func:`load_node`: the inventory, rule files, the gate's ``awgcheck.yaml``,
waivers files) also refuse a key repeated in one mapping, naming both
lines: the YAML spec forbids it, and a dict silently keeps the last one (a
second node of the same name would replace the first). The readers of
other tools' files (:func:`compose`, :func:`compose_all`: compose files,
params documents) judge repeated keys themselves, as the tool that reads
each kind does.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode

from awgcheck import limits
from awgcheck.errors import AwgcheckError


class BoundedLoader(yaml.SafeLoader):
    """The SafeLoader with awgcheck's limits on depth, expansion and integers."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._open: set[str] = set()  # anchors whose node is still being composed
        self._sizes: dict[int, int] = {}  # id(anchored node) -> nodes it expands to

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if self.check_event(AliasEvent):
            if event.anchor in self._open:
                raise ComposerError(None, None, f"alias *{event.anchor} refers to the node"
                                    " that contains it (an endless cycle)", event.start_mark)
            node = super().compose_node(parent, index)
            self._spend(self._sizes.get(id(node), 1), event.start_mark)
            return node
        if self._depth >= limits.YAML_MAX_DEPTH:
            raise ComposerError(None, None, f"nested deeper than {limits.YAML_MAX_DEPTH}"
                                " levels", event.start_mark)
        anchor = event.anchor
        if anchor is not None:
            self._open.add(anchor)
        before = self._nodes
        self._spend(1, event.start_mark)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(anchor or "")
        if anchor is not None:
            self._sizes[id(node)] = self._nodes - before
        return node

    def _spend(self, count: int, mark: yaml.Mark) -> None:
        self._nodes += count
        if self._nodes > limits.YAML_MAX_NODES:
            raise ComposerError(None, None, f"expands to more than {limits.YAML_MAX_NODES:,}"
                                " nodes (aliases count each time they are used)", mark)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        digits = node.value.lstrip("+-").replace("_", "").lstrip("0")
        if len(digits) > limits.MAX_INT_DIGITS:
            raise ConstructorError(None, None, f"integer longer than {limits.MAX_INT_DIGITS}"
                                   " digits", node.start_mark)
        value: int = super().construct_yaml_int(node)
        return value



def _timestamp_or_text(loader: BoundedLoader, node: yaml.ScalarNode) -> object:
    """A date-shaped value that is no date (``2025-02-30``) stays text, as
    Go's YAML (Compose's) keeps it; PyYAML raised a bare ValueError, a
    traceback for any inventory or rule file holding one."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return str(node.value)


BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_yaml_int)
BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)

_MERGE_TAG = "tag:yaml.org,2002:merge"


class UniqueKeyLoader(BoundedLoader):
    """:class:`BoundedLoader` that refuses a key repeated in one mapping.

    Checked as each mapping is composed, before ``<<`` merges are applied
    (a key a mapping sets over a merged one is an override, not a
    repeat). Keys are compared as constructed, so ``1`` and ``1.0``, or
    ``yes`` and ``true``, are the same key, as they are in the dict."""

    def compose_mapping_node(self, anchor: Any) -> MappingNode:  # the stubs say a dict
        node: MappingNode = super().compose_mapping_node(anchor)
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue  # a non-scalar key is unhashable: the constructor refuses it
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ComposerError(None, None, f"duplicate key {_shown(key_node.value)} "
                                    f"(first defined at line {seen[key]})",
                                    key_node.start_mark)
            seen[key] = line
        return node


def _shown(key: str) -> str:
    return repr(key if len(key) <= 60 else key[:60] + "...")


def compose(text: str) -> yaml.Node | None:
    """``yaml.compose`` with :class:`BoundedLoader`."""
    return yaml.compose(text, Loader=BoundedLoader)


def compose_all(text: str) -> list[yaml.Node]:
    """``yaml.compose_all`` with :class:`BoundedLoader`; the limits hold per document."""
    return list(yaml.compose_all(text, Loader=BoundedLoader))


def safe_load(text: str) -> object:
    """``yaml.safe_load`` with :class:`UniqueKeyLoader`."""
    return yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader subclass: safe


def problem_line(exc: yaml.YAMLError) -> tuple[int | None, str]:
    """(1-based line or None, what is wrong) of a YAML error."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return (mark.line + 1 if mark is not None else None), problem


def load(text: str, origin: str, error: type[AwgcheckError]) -> object:
    """Parse ``text``; on a syntax error raise ``error("<origin>: line N: ...")``."""
    try:
        return safe_load(text)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, origin, error) from None


def load_node(text: str, origin: str, error: type[AwgcheckError]) -> yaml.Node | None:
    """A settings file as nodes (they keep their lines, for errors that
    name one), with :class:`UniqueKeyLoader`; raising as :func:`load` does
    on a syntax error."""
    try:
        return yaml.compose(text, Loader=UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, origin, error) from None


def _syntax_error(exc: yaml.YAMLError, origin: str,
                  error: type[AwgcheckError]) -> AwgcheckError:
    line, problem = problem_line(exc)
    where = f" line {line}:" if line is not None else ""
    return error(f"{origin}:{where} not valid YAML: {problem}")
