"""An Ansible inventory as awgcheck nodes (``--ansible-inventory FILE``).

The inventory is read the way Ansible reads it, by Ansible:
``ansible-inventory --list -i FILE`` (INI, YAML, a folder, a dynamic
inventory; ``host_vars/`` and ``group_vars/`` beside it, ranges such as
``web[01:10]``, vault secrets as ``ANSIBLE_VAULT_PASSWORD_FILE`` says).
Its JSON, saved to a file, is read directly, without Ansible.

Every host is a node named by its inventory name, in the groups it belongs
to (through child groups too; ``all`` left out, as in ``group_names``).
Vars map to node fields; when several spell one setting, the last one
listed wins, as in Ansible's ssh connection plugin:

- ``ansible_host``/``ansible_ssh_host`` (default: the inventory name),
  ``ansible_port``/``ansible_ssh_port``, ``ansible_user``/``ansible_ssh_user``,
  ``ansible_private_key_file``/``ansible_ssh_private_key_file`` (relative to
  the working folder, as ssh takes it);
- a jump (ProxyJump, or a ProxyCommand of ``ssh -W``) and a
  UserKnownHostsFile in ``ansible_ssh_args``, ``ansible_ssh_common_args``
  or ``ansible_ssh_extra_args`` (see :mod:`awgcheck.ssh_args`; relative
  paths, as every path here, from the working folder);
- ``ansible_become`` -> ``sudo``; only the ``sudo`` method to ``root``;
- ``ansible_connection``: ``ssh``/``paramiko`` (the default) or ``local``
  (this machine, read at ``/``); any other is not readable;
- ``awg_conf``, ``awg_interface``, ``awg_compose``, ``awg_compose_env_files``,
  ``awg_compose_profiles``, ``awg_ping``, ``awg_behind_nat`` (a boolean, read
  as ``ansible_become``), ``awg_public_address``: the awgcheck fields of
  those names.

A host awgcheck cannot read (another connection, a ProxyCommand it cannot
follow, a var still a Jinja template or vault-encrypted, a value of the
wrong type) is kept as :class:`~awgcheck.inventory.Rejected`: an error only
when a run selects it. Errors name the file, the host and the var, never
a value: vars may hold secrets.

The source of truth is ``--source`` or the var ``awgcheck_source``; the
mesh (docs/topology.md) is the var ``awgcheck_mesh``, a mapping read as the
``mesh:`` section of awgcheck's inventory. Each is one value that every
host carrying it agrees on (set once, in ``group_vars/all.yml``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from awgcheck import ssh_args, yamlfile
from awgcheck.errors import InventoryError
from awgcheck.inventory import Inventory, Node, Rejected, build_node, with_source
from awgcheck.mesh import settings as mesh_settings
from awgcheck.secrecy import scrub

ANSIBLE_INVENTORY = "ansible-inventory"
RUN_DEADLINE = 300.0
"""Seconds ``ansible-inventory`` may take (a dynamic inventory asks a cloud API)."""
SOURCE_VAR = "awgcheck_source"
MESH_VAR = "awgcheck_mesh"

# node field -> the vars that set it, in Ansible's order (the last set wins)
_CONNECTION_VARS: dict[str, tuple[str, ...]] = {
    "host": ("ansible_host", "ansible_ssh_host"),
    "port": ("ansible_port", "ansible_ssh_port"),
    "user": ("ansible_user", "ansible_ssh_user"),
    "identity": ("ansible_private_key_file", "ansible_ssh_private_key_file"),
}
# The order ssh sees them in (Ansible's ssh plugin): the first jump wins.
_SSH_ARGS_VARS = ("ansible_ssh_args", "ansible_ssh_common_args", "ansible_ssh_extra_args")
_AWG_VARS: dict[str, str] = {
    "conf": "awg_conf",
    "interface": "awg_interface",
    "compose": "awg_compose",
    "compose_env_files": "awg_compose_env_files",
    "compose_profiles": "awg_compose_profiles",
    "ping": "awg_ping",
    "behind_nat": "awg_behind_nat",
    "public_address": "awg_public_address",
}
_LIST_FIELDS = frozenset({"compose", "compose_env_files", "compose_profiles", "public_address"})
_BOOL_FIELDS = frozenset({"behind_nat"})
_SSH_CONNECTIONS = frozenset({"ssh", "smart", "paramiko", "paramiko_ssh", "ansible.builtin.ssh",
                              "ansible.builtin.paramiko_ssh", "ansible.legacy.ssh"})
_LOCAL_CONNECTIONS = frozenset({"local", "ansible.builtin.local", "ansible.legacy.local"})
# ansible.module_utils.parsing.convert_bool
_TRUE = frozenset({"y", "yes", "on", "1", "true", "t"})
_FALSE = frozenset({"n", "no", "off", "0", "false", "f"})


class _Unreadable(Exception):
    """Why one host cannot be a node (its message leads with the var)."""


def load(path: Path, source: str | None = None) -> Inventory:
    """The nodes of the Ansible inventory at ``path``; ``source``
    (``--source``) wins over the ``awgcheck_source`` var."""
    return from_listing(read_listing(path), path, source)


def read_listing(path: Path) -> dict[str, Any]:
    """The ``ansible-inventory --list`` JSON for ``path``: the file itself
    when it is that JSON, else what ``ansible-inventory`` makes of it."""
    if not path.exists():
        raise InventoryError(f"{path}: Ansible inventory not found")
    if path.is_file():
        listing = _saved_listing(path)
        if listing is not None:
            return listing
    return _run_ansible_inventory(path)


def _saved_listing(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(f"{path}: cannot read the inventory: {exc}") from None
    if not text.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None  # JSON-looking YAML, or a broken file: Ansible's to judge
    return data if isinstance(data, dict) and "_meta" in data else None


def _find_ansible_inventory() -> str | None:
    """On PATH, or beside this Python (awgcheck and ansible-core installed
    in one virtualenv that is not activated)."""
    found = shutil.which(ANSIBLE_INVENTORY)
    if found is not None:
        return found
    beside = Path(sys.executable).parent / ANSIBLE_INVENTORY
    return str(beside) if os.access(beside, os.X_OK) else None


def _run_ansible_inventory(path: Path) -> dict[str, Any]:
    program = _find_ansible_inventory()
    if program is None:
        raise InventoryError(
            f"{path}: not the JSON of `ansible-inventory --list`, and reading an INI or YAML "
            f"inventory needs {ANSIBLE_INVENTORY} (pip install ansible-core), which is not "
            "installed; or pass the saved output of `ansible-inventory --list -i FILE`")
    # An inventory no plugin can parse is a warning and an empty fleet to
    # Ansible by default; here it must fail.
    env = {**os.environ, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True", "ANSIBLE_NOCOLOR": "1"}
    try:
        done = subprocess.run([program, "--list", "-i", str(path)], capture_output=True,
                              env=env, stdin=subprocess.DEVNULL, timeout=RUN_DEADLINE,
                              check=False)
    except subprocess.TimeoutExpired:
        raise InventoryError(f"{path}: {ANSIBLE_INVENTORY} did not answer within "
                             f"{RUN_DEADLINE:g} s") from None
    except OSError as exc:
        raise InventoryError(f"{path}: cannot run {program}: {exc.strerror}") from None
    if done.returncode != 0:
        raise InventoryError(f"{path}: {ANSIBLE_INVENTORY} could not read it: "
                             f"{_said(done.stderr)}")
    try:
        data = json.loads(done.stdout)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise InventoryError(f"{path}: {ANSIBLE_INVENTORY} printed no inventory JSON")
    return data


def _said(stderr: bytes) -> str:
    """What ansible-inventory said, on one line: its error lines (they
    may quote the file, so secrets are scrubbed)."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    errors = [line for line in lines if line.startswith("[ERROR]")] or [
        line for line in lines if line][-3:]
    return scrub(" ".join(errors))[:1000] or "no message"


