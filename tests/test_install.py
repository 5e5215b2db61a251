"""A plain (non-editable) ``pip install .`` finds the shipped rule catalog."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_install_non_editable_ships_the_catalog(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # From a copy: setuptools writes a build/ folder into the tree it builds.
    tree = tmp_path / "tree"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "node_modules", "*.egg-info", ".*_cache", "__pycache__"))
    # awgcheck itself is built and installed; its dependencies are the ones
    # this run already has (a .pth adds their folder), not installed again.
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path("
                           "'purelib'))"], capture_output=True, text=True, check=True).stdout
    deps = {Path(p) for p in sys.path if p.endswith("site-packages")}
    (Path(site.strip()) / "test-dependencies.pth").write_text(
        "".join(f"{p}\n" for p in sorted(deps)))
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(tree)],
                   check=True, cwd=tmp_path, timeout=600)
    listing = subprocess.run(
        [str(env_dir / "bin" / "awgcheck"), "rules", "list"], capture_output=True, text=True,
        check=True, cwd=tmp_path, timeout=120)
    assert "must-match-drift" in listing.stdout
    where = subprocess.run(
        [str(python), "-c", "import awgcheck, awgcheck.catalog; print(awgcheck.__file__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path, timeout=120)
    assert str(env_dir) in where.stdout  # the installed copy, not the checkout


def test_every_package_is_shipped() -> None:
    """setup.cfg lists packages by name: a new one left out installs
    without it (the editable install the tests use still finds it)."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "awgcheck").rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)
