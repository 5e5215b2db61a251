"""A compose file as a tree of located, typed and interpolated values.

:func:`build_tree` turns the text of one compose file into :class:`YMap` /
:class:`YSeq` / :class:`YScalar` nodes. Every scalar keeps the text as
written (``raw``), the value Compose would use (``value``: typed by go-yaml
rules, then interpolated) and its file and line. PyYAML is used only through
``yaml.compose`` with the SafeLoader: it gives nodes with positions, never
Python objects, so no YAML 1.1 typing leaks into the values.

:func:`merge_service` is Compose's override merge for one service, used for
``-f`` override files and ``extends`` alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import yaml

from awgcheck import yamlfile
from awgcheck.model import Diagnostic, Level, Location
from awgcheck.parse.compose.goyaml import Kind, resolve_plain
from awgcheck.parse.compose.interpolate import Budget, Lookup, interpolate

YAML_SYNTAX = "yaml-syntax"
DUPLICATE_KEY = "yaml-duplicate-key"
REQUIRED = "interpolation-required"
INVALID = "interpolation-invalid"
UNSET = "variable-unset"

_MERGE_TAG = "tag:yaml.org,2002:merge"
RESET = "reset"
OVERRIDE = "override"
# Compose's own tags for override files: drop the inherited value, or
# replace it instead of merging into it.
_DIRECTIVE_TAGS = {"!reset": RESET, "!override": OVERRIDE}


@dataclass(frozen=True)
class YScalar:
    """One scalar: ``raw`` as written, ``value`` as Compose would use it.

    ``value`` is None for a YAML null and for a failed interpolation
    (``failed`` tells which). ``kind`` is the go-yaml type (always ``str``
    for quoted text); ``unset`` names variables that interpolated to "",
    ``variables`` every variable the value was interpolated from.
    """

    raw: str
    value: str | None
    location: Location
    kind: Kind = Kind.STR
    plain: bool = False
    failed: bool = False
    unset: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class YMap:
    """A mapping; keys are the key text (never interpolated, as in Compose)."""

    items: dict[str, YNode]
    location: Location
    key_locations: dict[str, Location] = field(default_factory=dict)
    directives: dict[str, str] = field(default_factory=dict)
    """Keys tagged ``!reset`` or ``!override`` (Compose's merge tags)."""

    def get(self, key: str) -> YNode | None:
        return self.items.get(key)


@dataclass(frozen=True)
class YSeq:
    """A sequence; ``raw`` is its source text (empty when synthesised)."""

    items: tuple[YNode, ...]
    location: Location
    raw: str = ""


YNode = YScalar | YMap | YSeq


def build_tree(
    text: str, path: str, lookup: Lookup, report: Callable[[Diagnostic], None]
) -> YNode | None:
    """Parse one compose file; None if it is empty or not YAML (reported).

    A file with several YAML documents is read as Compose reads it: each
    document merges onto the ones before, like an override file.
    """
    try:
        roots = _composed(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        report(Diagnostic(Location(path, line), YAML_SYNTAX, _yaml_message(exc), Level.ERROR))
        return None
    builder = _Builder(text, path, lookup, report)
    documents = [builder.node(root) for root in roots if root is not None]
    if not documents:
        return None
    merged = documents[0]
    for document in documents[1:]:
        if isinstance(merged, YMap) and isinstance(document, YMap):
            merged = _merge_map(merged, document)
    return merged


# A fleet's nodes mostly run the same compose file: its YAML is composed
# once (0.7 ms of the 3 ms a project cost). The nodes are only read here
# (values are interpolated into new objects), and a text's nodes are the
# same whatever the node, so the last few texts are kept.
_COMPOSED: dict[str, list[yaml.Node]] = {}
_COMPOSED_KEPT = 16


def _composed(text: str) -> list[yaml.Node]:
    """``yamlfile.compose_all(text)``, remembered for the last few texts."""
    roots = _COMPOSED.get(text)
    if roots is None:
        roots = yamlfile.compose_all(text)
        if len(_COMPOSED) >= _COMPOSED_KEPT:
            del _COMPOSED[next(iter(_COMPOSED))]  # the oldest
        _COMPOSED[text] = roots
    return roots


def _yaml_message(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    return f"not valid YAML: {problem or exc}"


class _Builder:
    def __init__(
        self, text: str, path: str, lookup: Lookup, report: Callable[[Diagnostic], None]
    ) -> None:
        self.text = text
        self.path = path
        self.lookup = lookup
        self.report = report
        self.budget = Budget()  # the file's interpolated values, together

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.path, node.start_mark.line + 1)

    def node(self, node: yaml.Node) -> YNode:
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node)
        if isinstance(node, yaml.SequenceNode):
            raw = self.text[node.start_mark.index : node.end_mark.index].strip()
            return YSeq(tuple(self.node(item) for item in node.value), self.loc(node), raw)
        assert isinstance(node, yaml.ScalarNode)
        return self.scalar(node)

    def mapping(self, node: yaml.MappingNode) -> YMap:
        items: dict[str, YNode] = {}
        keys: dict[str, Location] = {}
        directives: dict[str, str] = {}
        merged: dict[str, YNode] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                # "<<" merge keys fill in what the mapping does not set itself.
                for source in self._merge_sources(value_node):
                    for key, value in source.items.items():
                        merged.setdefault(key, value)
                continue
            key = str(key_node.value)
            if key in items:
                self.report(
                    Diagnostic(
                        self.loc(key_node),
                        DUPLICATE_KEY,
                        f'mapping key "{key}" already defined at line {keys[key].line}'
                        " (Compose refuses the file)",
                        Level.ERROR,
                    )
                )
            items[key] = self.node(value_node)
            keys[key] = self.loc(key_node)
            if value_node.tag in _DIRECTIVE_TAGS:
                directives[key] = _DIRECTIVE_TAGS[value_node.tag]
        for key, value in merged.items():
            items.setdefault(key, value)
        return YMap(items, self.loc(node), keys, directives)

    def _merge_sources(self, node: yaml.Node) -> Iterator[YMap]:
        built = self.node(node)
        candidates = built.items if isinstance(built, YSeq) else (built,)
        for candidate in candidates:
            if isinstance(candidate, YMap):
                yield candidate

    def scalar(self, node: yaml.ScalarNode) -> YScalar:
        raw = self.text[node.start_mark.index : node.end_mark.index]
        location = self.loc(node)
        plain = node.style is None
        if plain and not _explicit_str(node, raw):
            typed = resolve_plain(node.value)
            if typed.kind is not Kind.STR:
                return YScalar(raw, typed.text, location, typed.kind, plain=True)
        return self._interpolated(raw, node.value, location, plain=plain)

    def _interpolated(self, raw: str, text: str, location: Location, *, plain: bool) -> YScalar:
        result = interpolate(text, self.lookup, self.budget)
        for name in dict.fromkeys(result.unset):
            self.report(
                Diagnostic(
                    location,
                    UNSET,
                    f"variable {name} is not set in the project environment;"
                    " Compose substitutes an empty string",
                    Level.WARNING,
                )
            )
        if result.error is not None:
            code = REQUIRED if result.error.kind == "required" else INVALID
            self.report(Diagnostic(location, code, result.error.message, Level.ERROR))
            return YScalar(
                raw,
                None,
                location,
                plain=plain,
                failed=True,
                unset=result.unset,
                variables=result.used,
            )
        return YScalar(
            raw, result.value, location, plain=plain, unset=result.unset, variables=result.used
        )


_STR_TAG = "tag:yaml.org,2002:str"
# A node's source text starts at its anchor or tag, if it has them.
_EXPLICIT_TAG = re.compile(r"(?:&\S+\s+)?!")


def _explicit_str(node: yaml.ScalarNode, raw: str) -> bool:
    """True for ``!!str 0123``: an explicit tag that forces text."""
    return node.tag == _STR_TAG and _EXPLICIT_TAG.match(raw) is not None


# --- merging -----------------------------------------------------------------

# Keys whose list and map forms are both "name -> value" and merge per name.
_MAPPING_KEYS = frozenset({"environment", "labels", "annotations", "extra_hosts", "sysctls"})
# Keys an override replaces as a whole, whatever their shape.
_REPLACED_KEYS = frozenset({"command", "entrypoint", "test"})
# Sequences an override extends (duplicates dropped, order kept).
_APPENDED_KEYS = frozenset(
    {"ports", "expose", "dns", "dns_search", "cap_add", "cap_drop", "profiles"}
)


def merge_service(base: YMap, override: YMap) -> YMap:
    """Merge ``override`` onto ``base`` as Compose does for one service."""
    return _merge_map(base, override)


def _merge_map(base: YMap, override: YMap) -> YMap:
    items = dict(base.items)
    keys = dict(base.key_locations)
    for key, value in override.items.items():
        directive = override.directives.get(key)
        if directive == RESET:
            items.pop(key, None)
            keys.pop(key, None)
            continue
        old = items.get(key)
        if old is None or directive == OVERRIDE:
            items[key] = value
        else:
            items[key] = _merge_value(key, old, value)
        if key in override.key_locations:
            keys[key] = override.key_locations[key]
    return YMap(items, override.location, keys)


def without_resets(node: YMap) -> YMap:
    """Drop ``!reset`` keys left where nothing was merged (they mean "unset")."""
    if not node.directives:
        return node
    items = {k: v for k, v in node.items.items() if node.directives.get(k) != RESET}
    return YMap(items, node.location, node.key_locations)


def _merge_value(key: str, old: YNode, new: YNode) -> YNode:
    if key in _REPLACED_KEYS:
        return new
    if key in _MAPPING_KEYS:
        return _merge_named(old, new)
    if key == "env_file" and isinstance(old, YSeq) and isinstance(new, YSeq):
        return _merge_env_files(old, new)
    if key in _APPENDED_KEYS and isinstance(old, YSeq) and isinstance(new, YSeq):
        return _append_unique(old, new)
    if isinstance(old, YMap) and isinstance(new, YMap):
        return _merge_map(old, new)
    return new


def _append_unique(old: YSeq, new: YSeq) -> YSeq:
    seen = {_identity(item) for item in old.items}
    extra = [item for item in new.items if _identity(item) not in seen]
    return YSeq(old.items + tuple(extra), new.location)


def _merge_env_files(old: YSeq, new: YSeq) -> YSeq:
    """Env files merge by path: a file keeps its first place in the order
    (which decides precedence) but takes the later entry's ``required``."""
    merged: dict[object, YNode] = {}
    for item in old.items + new.items:
        merged[_identity(item.get("path") if isinstance(item, YMap) else item)] = item
    return YSeq(tuple(merged.values()), new.location)


def _identity(node: YNode | None) -> object:
    if node is None:
        return None
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YMap):
        return tuple((k, _identity(v)) for k, v in node.items.items())
    return tuple(_identity(item) for item in node.items)


