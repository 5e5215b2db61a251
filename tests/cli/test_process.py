"""The process entry (``awgcheck``, ``python -m awgcheck``): runs the
command line with the collector tuned for one run."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from awgcheck import __version__
from awgcheck.cli import process


def test_process_entry_collects_less_often_and_runs_the_command(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    before = gc.get_threshold()
    monkeypatch.setattr(sys, "argv", ["awgcheck", "--version"])
    try:
        with pytest.raises(SystemExit) as done:
            process.run()
        assert gc.get_threshold() == process.GC_THRESHOLDS != before
    finally:
        gc.set_threshold(*before)
    assert done.value.code == 0
    assert capsys.readouterr().out == f"awgcheck, version {__version__}\n"


def test_python_m_awgcheck_runs_the_process_entry() -> None:
    done = subprocess.run([sys.executable, "-m", "awgcheck", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, f"awgcheck, version {__version__}\n")
