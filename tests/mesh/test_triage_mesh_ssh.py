"""`awgcheck triage` over real sshd with a `mesh:` inventory: the hub and
two partners served by OpenSSH on loopback, each running the fake `awg`
(tests/assets/bin, picked by the sshd port the session reached) that
replays a running interface whose handshake never completed. An old key
on the partner's side and a hub that lacks the partner are each named as
the cause ("handshake never completes"), the evidence fits, the fix is on
the side that is wrong; in table, markdown and JSON; no private key or
PresharedKey is printed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import mesh_fleet
import paths
import pytest
from mesh_fleet import CONF_REL, Mesh, write_inventory
from sshd_fleet import SshdFleet

from awgcheck.report import markdown

NAMES = ["server", "partner-x", "partner-y"]

WRAPPER = """#!/bin/sh
# Test wrapper: the fake state of the node this session reached, by port.
port=$(echo "$SSH_CONNECTION" | cut -d' ' -f4)
AWGCHECK_FAKE_AWG_DIR="$(dirname "$0")/../state/$port"
export AWGCHECK_FAKE_AWG_DIR
exec "$(dirname "$0")/awg-replay" "$@"
"""

PARAMS = ("4", "40", "70", "52", "140", "36", "18", "1020325451", "1288052141",
          "1766607858", "2114195744")  # Jc..H4 as mesh_fleet writes them


def dump(mesh: Mesh, name: str) -> str:
    """``awg show awg0 dump`` (v3.1 columns) of a node running its file,
    every peer without a handshake yet."""
    node = mesh.nodes[name]
    face = [node.private_key, node.public_key, str(node.listen_port), *PARAMS,
            *["(null)"] * 6, "0", "0", "0", "0", "0", "0", "off", "off", "off"]
    lines = ["\t".join(face)]
    for peer in node.peers.values():
        lines.append("\t".join([peer.public_key, peer.preshared_key or "(none)",
                                peer.endpoint or "(none)", ",".join(peer.allowed_ips), "0",
                                "0", "148", str(peer.keepalive or "off")]))
    return "\n".join(lines) + "\n"


def showconf(mesh: Mesh, name: str) -> str:
    return "".join(line for line in mesh.conf(name).splitlines(keepends=True)
                   if not line.startswith("Address"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, SshdFleet]]:
    root = tmp_path_factory.mktemp("fake-awg")
    (root / "bin").mkdir()
    shutil.copy(paths.ASSETS / "bin" / "awg", root / "bin" / "awg-replay")
    (root / "bin" / "awg").write_text(WRAPPER)
    for tool in ("awg", "awg-replay"):
        (root / "bin" / tool).chmod(0o755)
    root.chmod(0o755)
    with SshdFleet(nodes_wanted=len(NAMES),
                   extra_config=f"SetEnv PATH={root / 'bin'}:/usr/bin:/bin") as fleet:
        yield root, fleet


def plant(root: Path, fleet: SshdFleet, mesh: Mesh, tmp_path: Path) -> Path:
    nodes = {}
    for name, node in zip(NAMES, fleet.nodes, strict=True):
        node.write(CONF_REL, mesh.conf(name), 0o600)
        state = root / "state" / str(node.port)
        shutil.rmtree(state, ignore_errors=True)
        state.mkdir(parents=True)
        (state / "showconf").write_text(showconf(mesh, name))
        (state / "dump").write_text(dump(mesh, name))
        nodes[name] = fleet.inventory_fields(node, **mesh.node_fields(name))
    return write_inventory(tmp_path / "fleet.yaml", mesh, nodes)


def triage(inventory: Path, node: str, fmt: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    proc = subprocess.run([sys.executable, "-m", "awgcheck", "triage", node, "-i",
                           str(inventory), "--format", fmt, "--ssh-config", "none",
                           "--timeout", "30"], capture_output=True, text=True, timeout=300,
                          env=env)
    assert proc.returncode == 1, (fmt, proc.stdout, proc.stderr)
    return proc.stdout + proc.stderr


def assert_no_secrets(mesh: Mesh, text: str) -> None:
    for node in mesh.nodes.values():
        assert node.private_key not in text, "a private key was printed"
        for peer in node.peers.values():
            assert not peer.preshared_key or peer.preshared_key not in text


def test_old_key_and_missing_peer_over_ssh(served: tuple[Path, SshdFleet],
                                           tmp_path: Path) -> None:
    root, fleet = served
    mesh = mesh_fleet.hub_and_spoke(NAMES)
    old = mesh_fleet.keypair()[1]
    mesh.nodes["partner-x"].peers["server"].public_key = old
    del mesh.nodes["server"].peers["partner-y"]
    inventory = plant(root, fleet, mesh, tmp_path)
    server, x, _ = fleet.nodes
    outputs = {(node, fmt): triage(inventory, node, fmt)
               for node in ("partner-x", "partner-y") for fmt in ("table", "markdown", "json")}
    for text in outputs.values():
        assert_no_secrets(mesh, text)
        assert "Traceback" not in text

    x_said = (f"handshake never completes: partner-x's [Peer] for server "
              f"({x.conf_path}:{mesh.line_of('partner-x', '[Peer]')}) carries an old key "
              f"{old[:8]}...")
    assert x_said in " ".join(outputs["partner-x", "table"].split())
    # the Markdown shows the same sentence through the one Markdown escaping
    # (a temporary directory's name may hold "__", which it escapes too)
    assert markdown.cell(x_said) in " ".join(
        outputs["partner-x", "markdown"].split())
    report = json.loads(outputs["partner-x", "json"])
    assert report["runtime"] is not None and report["source_runtime"] is not None
    found = report["verdict"]
    assert found["cause"] == "mesh-key"
    # the runtime shows no handshake ever: the key mismatch explains it
    assert found["evidence"].startswith("This matches what we see: no handshake ever")
    edit = found["fix"]["steps"][0]
    assert (edit["path"], edit["line"]) == (x.conf_path, mesh.line_of("partner-x", "PublicKey"))
    assert mesh.nodes["server"].public_key in edit["action"]

    y_said = ("handshake never completes: server has no [Peer] for partner-y (none with "
              f"partner-y's public key {mesh.nodes['partner-y'].public_key[:8]}...)")
    assert y_said in " ".join(outputs["partner-y", "table"].split())
    assert markdown.cell(y_said) in " ".join(
        outputs["partner-y", "markdown"].split())
    found = json.loads(outputs["partner-y", "json"])["verdict"]
    add, apply = found["fix"]["steps"]
    assert add["path"] == server.conf_path and add["action"].startswith(
        f"on server: add a [Peer] for partner-y: `PublicKey = "
        f"{mesh.nodes['partner-y'].public_key}`")
    assert apply["on"] == "server" and found["fix"]["command"] is None
