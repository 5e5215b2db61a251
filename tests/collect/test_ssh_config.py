"""The ssh_config reader where it cannot be compared with ``ssh -G``:
awgcheck's deliberate differences (``Match exec``, ``HOME``, what the
inventory gives bastions), the system file, permissions and bounds.
The rest is held to the real ssh by test_ssh_config_oracle.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from awgcheck.collect.ssh.config import (
    Endpoint,
    SshTarget,
    candidate_identity_files,
    resolve_route,
)
from awgcheck.collect.ssh.ssh_config import ConfigFile, SshConfig, match_pattern
from awgcheck.collect.ssh.tokens import LocalUser
from awgcheck.errors import CollectError, ErrorClass

LOCAL = LocalUser("ops", 1000, "/home/ops", "box.example")


def route(text: str, tmp_path: Path, host: str = "vpn", **fields: object) -> list[Endpoint]:
    config = tmp_path / "ssh_config"
    config.write_text(text)
    target = SshTarget(host=host, ssh_config=str(config), **fields)  # type: ignore[arg-type]
    return resolve_route(target, SshConfig.named(str(config), LOCAL))


def refused(text: str, tmp_path: Path, host: str = "vpn") -> CollectError:
    with pytest.raises(CollectError) as info:
        route(text, tmp_path, host)
    assert info.value.error_class is ErrorClass.BAD_TARGET
    return info.value


def test_match_exec_is_refused_naming_the_line(tmp_path: Path) -> None:
    error = refused("Host *\n  User a\nMatch exec \"nc -z vpn 22\"\n  Port 2\n", tmp_path)
    assert str(error).startswith(f"{tmp_path}/ssh_config:3: Match exec is not supported")


def test_match_exec_after_a_failed_criterion_is_not_evaluated(tmp_path: Path) -> None:
    """As ssh skips the command once an earlier criterion failed, awgcheck
    refuses it only for the hosts ssh would run it for."""
    text = "Match host other exec \"false\"\n  Port 2\n"
    [node] = route(text, tmp_path)
    assert node.port == 22
    refused(text, tmp_path, host="other")


def test_home_is_where_the_environment_says(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Deliberate difference: ~ and %d are $HOME (ssh: the passwd entry)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home" / ".ssh").mkdir(parents=True)
    (tmp_path / "home" / ".ssh" / "fleet.conf").write_text("Host vpn\n  Port 2200\n")
    (tmp_path / "ssh_config").write_text(
        "Include fleet.conf\nHost vpn\n  IdentityFile ~/.ssh/k_%d\n")
    config = SshConfig.named(str(tmp_path / "ssh_config"))
    [node] = resolve_route(SshTarget(host="vpn"), config)
    assert node.port == 2200, "a relative Include is read from $HOME/.ssh"
    home = str(tmp_path / "home")
    assert node.identity_files == (f"{home}/.ssh/k_{home}",)
    assert node.known_hosts[0] == f"{home}/.ssh/known_hosts"


def test_included_file_writable_by_others_is_refused(tmp_path: Path) -> None:
    included = tmp_path / "shared.conf"
    included.write_text("Host vpn\n  Port 2\n")
    included.chmod(0o666)
    error = refused(f"Include {included}\n", tmp_path)
    assert str(error).startswith(f"{included}: bad owner or permissions")


def test_ignore_unknown_lets_a_listed_keyword_pass(tmp_path: Path) -> None:
    error = refused("Host *\n  UseKeychainX yes\n", tmp_path)
    assert "ssh_config:2: unknown ssh_config keyword 'usekeychainx'" in str(error)
    [node] = route("IgnoreUnknown UseKeychainX,Other\nHost *\n  UseKeychainX yes\n", tmp_path)
    assert node.hostname == "vpn"


def test_user_file_first_then_system_file(tmp_path: Path) -> None:
    """Without --ssh-config: ~/.ssh/config, then /etc/ssh/ssh_config, the
    first value winning; Include in the system file is relative to
    /etc/ssh, and the same IdentityFile from both sides is listed twice,
    as ssh lists it."""
    user, system = tmp_path / "config", tmp_path / "ssh_config"
    user.write_text("Host vpn\n  User mine\n  IdentityFile /k\n")
    system.write_text("Include no-such-awgcheck-test-*.conf\n"
                      "Host *\n  User theirs\n  Port 2022\n  IdentityFile /k\n")
    config = SshConfig((ConfigFile(str(user), optional=True, check_owner=True),
                        ConfigFile(str(system), user_config=False, optional=True)), LOCAL)
    [node] = resolve_route(SshTarget(host="vpn"), config)
    assert (node.user, node.port, node.identity_files) == ("mine", 2022, ("/k", "/k"))


def test_bastions_share_the_inventory_known_hosts_and_identity(tmp_path: Path) -> None:
    """Deliberate difference: ssh's jump processes get neither; awgcheck
    trusts the inventory's known_hosts for every hop and offers its key
    first to a bastion without an IdentityFile of its own."""
    text = ("Host b1\n  HostName 192.0.2.1\nHost b2\n  HostName 192.0.2.2\n"
            "  IdentityFile /b2_key\nHost vpn\n  ProxyJump b1,b2\n")
    b1, b2, node = route(text, tmp_path, identity="/inv_key", known_hosts="/inv_kh")
    assert b1.identity_files[0] == "/inv_key" and b1.origins["identity_files"] == "inventory"
    assert b2.identity_files == ("/b2_key",)
    assert node.identity_files == ("/inv_key",)
    assert b1.known_hosts == b2.known_hosts == node.known_hosts == ("/inv_kh",)


def test_a_missing_inventory_identity_is_kept_to_be_named(tmp_path: Path) -> None:
    """Deliberate difference: ssh drops an -i file that does not exist; the
    auth_failed message names it instead."""
    [node] = route("", tmp_path, identity=str(tmp_path / "gone"))
    assert candidate_identity_files(node) == (str(tmp_path / "gone"),)


def test_a_jump_chain_through_ssh_config_is_bounded(tmp_path: Path) -> None:
    hops = "".join(f"Host h{i}\n  ProxyJump h{i + 1}\n" for i in range(12))
    error = refused(hops, tmp_path, host="h0")
    assert "longer than 8 hops" in str(error)


def test_missing_named_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CollectError, match="no such ssh_config file"):
        SshConfig.named(str(tmp_path / "nope"), LOCAL).check()


@pytest.mark.parametrize(("text", "pattern", "expected"), [
    ("a" * 4000, "*a*a*a*a*a*a*b", False),
    ("a" * 4000 + "b", "*a*a*a*a*a*a*b", True),
    ("vpn-01", "vpn-??", True),
    ("vpn-1", "vpn-??", False),
    ("", "*", True),
], ids=["long-no-match", "long-match", "question", "question-short", "empty"])
def test_patterns_match_without_recursion(text: str, pattern: str, expected: bool) -> None:
    assert match_pattern(text, pattern) is expected


def test_proxy_command_runs_in_the_shell_with_tokens(tmp_path: Path) -> None:
    [node] = route("Host vpn\n  HostName 192.0.2.9\n  Port 2200\n  User ops\n"
                   "  ProxyCommand nc -w 5 %h %p || echo %r@%n\n", tmp_path)
    assert node.proxy_command == "exec nc -w 5 192.0.2.9 2200 || echo ops@vpn"


def test_proxy_command_refuses_a_host_name_with_shell_characters(tmp_path: Path) -> None:
    error = refused("Host *\n  ProxyCommand nc %h %p\n", tmp_path, host="vpn;id")
    assert "ProxyCommand: %h would put 'vpn;id' into a shell command" in str(error)
    assert os.path.basename(str(error).split(":")[0]) == "ssh_config"
