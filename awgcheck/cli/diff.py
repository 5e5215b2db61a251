"""``awgcheck diff LEFT RIGHT``: every param of two sides, bytes in hex.

A side is a conf file, an inventory node, an ``ssh://`` URL, or a node's
running interface (``NODE:runtime``).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from awgcheck import audit as fleet
from awgcheck import diff as diffing
from awgcheck import exitcodes, inventory
from awgcheck.cli.options import emit, format_option, read_conf, ssh_options, user_errors
from awgcheck.errors import UsageError
from awgcheck.model import ArtifactKind, ParamDocument

RUNTIME_SUFFIX = ":runtime"


def _node(spec: str, inventory_path: Path | None) -> inventory.Node:
    """A node named on the command line: ``ssh://user@host:port`` or a name
    from the inventory."""
    if spec.startswith("ssh://"):
        return inventory.node_from_url(spec)
    if inventory_path is None:
        raise UsageError(f"{spec}: no such file (to name a node, pass --inventory, or give "
                         "ssh://user@host:port)")
    return inventory.load(inventory_path).node(spec)


def _document(spec: str, inventory_path: Path | None,
              options: fleet.RunOptions) -> tuple[str, ParamDocument]:
    """A diff side: a conf file path, a node name, or an ssh:// URL; with
    ``:runtime`` appended, that node's running interface."""
    path = Path(spec)
    if path.is_file():
        return spec, read_conf(path)
    wants_runtime = spec.endswith(RUNTIME_SUFFIX)
    node = _node(spec.removesuffix(RUNTIME_SUFFIX), inventory_path)
    read = fleet.read_node(node, replace(options, runtime=wants_runtime))
    if read.error is not None or read.documents is None:
        raise UsageError(f"{spec}: {read.error}")
    kind = ArtifactKind.RUNTIME if wants_runtime else ArtifactKind.CONF
    if kind not in read.documents.docs:
        why = "; ".join(f"{m.why} (to get it: {m.how})" for m in read.missing)
        raise UsageError(f"{spec}: the running state could not be read: {why}")
    return spec, read.documents.docs[kind]


@click.command()
@click.argument("left")
@click.argument("right")
@click.option("--inventory", "-i", "inventory_path", type=click.Path(path_type=Path),
              help="Inventory, to name nodes instead of files.")
@format_option(diffing.FORMATS)
@click.option("--only-differences", is_flag=True, help="Hide params that are identical.")
@ssh_options
@user_errors
def diff(left: str, right: str, inventory_path: Path | None, fmt: str,
         only_differences: bool, run_options: fleet.RunOptions) -> None:
    """Compare every param of LEFT and RIGHT (conf files, node names from
    --inventory, or ssh://user@host:port; NODE:runtime for the node's running
    interface).

    Differences are shown with their bytes in hex. Exit code 1 when any
    param drifts (different effective values), 0 otherwise.
    """
    left_name, left_doc = _document(left, inventory_path, run_options)
    right_name, right_doc = _document(right, inventory_path, run_options)
    view = diffing.DiffView(left_name, right_name,
                            tuple(diffing.compare(left_doc, right_doc)), only_differences)
    emit(diffing.FORMATS.render(fmt, view), None)
    sys.exit(exitcodes.FAILED if view.drifts else exitcodes.OK)
