"""``awgcheck topology``: the fleet's mesh as a picture (JSON, Mermaid or
Graphviz dot): nodes coloured by their check status, edges by state.

Reads as check does: inventory -> rules -> read and check every node ->
the mesh and the report -> picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from awgcheck import audit, nodes
from awgcheck.cli.options import (
    ansible_inventory_option,
    emit,
    format_option,
    load_fleet,
    load_rules,
    output_option,
    rules_option,
    source_option,
    ssh_options,
    user_errors,
)
from awgcheck.errors import UsageError
from awgcheck.mesh import picture
from awgcheck.mesh.model import Mesh


@click.command()
@click.option("--inventory", "-i", "inventory_path", type=click.Path(path_type=Path),
              help="Fleet inventory with a mesh: section (docs/topology.md).")
@ansible_inventory_option
@source_option
@rules_option
@format_option(picture.FORMATS, help="json: nodes and edges with their state and both ends; "
                                     "mermaid or dot: a graph to render.")
@output_option
@ssh_options
@user_errors
def topology(inventory_path: Path | None, ansible_path: Path | None, source: str | None,
             rule_paths: Sequence[str], fmt: str, output_path: Path | None,
             run_options: nodes.RunOptions) -> None:
    """Draw the mesh: every node of the inventory, coloured by its check
    status (pass, fail, error, unread), and every edge between them,
    coloured by state: one-sided, key-mismatch, allowed-ips-gap, drift (a
    must-match param differs between the two ends), failing (another mesh
    rule fails on it) or ok; external peers and keys no node holds are
    drawn too. Exit code 0 once drawn; 2 for a usage
    or inventory error (`check` gives the verdict).
    """
    fleet = load_fleet(inventory_path, ansible_path, source)
    if fleet.mesh is None:
        declared = "var awgcheck_mesh" if ansible_path is not None else "'mesh:' section"
        raise UsageError(f"{ansible_path or inventory_path}: has no {declared} to draw "
                         "(see docs/topology.md)")
    rules = load_rules(rule_paths)
    seen: list[Mesh | None] = []
    report = audit.audit(fleet, rules, options=run_options, mesh_seen=seen.append)
    [mesh] = seen
    assert mesh is not None  # the inventory has a mesh: section
    emit(picture.FORMATS.render(fmt, picture.draw(mesh, report)), output_path)
