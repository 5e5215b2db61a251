"""`check --format markdown` draws the mesh as a ```mermaid block when a
mesh rule fails: the picture `topology --format mermaid` draws, read back
by a CommonMark parser and then by the real Mermaid parser; no block when
the mesh is clean or the inventory has none."""

from __future__ import annotations

import json
from pathlib import Path

import mermaid_parser
import mesh_fleet
from faults import faulty_fleet
from in_process import awgcheck
from test_topology import HOSTILE


def _markdown(inventory: Path) -> str:
    return awgcheck("check", "-i", str(inventory), "--format", "markdown").stdout


def test_a_failing_mesh_is_drawn_as_topology_draws_it(tmp_path: Path) -> None:
    mesh, _ = faulty_fleet()
    inventory = mesh.write_trees(tmp_path)
    markdown = _markdown(inventory)
    [diagram] = mermaid_parser.fences(markdown)
    assert diagram == awgcheck("topology", "-i", str(inventory), "--format", "mermaid").stdout
    assert "one-sided: spoke2 has no [Peer] for hub" in diagram
    assert mermaid_parser.parse(diagram) == "flowchart-v2"
    assert markdown.index("### Findings") < markdown.index("### Mesh")
    # the JSON report keeps the drawing, for a Markdown rendered from it later
    report = json.loads(awgcheck("check", "-i", str(inventory), "--format", "json").stdout)
    assert report["mesh_diagram"] == diagram.splitlines()


def test_a_hostile_name_in_a_failing_mesh_still_parses(tmp_path: Path) -> None:
    mesh = mesh_fleet.hub_and_spoke(["hub", HOSTILE, "spoke"])
    del mesh.nodes["spoke"].peers["hub"]  # a mesh fault: the block is drawn
    [diagram] = mermaid_parser.fences(_markdown(mesh.write_trees(tmp_path)))
    assert "#lt;img" in diagram and "<img" not in diagram
    assert mermaid_parser.parse(diagram) == "flowchart-v2"


def test_a_clean_mesh_is_not_drawn(tmp_path: Path) -> None:
    mesh = mesh_fleet.hub_and_spoke(["hub", "spoke1", "spoke2"])
    inventory = mesh.write_trees(tmp_path)
    markdown = _markdown(inventory)
    assert "**PASS**" in markdown
    assert mermaid_parser.fences(markdown) == [] and "### Mesh" not in markdown
    report = json.loads(awgcheck("check", "-i", str(inventory), "--format", "json").stdout)
    assert "mesh_diagram" not in report


def test_a_fleet_without_a_mesh_section_is_not_drawn(tmp_path: Path) -> None:
    mesh = mesh_fleet.hub_and_spoke(["hub", "spoke"])
    del mesh.nodes["spoke"].peers["hub"]
    inventory = mesh.write_trees(tmp_path)
    text = inventory.read_text()
    inventory.write_text(text[:text.index("\nmesh:")] + "\n")
    markdown = _markdown(inventory)
    assert "### Findings" in markdown and "mesh-" not in markdown
    assert mermaid_parser.fences(markdown) == []
