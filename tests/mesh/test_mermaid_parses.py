"""Every Mermaid text awgcheck emits is read by the real Mermaid parser
(tests/mermaid_parser.py): `topology --format mermaid` for a clean mesh,
for the fleet with every planted fault, and for hostile node names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mermaid_parser
import mesh_fleet
import pytest
from faults import faulty_fleet
from test_topology import HOSTILE


def _mermaid(inventory: Path) -> str:
    proc = subprocess.run([sys.executable, "-m", "awgcheck", "topology", "-i", str(inventory),
                           "--format", "mermaid"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_parser_rejects_a_broken_diagram() -> None:
    # The oracle can fail: an unclosed label is a parse error.
    with pytest.raises(AssertionError, match=r"mermaid rejects the diagram: .*Parse error"):
        mermaid_parser.parse('graph LR\n  n0["a]:::pass\n  n0 --- n1\n')


def test_a_clean_mesh_parses(tmp_path: Path) -> None:
    mesh = mesh_fleet.hub_and_spoke(["hub", "spoke1", "spoke2"])
    assert mermaid_parser.parse(_mermaid(mesh.write_trees(tmp_path))) == "flowchart-v2"


def test_the_fleet_with_every_planted_fault_parses(tmp_path: Path) -> None:
    mesh, _ = faulty_fleet()
    text = _mermaid(mesh.write_trees(tmp_path))
    assert "one-sided" in text and "key-mismatch" in text and "external" in text
    assert mermaid_parser.parse(text) == "flowchart-v2"


HOSTILE_NAMES = [HOSTILE, 'a"b|c', "x]y[z", "end", "graph", "a;b%%c", "#quot;", "{{x}}", "a`b`"]


def test_every_hostile_node_name_parses(tmp_path: Path) -> None:
    # One parser run for all of them (starting mermaid costs a second); a
    # rejected diagram is shown with its text, which holds the name.
    diagrams = [_mermaid(mesh_fleet.hub_and_spoke(["hub", name]).write_trees(tmp_path / str(i)))
                for i, name in enumerate(HOSTILE_NAMES)]
    assert mermaid_parser.parse_all(diagrams) == ["flowchart-v2"] * len(HOSTILE_NAMES)
