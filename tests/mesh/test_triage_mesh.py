"""`awgcheck triage` with a `mesh:` inventory judges the edge between the
node and the hub (the source node), on local trees: an old key on either
side or a missing [Peer] is named as "handshake never completes" with the
fix on the side that is wrong; an Endpoint port and an AllowedIPs gap too.
Every format says it; no private key or PresharedKey is printed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import mesh_fleet
import pytest
from in_process import awgcheck
from mesh_fleet import CONF_REL, PORT, Mesh

from awgcheck.report import markdown

NAMES = ["server", "partner-x", "partner-y"]
FORMATS = ("table", "markdown", "json")


def triage(inventory: Path, node: str, fmt: str) -> subprocess.CompletedProcess[str]:
    return awgcheck("triage", node, "-i", str(inventory), "--format", fmt)


def verdict(inventory: Path, node: str) -> dict[str, object]:
    proc = triage(inventory, node, "json")
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["verdict"]  # type: ignore[no-any-return]


def assert_no_secrets(mesh: Mesh, text: str) -> None:
    for node in mesh.nodes.values():
        assert node.private_key not in text
        for peer in node.peers.values():
            assert not peer.preshared_key or peer.preshared_key not in text


def every_format(mesh: Mesh, inventory: Path, node: str) -> dict[str, str]:
    outputs = {}
    for fmt in FORMATS:
        proc = triage(inventory, node, fmt)
        assert proc.returncode == 1, (fmt, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert_no_secrets(mesh, proc.stdout + proc.stderr)
        outputs[fmt] = proc.stdout
    return outputs


def test_an_old_key_for_the_hub_is_fixed_on_the_node(tmp_path: Path) -> None:
    mesh = mesh_fleet.hub_and_spoke(NAMES)
    old = mesh_fleet.keypair()[1]
    mesh.nodes["partner-x"].peers["server"].public_key = old
    inventory = mesh.write_trees(tmp_path)
    said = (f"handshake never completes: partner-x's [Peer] for server "
            f"({tmp_path / 'partner-x' / CONF_REL}:{mesh.line_of('partner-x', '[Peer]')}) "
            f"carries an old key {old[:8]}..., not server's public key "
            f"{mesh.nodes['server'].public_key[:8]}...")
    outputs = every_format(mesh, inventory, "partner-x")
    for fmt, text in outputs.items():
        shown = markdown.cell(said) if fmt == "markdown" else said
        assert shown in " ".join(text.split()), fmt
    found = verdict(inventory, "partner-x")
    assert found["cause"] == "mesh-key"
    [edit] = found["fix"]["steps"]  # type: ignore[index]
    assert edit["path"] == str(tmp_path / "partner-x" / CONF_REL)
    assert edit["line"] == mesh.line_of("partner-x", "PublicKey")
    assert edit["action"] == (f"on partner-x: change `PublicKey = {old}` to `PublicKey = "
                              f"{mesh.nodes['server'].public_key}` (server's public key)")
    assert found["fix"]["command"] == "awg-quick down awg0 && awg-quick up awg0"  # type: ignore[index]


def test_a_hub_without_the_node_is_fixed_on_the_hub(tmp_path: Path) -> None:
    mesh = mesh_fleet.hub_and_spoke(NAMES)
    del mesh.nodes["server"].peers["partner-y"]
    inventory = mesh.write_trees(tmp_path)
    outputs = every_format(mesh, inventory, "partner-y")
    key = mesh.nodes["partner-y"].public_key
    assert ("handshake never completes: server has no [Peer] for partner-y (none with "
            f"partner-y's public key {key[:8]}...): server drops partner-y's handshake "
            "initiations") in " ".join(outputs["table"].split())
    assert "server has no \\[Peer\\] for partner-y" in outputs["markdown"]
    found = verdict(inventory, "partner-y")
    add, apply = found["fix"]["steps"]  # type: ignore[index]
    assert add["path"] == str(tmp_path / "server" / CONF_REL)
    assert add["action"] == (f"on server: add a [Peer] for partner-y: `PublicKey = {key}`; "
                             "`AllowedIPs = 10.77.0.3/32`")
    assert apply == {"path": None, "line": None, "policy": False, "on": "server",
                     "action": "awg syncconf awg0 <(awg-quick strip awg0)"}
    # partner-y's own file is right: it is not restarted
    assert found["fix"]["command"] is None  # type: ignore[index]


def test_an_old_key_on_the_hub_is_found_by_the_address_it_routes(tmp_path: Path) -> None:
    mesh = mesh_fleet.hub_and_spoke(NAMES)
    old = mesh_fleet.keypair()[1]
    mesh.nodes["server"].peers["partner-y"].public_key = old
    inventory = mesh.write_trees(tmp_path)
    found = verdict(inventory, "partner-y")
    line = mesh.line_of("server", "[Peer]", "# partner-y")
    assert str(found["headline"]).startswith(
        f"handshake never completes: server's [Peer] for partner-y "
        f"({tmp_path / 'server' / CONF_REL}:{line}, the one whose AllowedIPs route "
        f"partner-y's address) carries an old key {old[:8]}...")
    edit = found["fix"]["steps"][0]  # type: ignore[index]
    assert (edit["path"], edit["line"]) == (str(tmp_path / "server" / CONF_REL), line + 1)
    assert edit["action"].startswith(f"on server: change `PublicKey = {old}` to `PublicKey = "
                                     f"{mesh.nodes['partner-y'].public_key}`")


@pytest.mark.parametrize("fault", ["endpoint", "allowed-ips"])
def test_an_endpoint_port_or_an_allowed_ips_gap_is_named(tmp_path: Path, fault: str) -> None:
    mesh = mesh_fleet.hub_and_spoke(NAMES)
    if fault == "endpoint":
        mesh.nodes["partner-x"].peers["server"].endpoint = f"203.0.113.1:{PORT + 1}"
        said = (f"partner-x's handshakes never reach server: Endpoint for server is port "
                f"{PORT + 1}, but server listens on {PORT}")
        step = (str(tmp_path / "partner-x" / CONF_REL), mesh.line_of("partner-x", "Endpoint"),
                f"on partner-x: set the Endpoint for server to `203.0.113.1:{PORT}`")
    else:
        mesh.nodes["server"].peers["partner-x"].allowed_ips = ["10.77.0.99/32"]
        said = ("server's AllowedIPs for partner-x (10.77.0.99/32) do not cover partner-x's "
                "tunnel address 10.77.0.2")
        step = (str(tmp_path / "server" / CONF_REL),
                mesh.line_of("server", "AllowedIPs", "# partner-x"),
                "on server: add 10.77.0.2/32 to the AllowedIPs for partner-x")
    found = verdict(mesh.write_trees(tmp_path), "partner-x")
    assert found["status"] == "mismatch" and str(found["headline"]).startswith(said)
    first = found["fix"]["steps"][0]  # type: ignore[index]
    assert (first["path"], first["line"], first["action"]) == step


def test_a_sound_edge_adds_nothing(tmp_path: Path) -> None:
    mesh = mesh_fleet.hub_and_spoke(NAMES)
    proc = triage(mesh.write_trees(tmp_path), "partner-x", "json")
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["verdict"]["status"] == "clean"


def test_without_a_mesh_section_the_edge_is_not_judged(tmp_path: Path) -> None:
    mesh = mesh_fleet.hub_and_spoke(NAMES)
    del mesh.nodes["server"].peers["partner-y"]
    inventory = mesh.write_trees(tmp_path)
    text = inventory.read_text()
    inventory.write_text(text[:text.index("\nmesh:")] + "\n")
    assert verdict(inventory, "partner-y")["status"] == "clean"


def test_a_param_difference_does_not_hide_the_key(tmp_path: Path) -> None:
    # S4 differs too: without evidence the key ranks first (it breaks the
    # edge before any param is read) and S4 is listed as also differing.
    mesh = mesh_fleet.hub_and_spoke(NAMES)
    mesh.nodes["partner-x"].peers["server"].public_key = mesh_fleet.keypair()[1]
    inventory = mesh.write_trees(tmp_path)
    conf = tmp_path / "partner-x" / CONF_REL
    conf.write_text(conf.read_text().replace("S4 = 18", "S4 = 17"))
    found = verdict(inventory, "partner-x")
    assert found["cause"] == "mesh-key"
    assert [a["param"] for a in found["also"]] == ["S4"]  # type: ignore[union-attr]
    actions = [s["action"] for s in found["fix"]["steps"]]  # type: ignore[index]
    assert actions[0].startswith("on partner-x: change `PublicKey = ")
    assert actions[1] == "change `S4 = 17` to `S4 = 18`"


def test_presharedkeys_that_differ_are_named_by_where_they_are_written(tmp_path: Path) -> None:
    mesh = mesh_fleet.hub_and_spoke(NAMES)
    mesh.nodes["partner-x"].peers["server"].preshared_key = mesh_fleet.preshared()
    inventory = mesh.write_trees(tmp_path)
    outputs = every_format(mesh, inventory, "partner-x")  # no key in any of them
    assert "handshake never completes: PresharedKey for server is sha256:" in outputs["table"]
    found = verdict(inventory, "partner-x")
    assert found["cause"] == "mesh-key"
    edit = found["fix"]["steps"][0]  # type: ignore[index]
    server_line = mesh.line_of("server", "PresharedKey", "# partner-x")
    assert (edit["path"], edit["line"], edit["action"]) == (
        str(tmp_path / "partner-x" / CONF_REL), mesh.line_of("partner-x", "PresharedKey"),
        f"on partner-x: set `PresharedKey = <the key from "
        f"{tmp_path / 'server' / CONF_REL}:{server_line}>` for server")
