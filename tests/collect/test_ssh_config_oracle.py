"""awgcheck's ssh_config resolution against OpenSSH's own, the real ``ssh``
as the oracle.

For every query of tests/assets/ssh_config/queries.yaml, ``ssh -G`` prints
what ssh would use (host name, port, user, known_hosts files, HostKeyAlias,
ProxyJump, ProxyCommand, ...) and ``ssh -v`` the identity files after ``~``
and token expansion (it lists them before connecting; ``ProxyCommand=false``
keeps it off the network). awgcheck's :func:`resolve_route` must agree on
every field, for the node and for each hop of its ProxyJump chain, which
the test builds as ssh.c does (``ssh -J <hops before> <last hop>``, each
resolved by ``ssh -G``). A config ssh refuses must be refused by awgcheck
too. ``~`` is the password database's home in both (awgcheck follows
``HOME``, ssh does not; test_ssh_config.py covers that difference).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paths
import pytest
import yaml

from awgcheck.collect.ssh.config import Endpoint, SshTarget, resolve_route
from awgcheck.collect.ssh.ssh_config import SshConfig
from awgcheck.collect.ssh.tokens import LocalUser
from awgcheck.errors import CollectError, ErrorClass

CORPUS = paths.ASSETS / "ssh_config"
QUERIES: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    (CORPUS / "queries.yaml").read_text())
ENV_VAR = ("AWGCHECK_CORPUS_VAR", "/var/lib/corpus")
_ENTRY = pwd.getpwuid(os.getuid())
LOCAL = LocalUser(_ENTRY.pw_name, os.getuid(), _ENTRY.pw_dir, socket.gethostname())


@dataclass(frozen=True)
class Query:
    config: str
    host: str
    user: str | None = None
    port: int | None = None
    identity: str | None = None
    known_hosts: str | None = None
    jump: str | None = None

    @property
    def id(self) -> str:
        extra = [f"{k}={v}" for k, v in vars(self).items()
                 if k not in ("config", "host") and v is not None]
        return f"{self.config}:{self.host}" + (f"[{','.join(extra)}]" if extra else "")


CASES = [Query(config, **query) for config, queries in QUERIES.items() for query in queries]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus copied out, ``@DIR@`` and ``@KEY@`` filled in; included
    files must not be writable by others (ssh refuses them)."""
    root = tmp_path_factory.mktemp("ssh-config-corpus")
    root.chmod(0o755)
    key = root / "inventory_key"
    key.write_text("not read: ssh only checks that -i files exist\n")
    for source in CORPUS.rglob("*"):
        target = root / source.relative_to(CORPUS)
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_bytes().replace(b"@DIR@", str(root).encode())
        target.write_bytes(text)
        target.chmod(0o644)
    return root


def _fill(value: str | None, corpus: Path) -> str | None:
    if value is None:
        return None
    return value.replace("@DIR@", str(corpus)).replace("@KEY@", str(corpus / "inventory_key"))


def _environment() -> dict[str, str]:
    return {**os.environ, ENV_VAR[0]: ENV_VAR[1], "SSH_AUTH_SOCK": ""}


def _ssh(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ssh", *args], capture_output=True, text=True, timeout=30,
                          env=_environment(), stdin=subprocess.DEVNULL, check=False)


def _options(config: Path, user: str | None, port: int | None, identity: str | None,
             known_hosts: str | None) -> list[str]:
    argv = ["-F", str(config)]
    if user is not None:
        argv += ["-l", user]
    if port is not None:
        argv += ["-p", str(port)]
    if identity is not None:
        argv += ["-i", identity]
    if known_hosts is not None:
        argv += ["-o", f"UserKnownHostsFile={known_hosts}"]
    return argv


def ssh_g(config: Path, host: str, *, user: str | None = None, port: int | None = None,
          identity: str | None = None, known_hosts: str | None = None,
          jump: str | None = None) -> dict[str, list[str]] | None:
    """``ssh -G``'s view (keyword -> values), None when ssh refuses."""
    argv = ["-G", *_options(config, user, port, identity, known_hosts)]
    if jump is not None:
        argv += ["-J", jump]
    done = _ssh([*argv, "--", host])
    if done.returncode != 0:
        return None
    view: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        keyword, _, value = line.partition(" ")
        view.setdefault(keyword, []).append(value)
    return view


def ssh_identities(config: Path, host: str, *, user: str | None = None,
                   port: int | None = None, identity: str | None = None) -> list[str]:
    """The identity files ssh would try, expanded (``ssh -v`` lists them
    before it connects; ``ProxyCommand=false`` ends the connection there)."""
    argv = ["-v", "-o", "ProxyCommand=false", "-o", "BatchMode=yes",
            *_options(config, user, port, identity, None), "--", host, "true"]
    found = re.findall(r"^debug1: identity file (.*) type -?\d+$", _ssh(argv).stderr, re.M)
    return [path for index, path in enumerate(found)
            if not (path.endswith("-cert") and index and found[index - 1] + "-cert" == path)]


def _split_hop(spec: str) -> tuple[str | None, str, int | None]:
    """``[user@]host[:port]`` / ``[user@][v6]:port`` / ``ssh://...``, as
    ssh -G prints a ProxyJump hop (the test's own reading, not awgcheck's)."""
    spec = spec.removeprefix("ssh://").rstrip("/")
    user, _, rest = spec.rpartition("@")
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        port = tail.removeprefix(":")
    else:
        host, _, port = rest.partition(":")
    return user or None, host, int(port) if port else None


