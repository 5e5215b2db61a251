"""``--ansible-inventory``: Ansible inventories read by the real
``ansible-inventory`` (ansible-core, a test extra) into awgcheck nodes.

The same fleet is written as an INI and as a YAML inventory, each with
child groups, a host range, ``group_vars/`` and ``host_vars/``; both must
give the same nodes, and every host's groups must be what Ansible itself
says in ``group_names``. Then ``check`` runs over them: on local node
trees (``ansible_connection=local``) against the YAML-inventory demo run,
and on real sshd nodes through a bastion and sudo.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sshd_fleet import CONF_REL, SshdFleet, SudoUser

from awgcheck import ansible_inventory, selection
from awgcheck.cli.main import main
from awgcheck.errors import InventoryError
from awgcheck.inventory import Node, Rejected
from tests.paths import DEMO

BIN = Path(sys.executable).parent  # ansible-core is installed beside this Python

INI = """\
lonely ansible_connection=local awg_conf=/srv/lonely/awg0.conf

[vpn]
server ansible_host=203.0.113.1 ansible_port=2222 ansible_become=yes
edge[01:03]

[vpn:vars]
ansible_user=audit

[eu:children]
vpn

[eu:vars]
awg_interface=awg1

[windows]
win1 ansible_connection=winrm

[all:vars]
awgcheck_source=server
"""

YAML = """\
all:
  vars:
    awgcheck_source: server
  hosts:
    lonely: {ansible_connection: local, awg_conf: /srv/lonely/awg0.conf}
  children:
    vpn:
      hosts:
        server: {ansible_host: 203.0.113.1, ansible_port: 2222, ansible_become: yes}
        edge[01:03]:
      vars:
        ansible_user: audit
    eu:
      children:
        vpn:
      vars:
        awg_interface: awg1
    windows:
      hosts:
        win1: {ansible_connection: winrm}
