"""The document-kind registry: what nodes are read for, in which order, and
that a kind added to it is read and judged without touching the audit."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from awgcheck import audit, inventory, nodes
from awgcheck.collect.base import Collector
from awgcheck.documents.base import DocumentKind, Reading, ReadOptions
from awgcheck.documents.registry import DOCUMENTS
from awgcheck.errors import ErrorClass, ParseError
from awgcheck.model import ArtifactKind, Status
from awgcheck.parse import paramsdoc
from awgcheck.ruleset import load as ruleset

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONF = ROOT / "fixtures" / "demo" / "nodes" / "server" / "etc" / "amnezia" / "amneziawg"
ASSETS = ROOT / "tests" / "assets"
PARAMS_PATH = "/etc/amnezia/params.json"  # where the test kind finds its document
PARAMS_RULE = ruleset.load_paths([ROOT / "rules" / "params.yaml"])


def test_documents_registry_covers_every_kind_nodes_are_read_for() -> None:
    # A params document is only ever the source of truth, read from a local
    # file (documents.params); every other kind is read on the node.
    assert set(DOCUMENTS) == set(ArtifactKind) - {ArtifactKind.PARAMS}


def test_documents_registry_reads_the_conf_first() -> None:
    # A node whose conf fails is given up before any command runs on it.
    assert next(iter(DOCUMENTS)) is ArtifactKind.CONF


def _fleet(tmp_path: Path, params_asset: str) -> inventory.Inventory:
    """One local node tree with the demo server's conf and a params document."""
    tree = tmp_path / "edge"
    shutil.copytree(DEMO_CONF, tree / "etc" / "amnezia" / "amneziawg")
    shutil.copy(ASSETS / "params" / params_asset, tree / PARAMS_PATH.lstrip("/"))
    (tmp_path / "fleet.yaml").write_text("source: edge\nnodes:\n  edge:\n    local: edge\n",
                                         encoding="utf-8")
    return inventory.load(tmp_path / "fleet.yaml")


def _read_params(collector: Collector, node: inventory.Node, options: ReadOptions) -> Reading:
    data = collector.read_file(PARAMS_PATH, sudo=node.sudo)
    return Reading(paramsdoc.parse(data, collector.describe(PARAMS_PATH)))


def _always(node: inventory.Node, options: ReadOptions) -> bool:
    return True


# A kind the nodes are not read for today: the served params document.
PARAMS_ON_NODE = DocumentKind(_always, _read_params)


def test_documents_registered_kind_is_read_and_judged_by_rules(tmp_path: Path) -> None:
    fleet_file = _fleet(tmp_path, "error-reply.json")
    registry = {**DOCUMENTS, ArtifactKind.PARAMS: PARAMS_ON_NODE}
    report = audit.audit(fleet_file, PARAMS_RULE, documents=registry)
    failed = [f for f in report.findings if f.failed]
    assert [(f.rule, f.node) for f in failed] == [("params-document-valid", "edge")]
    assert failed[0].location is not None
    assert failed[0].location.path == str(tmp_path / "edge" / PARAMS_PATH.lstrip("/"))
    assert report.nodes[0].status is Status.FAIL


def test_documents_unregistered_kind_is_not_read(tmp_path: Path) -> None:
    report = audit.audit(_fleet(tmp_path, "error-reply.json"), PARAMS_RULE)
    assert report.findings == ()
    assert report.nodes[0].status is Status.PASS


def test_documents_kind_not_wanted_is_not_read(tmp_path: Path) -> None:
    def refuse(collector: Collector, node: inventory.Node, options: ReadOptions) -> Reading:
        raise AssertionError("read although not wanted")

    registry = {**DOCUMENTS, ArtifactKind.PARAMS: DocumentKind(lambda n, o: False, refuse)}
    read = nodes.read_node(_fleet(tmp_path, "epoch.json").node("edge"), nodes.RunOptions(),
                           documents=registry)
    assert read.error is None and read.documents is not None
    assert set(read.documents.docs) == {ArtifactKind.CONF}


def test_documents_kind_that_raises_makes_the_node_unreadable(tmp_path: Path) -> None:
    def broken(collector: Collector, node: inventory.Node, options: ReadOptions) -> Reading:
        raise ParseError(f"{collector.describe(PARAMS_PATH)}: not a params document")

    registry = {**DOCUMENTS, ArtifactKind.PARAMS: DocumentKind(_always, broken)}
    read = nodes.read_node(_fleet(tmp_path, "epoch.json").node("edge"), nodes.RunOptions(),
                           documents=registry)
    assert read.documents is None and read.error is not None
    assert read.error.error_class is ErrorClass.PARSE_ERROR
    assert str(read.error).endswith("params.json: not a params document")


def test_documents_import_no_later_stage() -> None:
    # Documents sit between the readers and the rules: the registry must not
    # drag in the stages that consume it (a cycle waiting to happen).
    code = ("import sys, awgcheck.documents, awgcheck.documents.params; "
            "print(' '.join(sorted(sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True).stdout.split())
    stages = {m.split(".")[1] for m in loaded if m.startswith("awgcheck.")}
    assert stages & {"audit", "engine", "checks", "cli", "gate", "triage"} == set(), stages
