"""The fleet inventory: which nodes exist, how to reach them, what to read.

```yaml
source: server            # a node name, or a path to the source conf or params document
defaults:                 # any node field; every node inherits them
  conf: /etc/amnezia/amneziawg/awg0.conf
  interface: awg0
nodes:
  server:   {local: nodes/server, groups: [core]}
  partner1: {host: 203.0.113.7, user: audit, sudo: true, groups: [partners, eu]}
  edge-only: {host: 203.0.113.9, conf: none, compose: [/opt/edge/compose.yaml]}
waivers:                  # accepted failures, see awgcheck.waivers
  - {nodes: partner1, rule: side-local-drift, param: Jc, reason: ..., expires: 2025-06-30}
```

``conf: none`` is a node without AmneziaWG that still runs a compose stack:
it is checked for compose only.

Relative paths (``local``, ``identity``, ``known_hosts``, a source conf
path) resolve against the inventory file's folder. Errors name the file and
the key. An Ansible inventory is read into the same :class:`Inventory` by
:mod:`awgcheck.ansible_inventory`; which nodes a run checks is
:mod:`awgcheck.selection`'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from awgcheck import waivers as waiver_list
from awgcheck import yamlfile
from awgcheck.errors import CollectError, ErrorClass, InventoryError
from awgcheck.filenames import looks_like_path
from awgcheck.known_keys import refuse_unknown
from awgcheck.mesh import settings as mesh_settings
from awgcheck.model import Waiver

DEFAULT_CONF = "/etc/amnezia/amneziawg/awg0.conf"
DEFAULT_INTERFACE = "awg0"
NO_CONF = "none"
"""``conf: none``: the node runs no AmneziaWG (only a compose stack)."""

# field -> (accepted types, is a local path to resolve)
_NODE_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "local": ((str,), True),
    "host": ((str,), False),
    "port": ((int,), False),
    "user": ((str,), False),
    "identity": ((str,), True),
    "jump": ((str, list), False),
    "sudo": ((bool,), False),
    "known_hosts": ((str,), True),
    "conf": ((str,), False),
    "interface": ((str,), False),
    "compose": ((str, list), False),
    "compose_env_files": ((list,), False),
    "compose_profiles": ((list,), False),
    "ping": ((str,), False),
    "description": ((str,), False),
    "groups": ((str, list), False),
    # the mesh checks (docs/topology.md)
    "behind_nat": ((bool,), False),
    "public_address": ((str, list), False),
}
_TOP_FIELDS = ("source", "defaults", "nodes", waiver_list.KEY, mesh_settings.KEY)


@dataclass(frozen=True)
class Node:
    """One node of the fleet, with defaults applied and paths resolved."""

    name: str
    local: Path | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    identity: Path | None = None
    jump: tuple[str, ...] = ()
    sudo: bool = False
    known_hosts: Path | None = None
    conf: str | None = DEFAULT_CONF  # None: ``conf: none``, no AmneziaWG on the node
    interface: str = DEFAULT_INTERFACE
    compose: tuple[str, ...] = ()
    compose_env_files: tuple[str, ...] = ()
    compose_profiles: tuple[str, ...] = ()
    ping: str | None = None
    description: str | None = None
    groups: tuple[str, ...] = ()  # what ``check --group`` and a waiver's ``group:NAME`` name
    behind_nat: bool = False  # the mesh checks want PersistentKeepalive on its peers
    public_address: tuple[str, ...] = ()  # where peers reach it, besides ``host``

    @property
    def transport(self) -> str:
        """Where the node lives, as the key of its transport in
        ``awgcheck.collect.transports.TRANSPORTS``: "local" (a node tree) or "ssh"."""
        return "local" if self.local is not None else "ssh"


@dataclass(frozen=True)
class Rejected:
    """A host of an Ansible inventory that awgcheck cannot read (a winrm
    connection, a ProxyCommand it cannot follow...). It is an error only
    when a run selects it: an Ansible inventory also lists hosts that are
    none of awgcheck's business."""

    name: str
    groups: tuple[str, ...]
    reason: str  # names the file, host and variable, never a value