@dataclass(frozen=True)
class SshHop:
    """One hop as ssh reaches it: its command-line arguments and -G view."""

    host: str
    user: str | None
    port: int | None
    view: dict[str, list[str]]


def ssh_route(config: Path, host: str, *, user: str | None = None, port: int | None = None,
              identity: str | None = None, known_hosts: str | None = None,
              jump: str | None = None) -> list[SshHop] | None:
    """The hops as ssh reaches them, outermost first; None when ssh refuses.
    ssh.c reaches ``a,b`` as ``ssh -l U -p P -J a b`` (no -i, no -o)."""
    view = ssh_g(config, host, user=user, port=port, identity=identity,
                 known_hosts=known_hosts, jump=jump)
    if view is None:
        return None
    here = SshHop(host, user, port, view)
    if "proxyjump" not in view:
        return [here]
    outer, _, last = view["proxyjump"][0].rpartition(",")
    hop_user, hop_host, hop_port = _split_hop(last)
    before = ssh_route(config, hop_host, user=hop_user, port=hop_port, jump=outer or None)
    return None if before is None else [*before, here]


def _tilde(path: str) -> str:
    return LOCAL.home.rstrip("/") + path[1:] if path.startswith("~/") else path


def _files(view: dict[str, list[str]], keyword: str) -> tuple[str, ...]:
    words = tuple(view[keyword][0].split()) if keyword in view else ()
    return () if words == ("none",) else words


def _expected_proxy(view: dict[str, list[str]], host_arg: str) -> str | None:
    """ssh's ``exec <ProxyCommand>`` with %h %p %r %n %k filled in."""
    if "proxycommand" not in view:
        return None
    values = {"h": view["hostname"][0], "p": view["port"][0], "r": view["user"][0],
              "n": host_arg, "k": view.get("hostkeyalias", [host_arg])[0], "%": "%"}
    return "exec " + re.sub(r"%(.)", lambda m: values[m.group(1)], view["proxycommand"][0])


def assert_same(hop: Endpoint, ssh: SshHop, config: Path, identity: str | None) -> None:
    """One hop: awgcheck's Endpoint against ssh's view of it."""
    view, host_arg = ssh.view, ssh.host
    where = f"{hop.alias}: "
    assert hop.hostname == view["hostname"][0], where + "hostname"
    assert hop.port == int(view["port"][0]), where + "port"
    assert hop.user == view["user"][0], where + "user"
    assert hop.host_key_alias == view.get("hostkeyalias", [None])[0], where + "hostkeyalias"
    assert hop.known_hosts == _files(view, "userknownhostsfile"), where + "userknownhostsfile"
    assert hop.global_known_hosts == tuple(
        _tilde(p) for p in _files(view, "globalknownhostsfile")), where + "globalknownhosts"
    assert hop.identities_only == (view["identitiesonly"][0] == "yes"), where + "identitiesonly"
    assert hop.hash_known_hosts == (view["hashknownhosts"][0] == "yes"), where + "hashknownhosts"
    timeout = view["connecttimeout"][0]
    if timeout == "none":
        assert hop.origins["connect_timeout"] == "default", where + "connecttimeout"
    else:
        assert hop.connect_timeout == float(timeout), where + "connecttimeout"
    assert hop.proxy_command == _expected_proxy(view, host_arg), where + "proxycommand"
    expected = ssh_identities(config, host_arg, user=ssh.user, port=ssh.port,
                              identity=identity)
    assert list(hop.identity_files) == expected, where + "identity files"


@pytest.mark.parametrize("query", CASES, ids=[q.id for q in CASES])
def test_resolution_agrees_with_ssh_g(query: Query, corpus: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(*ENV_VAR)
    config = corpus / query.config
    identity, known_hosts = _fill(query.identity, corpus), _fill(query.known_hosts, corpus)
    expected = ssh_route(config, query.host, user=query.user, port=query.port,
                         identity=identity, known_hosts=known_hosts, jump=query.jump)
    target = SshTarget(host=query.host, user=query.user, port=query.port, identity=identity,
                       known_hosts=known_hosts, jump=tuple(query.jump.split(","))
                       if query.jump else (), ssh_config=str(config))
    if expected is None:
        with pytest.raises(CollectError) as refused:
            resolve_route(target, SshConfig.named(str(config), LOCAL))
        assert refused.value.error_class is ErrorClass.BAD_TARGET
        assert str(refused.value).startswith(str(corpus)), "the error names the file"
        return
    route = resolve_route(target, SshConfig.named(str(config), LOCAL))
    assert [h.alias for h in route] == [hop.host for hop in expected]
    for index, (hop, ssh) in enumerate(zip(route, expected, strict=True)):
        node = index == len(route) - 1
        assert_same(hop, ssh, config, identity if node else None)


def test_corpus_covers_what_the_brief_names() -> None:
    """The corpus exercises every feature it is meant to pin down."""
    text = "\n".join(p.read_bytes().decode() for p in CORPUS.rglob("*") if p.is_file())
    for feature in ("Host vpn-?? !vpn-99", "Match host", "Match user", "Match originalhost",
                    "Match final", "Include", "%h", "%C", "%d", "%k", "${", "ProxyJump",
                    "IdentityFile", "UserKnownHostsFile", "GlobalKnownHostsFile",
                    "HostKeyAlias", "ProxyCommand", "\r\n"):
        assert feature in text, feature
    assert shutil.which("ssh"), "the oracle is the real ssh client"
