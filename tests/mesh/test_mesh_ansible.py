"""The mesh declared in an Ansible inventory: the var ``awgcheck_mesh`` (in
``group_vars/all.yml``) and the host vars ``awg_behind_nat`` and
``awg_public_address``, read by the real ``ansible-inventory``.

The faulty fleet of :mod:`faults` is written twice, as awgcheck's YAML
inventory and as an INI or YAML Ansible inventory over the same local
node trees; both must give the same mesh settings and node fields, and
``check`` must report the same planted faults. A mistake in the var is an
error naming the file and the var, never a line of a document no one wrote.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import mesh_fleet
import pytest
import yaml
from faults import expected_set, faulty_fleet, found
from in_process import awgcheck
from mesh_fleet import CONF_REL, Mesh, keypair

from awgcheck import ansible_inventory
from awgcheck import inventory as yaml_inventory
from awgcheck.errors import InventoryError
from awgcheck.inventory import Inventory
from awgcheck.mesh.settings import MeshSettings


def _host_fields(mesh: Mesh, name: str) -> dict[str, Any]:
    """The mesh node fields of ``name`` as Ansible host vars."""
    fields = mesh.node_fields(name)
    said: dict[str, Any] = {}
    if fields.get("behind_nat"):
        said["awg_behind_nat"] = "yes"  # text, as an INI host line gives it
    if "public_address" in fields:
        said["awg_public_address"] = fields["public_address"]
    return said


def _ansible_tree(mesh: Mesh, trees: Path, style: str) -> Path:
    """An Ansible inventory (``hosts.ini`` or ``hosts.yml``) of ``mesh``'s
    local node trees under ``trees``: the mesh in group_vars/all.yml, the
    node fields on the host lines, each conf path in host_vars/."""
    root = trees / "ansible"
    (root / "group_vars").mkdir(parents=True)
    (root / "host_vars").mkdir()
    (root / "group_vars" / "all.yml").write_text(yaml.safe_dump({
        "ansible_connection": "local", "awgcheck_source": mesh.hub or next(iter(mesh.nodes)),
        "awgcheck_mesh": mesh.mesh_section()}))
    for name in mesh.nodes:
        (root / "host_vars" / f"{name}.yml").write_text(
            yaml.safe_dump({"awg_conf": str(trees / name / CONF_REL)}))
    if style == "ini":
        lines = ["[mesh]"]
        for name in mesh.nodes:
            fields = " ".join(f"{var}={value}"
                              for var, value in _host_fields(mesh, name).items())
            lines.append(f"{name} {fields}".rstrip())
        path = root / "hosts.ini"
        path.write_text("\n".join(lines) + "\n")
    else:
        hosts = {name: _host_fields(mesh, name) or None for name in mesh.nodes}
        path = root / "hosts.yml"
        path.write_text(yaml.safe_dump({"all": {"children": {"mesh": {"hosts": hosts}}}}))
    return path


def _comparable(settings: MeshSettings | None) -> MeshSettings:
    """Settings without where they were read (a file line, or a var)."""
    assert settings is not None
    return replace(settings, origin="", line=0, said=None,
                   external=tuple(replace(p, line=None) for p in settings.external))


def _mesh_fields(fleet: Inventory) -> dict[str, tuple[bool, tuple[str, ...]]]:
    return {n.name: (n.behind_nat, n.public_address) for n in fleet.nodes}


@pytest.mark.parametrize("style", ["ini", "yml"])
def test_ansible_mesh_is_the_yaml_inventorys_mesh(tmp_path: Path, style: str) -> None:
    mesh, _ = faulty_fleet()
    yaml_fleet = yaml_inventory.load(mesh.write_trees(tmp_path))
    path = _ansible_tree(mesh, tmp_path, style)
    fleet = ansible_inventory.load(path)
    assert _comparable(fleet.mesh) == _comparable(yaml_fleet.mesh)
    assert fleet.mesh is not None and fleet.mesh.said == f"{path}: var 'awgcheck_mesh'"
    assert fleet.mesh.hub == "hub" and [p.name for p in fleet.mesh.external] == ["phone"]
    assert _mesh_fields(fleet) == _mesh_fields(yaml_fleet)
    assert _mesh_fields(fleet)["spoke10"] == (True, ("203.0.113.11",))
    assert not fleet.rejected


@pytest.mark.parametrize("style", ["ini", "yml"])
def test_cli_check_ansible_mesh_finds_the_planted_faults(tmp_path: Path, style: str) -> None:
    mesh, expected = faulty_fleet()
    yaml_run = awgcheck("check", "-i", str(mesh.write_trees(tmp_path)), "--format", "json")
    path = _ansible_tree(mesh, tmp_path, style)
    run = awgcheck("check", "--ansible-inventory", str(path), "--format", "json")
    assert (run.returncode, run.stderr) == (yaml_run.returncode, "") == (1, "")
    report = json.loads(run.stdout)
    assert found(report) == found(json.loads(yaml_run.stdout)) == expected_set(expected)
    assert any(f["rule"] == "mesh-peer-known" and f["status"] == "pass"
               and "external peer phone" in f["message"] for f in report["findings"])
    # Where the mesh was declared is the var, not a line of the listing.
    unknown = [f["message"] for f in report["findings"]
               if f["rule"] == "mesh-peer-known" and "no external peer" in f["message"]]
    assert unknown and all(m.endswith(f"declared in {path}: var 'awgcheck_mesh'")
                           for m in unknown), unknown


def test_topology_draws_the_ansible_inventorys_mesh_as_the_yaml_one(tmp_path: Path) -> None:
    mesh, _ = faulty_fleet()
    yaml_run = awgcheck("topology", "-i", str(mesh.write_trees(tmp_path)))
    run = awgcheck("topology", "--ansible-inventory",
                   str(_ansible_tree(mesh, tmp_path, "yml")))
    assert (run.returncode, run.stderr) == (yaml_run.returncode, "") == (0, "")
    # The same picture; Ansible lists hosts by name, so the order may differ.
    drawn, expected = json.loads(run.stdout), json.loads(yaml_run.stdout)
    for part in ("nodes", "edges"):
        assert sorted(map(json.dumps, drawn[part])) == sorted(map(json.dumps, expected[part]))
    assert {e["state"] for e in drawn["edges"]} > {"ok", "external"}


def test_topology_of_an_ansible_inventory_without_a_mesh_names_the_var(tmp_path: Path) -> None:
    path = tmp_path / "inv.json"
    listing = _listing(None)
    for host in listing["_meta"]["hostvars"].values():
        del host["awgcheck_mesh"]
    path.write_text(json.dumps(listing))
    run = awgcheck("topology", "--ansible-inventory", str(path))
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == (f"awgcheck: error: {path}: has no var awgcheck_mesh to draw "
                          "(see docs/topology.md)\n")


def test_cli_check_ansible_mesh_finding_names_the_var_not_a_line(tmp_path: Path) -> None:
    mesh = mesh_fleet.full_mesh(["a", "b"])
    mesh.nodes["b"].address = "10.99.0.2/16"
    mesh.write_trees(tmp_path)
    path = _ansible_tree(mesh, tmp_path, "ini")
    run = awgcheck("check", "--ansible-inventory", str(path), "--format", "json")
    [outside] = [f["message"] for f in json.loads(run.stdout)["findings"]
                 if f["rule"] == "mesh-address-unique" and f["status"] == "fail"]
    assert outside == (f"10.99.0.2 is outside the mesh prefix 10.77.0.0/16 ({path}: var "
                       "'awgcheck_mesh')")


def _broken(tmp_path: Path, mesh_value: object, host_vars: dict[str, Any] | None = None
            ) -> tuple[Path, str]:
    """An Ansible inventory whose group_vars/all.yml sets ``awgcheck_mesh``
    to ``mesh_value``; its ``check`` exit code must be 2: returns (path, stderr)."""
    mesh, _ = faulty_fleet()
    mesh.write_trees(tmp_path)
    path = _ansible_tree(mesh, tmp_path, "yml")
    all_vars = yaml.safe_load((path.parent / "group_vars" / "all.yml").read_text())
    (path.parent / "group_vars" / "all.yml").write_text(
        yaml.safe_dump({**all_vars, "awgcheck_mesh": mesh_value}))
    for name, extra in (host_vars or {}).items():
        host_file = path.parent / "host_vars" / f"{name}.yml"
        host_file.write_text(yaml.safe_dump({**yaml.safe_load(host_file.read_text()),
                                             **extra}))
    run = awgcheck("check", "--ansible-inventory", str(path), "--format", "json")
    assert (run.returncode, run.stdout) == (2, ""), run.stderr
    return path, run.stderr


@pytest.mark.parametrize(("mesh_value", "host_vars", "message"), [
    ({"topology": "star"}, None,
     "var 'awgcheck_mesh': key 'topology' must be one of hub-and-spoke, full-mesh, got 'star'"),
    ({"topology": "full-mesh", "topolgy": "x"}, None,
     "var 'awgcheck_mesh': unknown key 'topolgy' (allowed: topology, hub, prefix, "
     "external_peers)"),
    ({"topology": "full-mesh"}, {"spoke3": {"awgcheck_mesh": {"topology": "hub-and-spoke"}}},
     "var 'awgcheck_mesh' differs between hosts hub and spoke3; set it once (group_vars/all)"),
    ("topology: full-mesh", None,
     "var 'awgcheck_mesh' is text, not a mapping: set it in a YAML file "
     "(group_vars/all.yml), where it keeps its keys"),
    (["full-mesh"], None,
     "var 'awgcheck_mesh': must be a mapping of topology, hub, prefix, external_peers"),
], ids=["topology", "unknown-key", "two-values", "text", "list"])
def test_cli_check_ansible_mesh_mistake_names_the_file_and_the_var(
        tmp_path: Path, mesh_value: object, host_vars: dict[str, Any] | None,
        message: str) -> None:
    path, err = _broken(tmp_path, mesh_value, host_vars)
    assert err == f"awgcheck: error: {path}: {message}\n"


# --- the var, read from a listing (no Ansible needed) -----------------------------------


def _listing(mesh_value: object, **host_vars: Any) -> dict[str, Any]:
    shared = {"ansible_connection": "local", "awgcheck_source": "a",
              "awgcheck_mesh": mesh_value}
    return {"_meta": {"hostvars": {"a": shared, "b": {**shared, **host_vars}}},
            "all": {"children": ["ungrouped"]}, "ungrouped": {"hosts": ["a", "b"]}}


def test_ansible_mesh_external_peers_are_placed_by_position() -> None:
    key = keypair()[1]
    peers = [{"name": "phone", "public_key": key}, {"name": "tablet", "public_key": key}]
    with pytest.raises(InventoryError) as caught:
        ansible_inventory.from_listing(_listing({"external_peers": peers}), Path("inv.json"))
    assert str(caught.value) == ("inv.json: var 'awgcheck_mesh': external_peers 2: public_key "
                                 "is also 'phone''s (external_peers 1)")


def test_ansible_mesh_errors_never_print_a_value_of_another_host() -> None:
    with pytest.raises(InventoryError) as caught:
        ansible_inventory.from_listing(
            _listing({"topology": "full-mesh"}, awgcheck_mesh={"topology": "hunter2"}),
            Path("inv.json"))
    assert "hunter2" not in str(caught.value)
    assert not re.search(r"inv\.json:\d", str(caught.value))


def test_ansible_mesh_hub_defaults_to_the_source_node() -> None:
    fleet = ansible_inventory.from_listing(_listing({"topology": "hub-and-spoke"}),
                                           Path("inv.json"))
    assert fleet.mesh is not None and fleet.mesh.hub == "a"
    no_mesh = ansible_inventory.from_listing(_listing(None), Path("inv.json"))
    assert no_mesh.mesh is None


def test_ansible_mesh_hub_that_awgcheck_cannot_read_says_why() -> None:
    listing = _listing({"topology": "hub-and-spoke", "hub": "b"}, ansible_connection="winrm")
    with pytest.raises(InventoryError) as caught:
        ansible_inventory.from_listing(listing, Path("inv.json"))
    said = str(caught.value)
    assert said.startswith("inv.json: host b: ansible_connection 'winrm'"), said
    assert said.endswith("; it is the hub of var 'awgcheck_mesh'"), said


def test_topology_takes_the_source_as_check_does(tmp_path: Path) -> None:
    """An Ansible inventory without awgcheck_source: the error says to pass
    --source, and topology takes it."""
    mesh, _ = faulty_fleet()
    mesh.write_trees(tmp_path)
    path = _ansible_tree(mesh, tmp_path, "yml")
    listing = ansible_inventory.read_listing(path)
    for host in listing["_meta"]["hostvars"].values():
        host.pop("awgcheck_source", None)
    saved = tmp_path / "listing.json"
    saved.write_text(json.dumps(listing))
    refused = awgcheck("topology", "--ansible-inventory", str(saved))
    assert refused.returncode == 2 and "--source" in refused.stderr, refused.stderr
    drawn = awgcheck("topology", "--ansible-inventory", str(saved), "--source", "hub")
    assert (drawn.returncode, drawn.stderr) == (0, ""), drawn.stderr
    assert {n["name"] for n in json.loads(drawn.stdout)["nodes"]} >= set(mesh.nodes)
