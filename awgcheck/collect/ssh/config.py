"""SSH node addresses: the inventory's view (:class:`SshTarget`) and what
OpenSSH's client configuration makes of it (:class:`Endpoint`).

Resolution follows ``ssh(1)`` (the rules are :mod:`.ssh_config`'s, checked
against ``ssh -G``): the inventory's fields act as ``ssh -l/-p/-i/-J`` and
``-o UserKnownHostsFile=`` would, then the first value each ssh_config
keyword obtains, then OpenSSH's defaults; ``~``, ``%`` tokens and
``${VAR}`` are expanded where ssh expands them. A ProxyJump chain is
resolved hop by hop as ssh resolves it (each hop through ssh_config, the
outermost one's own ProxyJump or ProxyCommand included).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from awgcheck.collect.base import ConnectOptions
from awgcheck.collect.ssh.ssh_config import (
    NAME_GIVEN,
    ConfigError,
    JumpHop,
    Options,
    SshConfig,
    Value,
)
from awgcheck.collect.ssh.tokens import ExpansionError, LocalUser, expand, expand_tilde
from awgcheck.errors import CollectError, ErrorClass
from awgcheck.inventory import Node, split_spec

DEFAULT_PORT = 22
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_DEADLINE = 60.0
DEFAULT_IDENTITY_FILES = ("~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ecdsa_sk",
                          "~/.ssh/id_ed25519", "~/.ssh/id_ed25519_sk", "~/.ssh/id_xmss",
                          "~/.ssh/id_dsa")
"""OpenSSH's identity files when none is configured, in its order."""
DEFAULT_USER_KNOWN_HOSTS = ("~/.ssh/known_hosts", "~/.ssh/known_hosts2")
DEFAULT_GLOBAL_KNOWN_HOSTS = ("/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")
MAX_HOPS = 8
"""Bastions one route may chain; more is a ProxyJump loop through ssh_config."""

INVENTORY = "inventory"
DEFAULT = "default"

