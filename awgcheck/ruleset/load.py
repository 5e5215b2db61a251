"""Rule files: schema, loading and validation.

A rule file is YAML with a top-level ``rules:`` list. Every rule is
validated on load against the schema documented in docs/rules.md; an
unknown key, a wrong type or an unknown check type is a :class:`RuleError`
naming the file, the rule and the key. A broken rule is never skipped.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from awgcheck import params, yamlfile
from awgcheck import symptoms as symptom_table
from awgcheck.checks import CHECKS, compose_select
from awgcheck.checks.base import CheckSpec
from awgcheck.checks.compose_select import ComposeSelection
from awgcheck.errors import RuleError
from awgcheck.known_keys import refuse_unknown
from awgcheck.model import ArtifactKind, Severity
from awgcheck.ruleset import digest as rule_digest

PROFILES = ("strict", "protocol")

# Names a rule may use in `params:` for whole groups of keys.
PARAM_GROUPS: dict[str, tuple[str, ...]] = {
    "@must-match": params.MUST_MATCH_PARAMS,
    "@side-local": params.SIDE_LOCAL_PARAMS,
    "@obfuscation": params.OBFUSCATION_PARAMS,
    "@legacy": params.LEGACY_KEYS,
}

_RULE_FIELDS: dict[str, tuple[type | tuple[type, ...], bool]] = {
    "id": (str, True),
    "title": (str, True),
    "severity": (str, True),
    "description": (str, True),
    "remediation": (str, True),
    "select": (dict, True),
    "check": (dict, True),
    "symptom": ((str, dict), False),
    "profiles": (dict, False),
    "tags": (list, False),
}
_SELECT_FIELDS: dict[str, tuple[type | tuple[type, ...], bool]] = {
    "artifact": ((str, list), True),
    "section": (str, False),
    "params": ((list, str), False),
    # compose rules only (docs/rules.md, "Compose selectors")
    "services": ((str, list), False),
    "env": ((str, list), False),
    "flag": ((str, list), False),
    "healthcheck": (bool, False),
    "command": (bool, False),
    "ports": (str, False),
    "inactive": (bool, False),
}
SECTIONS = ("Interface", "Peer", "any")


@dataclass(frozen=True)
class Selector:
    artifacts: tuple[ArtifactKind, ...]
    section: str = "Interface"
    params: tuple[str, ...] = ()
    all_params: bool = False
    compose: ComposeSelection | None = None

    @property
    def artifact_names(self) -> str:
        return ", ".join(a.value for a in self.artifacts)


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    description: str
    remediation: str
    select: Selector
    check: CheckSpec
    origin: str  # "file: rule N"
    symptoms: Mapping[str, str] = field(default_factory=dict)
    profiles: Mapping[str, Severity] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    digest: str = field(default="", compare=False)
    """sha256 hex of the definition as written (:mod:`awgcheck.ruleset.digest`)."""

    def severity_for(self, profile: str) -> Severity:
        return self.profiles.get(profile, self.severity)

    def symptom_for(self, param: str | None) -> str | None:
        """The symptom of a failure on ``param``: the rule's own text when it
        gives one (for that param, else its ``default``), else, for a rule
        that compares with the source, the symptom table's."""
        if param is not None and param in self.symptoms:
            return self.symptoms[param]
        if "default" in self.symptoms:
            return self.symptoms["default"]
        if self.is_drift and param is not None and symptom_table.class_of(param) is not None:
            return symptom_table.symptom_for(param)
        return None

    def applicable_symptoms(self) -> dict[str, str]:
        """Every symptom this rule can attach, keyed by param (or
        ``default``): what ``awgcheck rules show`` prints."""
        shown = dict(self.symptoms)
        if self.is_drift and "default" not in shown:
            names = params.OBFUSCATION_PARAMS if self.select.all_params else self.select.params
            for name in names:
                text = self.symptom_for(name)
                if text is not None:
                    shown.setdefault(name, text)
        return shown

    @property
    def is_drift(self) -> bool:
        """A rule that compares a node's params with another statement of
        them (the source, the node's conf): its failures are drift, with a
        symptom."""
        return CHECKS[self.check.type].drifts(self.check.options)

    @property
    def needs_source(self) -> bool:
        """A rule that reads the source of truth: not run when the source
        could not be read (the report says so once, for the run)."""
        return CHECKS[self.check.type].needs_source(self.check.options)