@dataclass(frozen=True)
class _Listing:
    """The parts of the ``--list`` JSON awgcheck reads, checked for shape."""

    hosts: tuple[str, ...]  # every host, by name
    groups: Mapping[str, tuple[str, ...]]  # host -> its groups, sorted, without "all"
    hostvars: Mapping[str, Mapping[str, Any]]


def from_listing(data: dict[str, Any], path: Path, source: str | None = None) -> Inventory:
    """The :class:`Inventory` of an ``ansible-inventory --list`` JSON."""
    listing = _shape(data, str(path))
    if not listing.hosts:
        raise InventoryError(f"{path}: the Ansible inventory has no hosts")
    nodes: list[Node] = []
    rejected: list[Rejected] = []
    for name in listing.hosts:
        host_vars = listing.hostvars.get(name, {})
        groups = listing.groups.get(name, ())
        try:
            nodes.append(_node(name, host_vars, groups, f"{path}: host {name}"))
        except _Unreadable as exc:
            rejected.append(Rejected(name, groups, f"{path}: host {name}: {exc}"))
        except InventoryError as exc:
            rejected.append(Rejected(name, groups, str(exc)))
    fleet = Inventory(path, tuple(nodes), rejected=tuple(rejected))
    if source is not None:
        fleet = with_source(fleet, source, "--source", Path.cwd())
    else:
        chosen, said = _source_var(listing, str(path))
        folder = path if path.is_dir() else path.parent
        fleet = with_source(fleet, chosen, said, folder.resolve())
    return replace(fleet, mesh=_mesh_var(listing, fleet))


