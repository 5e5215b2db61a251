"""The transport registry: the SSH transport is loaded when first used, so
a run over local node trees (and every command's start-up) never loads
paramiko; and how many nodes the audit reads at once for each kind."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from memory_node import FakeCollector
from sshd_fleet import free_port

from awgcheck import audit, inventory, nodes
from awgcheck.collect.base import Collector, ConnectOptions
from awgcheck.collect.ssh import connect
from awgcheck.collect.transports import TRANSPORTS, Deferred
from awgcheck.errors import CollectError
from tests.paths import DEMO

CONF = "/etc/amnezia/amneziawg/awg0.conf"


def test_transports_ssh_entry_loads_the_ssh_opener() -> None:
    entry = TRANSPORTS["ssh"]
    assert isinstance(entry, Deferred)
    assert entry.load() is connect.open_ssh_node


def test_transports_ssh_entry_opens_a_node() -> None:
    # Through the deferred entry, a node that refuses the connection is the
    # same CollectError the SSH transport gives.
    node = inventory.Node(name="edge", host="127.0.0.1", port=free_port())
    with pytest.raises(CollectError) as failed:
        TRANSPORTS["ssh"](node, ConnectOptions(deadline=5, ssh_config="none"))
    assert failed.value.error_class == "connection_refused"


_PROBE = """
import sys
from awgcheck.cli.main import main
at_start = sorted(m for m in ('paramiko', 'awgcheck.triage', 'awgcheck.gate') if m in sys.modules)
try:
    main(['check', '-i', sys.argv[1], '--format', 'json', '-o', sys.argv[2]],
         standalone_mode=False)
except SystemExit as done:
    assert done.code == 1, done.code  # the demo fleet's drift
print(at_start, 'paramiko' in sys.modules)
"""


def test_transports_local_check_loads_no_paramiko(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE, str(DEMO / "fleet.yaml"),
                           str(tmp_path / "report.json")],
                          capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.split() == ["[]", "False"], done.stderr
    assert (tmp_path / "report.json").read_text().startswith("{")


def _recording(threads: dict[str, int], barrier: threading.Barrier | None
               ) -> Callable[[inventory.Node, nodes.RunOptions], Collector]:
    def factory(node: inventory.Node, options: nodes.RunOptions) -> Collector:
        threads[node.name] = threading.get_ident()
        if barrier is not None:
            barrier.wait()  # every SSH node is being opened at the same time
        return FakeCollector({CONF: b"[Interface]\nJc = 4\n"}, {})
    return factory


def test_audit_reads_local_trees_on_one_thread() -> None:
    local = [inventory.Node(name=f"n{i}", local=DEMO / "nodes" / "server") for i in range(6)]
    threads: dict[str, int] = {}
    reads = audit.read_nodes(local, nodes.RunOptions(concurrency=4), _recording(threads, None))
    assert [r.error for r in reads] == [None] * 6
    assert len(set(threads.values())) == 1


def test_audit_reads_ssh_nodes_concurrently() -> None:
    remote = [inventory.Node(name=f"n{i}", host=f"edge{i}.example") for i in range(4)]
    threads: dict[str, int] = {}
    barrier = threading.Barrier(4, timeout=10)
    reads = audit.read_nodes(remote, nodes.RunOptions(concurrency=4),
                             _recording(threads, barrier))
    assert [r.error for r in reads] == [None] * 4
    assert len(set(threads.values())) == 4
