"""``awgcheck diff LEFT RIGHT``: every param of two sides, bytes in hex.

A side is a conf or params document file (``-``: one on stdin), an
inventory node, an ``ssh://`` URL, or a node's running interface
(``NODE:runtime``).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from awgcheck import diff as diffing
from awgcheck import exitcodes, inventory, nodes
from awgcheck.cli.options import emit, format_option, screen_options, ssh_options, user_errors
from awgcheck.cli.screen import Screen
from awgcheck.documents import params
from awgcheck.errors import UsageError
from awgcheck.model import ArtifactKind, ParamDocument

RUNTIME_SUFFIX = ":runtime"


def _document(spec: str, inventory_path: Path | None,
              options: nodes.RunOptions) -> tuple[str, ParamDocument]:
    """A diff side: a conf or params document file (or ``-``, one on stdin),
    a node name, or an ssh:// URL; with ``:runtime`` appended, that node's
    running interface."""
    if spec == params.STDIN or Path(spec).is_file():
        return params.read_named(spec, sys.stdin.buffer)
    wants_runtime = spec.endswith(RUNTIME_SUFFIX)
    name = spec.removesuffix(RUNTIME_SUFFIX)
    # The inventory is only opened for a name it must hold, as before.
    fleet_file = (inventory.load(inventory_path)
                  if inventory_path is not None and not name.startswith("ssh://") else None)
    node = nodes.named_node(name, fleet_file, or_file=True)
    read = nodes.read_node(node, replace(options, runtime=wants_runtime))
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
@screen_options
@ssh_options
@user_errors
def diff(left: str, right: str, inventory_path: Path | None, fmt: str,
         only_differences: bool, screen: Screen, run_options: nodes.RunOptions) -> None:
    """Compare every param of LEFT and RIGHT (conf files, node names from
    --inventory, or ssh://user@host:port; NODE:runtime for the node's running
    interface).

    A file is a conf or a params document (epoch or registration JSON/YAML),
    told apart by content; - reads one from stdin (one side only).
    Differences are shown with their bytes in hex. Exit code 1 when any
    param drifts (different effective values), 0 otherwise.
    """
    if left == right == params.STDIN:
        raise UsageError("only one side can be - (stdin)")
    left_name, left_doc = _document(left, inventory_path, run_options)
    right_name, right_doc = _document(right, inventory_path, run_options)
    view = diffing.DiffView(left_name, right_name,
                            tuple(diffing.compare(left_doc, right_doc)), only_differences)
    emit(diffing.FORMATS.render(fmt, view, screen.layout()), None)
    sys.exit(exitcodes.FAILED if view.drifts else exitcodes.OK)