"""

VARS = {
    "group_vars/vpn.yml": "awg_conf: /etc/amnezia/amneziawg/mesh.conf\n"
                          "ansible_ssh_private_key_file: keys/audit_ed25519\n",
    "host_vars/edge02.yml": "ansible_ssh_common_args: >-\n"
                            "  -o ProxyJump=jump@bastion.example:2022\n"
                            "  -o UserKnownHostsFile=/etc/awgcheck/known_hosts\n"
                            "awg_compose: [/opt/edge/compose.yaml]\n",
    # A password in the command: the error must not quote it.
    "host_vars/edge03.yml": "ansible_ssh_common_args: >-\n"
                            "  -o ProxyCommand=\"sshpass -p hunter2-secret ssh -W %h:%p b\"\n",
}


def _tree(root: Path, main_file: str, text: str) -> Path:
    for name, body in {main_file: text, **VARS}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body)
    return root / main_file


@pytest.fixture(params=["hosts.ini", "hosts.yml"])
def inventory_file(request: pytest.FixtureRequest, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # relative key files resolve from here, as ssh does
    text = INI if request.param.endswith(".ini") else YAML
    return _tree(tmp_path / "inventory", request.param, text)


def test_ansible_inventory_hosts_become_nodes(inventory_file: Path, tmp_path: Path) -> None:
    fleet = ansible_inventory.load(inventory_file)
    mesh = {"user": "audit", "identity": tmp_path / "keys" / "audit_ed25519",
            "conf": "/etc/amnezia/amneziawg/mesh.conf", "interface": "awg1",
            "groups": ("eu", "vpn")}
    assert fleet.nodes == (
        Node("edge01", host="edge01", **mesh),
        Node("edge02", host="edge02", jump=("jump@bastion.example:2022",),
             known_hosts=tmp_path / "/etc/awgcheck/known_hosts",
             compose=("/opt/edge/compose.yaml",), **mesh),
        Node("lonely", local=Path("/"), conf="/srv/lonely/awg0.conf", groups=("ungrouped",)),
        Node("server", host="203.0.113.1", port=2222, sudo=True, **mesh),
    )
    assert fleet.source_node == "server"
    rejected = {r.name: (r.groups, r.reason) for r in fleet.rejected}
    assert rejected == {
        "edge03": (("eu", "vpn"), f"{inventory_file}: host edge03: var "
                   "'ansible_ssh_common_args' has a ProxyCommand awgcheck cannot follow (it "
                   "follows `ssh -W %h:%p [-q] [-p PORT] [-l USER] [-J HOPS] [user@]bastion`); "
                   "use ProxyJump, or give the host a Host block with that ProxyCommand in the "
                   "ssh_config awgcheck reads"),
        "win1": (("windows",), f"{inventory_file}: host win1: ansible_connection 'winrm' is "
                 "not one awgcheck reads (ssh, paramiko or local)"),
    }


def test_ansible_inventory_groups_are_ansibles_group_names(inventory_file: Path) -> None:
    fleet = ansible_inventory.load(inventory_file)
    ours = {n.name: list(n.groups) for n in fleet.nodes}
    ours.update({r.name: list(r.groups) for r in fleet.rejected})
    assert ours == _group_names(inventory_file)


def _group_names(inventory_file: Path) -> dict[str, list[str]]:
    """Each host's ``group_names`` as Ansible itself computes it (the debug
    action runs on this machine: nothing is connected to)."""
    done = subprocess.run(
        [str(BIN / "ansible"), "all", "-i", str(inventory_file), "-m", "debug",
         "-a", "var=group_names", "-e", "ansible_connection=local"],
        capture_output=True, text=True, timeout=120, check=True,
        env={**os.environ, "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.minimal",
             "ANSIBLE_NOCOLOR": "1"})
    decoder = json.JSONDecoder()
    found = {}
    for match in re.finditer(r"^(\S+) \| SUCCESS => ", done.stdout, re.MULTILINE):
        value, _ = decoder.raw_decode(done.stdout, match.end())
        found[match.group(1)] = value["group_names"]
    return found


def test_ansible_inventory_saved_listing_is_read_without_ansible(
        inventory_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listing = subprocess.run([str(BIN / "ansible-inventory"), "--list", "-i",
                              str(inventory_file)], capture_output=True, check=True,
                             timeout=120).stdout
    saved = tmp_path / "inventory" / "listing.json"
    saved.write_bytes(listing)
    expected = ansible_inventory.load(inventory_file)
    monkeypatch.setattr(ansible_inventory, "ANSIBLE_INVENTORY", "no-such-program")
    from_json = ansible_inventory.load(saved)
    assert from_json.nodes == expected.nodes
    assert from_json.rejected == tuple(
        Rejected(r.name, r.groups, r.reason.replace(str(inventory_file), str(saved)))
        for r in expected.rejected)
    with pytest.raises(InventoryError, match=re.escape(
            f"{inventory_file}: not the JSON of `ansible-inventory --list`, and reading an INI "
            "or YAML inventory needs no-such-program (pip install ansible-core), which is not "
            "installed")):
        ansible_inventory.load(inventory_file)


def test_ansible_inventory_source_option_wins_over_the_var(inventory_file: Path) -> None:
    assert ansible_inventory.load(inventory_file, "edge01").source_node == "edge01"
    with pytest.raises(InventoryError, match=r"--source: the source node cannot be read: .*"
                                             "host win1"):
        ansible_inventory.load(inventory_file, "win1")


def test_ansible_inventory_selection_of_a_rejected_host_is_an_error(
        inventory_file: Path) -> None:
    fleet = ansible_inventory.load(inventory_file)
    with pytest.raises(InventoryError, match="host edge03: var 'ansible_ssh_common_args'"):
        selection.select(fleet, groups=["vpn"])
    assert [n.name for n in selection.select(fleet, ["edge0[12]", "server"]).nodes] == [
        "edge01", "edge02", "server"]


# --- vars, one host at a time -----------------------------------------------------------


def _one(host_vars: dict[str, Any], **extra: Any) -> Node | str:
    source = str(DEMO / "nodes" / "server" / CONF_REL)
    listing = {"_meta": {"hostvars": {"h": {"awgcheck_source": source, **host_vars}}},
               "all": {"children": ["ungrouped"]}, "ungrouped": {"hosts": ["h"]}, **extra}
    fleet = ansible_inventory.from_listing(listing, Path("inv.json"))
    if fleet.rejected:
        return fleet.rejected[0].reason.removeprefix("inv.json: host h: ")
    return fleet.nodes[0]


@pytest.mark.parametrize(("host_vars", "fields"), [
    ({}, {"host": "h"}),
    ({"ansible_host": "a", "ansible_ssh_host": "b"}, {"host": "b"}),  # the last listed wins
    ({"ansible_port": "2200"}, {"host": "h", "port": 2200}),  # INI group vars are text
    ({"ansible_port": 22, "ansible_ssh_port": 2022}, {"host": "h", "port": 2022}),
    ({"ansible_user": "u", "ansible_ssh_user": None}, {"host": "h", "user": "u"}),  # null: unset
    ({"ansible_become": "True", "ansible_become_method": "sudo"}, {"host": "h", "sudo": True}),
    ({"ansible_become": "no"}, {"host": "h"}),
    ({"ansible_become": 1, "ansible_become_user": "root"}, {"host": "h", "sudo": True}),
    ({"ansible_connection": "paramiko", "ansible_ssh_extra_args": "-J b1,b2"},
     {"host": "h", "jump": ("b1", "b2")}),
    ({"awg_compose": "/opt/a.yaml", "awg_compose_profiles": ["x"], "awg_ping": "ping {addr}",
      "awg_conf": "none"},
     {"host": "h", "conf": None, "compose": ("/opt/a.yaml",), "compose_profiles": ("x",),
      "ping": "ping {addr}"}),
    ({"awg_behind_nat": "yes", "awg_public_address": "vpn.example.net"},
     {"host": "h", "behind_nat": True, "public_address": ("vpn.example.net",)}),
    ({"awg_behind_nat": False, "awg_public_address": ["198.51.100.1", "vpn.example.net"]},
     {"host": "h", "public_address": ("198.51.100.1", "vpn.example.net")}),
    ({"awg_port": 51820, "ansible_password": "hunter2"}, {"host": "h"}),  # not ours: unread
], ids=["defaults", "host-alias", "port-text", "port-alias", "null", "become", "no-become",
        "become-1", "paramiko-jump", "awg-vars", "mesh-vars", "mesh-vars-list", "other-vars"])
def test_ansible_vars_map_to_node_fields(host_vars: dict[str, Any],
                                         fields: dict[str, Any]) -> None:
    assert _one(host_vars) == Node("h", groups=("ungrouped",), **fields)


@pytest.mark.parametrize(("host_vars", "reason"), [
    ({"ansible_connection": "docker"}, "ansible_connection 'docker' is not one awgcheck reads"),
    ({"ansible_port": "22a"}, "var 'ansible_port' must be a port number"),
    ({"ansible_port": 70000}, "var 'ansible_port/ansible_ssh_port' must be 1..65535"),
    ({"ansible_user": "{{ lookup('env', 'USER') }}"},
     "var 'ansible_user' is a Jinja2 template, which only Ansible evaluates"),
    ({"ansible_host": {"__ansible_vault": "$ANSIBLE_VAULT;1.1;AES256\n6231"}},
     "var 'ansible_host' is vault-encrypted"),
    ({"ansible_become": "maybe"}, "var 'ansible_become' must be a boolean"),
    ({"ansible_become": True, "ansible_become_method": "su"},
     "var 'ansible_become_method' is 'su'; awgcheck reads through sudo -n only"),
    ({"ansible_become": True, "ansible_become_user": "postgres"},
     "var 'ansible_become_user' names a user other than root"),
    ({"awg_conf": "etc/awg0.conf"}, "var 'awg_conf' must be an absolute path on the node"),
    ({"awg_conf": "none"}, "'awg_conf: none' needs 'awg_compose'"),
    ({"awg_compose": ["/a", 3]}, "var 'awg_compose' must be text"),
    ({"awg_behind_nat": "maybe"}, "var 'awg_behind_nat' must be a boolean"),
    ({"awg_public_address": {"a": 1}}, "var 'awg_public_address' must be text"),
], ids=["connection", "port-text", "port-range", "template", "vault", "boolean", "become-su",
        "become-user", "relative-conf", "conf-none", "compose-type", "nat-boolean",
        "public-address-type"])
def test_ansible_host_awgcheck_cannot_read_is_rejected(host_vars: dict[str, Any],
                                                       reason: str) -> None:
    said = _one(host_vars)
    assert isinstance(said, str) and said.startswith(reason), said
    assert "hunter2" not in said and "6231" not in said and "USER" not in said


@pytest.mark.parametrize(("listing", "message"), [
    ({"_meta": {"hostvars": {}}, "all": {"children": ["ungrouped"]}},
     "inv.json: the Ansible inventory has no hosts"),
    ({"_meta": {"hostvars": {"a": {}}}, "g": {"hosts": ["a"], "vars": {"x": 1}}},
     "inv.json: group 'g' carries 'vars', as `ansible-inventory --list --export` prints them"),
    ({"_meta": {"hostvars": []}}, "inv.json: '_meta' must hold 'hostvars'"),
    ({"_meta": {"hostvars": {}}, "g": {"hosts": "a"}},
     "inv.json: group 'g': 'hosts' must be a list of names"),
    ({"_meta": {"hostvars": {"a": {}}}}, "inv.json: no source of truth: pass --source "
                                         "NODE|PATH, or set the var 'awgcheck_source'"),
    ({"_meta": {"hostvars": {"a": {"awgcheck_source": "a"}, "b": {"awgcheck_source": "b"}}}},
     "inv.json: var 'awgcheck_source' differs between hosts a and b"),
    ({"_meta": {"hostvars": {"a": {"awgcheck_source": "nope"}}}},
     "inv.json: var 'awgcheck_source': 'nope' is neither a node name (a)"),
], ids=["no-hosts", "export", "hostvars", "hosts-type", "no-source", "two-sources",
        "unknown-source"])
def test_ansible_listing_errors(listing: dict[str, Any], message: str) -> None:
    with pytest.raises(InventoryError, match=re.escape(message)):
        ansible_inventory.from_listing(listing, Path("inv.json"))


def test_ansible_inventory_that_ansible_cannot_parse_is_an_inventory_error(
        tmp_path: Path) -> None:
    broken = tmp_path / "hosts.ini"
    broken.write_text("[vpn\nserver ansible_password=hunter2\n")
    with pytest.raises(InventoryError) as caught:
        ansible_inventory.load(broken)
    message = str(caught.value)
    assert message.startswith(f"{broken}: ansible-inventory could not read it: [ERROR]")
    assert "hunter2" not in message
    with pytest.raises(InventoryError, match="Ansible inventory not found"):
        ansible_inventory.load(tmp_path / "missing.ini")


# --- check over the nodes -----------------------------------------------------------------


def _check(*args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(main, ["check", "--format", "json", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, report, result.stderr


def _verdicts(report: dict[str, Any]) -> set[tuple[str, str, str, str | None]]:
    return {(f["node"], f["rule"], f["status"], f["param"]) for f in report["findings"]}


def test_cli_check_ansible_local_nodes_find_what_the_yaml_inventory_finds(
        tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo)
    lines = ["[core]", "server", "[partners]", "partner-berlin", "partner-tbilisi",
             "partner-almaty", "[all:vars]", "ansible_connection=local", "awgcheck_source=server"]
    (demo / "ansible").mkdir()
    (demo / "ansible" / "hosts.ini").write_text("\n".join(lines) + "\n")
    for name, fields in yaml.safe_load((demo / "fleet.yaml").read_text())["nodes"].items():
        root = demo / fields["local"]
        host_vars = {"awg_conf": f"{root}/etc/amnezia/amneziawg/awg0.conf"}
        if "compose" in fields:
            host_vars["awg_compose"] = [f"{root}{path}" for path in fields["compose"]]
            host_vars["awg_compose_profiles"] = fields["compose_profiles"]
        (demo / "ansible" / "host_vars").mkdir(exist_ok=True)
        (demo / "ansible" / "host_vars" / f"{name}.yml").write_text(yaml.safe_dump(host_vars))
    code, report, err = _check("--ansible-inventory", str(demo / "ansible" / "hosts.ini"))
    yaml_code, yaml_report, _ = _check("-i", str(demo / "fleet.yaml"))
    assert (code, err) == (yaml_code, "")
    assert code == 1  # Tbilisi's S4 drift and its relay on 0.0.0.0
    assert [n["name"] for n in report["nodes"]] == sorted(n["name"] for n in yaml_report["nodes"])
    assert _verdicts(report) == _verdicts(yaml_report)
    code, report, _ = _check("--ansible-inventory", str(demo / "ansible" / "hosts.ini"),
                             "--group", "partners", "--node", "partner-t*")
    assert [n["name"] for n in report["nodes"]] == [
        "partner-almaty", "partner-berlin", "partner-tbilisi"]


def test_cli_check_both_or_no_inventory_is_a_usage_error(tmp_path: Path) -> None:
    for args in ([], ["-i", str(DEMO / "fleet.yaml"), "--ansible-inventory", "x.ini"]):
        code, _, err = _check(*args)
        assert code == 2
        assert "name the fleet with --inventory FILE (awgcheck's YAML) or --ansible-inventory" \
            in err


def test_cli_check_selected_rejected_host_is_a_usage_error_without_secrets(
        inventory_file: Path) -> None:
    code, _, err = _check("--ansible-inventory", str(inventory_file), "--node", "edge03")
    assert code == 2
    assert err.startswith(f"awgcheck: error: {inventory_file}: host edge03: var "
                          "'ansible_ssh_common_args' has a ProxyCommand awgcheck cannot follow")
    assert "hunter2" not in err


def test_cli_check_ansible_nodes_over_ssh_through_a_bastion_with_sudo(tmp_path: Path) -> None:
    # DEBUG1 logs each direct-tcpip channel: the proof a bastion was used
    # (on loopback every node is reachable straight away too).
    with SshdFleet(nodes_wanted=3, sshd_flags=("-o", "LogLevel=DEBUG1")) as fleet:
        server, partner, drifted = fleet.nodes
        server.write(CONF_REL, (DEMO / "nodes" / "server" / CONF_REL).read_text(), 0o600)
        partner.write(CONF_REL, (DEMO / "nodes" / "partner-berlin" / CONF_REL).read_text(),
                      0o600)
        drifted.write(CONF_REL, (DEMO / "nodes" / "partner-tbilisi" / CONF_REL).read_text(),
                      0o600)
        with SudoUser([partner.conf_path]) as sudo_user:
            inventory = tmp_path / "hosts.ini"
            known = f"-o UserKnownHostsFile={fleet.known_hosts}"
            bastion = f"root@{server.host}:{server.port}"
            inventory.write_text("\n".join([
                "[mesh]",
                f"server ansible_host={server.host} ansible_port={server.port}",
                f"partner ansible_host={partner.host} ansible_port={partner.port} "
                f"ansible_user={sudo_user.name} ansible_become=true "
                f"ansible_ssh_common_args='{known} -o ProxyJump={bastion}'",
                f"drifted ansible_host={drifted.host} ansible_port={drifted.port} "
                f"ansible_ssh_common_args='{known} -o ProxyCommand=\"ssh -W %h:%p -q "
                f"-p {server.port} root@{server.host}\"'",
                "[mesh:vars]",
                "ansible_user=root",
                f"ansible_ssh_private_key_file={fleet.client_key}",
                f"ansible_ssh_common_args='{known}'",
                "awgcheck_source=server",
            ]) + "\n")
            host_vars = tmp_path / "host_vars"
            host_vars.mkdir()
            for node, name in ((server, "server"), (partner, "partner"), (drifted, "drifted")):
                (host_vars / f"{name}.yml").write_text(f"awg_conf: {node.conf_path}\n")
            done = subprocess.run(
                [sys.executable, "-m", "awgcheck", "check", "--ansible-inventory",
                 str(inventory), "--format", "json", "--ssh-config", "none", "--timeout", "20"],
                capture_output=True, text=True, timeout=120,
                env={k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"})
        forwarded = re.findall(r"server_request_direct_tcpip: .*, target \S+ port (\d+)",
                               server.sshd.log.read_text())
    assert sorted(set(forwarded)) == sorted({str(partner.port), str(drifted.port)})
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert {n["name"]: (n["status"], n["error_class"]) for n in report["nodes"]} == {
        "drifted": ("fail", None), "partner": ("pass", None), "server": ("pass", None)}
    assert {(f["node"], f["param"]) for f in report["findings"]
            if f["status"] == "fail"} == {("drifted", "S4")}