def _shape(data: dict[str, Any], where: str) -> _Listing:
    meta = data.get("_meta")
    hostvars = meta.get("hostvars", {}) if isinstance(meta, dict) else None
    if not isinstance(hostvars, dict) or not all(isinstance(v, dict)
                                                 for v in hostvars.values()):
        raise InventoryError(f"{where}: '_meta' must hold 'hostvars', a mapping of host "
                             "name to vars (the shape of `ansible-inventory --list`)")
    direct: dict[str, list[str]] = {}
    children: dict[str, list[str]] = {}
    for group, body in data.items():
        if group == "_meta":
            continue
        if not isinstance(body, dict):
            raise InventoryError(f"{where}: group '{group}' must be a mapping")
        if "vars" in body:
            raise InventoryError(
                f"{where}: group '{group}' carries 'vars', as `ansible-inventory --list "
                "--export` prints them; give the output of `ansible-inventory --list` "
                "(without --export), where each host's vars are already resolved")
        direct[group] = _names(body.get("hosts", []), f"{where}: group '{group}': 'hosts'")
        children[group] = _names(body.get("children", []),
                                 f"{where}: group '{group}': 'children'")
    # By name: the listing keeps no inventory order (its groups are sorted).
    hosts = sorted({*(h for g in direct.values() for h in g), *hostvars})
    groups: dict[str, set[str]] = {}
    for group in direct:
        if group != "all":
            for host in _members(group, direct, children):
                groups.setdefault(host, set()).add(group)
    return _Listing(tuple(hosts), {h: tuple(sorted(g)) for h, g in groups.items()}, hostvars)


