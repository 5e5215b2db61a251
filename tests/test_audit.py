"""The audit pipeline around the collectors: what a node that cannot be
opened or read becomes, and that it never holds up the run."""

from __future__ import annotations

import time
from pathlib import Path

from awgcheck import audit as fleet
from awgcheck import inventory
from awgcheck.collect.base import Collector
from awgcheck.errors import ErrorClass
from awgcheck.model import Status
from awgcheck.ruleset import load as ruleset

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"


def _broken_transport(node: inventory.Node, options: fleet.RunOptions) -> Collector:
    raise RuntimeError(f"transport bug on {node.name}")


def test_audit_collector_that_raises_is_an_internal_error_without_waiting() -> None:
    # Before: the exception killed the worker thread and every node waited
    # out its deadline (3 s + grace) to be reported as deadline_exceeded.
    fleet_file = inventory.load(DEMO / "fleet.yaml")
    only = ("partner-berlin", "partner-tbilisi", "partner-almaty")
    started = time.monotonic()
    report = fleet.audit(fleet_file, ruleset.load_shipped(), only=only,
                         options=fleet.RunOptions(timeout=3), factory=_broken_transport)
    assert time.monotonic() - started < 1.5
    assert len(report.nodes) == 4  # the source is always read
    for node in report.nodes:
        assert node.status is Status.ERROR
        assert node.error_class is ErrorClass.INTERNAL_ERROR
        assert node.error == (f"{node.name}: internal error while opening the node: "
                              f"RuntimeError: transport bug on {node.name}")


def test_read_node_collector_that_raises_is_captured() -> None:
    node = inventory.Node(name="edge", host="edge.example")
    read = fleet.read_node(node, fleet.RunOptions(), factory=_broken_transport)
    assert read.documents is None and read.error is not None
    assert read.error.error_class is ErrorClass.INTERNAL_ERROR
