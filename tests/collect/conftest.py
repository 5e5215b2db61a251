"""Fixtures for the SSH transport tests: a real sshd fleet, no ssh-agent."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# tests/ has no __init__.py; make the common sshd helper importable until the
# top-level conftest does it for every test package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sshd_fleet import SshdFleet


@pytest.fixture(autouse=True)
def _no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's ssh-agent would offer extra keys and change what
    # "wrong key" means; tests authenticate with fleet keys only.
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


@pytest.fixture(scope="session")
def fleet() -> Iterator[SshdFleet]:
    """Four nodes served by one real sshd, reused by the read-only tests."""
    with SshdFleet(nodes_wanted=4) as started:
        yield started


@pytest.fixture()
def own_fleet() -> Iterator[SshdFleet]:
    """A one-node fleet a test may break (kill, rekey)."""
    with SshdFleet(nodes_wanted=1) as started:
        yield started


@pytest.fixture()
def known_hosts_copy(fleet: SshdFleet, tmp_path: Path) -> Path:
    """A private copy of the fleet's known_hosts that a test may edit."""
    copy = tmp_path / "known_hosts"
    copy.write_text(fleet.known_hosts.read_text())
    os.chmod(copy, 0o600)
    return copy
