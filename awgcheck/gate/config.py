"""The CI gate's config file (``awgcheck.yaml`` at the repository root).

```yaml
source: server/awg0.conf            # the source of truth: a conf or a params document
consumers:                          # repo-relative globs (** crosses folders)
  confs: [partners/*.conf]          # confs rendered for nodes
  templates: [templates/*.conf.j2]  # confs with {{ s4 }} / ${S4} placeholders
  params: [control-plane/*.json]    # params documents (epoch or registration form)
  compose:                          # compose files (each with its override and .env)
    - deploy/*/compose.yaml
    - {file: edge/compose.yaml, conf: edge/awg0.conf}   # paired with the node's conf
compose_env: {MESH_IP: 10.77.0.3}   # optional: what the shell starting the stacks exports
compose_profiles: [metrics]         # optional: --profile for every compose project
exclude: [partners/old/*]           # optional: globs never read
rules: [builtin, ci/rules]          # optional: rule files/folders; default the catalog
profile: strict                     # optional: strict (default) or protocol
fail_on: error                      # optional: critical, error (default), warning, info
allow_unmatched_consumers: false    # optional: true makes a glob that matches nothing a note
```

Every mistake is a :class:`GateConfigError` naming the file and the key,
and ends the gate with exit code 2 before anything is checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from awgcheck import yamlfile
from awgcheck.errors import UsageError
from awgcheck.known_keys import refuse_unknown
from awgcheck.model import Severity
from awgcheck.ruleset import load as ruleset
from awgcheck.ruleset.load import PROFILES

DEFAULT_NAME = "awgcheck.yaml"
ALLOW_UNMATCHED = "allow_unmatched_consumers"
"""The switch that lets a consumer glob match nothing (by default a failure:
a renamed folder must not turn the gate green by checking nothing)."""
CONSUMER_KINDS = ("confs", "templates", "params", "compose", "compose_templates")
COMPOSE_KINDS = ("compose", "compose_templates")
"""Consumer kinds read as compose projects (globs or ``{file, conf}`` pairs)."""
_TOP_KEYS = ("source", "consumers", "compose_env", "compose_profiles", "exclude", "rules",
             "profile", "fail_on", ALLOW_UNMATCHED)
_PAIR_KEYS = ("file", "conf")
# What Compose accepts as a variable name in its environment.
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class GateConfigError(UsageError):
    """The gate config is missing, unreadable or does not match the schema."""


@dataclass(frozen=True)
class GateConfig:
    path: Path
    source: str  # repo-relative, posix
    consumers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # compose glob -> the conf its node runs (for rules that compare with the
    # node's own conf); compose globs without one are bare compose nodes.
    compose_confs: Mapping[str, str] = field(default_factory=dict)
    compose_env: Mapping[str, str] = field(default_factory=dict)
    compose_profiles: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    profile: str = "strict"
    fail_on: Severity = Severity.ERROR
    allow_unmatched_consumers: bool = False


def _strings(where: str, value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise GateConfigError(f"{where} must be a list of non-empty strings, got {value!r}")
    return tuple(items)


def _found(test: Callable[[], bool]) -> bool:
    """A filesystem test (``path.is_file``) that answers False for a path
    the OS cannot even look up: ``is_file`` raises rather than answers for
    a name too long (ENAMETOOLONG), which a config must not turn into a
    traceback."""
    try:
        return test()
    except OSError:
        return False


def _relative(where: str, text: str) -> str:
    """A repo-relative path or glob: the gate never reads outside the repo."""
    path = Path(text)
    if path.is_absolute() or ".." in path.parts:
        raise GateConfigError(f"{where}: '{text}' must be relative to the repository root "
                              "and stay inside it")
    return path.as_posix()


def _consumers(where: str, value: object) -> dict[str, object]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise GateConfigError(f"{where}: key 'consumers' must be a mapping of "
                              f"{', '.join(CONSUMER_KINDS)} to glob lists")
    refuse_unknown(value, CONSUMER_KINDS, f"{where}: consumers", GateConfigError)
    return value


def _globs(where: str, consumers: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    """Each kind's globs; compose entries may be ``{file, conf}`` pairs,
    of which only the file glob is kept here."""
    found: dict[str, tuple[str, ...]] = {}
    for kind, globs in consumers.items():
        key = f"{where}: consumers: key '{kind}'"
        if kind in COMPOSE_KINDS and isinstance(globs, list):
            globs = [g.get("file") if isinstance(g, dict) else g for g in globs]
        found[kind] = tuple(_relative(key, g) for g in _strings(key, globs))
    return found


def _compose_confs(where: str, consumers: Mapping[str, object],
                   repo: Path) -> dict[str, str]:
    """``{file: GLOB, conf: PATH}`` entries of ``consumers: compose`` and
    ``compose_templates``; the conf must be a file of the repository (a typo
    would silently skip)."""
    pairs: dict[str, str] = {}
    for kind in COMPOSE_KINDS:
        pairs.update(_pairs(f"{where}: consumers: {kind}", consumers.get(kind), repo))
    return pairs


def _pairs(key: str, entries: object, repo: Path) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict):
            continue
        refuse_unknown(entry, _PAIR_KEYS, key, GateConfigError)
        file, conf = entry.get("file"), entry.get("conf")
        for name, text in (("file", file), ("conf", conf)):
            if not isinstance(text, str) or not text:
                raise GateConfigError(f"{key}: key '{name}' must be a non-empty path, "
                                      f"got {text!r}")
        assert isinstance(file, str) and isinstance(conf, str)
        conf = _relative(f"{key}: key 'conf'", conf)
        target = repo / conf
        if not _found(target.is_file) or not target.resolve().is_relative_to(repo.resolve()):
            raise GateConfigError(f"{key}: key 'conf': {conf} is not a file in {repo}")
        pairs[_relative(f"{key}: key 'file'", file)] = conf
    return pairs


def _compose_env(where: str, value: object) -> dict[str, str]:
    """``compose_env: {KEY: VALUE}``: names as Compose takes them, values
    text or numbers (written as YAML reads them: quote ``"018"``)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise GateConfigError(f"{where}: key 'compose_env' must be a mapping of variable "
                              f"names to values, got {value!r}")
    env: dict[str, str] = {}
    for name, text in value.items():
        if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
            raise GateConfigError(f"{where}: compose_env: {name!r} is not a variable name")
        if isinstance(text, bool) or not isinstance(text, (str, int, float)):
            raise GateConfigError(f"{where}: compose_env: key '{name}' must be text or a "
                                  f"number (quote it), got {text!r}")
        env[name] = str(text)
    return env


