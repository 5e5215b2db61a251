"""The README's demo output is what the command prints.

The block under "On the demo fleet it reports" is run as written:
``awgcheck check --inventory fixtures/demo/fleet.yaml`` from the
repository root, stdout not a terminal and no ``COLUMNS`` (so 100
columns wide, no colour). Only what changes from run to run is masked:
the footer's times and duration, and the rules digest (which follows
every rule edit and says nothing a reader checks by eye).
"""

from __future__ import annotations

import re

import paths
import pytest
from click.testing import CliRunner

from awgcheck.cli.main import main

README = paths.ROOT / "README.md"
COMMAND = ["check", "--inventory", "fixtures/demo/fleet.yaml"]
_VARYING = [(re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"), "TIME"),
            (re.compile(r"\(\d+(\.\d+)? s\)"), "(DURATION s)"),
            (re.compile(r"sha256:[0-9a-f]{12}"), "sha256:DIGEST")]


def demo_block() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("On the demo fleet it reports")
    match = re.compile(r"^```\n(.*?)^```", re.S | re.M).search(text, start)
    assert match is not None, "no ``` block after 'On the demo fleet it reports'"
    return match.group(1)


def masked(text: str) -> str:
    for pattern, stand_in in _VARYING:
        text = pattern.sub(stand_in, text)
    return text


def test_readme_demo_block_is_the_real_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(paths.ROOT)
    result = CliRunner().invoke(main, COMMAND, env={"COLUMNS": None, "NO_COLOR": None})
    assert result.exit_code == 1, result.output
    assert masked(result.stdout) == masked(demo_block())
    assert max(len(line) for line in result.stdout.splitlines()) <= 100


def test_readme_quick_start_runs_the_same_command() -> None:
    assert ("awgcheck " + " ".join(COMMAND)) in README.read_text(encoding="utf-8")
