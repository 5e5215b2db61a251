"""SSH node addresses: the inventory's view (:class:`SshTarget`) and what
OpenSSH's client configuration makes of it (:class:`Endpoint`).

Resolution follows ``ssh(1)``: explicit inventory fields win, then the first
matching ``~/.ssh/config`` value (HostName, User, Port, IdentityFile,
ProxyCommand, ProxyJump, ConnectTimeout, HostKeyAlias, IdentitiesOnly), then
the built-in defaults. Jump hosts are resolved through the same config, so a
bastion may be named by a ``Host`` alias.
"""

from __future__ import annotations

import getpass
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import paramiko

from awgcheck import limits
from awgcheck.collect.base import ConnectOptions
from awgcheck.errors import CollectError, ErrorClass
from awgcheck.inventory import Node, split_spec

DEFAULT_PORT = 22
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_DEADLINE = 60.0
DEFAULT_IDENTITY_FILES = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")


@dataclass(frozen=True)
class SshTarget:
    """One SSH node as the inventory describes it.

    ``None`` in an address field means "ask ssh_config, then the default":
    port 22, the local user name, the default identity files. ``jump`` lists
    bastions outermost first, each ``user@host:port`` or a ``Host`` alias;
    when empty, ssh_config's ProxyJump / ProxyCommand apply.
    ``ssh_config`` is a path, ``"none"`` for no config file, or None for
    ``~/.ssh/config`` when it exists. ``deadline`` bounds everything done on
    the node, from the first TCP connect to the last read: ``deadline``
    seconds from the open, or until ``expires_at`` (a ``time.monotonic()``
    value) when the caller's deadline started earlier (the audit's covers
    the node's rule evaluation too).
    """

    host: str
    port: int | None = None
    user: str | None = None
    identity: str | None = None
    jump: tuple[str, ...] = ()
    sudo: bool = False
    known_hosts: str | None = None
    ssh_config: str | None = None
    accept_new_host_keys: bool = False
    connect_timeout: float | None = None
    deadline: float = DEFAULT_DEADLINE
    expires_at: float | None = None

    def __post_init__(self) -> None:
        # Inventories hand over a YAML list or a single string; keep the
        # target hashable and the hops ordered either way.
        jump: object = self.jump
        if isinstance(jump, str):
            object.__setattr__(self, "jump", (jump,))
        elif not isinstance(jump, tuple):
            object.__setattr__(self, "jump", tuple(jump))  # type: ignore[arg-type]
        if not self.host or any(c.isspace() for c in self.host):
            raise CollectError(f"{self.host!r}: not a valid SSH host",
                               error_class=ErrorClass.BAD_TARGET)
        if self.port is not None and not 0 < self.port < 65536:
            raise CollectError(f"{self.host}: port {self.port} is out of range",
                               error_class=ErrorClass.BAD_TARGET)
        if self.deadline <= 0:
            raise CollectError(f"{self.host}: deadline must be positive",
                               error_class=ErrorClass.BAD_TARGET)

    @property
    def label(self) -> str:
        """How messages name the node: ``host`` or ``host:port``."""
        if self.port is None or self.port == DEFAULT_PORT:
            return self.host
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Endpoint:
    """One SSH hop after ssh_config resolution: where to connect and as whom."""

    alias: str
    hostname: str
    port: int
    user: str
    identity_files: tuple[str, ...]
    identities_only: bool = False
    proxy_command: str | None = None
    jump: tuple[str, ...] = ()
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    host_key_alias: str | None = None
    hash_known_hosts: bool = False

    @property
    def label(self) -> str:
        """``alias`` or ``alias:port``: the name a user recognises."""
        return self.alias if self.port == DEFAULT_PORT else f"{self.alias}:{self.port}"

    @property
    def known_hosts_name(self) -> str:
        """The name OpenSSH files this host's key under in known_hosts."""
        name = self.host_key_alias or self.hostname
        return name if self.port == DEFAULT_PORT else f"[{name}]:{self.port}"


def target_of(node: Node, options: ConnectOptions) -> SshTarget:
    """The SSH target of an inventory node (``host:``), with the run's options."""
    assert node.host is not None  # Node.transport said "ssh"
    return SshTarget(
        host=node.host, port=node.port, user=node.user,
        identity=str(node.identity) if node.identity else None, jump=node.jump,
        sudo=node.sudo, known_hosts=str(node.known_hosts) if node.known_hosts else None,
        ssh_config=options.ssh_config, accept_new_host_keys=options.accept_new_host_keys,
        deadline=options.deadline, expires_at=options.expires_at,
    )


def parse_ssh_url(url: str, **options: Any) -> SshTarget:
    """Turn ``ssh://user@host:port`` (or ``user@host:port``) into a target.

    ``options`` are the remaining :class:`SshTarget` fields (sudo,
    known_hosts, deadline, ...), for ad-hoc nodes given on the command line.
    """
    user, host, port = split_spec(url)
    return SshTarget(host=host, port=port, user=user, **options)