@dataclass(frozen=True)
class Inventory:
    path: Path
    nodes: tuple[Node, ...]
    source_node: str | None = None
    source_path: Path | None = None
    rejected: tuple[Rejected, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    mesh: mesh_settings.MeshSettings | None = None  # the ``mesh:`` section, if any

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        for host in self.rejected:
            if host.name == name:
                raise InventoryError(host.reason)
        raise InventoryError(f"{self.path}: no node named '{name}' "
                             f"(nodes: {listing(n.name for n in self.nodes)})")


def listing(names: Iterable[str], most: int = 10) -> str:
    """``a, b, c`` for an error message, cut to ``most`` names: a fleet of a
    thousand nodes must not bury the line that says what is wrong."""
    shown = list(names)
    more = f", ... {len(shown) - most} more" if len(shown) > most else ""
    return ", ".join(shown[:most]) + more


def _type_name(kinds: tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", bool: "true or false",
             list: "a list"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _node_fields(where: str, data: object) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InventoryError(f"{where}: expected a mapping of node fields")
    refuse_unknown(data, _NODE_FIELDS, where, InventoryError)
    for key, value in data.items():
        kinds, _ = _NODE_FIELDS[key]
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if not isinstance(value, kinds) or wrong_bool:
            raise InventoryError(f"{where}: key '{key}' must be {_type_name(kinds)}, "
                                 f"got {value!r}")
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise InventoryError(f"{where}: key '{key}' must list strings")
    return dict(data)


def build_node(where: str, name: str, fields: dict[str, Any], base: Path,
               noun: str = "key", spelt: Mapping[str, str] | None = None) -> Node:
    """A :class:`Node` from fields already of the right types, checked for
    sense; relative local paths resolve against ``base``. Errors name a
    field as ``noun 'spelling'`` (an Ansible inventory sets fields by vars
    of other names)."""

    def said(field: str) -> str:
        return (spelt or {}).get(field, field)

    def label(field: str) -> str:
        return f"{noun} '{said(field)}'"

    def path(key: str) -> Path | None:
        value = fields.get(key)
        if value is None:
            return None
        try:
            return base / Path(value).expanduser()
        except RuntimeError:  # ~name of a user this machine does not have
            raise InventoryError(f"{where}: {label(key)}: {value!r} names the home folder "
                                 "of a user this machine does not know") from None

    def words(key: str) -> tuple[str, ...]:
        value = fields.get(key, ())
        return (value,) if isinstance(value, str) else tuple(value)

    if fields.get("local") is None and fields.get("host") is None:
        raise InventoryError(f"{where}: node needs 'local' (a node tree folder) or "
                             "'host' (an SSH node)")
    if fields.get("local") is not None and fields.get("host") is not None:
        raise InventoryError(f"{where}: 'local' and 'host' exclude each other")
    conf = fields.get("conf", DEFAULT_CONF)
    if conf != NO_CONF and not conf.startswith("/"):
        raise InventoryError(f"{where}: {label('conf')} must be an absolute path on the node, "
                             f"or '{NO_CONF}' for a node without AmneziaWG")
    if conf == NO_CONF and not words("compose"):
        # Nothing else is read from such a node: it would pass unchecked.
        raise InventoryError(f"{where}: '{said('conf')}: {NO_CONF}' needs '{said('compose')}' "
                             "(a node without a conf is only checked for its compose stack)")
    for compose_file in words("compose"):
        # The project directory is the first file's folder on the node; a
        # relative path would mean nothing there.
        if not compose_file.startswith("/"):
            raise InventoryError(f"{where}: {label('compose')} must list absolute paths on "
                                 f"the node, got {compose_file!r}")
    port = fields.get("port")
    if port is not None and not 0 < port < 65536:
        raise InventoryError(f"{where}: {label('port')} must be 1..65535, got {port}")
    if any(not group for group in words("groups")):
        raise InventoryError(f"{where}: {label('groups')} must list non-empty names")
    return Node(
        name=name, local=path("local"), host=fields.get("host"), port=port,
        user=fields.get("user"), identity=path("identity"), jump=words("jump"),
        sudo=bool(fields.get("sudo", False)), known_hosts=path("known_hosts"),
        conf=None if conf == NO_CONF else conf,
        interface=fields.get("interface", DEFAULT_INTERFACE),
        compose=words("compose"), compose_env_files=words("compose_env_files"),
        compose_profiles=words("compose_profiles"), ping=fields.get("ping"),
        description=fields.get("description"), groups=words("groups"),
        behind_nat=bool(fields.get("behind_nat", False)),
        public_address=words("public_address"),
    )


# The address grammar of inventory ``host:`` / ``jump:`` entries and ssh:// URLs;
# it raises CollectError (bad_target) because the SSH transport resolves
# jump hosts with it too.
_URL_RE = re.compile(r"^(?:(?P<user>[^@]+)@)?(?P<host>\[[^\]]+\]|[^:@\[\]]+)(?::(?P<port>\d+))?$")


def split_spec(spec: str) -> tuple[str | None, str, int | None]:
    """Split ``[ssh://][user@]host[:port]`` (IPv6 in brackets) into parts."""
    text = spec.strip()
    if text.startswith("ssh://"):
        parts = urlsplit(text)
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise CollectError(f"{spec}: an ssh:// node URL takes no path or query",
                               error_class=ErrorClass.BAD_TARGET)
        try:
            port = parts.port
        except ValueError:
            raise CollectError(f"{spec}: bad port", error_class=ErrorClass.BAD_TARGET) from None
        if not parts.hostname:
            raise CollectError(f"{spec}: no host in URL", error_class=ErrorClass.BAD_TARGET)
        user = unquote(parts.username) if parts.username else None
        return user, parts.hostname, port
    match = _URL_RE.match(text)
    if match is None:
        raise CollectError(f"{spec}: expected [user@]host[:port]",
                           error_class=ErrorClass.BAD_TARGET)
    port_text = match.group("port")
    port = int(port_text) if port_text else None
    if port is not None and not 0 < port < 65536:
        raise CollectError(f"{spec}: port {port} is out of range",
                           error_class=ErrorClass.BAD_TARGET)
    return match.group("user"), match.group("host").strip("[]"), port


def node_from_url(url: str, **fields: Any) -> Node:
    """An ad-hoc SSH node given as ``ssh://user@host:port`` on the command line."""
    if not url.startswith("ssh://"):
        raise InventoryError(f"{url}: not an ssh:// URL")
    try:
        user, host, port = split_spec(url)
    except CollectError as exc:
        raise InventoryError(f"{url}: {exc}") from None
    return Node(name=url, host=host, port=port, user=user, **fields)


def load(path: Path, source: str | None = None) -> Inventory:
    """Read and validate an inventory file; ``source`` (``--source``, a node
    name or a path from the working folder) replaces its ``source`` key."""
    text = yamlfile.read_text(path, "inventory file", InventoryError)
    data = yamlfile.load(text, str(path), InventoryError)
    fleet = parse(data, path, source)
    if isinstance(data, dict) and data.get(waiver_list.KEY) is not None:
        # Read again as YAML nodes: only they keep each waiver's line.
        fleet = replace(fleet, waivers=waiver_list.in_inventory(text, str(path)))
    if isinstance(data, dict) and data.get(mesh_settings.KEY) is not None:
        fleet = replace(fleet, mesh=_mesh(text, fleet))
    return fleet


def _mesh(text: str, fleet: Inventory) -> mesh_settings.MeshSettings | None:
    """The ``mesh:`` section, read again as YAML nodes for its lines."""
    root = yamlfile.load_node(text, str(fleet.path), InventoryError)
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == mesh_settings.KEY:
            return mesh_settings.parse(value, str(fleet.path), [n.name for n in fleet.nodes],
                                       fleet.source_node)
    return None


def parse(data: object, path: Path, source_override: str | None = None) -> Inventory:
    """The inventory in ``data``; its ``waivers`` are read by :func:`load`,
    which has the text and so the line of each. ``source_override``
    (``--source``) replaces its ``source`` key."""
    where = str(path)
    if not isinstance(data, dict):
        raise InventoryError(f"{where}: expected a mapping with 'source' and 'nodes'")
    refuse_unknown(data, _TOP_FIELDS, where, InventoryError)
    base = path.resolve().parent
    defaults = _node_fields(f"{where}: defaults", data.get("defaults"))
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        raise InventoryError(f"{where}: key 'nodes' must be a non-empty mapping of "
                             "node name to fields")
    nodes = []
    for name, fields in raw_nodes.items():
        node_where = f"{where}: nodes: {name}"
        if not isinstance(name, str) or not name:
            raise InventoryError(f"{where}: nodes: node names must be strings, got {name!r}")
        merged = {**defaults, **_node_fields(node_where, fields)}
        nodes.append(build_node(node_where, name, merged, base))
    if source_override is not None:
        return with_source(Inventory(path, tuple(nodes)), source_override, "--source",
                           Path.cwd())
    source = data.get("source")
    if not isinstance(source, str) or not source:
        raise InventoryError(f"{where}: key 'source' must name a node or a conf file path")
    return with_source(Inventory(path, tuple(nodes)), source, f"{where}: key 'source'", base)


def with_source(inventory: Inventory, source: str, said: str, base: Path) -> Inventory:
    """``inventory`` with its source of truth: a node name, or a conf or
    params document path (resolved against ``base``). ``said`` is where
    the name was given (a key, a var, an option), for the error."""
    names = {n.name for n in inventory.nodes}
    if source in names:
        if inventory.node(source).conf is None:
            raise InventoryError(f"{said}: node '{source}' has 'conf: "
                                 f"{NO_CONF}'; the source of truth needs a conf")
        return replace(inventory, source_node=source, source_path=None)
    for host in inventory.rejected:
        if host.name == source:
            raise InventoryError(f"{said}: the source node cannot be read: {host.reason}")
    source_path = base / source
    if looks_like_path(source) or source_path.is_file():
        if not source_path.is_file():
            raise InventoryError(f"{said}: {source_path} is not a file")
        return replace(inventory, source_node=None, source_path=source_path)
    raise InventoryError(f"{said}: '{source}' is neither a node name "
                         f"({listing(sorted(names))}) nor a conf or params document path")