def _check_fields(where: str, data: Mapping[str, Any],
                  schema: Mapping[str, tuple[type | tuple[type, ...], bool]]) -> None:
    refuse_unknown(data, schema, where, RuleError)
    for key, (kind, required) in schema.items():
        if key not in data:
            if required:
                raise RuleError(f"{where}: missing required key '{key}'")
            continue
        if not isinstance(data[key], kind) or (isinstance(data[key], bool) and kind is not bool):
            raise RuleError(f"{where}: key '{key}' must be {_type_name(kind)}, "
                            f"got {_type_name(type(data[key]))}")


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", dict: "a mapping", list: "a list", int: "an integer",
             bool: "true or false", float: "a number", type(None): "empty"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _severity(where: str, key: str, value: object) -> Severity:
    try:
        return Severity(str(value)) if isinstance(value, str) else Severity(repr(value))
    except ValueError:
        allowed = ", ".join(s.value for s in Severity)
        raise RuleError(f"{where}: key '{key}' must be one of {allowed}, got {value!r}") from None


def _expand_params(where: str, value: list[Any] | str) -> tuple[tuple[str, ...], bool]:
    items = [value] if isinstance(value, str) else value
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise RuleError(f"{where}: key 'params' must list strings, got {item!r}")
        if item == "*":
            return (), True
        if item.startswith("@"):
            if item not in PARAM_GROUPS:
                groups = ", ".join(PARAM_GROUPS)
                raise RuleError(f"{where}: unknown param group '{item}' (known: {groups})")
            names.extend(PARAM_GROUPS[item])
        elif params.spec(item) is None and item.lower() not in _LEGACY:
            raise RuleError(f"{where}: unknown param '{item}' (a typo would silently select "
                            "nothing)")
        else:
            names.append(params.canonical(item))
    return tuple(dict.fromkeys(names)), False


_LEGACY = {k.lower() for k in params.LEGACY_KEYS}


def _selector(where: str, data: Mapping[str, Any]) -> Selector:
    where = f"{where}: select"
    _check_fields(where, data, _SELECT_FIELDS)
    kinds = data["artifact"] if isinstance(data["artifact"], list) else [data["artifact"]]
    artifacts = []
    for kind in kinds:
        try:
            artifacts.append(ArtifactKind(kind))
        except ValueError:
            allowed = ", ".join(a.value for a in ArtifactKind)
            raise RuleError(f"{where}: key 'artifact' must be one (or a list) of {allowed}, "
                            f"got {kind!r}") from None
    if not artifacts:
        raise RuleError(f"{where}: key 'artifact' must name at least one artifact kind")
    section = data.get("section", "Interface")
    if section not in SECTIONS:
        raise RuleError(f"{where}: key 'section' must be one of {', '.join(SECTIONS)}, "
                        f"got {section!r}")
    names, everything = _expand_params(where, data.get("params", []))
    compose = None
    if ArtifactKind.COMPOSE in artifacts:
        if artifacts != [ArtifactKind.COMPOSE]:
            raise RuleError(f"{where}: key 'artifact': compose cannot be combined with other "
                            "artifacts in one rule")
        compose = compose_select.parse_selection(where, data, names, everything)
    else:
        for key in compose_select.KEYS:
            if key in data:
                raise RuleError(f"{where}: key '{key}' is for compose rules only "
                                "(artifact: compose)")
    return Selector(tuple(artifacts), section, names, everything, compose)


def _rule(where: str, data: object) -> Rule:
    if not isinstance(data, dict):
        raise RuleError(f"{where}: a rule must be a mapping, got {_type_name(type(data))}")
    rule_id = data.get("id")
    if isinstance(rule_id, str):
        where = f"{where} (id {rule_id})"
    _check_fields(where, data, _RULE_FIELDS)
    severity = _severity(where, "severity", data["severity"])
    select = _selector(where, data["select"])
    check = _check(where, data["check"], select)
    profiles: dict[str, Severity] = {}
    for profile, override in data.get("profiles", {}).items():
        if profile not in PROFILES:
            raise RuleError(f"{where}: profiles: unknown profile '{profile}' "
                            f"(known: {', '.join(PROFILES)})")
        if not isinstance(override, dict) or set(override) != {"severity"}:
            raise RuleError(f"{where}: profiles: {profile}: expected a mapping with only "
                            "'severity'")
        profiles[profile] = _severity(f"{where}: profiles: {profile}", "severity",
                                      override["severity"])
    symptom = data.get("symptom")
    symptoms: dict[str, str] = {}
    if isinstance(symptom, str):
        symptoms["default"] = symptom
    elif isinstance(symptom, dict):
        for key, text in symptom.items():
            if not isinstance(text, str):
                raise RuleError(f"{where}: symptom: '{key}' must be a string")
            symptoms[key if key == "default" else params.canonical(str(key))] = text
    if CHECKS[check.type].compares_with_source and "default" not in symptoms:
        # The symptom table covers every obfuscation param; any other param
        # (or "*") needs the rule's own text.
        uncovered = [name for name in select.params
                     if name not in symptoms and symptom_table.class_of(name) is None]
        if select.all_params or uncovered:
            which = "every key" if select.all_params else ", ".join(uncovered)
            raise RuleError(f"{where}: drift rules (equals-source) need a 'symptom' that tells "
                            f"the operator what the mismatch does to the tunnel; the symptom "
                            f"table has none for {which}")
    tags = data.get("tags", [])
    if not all(isinstance(t, str) for t in tags):
        raise RuleError(f"{where}: key 'tags' must list strings")
    return Rule(
        id=data["id"], title=data["title"], severity=severity,
        description=data["description"].strip(), remediation=data["remediation"].strip(),
        select=select, check=check, origin=where, symptoms=symptoms, profiles=profiles,
        tags=tuple(tags), digest=rule_digest.of_rule(data),
    )


