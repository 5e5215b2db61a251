"""``awgcheck inspect ssh NODE``: how awgcheck will reach an inventory node.

Resolves the node through the inventory and ssh_config exactly as a run
does (:func:`~awgcheck.collect.ssh.config.resolve_route`), without
connecting: for the node and each bastion before it, the host name, port,
user, identity files, known_hosts files (and whether each exists), the
name its host key is filed under, the jump chain, and where each value
came from (``inventory``, an ssh_config ``file:line``, ``default``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Any

from awgcheck.collect.base import ConnectOptions
from awgcheck.collect.ssh.config import Endpoint, load_ssh_config, resolve_route, target_of
from awgcheck.errors import UsageError
from awgcheck.inventory import Node
from awgcheck.report.grid import Column, Kind, grid
from awgcheck.report.layout import PLAIN, Layout, wrap_all
from awgcheck.report.registry import Formats, ForPeople


@dataclass(frozen=True)
class File:
    """A file a hop would use, and whether it is there now."""

    path: str
    exists: bool

    @classmethod
    def at(cls, path: str) -> File:
        return cls(path, os.path.exists(path))


@dataclass(frozen=True)
class Hop:
    """One hop as awgcheck will use it."""

    role: str  # "bastion" or "node"
    name: str  # as the inventory or ProxyJump names it
    hostname: str
    port: int
    user: str
    identity_files: tuple[File, ...]
    identities_only: bool
    known_hosts: tuple[File, ...]  # accept-new writes to the first
    global_known_hosts: tuple[File, ...]
    host_key_name: str  # what known_hosts files the key under
    host_key_alias: str | None
    jump: tuple[str, ...]  # ProxyJump as written for this hop
    proxy_command: str | None
    connect_timeout: float
    origins: dict[str, str]


@dataclass(frozen=True)
class SshView:
    """A node's route: outermost bastion first, the node last."""

    node: str
    ssh_config: tuple[str, ...]  # the files read, in order; () for none
    sudo: bool
    hops: tuple[Hop, ...]


def _hop(endpoint: Endpoint, role: str) -> Hop:
    return Hop(
        role=role, name=endpoint.alias, hostname=endpoint.hostname, port=endpoint.port,
        user=endpoint.user,
        identity_files=tuple(File.at(p) for p in endpoint.identity_files),
        identities_only=endpoint.identities_only,
        known_hosts=tuple(File.at(p) for p in endpoint.known_hosts),
        global_known_hosts=tuple(File.at(p) for p in endpoint.global_known_hosts),
        host_key_name=endpoint.known_hosts_name, host_key_alias=endpoint.host_key_alias,
        jump=tuple(str(h) for h in endpoint.jump), proxy_command=endpoint.proxy_command,
        connect_timeout=endpoint.connect_timeout, origins=dict(endpoint.origins),
    )


def inspect(node: Node, ssh_config: str | None) -> SshView:
    """Resolve ``node``'s route as a run with ``--ssh-config ssh_config``
    would; nothing is connected to."""
    if node.transport != "ssh":
        raise UsageError(f"{node.name}: a local node tree (local: {node.local}), not an "
                         "SSH node: nothing to resolve")
    config = load_ssh_config(ssh_config)
    target = target_of(node, ConnectOptions(ssh_config=ssh_config))
    route = resolve_route(target, config)
    hops = tuple(_hop(e, "node" if i == len(route) - 1 else "bastion")
                 for i, e in enumerate(route))
    read = tuple(f.path for f in config.files if os.path.exists(f.path))
    return SshView(node.name, read, node.sudo, hops)


def _files(files: tuple[File, ...], first_note: str = "") -> str:
    if not files:
        return "(none)"
    return "\n".join(f"{f.path} ({'exists' if f.exists else 'missing'}"
                     f"{first_note if i == 0 else ''})" for i, f in enumerate(files))


def _rows(hop: Hop) -> list[list[object]]:
    origins = hop.origins
    rows: list[list[object]] = [
        ["host", hop.hostname, origins.get("hostname", "")],
        ["port", hop.port, origins.get("port", "")],
        ["user", hop.user, origins.get("user", "")],
        ["identity files", _files(hop.identity_files) + (
            "\n(only these: IdentitiesOnly)" if hop.identities_only else ""),
         origins.get("identity_files", "")],
        ["known_hosts", _files(hop.known_hosts, "; accept-new writes here"),
         origins.get("known_hosts", "")],
        ["global known_hosts", _files(hop.global_known_hosts),
         origins.get("global_known_hosts", "")],
        ["host key filed as", hop.host_key_name,
         origins.get("host_key_alias", "") if hop.host_key_alias else "host and port"],
    ]
    if hop.jump:
        rows.append(["jump", ",".join(hop.jump), origins.get("proxy_jump", "")])
    if hop.proxy_command:
        rows.append(["proxy command", hop.proxy_command, origins.get("proxy_command", "")])
    rows.append(["connect timeout", f"{hop.connect_timeout:g}s",
                 origins.get("connect_timeout", "")])
    return rows


_TABLE = (Column("setting", Kind.NAME), Column("value", Kind.WORDS), Column("from", Kind.PATH))


def render_table(view: SshView, layout: Layout = PLAIN) -> str:
    """How the node is reached, drawn to ``layout``'s width."""
    configs = ", ".join(view.ssh_config) or "none"
    route = " -> ".join(f"{h.user}@{h.hostname}:{h.port}" for h in view.hops)
    out = [f"{view.node}: reached over SSH as {route} (nothing was connected to)",
           f"ssh_config read: {configs}"]
    if view.sudo:
        out.append("reads with sudo (sudo: true): see docs/ssh.md for the sudoers lines")
    for hop in view.hops:
        name = view.node if hop.role == "node" else hop.name
        out += ["", f"{hop.role} {name}:"]
        out.append(grid(_rows(hop), _TABLE, layout))
    return "\n".join(wrap_all("\n".join(out).split("\n"), layout.width)) + "\n"


def as_dict(view: SshView) -> dict[str, Any]:
    return asdict(view)


def render_json(view: SshView) -> str:
    return json.dumps(as_dict(view), indent=2, ensure_ascii=False) + "\n"


FORMATS: Formats[SshView] = Formats({"table": ForPeople(render_table), "json": render_json})
