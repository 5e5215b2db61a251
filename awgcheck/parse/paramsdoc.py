"""Params documents: the JSON/YAML a control plane serves to partners.

Two shapes are read::

    {"epoch": 7, "params": {"S4": 18, "H1": "123-456", "RandomTrailers": true}}
    {"awg": {"allocated_ip": "10.77.0.5/32", "motherly_pubkey": "...",
             "s4": 18, "h1": "123-456", "random_trailers": true}}

The registration reply also carries the partner's identity
(:data:`REGISTRATION_FIELDS`): read for what can break a rendered conf,
never compared (they differ per node by design).

``null`` means absent for any param, and so does ``""`` for the string-only
kinds (I1-I5, HeaderProtectionKey): control planes send both for "unset",
and a template renders no line for them.

Each value is rendered in the conf spelling a template would write
(numbers as decimal text, bools as ``on``/``off``, ranges ``lo-hi``) and
read with :func:`awgcheck.params.interpret`, so a document compares with a
conf by effective value like any other :class:`~awgcheck.checks.ParamDocument`.

Everything wrong with a document (not JSON/YAML, an error response, a
missing or mistyped key, a number sent as a string, an injection character)
becomes a :class:`~awgcheck.model.Diagnostic` naming the key (its
``subject``) and line; parsing never raises.
Secrets (HeaderProtectionKey) are digested here, at the door, as the conf
parser does.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from awgcheck import limits, params, yamlfile
from awgcheck.errors import ParseError
from awgcheck.model import Diagnostic, Level, Location, ParamValue

_C_SPACE = " \t\n\v\f\r"
_INJECTION = re.compile(r"[\[\]\r\n]")
_DECIMAL = re.compile(r"(0|[1-9][0-9]*)")
_NUMERIC_TEXT = re.compile(r"[+-]?[0-9]+")
_INT_TAG = "tag:yaml.org,2002:int"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"


# What a registration reply carries besides the params, in its ``awg``
# block: who the partner is in the mesh and how it reaches the server.
# Templates render them into Address, [Peer] PublicKey, Endpoint... lines.
REGISTRATION_FIELDS: dict[str, str] = {
    "allocated_ip": "the partner's mesh address (Address)",
    "motherly_pubkey": "the server's public key ([Peer] PublicKey)",
    "endpoint": "the server's host:port ([Peer] Endpoint)",
    "allowed_ips": "the mesh networks ([Peer] AllowedIPs)",
    "preshared_key": "the tunnel's preshared key ([Peer] PresharedKey)",
    "persistent_keepalive": "seconds between keepalives ([Peer] PersistentKeepalive)",
    "dns": "resolvers (DNS)",
    "mtu": "the interface MTU (MTU)",
    "partner_id": "the control plane's name for the partner",
    "epoch": "the params epoch the reply was cut from",
}


class Form(enum.StrEnum):
    EPOCH = "epoch"  # {"epoch": N, "params": {...}}, conf spelling keys
    REGISTRATION = "registration"  # {"awg": {...}}, snake_case keys


@dataclass(frozen=True)
class ParamsDoc:
    """What awgcheck sees in one params document."""

    path: str
    form: Form | None
    epoch: int | None
    values: tuple[ParamValue, ...]
    # Level.ERROR: a template fed this document writes a wrong or broken
    # conf; Level.WARNING: it works, but not as its author likely meant.
    diagnostics: tuple[Diagnostic, ...]

    def params(self) -> dict[str, ParamValue]:
        """Params by canonical name; a duplicated key keeps its last value,
        as ``json.loads`` and most YAML readers do."""
        return {value.key: value for value in self.values}

    @property
    def usable(self) -> bool:
        """True when the document states params at all (not an error reply)."""
        return self.form is not None

    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.level is Level.ERROR)

    @property
    def refusal(self) -> str | None:
        """Why nothing in this document can be compared, or None: the
        control plane's own error text when it is an error reply (alone or
        beside params), else the first problem of a document that states no
        params at all (not JSON, not a mapping)."""
        for diagnostic in self.diagnostics:
            if diagnostic.code == "error-reply":
                return diagnostic.message
        if not self.usable:
            first = next(iter(self.diagnostics), None)
            return first.message if first is not None else "the document states no params"
        return None


DOCUMENT_SUFFIXES = (".json", ".yaml", ".yml")
"""A file named so is a params document, whatever it holds: a syntax error
in it is reported as one, not as "not an AmneziaWG conf"."""


def looks_like_params(data: bytes, name: str = "") -> bool:
    """Is ``data`` (named ``name``) a params document rather than a conf?
    By name: one ending in :data:`DOCUMENT_SUFFIXES`. Else by content: a
    JSON/YAML mapping (a params document or an error reply); a conf is
    never one, its ``[Interface]`` header being a flow sequence followed by
    more text."""
    if name.lower().endswith(DOCUMENT_SUFFIXES):
        return True
    try:
        return isinstance(_compose(data.decode("utf-8-sig")), yaml.MappingNode)
    except (UnicodeDecodeError, yaml.YAMLError):
        return False


def parse(data: bytes, path: str) -> ParamsDoc:
    """Read one params document; ``path`` is how locations name the file."""
    reader = _Reader(path)
    root = reader.compose(data)
    if root is None:
        return reader.result(None, None)
    return reader.document(root)


class _Reader:
    """Collects diagnostics while walking the YAML node tree (JSON is YAML)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self.values: dict[str, ParamValue] = {}

    def problem(self, node: yaml.Node | None, key: str | None, code: str, message: str,
                level: Level = Level.ERROR) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        where = f"line {line}: " if line is not None else ""
        self.diagnostics.append(
            Diagnostic(Location(self.path, line), code, f"{where}{message}", level, key))

    def result(self, form: Form | None, epoch: int | None) -> ParamsDoc:
        return ParamsDoc(self.path, form, epoch, tuple(self.values.values()),
                         tuple(self.diagnostics))

    # --- the document -----------------------------------------------------

    def compose(self, data: bytes) -> yaml.MappingNode | None:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            self.problem(None, None, "not-utf8", "the document is not UTF-8 text")
            return None
        try:
            root = _compose(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f"line {mark.line + 1}: " if mark is not None else ""
            # Only the short 'problem' text: the full error quotes the
            # offending line, which may hold a secret.
            problem = params.scrub(str(getattr(exc, "problem", None) or type(exc).__name__))
            self.diagnostics.append(Diagnostic(
                Location(self.path, mark.line + 1 if mark is not None else None),
                "not-json-or-yaml", f"{line}not valid JSON or YAML: {problem}", Level.ERROR))
            return None
        if not isinstance(root, yaml.MappingNode):
            self.problem(root, None, "not-a-mapping",
                         "a params document must be a mapping with 'epoch' and 'params' "
                         "or with 'awg'")
            return None
        return root

    def document(self, root: yaml.MappingNode) -> ParamsDoc:
        top = self.mapping(root, "document")
        if "error" in top:
            # An error reply, or params with an error beside them: either
            # way the control plane says these are not the params to apply.
            self.error_reply(top["error"])
        if "params" in top or "epoch" in top:
            return self.epoch_form(root, top)
        if "awg" in top:
            self.param_block(*top["awg"], "awg")
            return self.result(Form.REGISTRATION, None)
        if "error" not in top:
            keys = ", ".join(sorted(top)) or "none"
            self.problem(root, None, "missing-key",
                         f"missing required key: 'params' (epoch form) or 'awg' "
                         f"(registration form); keys found: {params.scrub(keys)}")
        return self.result(None, None)

    def epoch_form(self, root: yaml.Node,
                   top: dict[str, tuple[yaml.Node, yaml.Node]]) -> ParamsDoc:
        epoch: int | None = None
        for required in ("epoch", "params"):
            if required not in top:
                self.problem(root, required, "missing-key",
                             f"missing required key '{required}'")
        if "epoch" in top:
            key_node, node = top["epoch"]
            epoch = self.epoch(key_node, node)
        if "params" in top:
            self.param_block(*top["params"], "params")
        return self.result(Form.EPOCH, epoch)

    def epoch(self, key_node: yaml.Node, node: yaml.Node) -> int | None:
        if (isinstance(node, yaml.ScalarNode) and node.tag == _INT_TAG
                and _DECIMAL.fullmatch(node.value)
                and (number := limits.int_or_none(node.value)) is not None):
            return number
        self.problem(key_node, "epoch", "wrong-type",
                     f"key 'epoch' must be a whole number, got {_shown(node)}")
        return None

    def error_reply(self, entry: tuple[yaml.Node, yaml.Node]) -> None:
        key_node, node = entry
        said = node.value if isinstance(node, yaml.ScalarNode) else _shown(node)
        self.problem(key_node, "error", "error-reply",
                     "the document is an error reply, not params: "
                     f"{params.scrub(str(said))[:200]!r}")

    def mapping(self, node: yaml.MappingNode,
                where: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """Key text -> (key node, value node); a repeated key is reported and
        the last one kept."""
        found: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            if key in found:
                self.problem(key_node, key, "duplicate-key",
                             f"key '{key}' appears twice in {where}; the last one wins",
                             Level.WARNING)
            found[key] = (key_node, value_node)
        return found

    # --- the params block -------------------------------------------------

    def param_block(self, key_node: yaml.Node, node: yaml.Node, name: str) -> None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(key_node, name, "wrong-type",
                         f"key '{name}' must be a mapping of params, got {_shown(node)}")
            return
        if not node.value:
            self.problem(key_node, name, "empty-params",
                         f"key '{name}' holds no params: a template would render a conf "
                         "without obfuscation")
            return
        seen: dict[str, str] = {}
        for key, (k_node, v_node) in self.mapping(node, f"'{name}'").items():
            spec = _spec_for(key)
            if spec is None and name == "awg" and key in REGISTRATION_FIELDS:
                self.identity(key, k_node, v_node)
                continue
            if spec is None:
                self.problem(k_node, key, "unknown-key",
                             f"'{params.scrub(key)}' is not an obfuscation param; a template "
                             "ignores it or writes a line awg setconf rejects", Level.WARNING)
                continue
            if spec.name in seen:
                self.problem(k_node, key, "duplicate-key",
                             f"'{key}' and '{seen[spec.name]}' both set {spec.name}; the "
                             "last one wins", Level.WARNING)
            seen[spec.name] = key
            self.param(spec, key, k_node, v_node)

    def identity(self, key: str, key_node: yaml.Node, node: yaml.Node) -> None:
        """A registration identity field: a template writes it into a conf
        line, so it must be one plain value without line-forging bytes."""
        if not isinstance(node, yaml.ScalarNode) or node.tag in (_BOOL_TAG, _NULL_TAG):
            self.problem(key_node, key, "wrong-type",
                         f"{key}: expected {REGISTRATION_FIELDS[key]} as text or a number, "
                         f"got {_shown(node)}")
        elif _INJECTION.search(str(node.value)):
            self.problem(key_node, key, "injection",
                         f"{key} carries a newline, carriage return or bracket: rendered "
                         "into a conf it can forge lines or sections")

    def param(self, spec: params.ParamSpec, key: str, key_node: yaml.Node,
              node: yaml.Node) -> None:
        location = Location(self.path, key_node.start_mark.line + 1)
        if _means_unset(spec, node):
            self.values.pop(spec.name, None)  # the last statement wins, as for values
            return
        rendered = _render(spec, node)
        if rendered is None:
            shown = "a value" if spec.secret else _shown(node)
            self.problem(key_node, key, "wrong-type",
                         f"{key}: expected {_expected(spec)}, got {shown}")
            self.values[spec.name] = ParamValue(spec.name, _raw_text(spec, node), None,
                                                location, "wrong type")
            return
        found = list(_value_problems(spec, key, node, rendered))
        for problem in found:
            self.problem(key_node, key, *problem)
        reading = _read(spec, rendered)
        error = "injection characters" if _INJECTION.search(rendered) else reading.error
        if reading.error is not None and not found:
            shown = "Key is not the correct length or format" if spec.secret else reading.error
            self.problem(key_node, key, "unreadable",
                         f"{key}: awg setconf would reject the rendered value ({shown})")
        raw = params.redact(rendered) if spec.secret else rendered
        self.values[spec.name] = ParamValue(
            spec.name, raw, None if error else reading.effective, location, error)


def _compose(text: str) -> yaml.Node | None:
    """Compose as YAML; JSON indented with tabs is not YAML, but tabs outside
    JSON strings are plain whitespace (inside them they must be escaped), so
    swapping them for spaces keeps every line where it was."""
    try:
        return yamlfile.compose(text)
    except yaml.YAMLError:
        try:
            json.loads(text)
        except (ValueError, RecursionError):  # JSON nested past the stack: not JSON to us
            pass
        else:
            return yamlfile.compose(text.replace("\t", " "))
        raise


def _spec_for(key: str) -> params.ParamSpec | None:
    """The param a key names: ``S4``/``RandomTrailers`` in the epoch form,
    ``s4``/``random_trailers`` in the registration form (either accepted)."""
    spec = params.spec(key.replace("_", "").replace("-", "")) if key else None
    if spec is None or not spec.obfuscation or spec.section != "Interface":
        return None
    return spec


def _means_unset(spec: params.ParamSpec, node: yaml.Node) -> bool:
    """``null`` for any param, ``""`` for a string-only one (I1-I5, the
    key): the control plane's "not set", rendered as no line at all. An
    empty number or bool stays an error: ``"S4": ""`` is a string where a
    number belongs."""
    if not isinstance(node, yaml.ScalarNode):
        return False
    if node.tag == _NULL_TAG:
        return True
    return node.tag == _STR_TAG and node.value.strip(_C_SPACE) == "" \
        and spec.kind in (params.Kind.TAGS, params.Kind.KEY)


def _render(spec: params.ParamSpec, node: yaml.Node) -> str | None:
    """The value as a template would write it into a conf; None for a value
    of the wrong type (a list, null, a float, a bool for a number)."""
    if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL_TAG:
        return None
    if node.tag == _BOOL_TAG:
        if spec.kind is not params.Kind.BOOL:
            return None
        return "on" if yaml.safe_load(node.value) else "off"
    if node.tag == _INT_TAG:
        return None if spec.kind in (params.Kind.TAGS, params.Kind.KEY) else str(node.value)
    if node.tag == _STR_TAG:
        return str(node.value)
    return None  # floats, timestamps: no conf spelling


def _raw_text(spec: params.ParamSpec, node: yaml.Node) -> str:
    """What a mistyped value reads as in reports (digested when secret)."""
    text = str(node.value) if isinstance(node, yaml.ScalarNode) else _shown(node)
    return params.redact(text) if spec.secret else params.scrub(text)


def _value_problems(spec: params.ParamSpec, key: str, node: yaml.Node,
                    rendered: str) -> Iterator[tuple[str, str, Level]]:
    numeric = spec.kind in (params.Kind.U16, params.Kind.U32_RANGE, params.Kind.U16_RANGE)
    if rendered == "":
        yield "empty-value", f"{key} is empty: the conf line would be rejected", Level.ERROR
    elif _INJECTION.search(rendered):
        yield ("injection", f"{key} carries a newline, carriage return or bracket: "
               "rendered into a conf it can forge lines or sections", Level.ERROR)
    elif node.tag == _STR_TAG and numeric and _NUMERIC_TEXT.fullmatch(rendered):
        yield ("numeric-string", f"{key} is the string \"{rendered}\" where a number is "
               "expected: write it as a bare number", Level.ERROR)
    elif node.tag == _INT_TAG and not _DECIMAL.fullmatch(rendered):
        yield ("number-format", f"{key} = {rendered} is not plain decimal: YAML reads it "
               "differently from awg setconf", Level.ERROR)


def _read(spec: params.ParamSpec, rendered: str) -> params.Reading:
    # The rendered value goes through the same cleaning awg setconf applies
    # to a conf line: every blank deleted, except inside I1..I5.
    if spec.kind is params.Kind.TAGS:
        cleaned = rendered.strip(_C_SPACE)
    else:
        cleaned = "".join(ch for ch in rendered if ch not in _C_SPACE)
    if not cleaned:
        return params.Reading(None, "empty value")
    return params.interpret(spec, cleaned)


def _expected(spec: params.ParamSpec) -> str:
    return {
        params.Kind.U16: "a whole number",
        params.Kind.U32_RANGE: "a whole number or a \"lo-hi\" range",
        params.Kind.U16_RANGE: "a whole number or a \"lo-hi\" range",
        params.Kind.BOOL: "true or false",
        params.Kind.TAGS: "a tag string such as \"<b 0x...>\"",
        params.Kind.KEY: "a base64 key string",
    }.get(spec.kind, "a string")


def _shown(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == _NULL_TAG:
        return "null"
    return params.scrub(repr(str(node.value)))[:80]


def parse_source(data: bytes, path: str) -> ParamsDoc:
    """A params document used as the source of truth: one that states no
    params at all (not JSON, an error reply) or carries an error beside them
    cannot be compared with, so it raises :class:`ParseError` naming why."""
    doc = parse(data, path)
    if doc.refusal is not None:
        raise ParseError(f"{path}: not a usable params document: {doc.refusal}")
    return doc