@dataclass(frozen=True)
class SshTarget:
    """One SSH node as the inventory describes it.

    ``None`` in a field means "ask ssh_config, then the default": port 22,
    the local user name, the default identity files and known_hosts files.
    ``jump`` lists bastions outermost first, each ``user@host:port`` or a
    ``Host`` alias; when empty, ssh_config's ProxyJump / ProxyCommand apply.
    ``ssh_config`` is a path (``ssh -F``), ``"none"`` for no config file,
    or None for what plain ``ssh`` reads (``~/.ssh/config``, then
    ``/etc/ssh/ssh_config``). ``deadline`` bounds everything done on the
    node, from the first TCP connect to the last read: ``deadline`` seconds
    from the open, or until ``expires_at`` (a ``time.monotonic()`` value)
    when the caller's deadline started earlier (the audit's covers the
    node's rule evaluation too).
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
        if not self.host or any(c.isspace() or c == "\0" for c in self.host):
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
    """One SSH hop after ssh_config resolution: where to connect, as whom,
    with which keys, and which known_hosts files vouch for it.

    ``origins`` says where each value came from (``inventory``, an
    ssh_config ``file:line``, ``default``), for ``awgcheck inspect ssh``.
    """

    alias: str
    hostname: str
    port: int
    user: str
    identity_files: tuple[str, ...]
    identities_only: bool = False
    proxy_command: str | None = None
    jump: tuple[JumpHop, ...] = ()
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    host_key_alias: str | None = None
    hash_known_hosts: bool = False
    known_hosts: tuple[str, ...] = ()
    global_known_hosts: tuple[str, ...] = ()
    default_identities: bool = False
    origins: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        """``alias`` or ``alias:port``: the name a user recognises."""
        return self.alias if self.port == DEFAULT_PORT else f"{self.alias}:{self.port}"

    @property
    def known_hosts_name(self) -> str:
        """The name OpenSSH files this host's key under in known_hosts:
        HostKeyAlias as it is, else ``hostname`` or ``[hostname]:port``."""
        if self.host_key_alias is not None:
            return self.host_key_alias
        return self.hostname if self.port == DEFAULT_PORT else f"[{self.hostname}]:{self.port}"

    @property
    def known_hosts_files(self) -> tuple[str, ...]:
        """Every file checked for this host's key: the user files, then the
        global ones (accept-new writes to the first user file)."""
        return self.known_hosts + self.global_known_hosts

    @property
    def spec(self) -> str:
        """``user@alias:port``, as ``ssh -J`` takes it."""
        return f"{self.user}@{self.alias}:{self.port}"

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


def load_ssh_config(path: str | None) -> SshConfig:
    """The ssh_config files a target names (see :attr:`SshTarget.ssh_config`),
    checked to exist and be readable (ConfigError, a bad_target, if not)."""
    config = SshConfig.named(path)
    config.check()
    return config


def _origin_of(value: Value[Any] | None, fallback: str = DEFAULT) -> str:
    return value.origin if value is not None else fallback


def _seed(target_user: str | None, target_port: int | None, identity: str | None,
          known_hosts: str | None, jump: str | None) -> Options:
    """What the inventory says, as the ssh command-line options that win
    over every ssh_config file (-l, -p, -i, -o UserKnownHostsFile, -J)."""
    options = Options()
    if target_user is not None:
        options.user = Value(target_user, INVENTORY)
    if target_port is not None:
        options.port = Value(target_port, INVENTORY)
    if identity is not None:
        options.add_identity(identity, INVENTORY)
    if known_hosts is not None:
        options.user_known_hosts = (Value(known_hosts, INVENTORY),)
    if jump:
        options.set_jump(jump, INVENTORY)
    return options


@dataclass(frozen=True)
class _Expander:
    """The tokens ssh.c expands in IdentityFile and UserKnownHostsFile."""

    tokens: Mapping[str, str]
    home: str

    @classmethod
    def of(cls, local: LocalUser, host_arg: str, hostname: str, port: int, user: str,
           alias: str | None) -> _Expander:
        text = local.hostname + hostname + str(port) + user
        digest = hashlib.sha1(text.encode("utf-8", "surrogateescape"),
                              usedforsecurity=False).hexdigest()
        return cls({"C": digest, "L": local.short_hostname, "i": str(local.uid),
                    "k": alias or host_arg, "l": local.hostname, "n": host_arg,
                    "p": str(port), "d": local.home, "h": hostname, "r": user,
                    "u": local.name}, local.home)

    def path(self, value: Value[str], keyword: str) -> str:
        try:
            return expand(expand_tilde(value.value, self.home), self.tokens, environment=True)
        except ExpansionError as exc:
            raise ConfigError(f"{value.origin}: {keyword} {value.value!r}: {exc}") from None


def _connect_timeout(options: Options, explicit: float | None) -> tuple[float, str]:
    if explicit is not None:
        return explicit, INVENTORY
    if options.connect_timeout is not None:
        return float(options.connect_timeout.value), options.connect_timeout.origin
    return DEFAULT_CONNECT_TIMEOUT, DEFAULT


def _proxy_command(value: Value[str] | None, tokens: Mapping[str, str]) -> str | None:
    """sshconnect.c: ``exec <command>`` with %h %k %n %p %r, for the shell."""
    if value is None or value.value.lower() == "none":
        return None
    for token in ("h", "n", "r"):
        if any(c in tokens[token] for c in "'`\"$;&<>|(){}\n") or \
                tokens[token].startswith("-"):
            # OpenSSH 9.6 refuses such names too: they would run in the shell.
            raise ConfigError(f"{value.origin}: ProxyCommand: %{token} would put "
                              f"{tokens[token]!r} into a shell command")
    try:
        return expand("exec " + value.value, {t: tokens[t] for t in "hknpr"})
    except ExpansionError as exc:
        raise ConfigError(f"{value.origin}: ProxyCommand: {exc}") from None


def resolve_endpoint(
    config: SshConfig,
    host: str,
    *,
    port: int | None = None,
    user: str | None = None,
    identity: str | None = None,
    known_hosts: str | None = None,
    jump: str | None = None,
    connect_timeout: float | None = None,
    named_by: str = INVENTORY,
) -> Endpoint:
    """Apply ssh_config to one hop as ``ssh -G`` would; the explicit
    arguments win over the files (they are ssh's command-line options).
    ``named_by`` is where ``host`` came from, for :attr:`Endpoint.origins`."""
    options, hostname = config.lookup(host, _seed(user, port, identity, known_hosts, jump))
    local = config.local
    final_port = options.port.value if options.port else DEFAULT_PORT
    final_user = options.user.value if options.user else local.name
    alias = options.host_key_alias.value.lower() if options.host_key_alias else None
    expander = _Expander.of(local, host, hostname, final_port, final_user, alias)
    origins = {
        "hostname": named_by if options.hostname is None or
        options.hostname.origin == NAME_GIVEN else options.hostname.origin,
        "port": _origin_of(options.port), "user": _origin_of(options.user),
        "host_key_alias": _origin_of(options.host_key_alias),
        "proxy_jump": _origin_of(options.proxy_jump),
        "proxy_command": _origin_of(options.proxy_command),
    }
    identities = [expander.path(v, "IdentityFile") for v, _ in options.identity_files
                  if v.value.lower() != "none"]
    origins["identity_files"] = ", ".join(dict.fromkeys(
        v.origin for v, _ in options.identity_files)) or DEFAULT
    if not options.identity_files:
        identities = [expand_tilde(p, local.home) for p in DEFAULT_IDENTITY_FILES]
    user_files = options.user_known_hosts or tuple(
        Value(p, DEFAULT) for p in DEFAULT_USER_KNOWN_HOSTS)
    origins["known_hosts"] = user_files[0].origin
    global_files = options.global_known_hosts or tuple(
        Value(p, DEFAULT) for p in DEFAULT_GLOBAL_KNOWN_HOSTS)
    origins["global_known_hosts"] = global_files[0].origin
    timeout, origins["connect_timeout"] = _connect_timeout(options, connect_timeout)
    return Endpoint(
        alias=host, hostname=hostname, port=final_port, user=final_user,
        identity_files=tuple(identities),
        identities_only=bool(options.identities_only and options.identities_only.value),
        proxy_command=_proxy_command(options.proxy_command, expander.tokens),
        jump=options.proxy_jump.value if options.proxy_jump else (),
        connect_timeout=timeout, host_key_alias=alias,
        hash_known_hosts=bool(options.hash_known_hosts and options.hash_known_hosts.value),
        known_hosts=_known_hosts(user_files, expander, tokens=True),
        global_known_hosts=_known_hosts(global_files, expander, tokens=False),
        default_identities=not options.identity_files, origins=origins,
    )


def _known_hosts(files: tuple[Value[str], ...], expander: _Expander, *,
                 tokens: bool) -> tuple[str, ...]:
    """User files get ~, tokens and ${VAR}; global files only ~ (as ssh.c)."""
    if len(files) == 1 and files[0].value.lower() == "none":
        return ()
    if tokens:
        return tuple(expander.path(v, "UserKnownHostsFile") for v in files)
    try:
        return tuple(expand_tilde(v.value, expander.home) for v in files)
    except ExpansionError as exc:
        raise ConfigError(f"{files[0].origin}: GlobalKnownHostsFile: {exc}") from None


def resolve_route(target: SshTarget, config: SshConfig | None = None) -> list[Endpoint]:
    """The hops to the node, outermost bastion first and the node last.

    As ``ssh`` does it: the node's ProxyJump ``a,b`` reaches ``b`` with
    ``-J a`` (so ``b``'s own ProxyJump does not apply) and ``a`` as
    ssh_config says (its own ProxyJump or ProxyCommand included). The
    inventory's ``jump`` is ``ssh -J``. awgcheck adds two things ssh's jump
    processes do not get: the inventory's ``known_hosts`` vouches for every
    hop, and its ``identity`` is offered first to a bastion that has no
    IdentityFile of its own.
    """
    if config is None:
        config = load_ssh_config(target.ssh_config)
    node = resolve_endpoint(
        config, target.host, port=target.port, user=target.user,
        identity=target.identity, known_hosts=target.known_hosts,
        jump=",".join(target.jump) or None, connect_timeout=target.connect_timeout,
    )
    hops = _hops_to(config, node, target.connect_timeout, depth=0)
    return [_shared(hop, target) for hop in hops] + [node]


def _hops_to(config: SshConfig, endpoint: Endpoint, timeout: float | None,
             depth: int) -> list[Endpoint]:
    if not endpoint.jump:
        return []
    *outer, last = endpoint.jump
    if depth >= MAX_HOPS:
        raise ConfigError(f"{endpoint.origins.get('proxy_jump', endpoint.label)}: ProxyJump "
                          f"chain to {endpoint.label} is longer than {MAX_HOPS} hops "
                          "(a loop through ssh_config?)")
    if (last.host == endpoint.hostname and (last.port or DEFAULT_PORT) == endpoint.port
            and (last.user or endpoint.user) == endpoint.user):
        raise ConfigError(f"{endpoint.origins.get('proxy_jump', endpoint.label)}: jump host "
                          f"loop via {last.host}")
    hop = resolve_endpoint(config, last.host, port=last.port, user=last.user,
                           jump=",".join(str(h) for h in outer) or None,
                           connect_timeout=timeout,
                           named_by=endpoint.origins.get("proxy_jump", INVENTORY))
    return [*_hops_to(config, hop, timeout, depth + 1), hop]


def _shared(hop: Endpoint, target: SshTarget) -> Endpoint:
    """What the inventory gives the node that a bastion shares."""
    if target.known_hosts is not None:
        origins = {**hop.origins, "known_hosts": INVENTORY}
        hop = replace(hop, known_hosts=(target.known_hosts,), origins=origins)
    if target.identity is not None and hop.default_identities:
        origins = {**hop.origins, "identity_files": INVENTORY}
        hop = replace(hop, identity_files=(target.identity, *hop.identity_files),
                      origins=origins)
    return hop


def candidate_identity_files(endpoint: Endpoint) -> tuple[str, ...]:
    """Key files to offer: the configured ones (a missing one is reported
    when authentication fails), or those of OpenSSH's defaults that exist."""
    if not endpoint.default_identities:
        return endpoint.identity_files
    return tuple(p for p in endpoint.identity_files if os.path.exists(p))