def _merge_named(old: YNode, new: YNode) -> YNode:
    """Merge two environment-like blocks, each a map or a ``K=V`` list."""
    merged = dict(named_entries(old))
    merged.update(named_entries(new))
    return YMap(merged, new.location)


def named_entries(node: YNode) -> dict[str, YNode]:
    """A ``K: V`` map or ``- K=V`` list as a name -> value-node map.

    List items become scalars holding the part after ``=`` (raw and value),
    or a null scalar for a bare ``- K``.
    """
    if isinstance(node, YMap):
        return dict(node.items)
    if not isinstance(node, YSeq):
        return {}
    out: dict[str, YNode] = {}
    for item in node.items:
        if isinstance(item, YScalar) and item.value is not None:
            name, value = split_assignment(item)
            out[name] = value
    return out


def split_assignment(item: YScalar) -> tuple[str, YScalar]:
    """``- KEY=value`` -> ("KEY", scalar for "value"); ``- KEY`` -> null."""
    assert item.value is not None
    name, eq, value = item.value.partition("=")
    raw_value = item.raw.strip("'\"").partition("=")[2] if eq else ""
    if not eq:
        return name, replace(item, raw="", value=None, kind=Kind.NULL)
    return name, replace(item, raw=raw_value, value=value, kind=Kind.STR)


# --- reading nodes -------------------------------------------------------------


def field_of(node: YNode | None, key: str) -> YNode | None:
    """``node[key]`` when ``node`` is a mapping, else None."""
    return node.get(key) if isinstance(node, YMap) else None


def strings(node: YNode | None) -> list[str]:
    """A scalar or a list of scalars, as their values."""
    if isinstance(node, YScalar):
        return [node.value] if node.value is not None else []
    if isinstance(node, YSeq):
        return [i.value for i in node.items if isinstance(i, YScalar) and i.value is not None]
    return []


def first(node: YNode | None) -> str | None:
    """The first value of :func:`strings`, or None."""
    values = strings(node)
    return values[0] if values else None


def items_of(node: YNode | None) -> tuple[YNode, ...]:
    """The items of a sequence; () for anything else."""
    return node.items if isinstance(node, YSeq) else ()


def scalars(node: YNode | None) -> list[YScalar]:
    """Every scalar under ``node``, depth first."""
    if node is None:
        return []
    if isinstance(node, YScalar):
        return [node]
    children = node.items.values() if isinstance(node, YMap) else node.items
    return [s for child in children for s in scalars(child)]
