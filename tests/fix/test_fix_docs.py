"""docs/fix.md shows real output: its demo example is what `fix` prints."""

from __future__ import annotations

import re
import subprocess
import sys

import paths

DOC = (paths.ROOT / "docs" / "fix.md").read_text()


def test_docs_fix_example_is_the_real_output() -> None:
    command = "awgcheck fix partner-tbilisi -i fixtures/demo/fleet.yaml"
    block = re.search(rf"```\n\$ {re.escape(command)}\n(.*?)```", DOC, re.S)
    assert block is not None
    done = subprocess.run([sys.executable, "-m", "awgcheck", *command.split()[1:]],
                          cwd=paths.ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert done.stdout + done.stderr == block.group(1)


def test_docs_fix_names_every_exit_code() -> None:
    table = DOC.split("## Exit codes", 1)[1]
    for code in ("0", "1", "2", "3"):
        assert f"\n| {code} |" in table
