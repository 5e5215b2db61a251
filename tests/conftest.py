"""Shared fixtures, and the CI rule that no test may be skipped.

Skips are allowed for optional extras on a developer's machine only; in CI
(CI=true) a skip would hide a missing dependency, so it fails the run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# tests/ is not a package; make helper modules (sshd_fleet) importable.
sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
ASSETS = Path(__file__).resolve().parent / "assets"
DEMO = ROOT / "fixtures" / "demo"


CONTENT_WIDTH = "1000"


@pytest.fixture(autouse=True)
def _wide_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables drawn 1,000 columns wide (COLUMNS, inherited by the awgcheck
    processes tests start): a test of what a report says finds each
    message on one line. How reports fit a terminal is tested where the
    width is set on purpose (tests/report/test_widths.py, the docs examples)."""
    monkeypatch.setenv("COLUMNS", CONTENT_WIDTH)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def demo_inventory() -> Path:
    return DEMO / "fleet.yaml"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        reporter.write_line(f"CI forbids skipped tests; {len(skipped)} were skipped",
                            red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
