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

Parsing is done by libyaml (PyYAML's C parser) where PyYAML has it, and
composed into nodes here, in Python, with the limits: the pure-Python
scanner was most of reading a compose file (3.4 ms of 3.8 ms) and of
loading a 1,000-node inventory. libyaml only gets text both parsers read
alike (printable ASCII, tabs and line breaks: marks count characters the
same way); anything it refuses is parsed again by the pure-Python parser,
so an error names the same line with the same words as before. Every
YAML asset the tests hold is composed both ways and compared
(``tests/test_yamlfile.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode
from yaml.resolver import Resolver

from awgcheck import limits
from awgcheck.errors import AwgcheckError

T = TypeVar("T")


class _Bounds(Composer, SafeConstructor):
    """awgcheck's limits on depth, expansion and integers, for a loader
    whose events come from either parser."""

    def __init__(self) -> None:
        self._depth = 0
        self._nodes = 0  # composed so far, written or copied
        self._copied = 0  # copied by aliases
        self._open: set[str] = set()  # anchors whose node is still being composed
        self._sizes: dict[int, int] = {}  # id(anchored node) -> nodes it expands to

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        parser: Any = self  # PyYAML's Parser or libyaml's CParser, both in the class
        event = parser.peek_event()
        if parser.check_event(AliasEvent):
            if event.anchor in self._open:
                raise ComposerError(None, None, f"alias *{event.anchor} refers to the node"
                                    " that contains it (an endless cycle)", event.start_mark)
            node = super().compose_node(parent, index)
            self._copy(self._sizes.get(id(node), 1), event.start_mark)
            return node
        if self._depth >= limits.YAML_MAX_DEPTH:
            raise ComposerError(None, None, f"nested deeper than {limits.YAML_MAX_DEPTH}"
                                " levels", event.start_mark)
        anchor = event.anchor
        if anchor is not None:
            self._open.add(anchor)
        before = self._nodes
        self._nodes += 1  # written out in the text, which bounds it
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(anchor or "")
        if anchor is not None:
            self._sizes[id(node)] = self._nodes - before
        return node

    def _copy(self, count: int, mark: yaml.Mark) -> None:
        """An alias copies ``count`` nodes: what a bomb multiplies."""
        self._nodes += count
        self._copied += count
        if self._copied > limits.YAML_MAX_NODES:
            raise ComposerError(None, None, f"expands to more than {limits.YAML_MAX_NODES:,}"
                                " nodes through aliases (each *alias counts the nodes it"
                                " copies, each time it is used)", mark)

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


class BoundedLoader(_Bounds, yaml.SafeLoader):
    """The SafeLoader with awgcheck's limits on depth, expansion and integers."""

    def __init__(self, stream: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        _Bounds.__init__(self)


def _bounded_int(loader: BoundedLoader, node: yaml.ScalarNode) -> int:
    return loader.construct_yaml_int(node)


BoundedLoader.add_constructor("tag:yaml.org,2002:int", _bounded_int)
BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _UniqueKeys(_Bounds):
    """The limits, and a key repeated in one mapping refused.

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


class UniqueKeyLoader(_UniqueKeys, BoundedLoader):
    """:class:`BoundedLoader` that refuses a key repeated in one mapping."""


try:
    import yaml.cyaml as _cyaml
except ImportError:  # PyYAML built without libyaml: the pure-Python parser alone
    _cyaml = None  # type: ignore[assignment]
_CParser: Any = getattr(_cyaml, "CParser", None)

_C_READS_ALIKE = re.compile(r"(?:[\n\r\x20-\x7e]*\n)?")
"""Text libyaml reads as PyYAML does: printable ASCII and line breaks (a
tab, which libyaml takes in more places, goes to PyYAML), ending in a line
break (without one, libyaml puts the end of the last node on the next
line)."""


class _Unlike(yaml.YAMLError):
    """libyaml read a construct PyYAML reads differently: ask PyYAML."""


class _FromLibyaml(Composer):
    """Composing libyaml's events the way PyYAML's own would come."""

    def __init__(self, stream: str) -> None:
        _CParser.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)  # type: ignore[arg-type]
        Resolver.__init__(self)  # type: ignore[arg-type]
        _Bounds.__init__(self)  # type: ignore[arg-type]

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        node = super().compose_node(parent, index)
        if (isinstance(node, ScalarNode) and node.style is None and parent is not None
                and getattr(parent, "flow_style", False)
                and ("?" in node.value or not node.value)):
            # Inside [...] and {...}, PyYAML ends a plain scalar at "?" (libyaml
            # reads on), and marks an empty value where its ":" ends.
            raise _Unlike(f"{node.value!r} in a flow collection")
        return node

    def compose_scalar_node(self, anchor: Any) -> ScalarNode:
        node: ScalarNode = super().compose_scalar_node(anchor)
        node.style = node.style or None  # libyaml says '' for plain, PyYAML None
        return node


def _from_libyaml(base: type[_Bounds], python: type[yaml.SafeLoader]) -> type | None:
    """``base`` composing libyaml's events, constructing as ``python`` does."""
    if _CParser is None:
        return None
    return type(f"C{python.__name__}", (_FromLibyaml, base, _CParser, Resolver),
                {"yaml_constructors": python.yaml_constructors,
                 "yaml_implicit_resolvers": python.yaml_implicit_resolvers,
                 "yaml_path_resolvers": python.yaml_path_resolvers})


_C_BOUNDED = _from_libyaml(_Bounds, BoundedLoader)
_C_UNIQUE = _from_libyaml(_UniqueKeys, UniqueKeyLoader)


def _loader(text: str, python: type[yaml.SafeLoader], fast: type | None) -> Any:
    """The libyaml loader when it reads ``text`` as PyYAML's would."""
    if fast is not None and _C_READS_ALIKE.fullmatch(text):
        return fast
    return python


def _either(text: str, python: type[yaml.SafeLoader], fast: type | None,
            run: Callable[[str, Any], T]) -> T:
    """``run(text, loader)`` with libyaml; on any YAML error, again with the
    pure-Python loader, whose error (or result) is the one that counts."""
    loader = _loader(text, python, fast)
    if loader is python:
        return run(text, python)
    try:
        return run(text, loader)
    except yaml.YAMLError:
        return run(text, python)


def compose(text: str) -> yaml.Node | None:
    """``yaml.compose`` with :class:`BoundedLoader`."""
    return _either(text, BoundedLoader, _C_BOUNDED,
                   lambda t, loader: yaml.compose(t, Loader=loader))


def compose_all(text: str) -> list[yaml.Node]:
    """``yaml.compose_all`` with :class:`BoundedLoader`; the limits hold per document."""
    return _either(text, BoundedLoader, _C_BOUNDED,
                   lambda t, loader: list(yaml.compose_all(t, Loader=loader)))


def safe_load(text: str) -> object:
    """``yaml.safe_load`` with :class:`UniqueKeyLoader`."""
    return _either(text, UniqueKeyLoader, _C_UNIQUE,  # SafeConstructor subclasses: safe
                   lambda t, loader: yaml.load(t, Loader=loader))


def problem_line(exc: yaml.YAMLError) -> tuple[int | None, str]:
    """(1-based line or None, what is wrong) of a YAML error."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return (mark.line + 1 if mark is not None else None), problem


def read_text(path: Path, what: str, error: type[AwgcheckError]) -> str:
    """The text of the YAML file ``path`` (``what`` names it in errors:
    "inventory file", "waivers file"), or ``error`` saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read {what}: {exc}") from None


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
        return _either(text, UniqueKeyLoader, _C_UNIQUE,
                       lambda t, loader: yaml.compose(t, Loader=loader))
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, origin, error) from None


def _syntax_error(exc: yaml.YAMLError, origin: str,
                  error: type[AwgcheckError]) -> AwgcheckError:
    line, problem = problem_line(exc)
    where = f" line {line}:" if line is not None else ""
    return error(f"{origin}:{where} not valid YAML: {problem}")