def load_ssh_config(path: str | None) -> paramiko.SSHConfig:
    """Read the ssh_config a target names (see :attr:`SshTarget.ssh_config`)."""
    if path == "none":
        return paramiko.SSHConfig()
    explicit = path is not None
    file = Path(os.path.expanduser(path or "~/.ssh/config"))
    if not explicit and not file.exists():
        return paramiko.SSHConfig()
    try:
        text = file.read_text(encoding="utf-8", errors="surrogateescape")
        for number, line in enumerate(text.splitlines(), 1):
            if len(line) > limits.SSH_CONFIG_MAX_LINE:
                raise CollectError(f"{file}:{number}: ssh_config line is longer than "
                                   f"{limits.SSH_CONFIG_MAX_LINE} characters",
                                   error_class=ErrorClass.BAD_TARGET)
        return paramiko.SSHConfig.from_text(text)
    except CollectError:
        raise
    except OSError as exc:
        raise CollectError(f"{file}: cannot read ssh_config: {exc.strerror}",
                           error_class=ErrorClass.BAD_TARGET) from None
    except Exception as exc:  # paramiko raises bare ConfigParseError/ValueError
        raise CollectError(f"{file}: bad ssh_config: {exc}",
                           error_class=ErrorClass.BAD_TARGET) from None


def _none_or(value: object) -> str | None:
    """ssh_config spells "unset" as ``none``."""
    if value is None:
        return None
    text = str(value).strip()
    return None if not text or text.lower() == "none" else text


def _connect_timeout(host: str, raw: str | None) -> float:
    """ssh_config ConnectTimeout in seconds: a number, not negative or
    infinite (a NaN timeout would make every socket call fail oddly)."""
    if not raw:
        return DEFAULT_CONNECT_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds < math.inf:
        raise CollectError(f"{host}: ssh_config ConnectTimeout {raw!r} is not a number "
                           "of seconds", error_class=ErrorClass.BAD_TARGET)
    return seconds


def resolve_endpoint(
    config: paramiko.SSHConfig,
    host: str,
    *,
    port: int | None = None,
    user: str | None = None,
    identity: str | None = None,
    connect_timeout: float | None = None,
) -> Endpoint:
    """Apply ssh_config to one hop; explicit arguments win over the file."""
    try:
        found = config.lookup(host)
    except Exception as exc:  # token expansion or Match exec failures
        raise CollectError(f"{host}: ssh_config lookup failed: {exc}",
                           error_class=ErrorClass.BAD_TARGET) from None
    if port is None:
        try:
            port = int(found.get("port", DEFAULT_PORT))
        except ValueError:
            raise CollectError(f"{host}: ssh_config Port {found.get('port')!r} is not a number",
                               error_class=ErrorClass.BAD_TARGET) from None
    if identity is not None:
        identities: tuple[str, ...] = (os.path.expanduser(identity),)
    else:
        identities = tuple(os.path.expanduser(p) for p in found.get("identityfile", []))
    if connect_timeout is None:
        connect_timeout = _connect_timeout(host, found.get("connecttimeout"))
    jump_text = _none_or(found.get("proxyjump"))
    return Endpoint(
        alias=host,
        hostname=found.get("hostname", host),
        port=port,
        user=user or found.get("user") or getpass.getuser(),
        identity_files=identities,
        identities_only=str(found.get("identitiesonly", "no")).lower() == "yes",
        proxy_command=_none_or(found.get("proxycommand")),
        jump=tuple(j.strip() for j in jump_text.split(",")) if jump_text else (),
        connect_timeout=connect_timeout,
        host_key_alias=_none_or(found.get("hostkeyalias")),
        hash_known_hosts=str(found.get("hashknownhosts", "no")).lower() == "yes",
    )


def resolve_route(target: SshTarget, config: paramiko.SSHConfig | None = None) -> list[Endpoint]:
    """The hops to the node, outermost bastion first and the node last.

    An explicit ``target.jump`` replaces ssh_config's ProxyJump and
    ProxyCommand, as ``ssh -J`` does. Bastions are resolved through ssh_config
    too, but their own ProxyJump is not followed (chains are spelt out in
    ``jump``). A bastion without an IdentityFile of its own is offered the
    node's identity.
    """
    if config is None:
        config = load_ssh_config(target.ssh_config)
    node = resolve_endpoint(
        config, target.host, port=target.port, user=target.user,
        identity=target.identity, connect_timeout=target.connect_timeout,
    )
    jumps = target.jump or node.jump
    if target.jump:
        node = replace(node, proxy_command=None, jump=())
    hops: list[Endpoint] = []
    for spec in jumps:
        user, host, port = split_spec(spec)
        hop = resolve_endpoint(config, host, port=port, user=user,
                               connect_timeout=target.connect_timeout)
        if not hop.identity_files and node.identity_files:
            # One inventory key usually opens the whole path; a bastion
            # with its own IdentityFile in ssh_config keeps that instead.
            hop = replace(hop, identity_files=node.identity_files)
        hops.append(replace(hop, proxy_command=None, jump=()))
    if jumps:
        node = replace(node, proxy_command=None)
    return [*hops, node]


def candidate_identity_files(endpoint: Endpoint) -> tuple[str, ...]:
    """Key files to offer: the configured ones, else OpenSSH's defaults."""
    if endpoint.identity_files:
        return endpoint.identity_files
    return tuple(os.path.expanduser(p) for p in DEFAULT_IDENTITY_FILES
                 if os.path.exists(os.path.expanduser(p)))