def _check(where: str, data: Mapping[str, Any], select: Selector) -> CheckSpec:
    where = f"{where}: check"
    kind = data.get("type")
    if not isinstance(kind, str):
        raise RuleError(f"{where}: missing required key 'type'")
    definition = CHECKS.get(kind)
    if definition is None:
        raise RuleError(f"{where}: unknown check type '{kind}' "
                        f"(known: {', '.join(sorted(CHECKS))})")
    return definition.validate(where, data, select.artifacts)


class RuleSet:
    """Rules in load order, with their ids unique across every file."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.by_id: dict[str, Rule] = {}
        for rule in self.rules:
            if rule.id in self.by_id:
                raise RuleError(f"{rule.origin}: duplicate rule id '{rule.id}' (first "
                                f"defined in {self.by_id[rule.id].origin})")
            self.by_id[rule.id] = rule

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of every rule's definition, whatever file or
        order they came in: what a report's ``rules_digest`` says."""
        return rule_digest.of_rules((rule.id, rule.digest) for rule in self.rules)


def load_text(text: str, origin: str) -> list[Rule]:
    """Parse one rule file's text; ``origin`` names it in errors."""
    document = yamlfile.load(text, origin, RuleError)
    if not isinstance(document, dict) or set(document) != {"rules"}:
        raise RuleError(f"{origin}: a rule file must be a mapping with one key 'rules'")
    if not isinstance(document["rules"], list):
        raise RuleError(f"{origin}: key 'rules' must be a list")
    return [_rule(f"{origin}: rule {i}", item) for i, item in enumerate(document["rules"], 1)]


def load_paths(paths: Iterable[Path]) -> RuleSet:
    """Load rule files and folders (every ``*.yaml``/``*.yml`` inside)."""
    rules: list[Rule] = []
    for path in paths:
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
        if path.is_dir() and not files:
            raise RuleError(f"{path}: folder holds no *.yaml rule files")
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except OSError as exc:
                raise RuleError(f"{file}: cannot read rule file: {exc.strerror}") from None
            except UnicodeDecodeError:
                raise RuleError(f"{file}: rule file is not UTF-8 text") from None
            rules.extend(load_text(text, str(file)))
    return RuleSet(rules)


def load_shipped() -> RuleSet:
    """The catalog shipped with awgcheck (rules/ in the source tree,
    installed as the ``awgcheck.catalog`` package)."""
    try:
        catalog: Any = importlib.resources.files("awgcheck.catalog")
    except ModuleNotFoundError:
        # Running from a source checkout that was never installed.
        catalog = Path(__file__).resolve().parents[2] / "rules"
    rules: list[Rule] = []
    for entry in sorted(catalog.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            rules.extend(load_text(entry.read_text(encoding="utf-8"), f"rules/{entry.name}"))
    return RuleSet(rules)


BUILTIN = "builtin"
"""The name that stands for the shipped catalog in a list of rule paths."""


def load_named(entries: Sequence[str], *, base: Path | None = None,
               missing: Callable[[str], Exception]) -> RuleSet:
    """The rules a user named (``--rules``, a gate config's ``rules:``):
    files and folders, relative to ``base`` when given, with ``builtin``
    for the shipped catalog; the catalog alone when none is named.

    A path that does not exist raises ``missing(entry)``, checked before
    loading: the loader would report it as an unreadable rule file, which
    hides the plain cause; each caller names the entry its own way.
    """
    if not entries:
        return load_shipped()
    rules: list[Rule] = []
    for entry in entries:
        if entry == BUILTIN:
            rules.extend(load_shipped().rules)
            continue
        path = base / entry if base is not None else Path(entry)
        try:
            found = path.exists()
        except OSError:  # a name the OS cannot even look up (ENAMETOOLONG)
            found = False
        if not found:
            raise missing(entry)
        rules.extend(load_paths([path]).rules)
    return RuleSet(rules)
