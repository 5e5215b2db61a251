"""SshTarget, ssh:// URLs, ssh_config resolution and known_hosts matching
(no network: these read files only)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
from pathlib import Path

import paramiko
import pytest

from awgcheck.collect.ssh.config import SshTarget, load_ssh_config, parse_ssh_url, resolve_route
from awgcheck.collect.ssh.hostkeys import (
    fingerprint,
    load_known_hosts,
    verify_host_key,
)
from awgcheck.errors import CollectError, ErrorClass


@pytest.mark.parametrize(
    ("url", "user", "host", "port"),
    [
        ("ssh://alice@vpn1.example:2222", "alice", "vpn1.example", 2222),
        ("ssh://vpn1.example", None, "vpn1.example", None),
        ("ssh://root@[2001:db8::1]:22", "root", "2001:db8::1", 22),
        ("bob@10.0.0.5:2200", "bob", "10.0.0.5", 2200),
        ("vpn2", None, "vpn2", None),
    ],
    ids=["full", "host-only", "ipv6", "no-scheme", "alias"],
)
def test_parse_ssh_url_splits_parts(url: str, user: str | None, host: str,
                                    port: int | None) -> None:
    target = parse_ssh_url(url)
    assert (target.user, target.host, target.port) == (user, host, port)


@pytest.mark.parametrize("url", ["ssh://host/etc", "ssh://host:99999", "a b", "ssh://:22"],
                         ids=["path", "port-range", "space", "no-host"])
def test_parse_ssh_url_rejects_bad_input(url: str) -> None:
    with pytest.raises(CollectError) as info:
        parse_ssh_url(url)
    assert info.value.error_class == "bad_target"


def test_parse_ssh_url_takes_options() -> None:
    target = parse_ssh_url("ssh://h", sudo=True, deadline=5.0)
    assert target.sudo and target.deadline == 5.0


def test_ssh_config_supplies_unset_fields(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "Host vpn1\n  HostName 192.0.2.10\n  User ops\n  Port 2201\n"
        f"  IdentityFile {tmp_path}/id_vpn\n  ConnectTimeout 3\n"
        "Host bastion\n  HostName 192.0.2.1\n  User jump\n"
        "Host vpn2\n  ProxyJump bastion\n"
    )
    cfg = load_ssh_config(str(config))
    [node] = resolve_route(SshTarget(host="vpn1"), cfg)
    assert (node.hostname, node.user, node.port, node.connect_timeout) == (
        "192.0.2.10", "ops", 2201, 3.0)
    assert node.identity_files == (f"{tmp_path}/id_vpn",)
    assert node.known_hosts_name == "[192.0.2.10]:2201"


def test_ssh_config_line_too_long_is_bad_target(tmp_path: Path) -> None:
    # Found by the fuzz run: paramiko shlex-splits a 500 KB line for seconds.
    config = tmp_path / "ssh_config"
    config.write_text("Host vpn1\n  HostName " + "a" * 500_000 + "\n")
    with pytest.raises(CollectError, match=r"ssh_config:2: ssh_config line is longer") as caught:
        load_ssh_config(str(config))
    assert caught.value.error_class is ErrorClass.BAD_TARGET


@pytest.mark.parametrize("value", ["3ame 192.0.2.1", "nan", "inf", "-1"])
def test_ssh_config_bad_connect_timeout_is_bad_target(tmp_path: Path, value: str) -> None:
    # Found by the fuzz harness (tests/fuzz): float() raised a bare ValueError.
    config = tmp_path / "config"
    config.write_text(f"Host vpn1\n  ConnectTimeout {value}\n")
    with pytest.raises(CollectError, match=r"config:2: ConnectTimeout: ") as caught:
        resolve_route(SshTarget(host="vpn1"), load_ssh_config(str(config)))
    assert caught.value.error_class is ErrorClass.BAD_TARGET


def test_explicit_fields_win_over_ssh_config(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("Host vpn1\n  User ops\n  Port 2201\n  IdentityFile /nope\n")
    target = SshTarget(host="vpn1", user="root", port=22, identity="/k", connect_timeout=1)
    [node] = resolve_route(target, load_ssh_config(str(config)))
    # As ``ssh -i``: the inventory's key is offered first, ssh_config's after.
    assert (node.user, node.port, node.identity_files, node.connect_timeout) == (
        "root", 22, ("/k", "/nope"), 1)


def test_proxyjump_from_config_resolves_bastion_alias(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("Host bastion\n  HostName 192.0.2.1\n  User jump\n  Port 2022\n"
                      "Host vpn2\n  ProxyJump bastion\n")
    bastion, node = resolve_route(SshTarget(host="vpn2", user="root"),
                                  load_ssh_config(str(config)))
    assert (bastion.hostname, bastion.user, bastion.port) == ("192.0.2.1", "jump", 2022)
    assert node.hostname == "vpn2"


def test_explicit_jump_replaces_config_proxycommand(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("Host vpn3\n  ProxyCommand nc %h %p\n")
    hops = resolve_route(SshTarget(host="vpn3", jump=("a@j1:2200", "j2")),
                         load_ssh_config(str(config)))
    assert [(h.user, h.hostname, h.port) for h in hops[:2]] == [
        ("a", "j1", 2200), (hops[1].user, "j2", 22)]
    assert hops[-1].proxy_command is None


def test_ssh_config_none_ignores_home_config() -> None:
    [node] = resolve_route(SshTarget(host="h", ssh_config="none"))
    assert node.hostname == "h" and node.port == 22


# -- known_hosts ---------------------------------------------------------------

def _key() -> paramiko.PKey:
    return paramiko.Ed25519Key(data=_ed25519_blob())


def _ed25519_blob() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pub = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return base64.b64decode(pub.split()[1])


def _hashed(name: str) -> str:
    salt = b"0123456789abcdefghij"
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


@pytest.mark.parametrize(
    ("pattern", "name", "known"),
    [
        ("[10.0.0.1]:2222", "[10.0.0.1]:2222", True),
        ("10.0.0.1", "[10.0.0.1]:2222", False),
        ("vpn*.example", "vpn7.example", True),
        ("vpn?.example,!vpn9.example", "vpn9.example", False),
        ("HASH", "vpn1.example", True),
    ],
    ids=["bracket-port", "port-differs", "wildcard", "negated", "hashed"],
)
def test_known_hosts_patterns(tmp_path: Path, pattern: str, name: str, known: bool) -> None:
    key = _key()
    pattern = pattern.replace("HASH", _hashed(name))
    file = tmp_path / "known_hosts"
    file.write_text(f"{pattern} {key.get_name()} {key.get_base64()}\n")
    assert bool(load_known_hosts(str(file)).keys_for(name)) is known


def test_cert_authority_and_revoked_lines_do_not_crash(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good, bad, ca = _key(), _key(), _key()
    file = tmp_path / "known_hosts"
    file.write_text(
        f"@cert-authority *.example {ca.get_name()} {ca.get_base64()}\n"
        f"@revoked * {bad.get_name()} {bad.get_base64()}\n"
        f"vpn1 {good.get_name()} {good.get_base64()}\n"
        f"vpn2 {bad.get_name()} {bad.get_base64()}\n"
    )
    with caplog.at_level(logging.WARNING, logger="awgcheck"):
        known = load_known_hosts(str(file))
    assert any("@cert-authority" in w for w in known.warnings)
    assert any("@cert-authority" in r.getMessage() for r in caplog.records)
    verify_host_key("vpn1", "vpn1", good, str(file))
    with pytest.raises(CollectError) as info:
        verify_host_key("vpn2", "vpn2", bad, str(file))
    assert info.value.error_class == "host_key_revoked"


def test_unknown_key_message_has_fingerprint_and_fix(tmp_path: Path) -> None:
    key = _key()
    with pytest.raises(CollectError) as info:
        verify_host_key("vpn1:2222", "[vpn1]:2222", key, str(tmp_path / "kh"))
    message = str(info.value)
    assert info.value.error_class == "host_key_unknown"
    assert message.startswith("vpn1:2222: ")
    assert fingerprint(key) in message
    assert "ssh-keyscan -p 2222" in message


def test_accept_new_records_once_then_refuses_a_different_key(tmp_path: Path) -> None:
    file = tmp_path / "sub" / "known_hosts"
    first, second = _key(), _key()
    verify_host_key("h", "[h]:2", first, str(file), accept_new=True)
    verify_host_key("h", "[h]:2", first, str(file), accept_new=True)
    assert file.read_text().count("[h]:2 ") == 1
    with pytest.raises(CollectError) as info:
        verify_host_key("h", "[h]:2", second, str(file), accept_new=True)
    assert info.value.error_class == "host_key_changed"
    assert "man-in-the-middle" in str(info.value)


def test_accept_new_from_many_threads_writes_every_key_once(tmp_path: Path) -> None:
    file = tmp_path / "known_hosts"
    keys = [_key() for _ in range(12)]

    def record(index: int) -> None:
        for _ in range(3):  # repeats must not duplicate lines
            verify_host_key(f"h{index}", f"[h{index}]:22{index:02d}", keys[index], str(file),
                            accept_new=True)

    threads = [threading.Thread(target=record, args=(i,)) for i in range(len(keys))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = file.read_text().splitlines()
    assert sorted(lines) == sorted(
        f"[h{i}]:22{i:02d} {k.get_name()} {k.get_base64()}" for i, k in enumerate(keys))


@pytest.mark.parametrize("jump", ["b1", ["b1", "b2"], ("b1",)], ids=["str", "list", "tuple"])
def test_target_jump_is_always_a_tuple(jump: object) -> None:
    target = SshTarget(host="h", jump=jump)  # type: ignore[arg-type]
    assert isinstance(target.jump, tuple) and target.jump[0] == "b1"
    hash(target)


def test_accept_new_hashes_names_when_asked(tmp_path: Path) -> None:
    file = tmp_path / "known_hosts"
    key = _key()
    verify_host_key("h", "[h]:2", key, str(file), accept_new=True, hash_names=True)
    text = file.read_text()
    assert text.startswith("|1|") and "[h]:2" not in text
    verify_host_key("h", "[h]:2", key, str(file))  # the hashed line matches