def _choice(where: str, key: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise GateConfigError(f"{where}: key '{key}' must be one of {', '.join(allowed)}, "
                              f"got {value!r}")
    return str(value)


def _flag(where: str, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise GateConfigError(f"{where}: key '{key}' must be true or false, got {value!r}")
    return value


def parse(data: object, path: Path, repo: Path) -> GateConfig:
    """Validate loaded YAML; ``repo`` is the root the paths are relative to."""
    where = str(path)
    if not isinstance(data, dict):
        raise GateConfigError(f"{where}: expected a mapping with at least 'source'")
    refuse_unknown(data, _TOP_KEYS, where, GateConfigError)
    source = data.get("source")
    if not isinstance(source, str) or not source:
        raise GateConfigError(f"{where}: key 'source' must name the source of truth "
                              "(a conf or params document path relative to the repository)")
    source = _relative(f"{where}: key 'source'", source)
    if not _found((repo / source).is_file):
        raise GateConfigError(f"{where}: key 'source': {source} is not a file in {repo}")
    if not (repo / source).resolve().is_relative_to(repo.resolve()):
        raise GateConfigError(f"{where}: key 'source': {source} leads out of the repository")
    severities = tuple(s.value for s in Severity)
    consumers = _consumers(where, data.get("consumers"))
    compose_confs = _compose_confs(where, consumers, repo)
    return GateConfig(
        path=path,
        source=source,
        consumers=_globs(where, consumers),
        compose_confs=compose_confs,
        compose_env=_compose_env(where, data.get("compose_env")),
        compose_profiles=_strings(f"{where}: key 'compose_profiles'",
                                  data.get("compose_profiles", [])),
        exclude=tuple(_relative(f"{where}: key 'exclude'", g)
                      for g in _strings(f"{where}: key 'exclude'", data.get("exclude", []))),
        rules=tuple(r if r == "builtin" else _relative(f"{where}: key 'rules'", r)
                    for r in _strings(f"{where}: key 'rules'", data.get("rules", []))),
        profile=_choice(where, "profile", data.get("profile", "strict"), PROFILES),
        fail_on=Severity(_choice(where, "fail_on", data.get("fail_on", "error"), severities)),
        allow_unmatched_consumers=_flag(where, ALLOW_UNMATCHED, data.get(ALLOW_UNMATCHED, False)),
    )


def load(path: Path, repo: Path) -> GateConfig:
    """Read and validate the config file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GateConfigError(f"{path}: gate config not found (write one, see "
                              "docs/ci-gate.md, or pass --config)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GateConfigError(f"{path}: cannot read gate config: {exc}") from None
    try:
        data: Any = yamlfile.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}:" if mark is not None else ""
        raise GateConfigError(f"{path}:{line} not valid YAML: "
                              f"{getattr(exc, 'problem', None) or exc}") from None
    return parse(data, path, repo)


def load_rules(repo: Path, config: GateConfig) -> ruleset.RuleSet:
    """The config's rules (``builtin`` names the catalog), else the catalog."""
    return ruleset.load_named(config.rules, base=repo, missing=lambda entry: GateConfigError(
        f"{config.path}: key 'rules': {entry} is not a file or folder in {repo}"))