def _names(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InventoryError(f"{where} must be a list of names")
    return value


def _members(group: str, direct: Mapping[str, list[str]],
             children: Mapping[str, list[str]]) -> set[str]:
    """Hosts of ``group`` and of its child groups, at any depth (a cycle,
    which Ansible refuses anyway, ends the walk)."""
    seen: set[str] = set()
    hosts: set[str] = set()
    todo = [group]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        hosts.update(direct.get(current, ()))
        todo.extend(children.get(current, ()))
    return hosts


def _fleet_var(listing: _Listing, var: str, where: str) -> tuple[str, Any] | None:
    """(the first host, the value) of a var that speaks for the whole fleet,
    which every host carrying it must agree on; None when no host does.
    The error names the hosts, never the values (vars may hold secrets)."""
    first: tuple[str, Any] | None = None
    for host in listing.hosts:
        value = listing.hostvars.get(host, {}).get(var)
        if value is None:
            continue
        if first is None:
            first = (host, value)
        elif value != first[1]:
            raise InventoryError(f"{where}: var '{var}' differs between hosts "
                                 f"{first[0]} and {host}; set it once (group_vars/all)")
    return first


def _source_var(listing: _Listing, where: str) -> tuple[str, str]:
    """The one ``awgcheck_source`` the hosts carry, and where it was said."""
    found = _fleet_var(listing, SOURCE_VAR, where)
    if found is None:
        raise InventoryError(f"{where}: no source of truth: pass --source NODE|PATH, or set "
                             f"the var '{SOURCE_VAR}' (for example in group_vars/all.yml)")
    host, value = found
    if not isinstance(value, str) or not value or "{{" in value:
        raise InventoryError(f"{where}: host {host}: var '{SOURCE_VAR}' must be a node "
                             "name or a path (plain text)")
    return value, f"{where}: var '{SOURCE_VAR}'"


def _mesh_var(listing: _Listing, fleet: Inventory) -> mesh_settings.MeshSettings | None:
    """The ``awgcheck_mesh`` var, read by the parser of the YAML inventory's
    ``mesh:`` section: the value is written out as YAML and composed again
    into the nodes that parser reads. Those nodes' lines belong to no file,
    so errors name the file and the var instead."""
    where = str(fleet.path)
    found = _fleet_var(listing, MESH_VAR, where)
    if found is None:
        return None
    if isinstance(found[1], str):
        # What an INI inventory's [all:vars] gives: every value there is text.
        raise InventoryError(f"{where}: var '{MESH_VAR}' is text, not a mapping: set it in a "
                             "YAML file (group_vars/all.yml), where it keeps its keys")
    hub = found[1].get("hub") if isinstance(found[1], dict) else None
    for host in fleet.rejected:
        if host.name == hub:  # else "no node of the inventory", which it is, in the file
            raise InventoryError(f"{host.reason}; it is the hub of var '{MESH_VAR}'")
    # JSON's types (all a listing holds) always dump and compose again.
    node = yamlfile.load_node(yaml.safe_dump(found[1]), where, InventoryError)
    assert node is not None  # a dumped value is never an empty document
    return mesh_settings.parse(node, where, [n.name for n in fleet.nodes], fleet.source_node,
                               said=f"{where}: var '{MESH_VAR}'")


def _node(name: str, host_vars: Mapping[str, Any], groups: tuple[str, ...],
          where: str) -> Node:
    connection = _text(host_vars, "ansible_connection") or "ssh"
    fields: dict[str, Any] = {"groups": list(groups)}
    for field, var in _AWG_VARS.items():
        value: Any
        if field in _LIST_FIELDS:
            value = _list(host_vars, var)
        elif field in _BOOL_FIELDS:
            value = None if host_vars.get(var) is None else _boolean(var, host_vars[var])
        else:
            value = _text(host_vars, var)
        if value is not None:
            fields[field] = value
    if connection in _LOCAL_CONNECTIONS:
        fields["local"] = "/"
    elif connection in _SSH_CONNECTIONS:
        fields.update(_ssh_fields(name, host_vars))
    else:
        raise _Unreadable(f"ansible_connection '{connection}' is not one awgcheck reads "
                          "(ssh, paramiko or local)")
    return build_node(where, name, fields, Path.cwd(), "var", _VAR_OF)


def _ssh_fields(name: str, host_vars: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for field, names in _CONNECTION_VARS.items():
        value = _last(host_vars, names)
        if value is not None:
            fields[field] = _port(*value) if field == "port" else _plain(*value)
    fields.setdefault("host", name)
    parts = [(f"var '{var}'", text) for var in _SSH_ARGS_VARS
             if (text := _text(host_vars, var)) is not None]
    try:
        said = ssh_args.read(parts)
    except ssh_args.ArgsError as exc:
        raise _Unreadable(str(exc)) from None
    if said.jump:
        fields["jump"] = list(said.jump)
    if said.known_hosts is not None:
        fields["known_hosts"] = said.known_hosts
    fields["sudo"] = _become(host_vars)
    return fields


def _last(host_vars: Mapping[str, Any], names: Iterable[str]) -> tuple[str, Any] | None:
    """(var, value) of the last of ``names`` set (``null`` is unset, as in
    Ansible's config manager)."""
    found = None
    for var in names:
        if host_vars.get(var) is not None:
            found = (var, host_vars[var])
    return found


def _plain(var: str, value: Any) -> str:
    """A var's value as plain text, or why it is not: vault-encrypted (not
    decrypted), a template (only Ansible evaluates it), or not text."""
    if isinstance(value, dict) and "__ansible_vault" in value:
        raise _Unreadable(f"var '{var}' is vault-encrypted; ansible-inventory printed it "
                          "encrypted (give it the vault password, e.g. "
                          "ANSIBLE_VAULT_PASSWORD_FILE)")
    if not isinstance(value, str) or not value:
        raise _Unreadable(f"var '{var}' must be text")
    if "{{" in value or "{%" in value:
        raise _Unreadable(f"var '{var}' is a Jinja2 template, which only Ansible evaluates; "
                          "give awgcheck a plain value")
    return value


def _text(host_vars: Mapping[str, Any], var: str) -> str | None:
    value = host_vars.get(var)
    return None if value is None else _plain(var, value)


def _list(host_vars: Mapping[str, Any], var: str) -> list[str] | None:
    value = host_vars.get(var)
    if value is None:
        return None
    if isinstance(value, list):
        return [_plain(var, item) for item in value]
    return [_plain(var, value)]


def _port(var: str, value: Any) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Unreadable(f"var '{var}' must be a port number")
    return value


def _become(host_vars: Mapping[str, Any]) -> bool:
    if not _boolean("ansible_become", host_vars.get("ansible_become")):
        return False
    method = _text(host_vars, "ansible_become_method") or "sudo"
    if method not in ("sudo", "ansible.builtin.sudo"):
        raise _Unreadable(f"var 'ansible_become_method' is '{method}'; awgcheck reads "
                          "through sudo -n only")
    user = _text(host_vars, "ansible_become_user") or "root"
    if user != "root":
        raise _Unreadable("var 'ansible_become_user' names a user other than root; awgcheck "
                          "reads through sudo -n as root only")
    return True


def _boolean(var: str, value: Any) -> bool:
    """Ansible's ``boolean()``: true/yes/on/1..., false/no/off/0..."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Unreadable(f"var '{var}' must be a boolean (true/false, yes/no, 1/0)")


# How an error names a node field: by the vars that set it.
_VAR_OF: dict[str, str] = {
    **_AWG_VARS,
    **{field: "/".join(names) for field, names in _CONNECTION_VARS.items()},
}
