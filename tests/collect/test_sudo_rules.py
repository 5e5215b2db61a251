"""The sudoers lines of docs/ssh.md, installed as written on a real sudo.

The block is parsed out of the docs (so the docs and this test cannot
drift), only its user name changed to a throwaway account, checked with
``visudo -c`` and put in /etc/sudoers.d. Then ``check --runtime`` reads a
real sshd node through it: the conf at the documented path with ``sudo -n
cat``, the running interface with ``sudo -n -- awg ...`` (a stand-in
``awg`` at the documented /usr/bin/awg that, like the real one, needs
root). Commands outside the lines are refused, and the message of each
refusal names the exact command and a rule that, installed as given,
lets exactly that command run.

Root only, as CI runs: the documented paths are system paths. They are
created for the test and removed after; a machine that has a real
/usr/bin/awg or /etc/amnezia fails the test rather than have them
replaced.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import paths
import pytest
import yaml
from click.testing import CliRunner
from sshd_fleet import SshdFleet, SudoUser

from awgcheck.cli.main import main
from awgcheck.collect import sudo
from awgcheck.collect.runtime import dump_argv, showconf_argv
from awgcheck.collect.ssh.connect import open_ssh
from awgcheck.errors import CollectError, ErrorClass
from awgcheck.inventory import DEFAULT_CONF, DEFAULT_INTERFACE

DOCS = paths.ROOT / "docs" / "ssh.md"
DOC_USER = "audit"
AWG = Path(sudo.PROGRAMS["awg"])
CONF = Path(DEFAULT_CONF)
OTHER_CONF = CONF.with_name("awg1.conf")
RUNTIME = paths.ASSETS / "runtime" / "3.1"
FAKE_AWG = """#!/bin/sh
# Stand-in for amneziawg-tools' awg, installed by awgcheck's
# tests/collect/test_sudo_rules.py for the test's duration. Like the real
# tool it needs root to talk to an interface.
if [ "$(id -u)" != 0 ]; then
    echo "Unable to access interface: Operation not permitted" >&2
    exit 1
fi
AWGCHECK_FAKE_AWG_DIR={state} exec {replay} "$@"
"""


def documented_rules() -> list[str]:
    """The lines of the one ```sudoers block in docs/ssh.md (comments out)."""
    blocks = re.findall(r"^```sudoers\n(.*?)^```", DOCS.read_text(), re.S | re.M)
    assert len(blocks) == 1, "docs/ssh.md has one sudoers block"
    return [line for line in blocks[0].splitlines() if line and not line.startswith("#")]


def test_documented_rules_are_the_rules_awgcheck_suggests() -> None:
    """Each line is what a refusal's message would suggest for a command
    awgcheck runs on a default node: one source, two places."""
    commands = [sudo.command_of(sudo.read_argv(DEFAULT_CONF)),
                showconf_argv(DEFAULT_INTERFACE), dump_argv(DEFAULT_INTERFACE)]
    assert documented_rules() == [sudo.rule(DOC_USER, c) for c in commands]


@pytest.fixture(scope="module")
def system_paths(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The documented conf and /usr/bin/awg, for the test's duration."""
    taken = [p for p in (AWG, CONF.parents[1]) if p.exists()]
    assert not taken, (f"{taken} exist on this machine; run this test where awgcheck's "
                       "test suite owns them (a throwaway container, as CI does)")
    state = tmp_path_factory.mktemp("fake-awg-state")
    state.chmod(0o755)
    shutil.copy(RUNTIME / "showconf-kmod", state / "showconf")
    shutil.copy(RUNTIME / "dump", state / "dump")
    AWG.write_text(FAKE_AWG.format(state=state, replay=paths.ASSETS / "bin" / "awg"))
    AWG.chmod(0o755)
    try:
        CONF.parent.mkdir(parents=True)
        # The file awg runs is the file on disk: what showconf prints.
        CONF.write_bytes((RUNTIME / "showconf-kmod").read_bytes())
        CONF.chmod(0o600)
        OTHER_CONF.write_bytes(CONF.read_bytes())
        OTHER_CONF.chmod(0o600)
        yield
    finally:
        AWG.unlink(missing_ok=True)
        shutil.rmtree(CONF.parents[1], ignore_errors=True)


@pytest.fixture(scope="module")
def audit_user(system_paths: None) -> Iterator[SudoUser]:
    """A login user with exactly the documented lines."""
    lines = [re.sub(rf"^{DOC_USER} ", "{user} ", line) for line in documented_rules()]
    with SudoUser(rules="\n".join(lines)) as user:
        yield user


def inventory(tmp_path: Path, fleet: SshdFleet, user: SudoUser) -> Path:
    node = fleet.inventory_fields(fleet.nodes[0], user=user.name, sudo=True)
    del node["conf"]  # the documented default path
    path = tmp_path / "fleet.yaml"
    source = tmp_path / "source.conf"
    source.write_bytes(CONF.read_bytes())
    path.write_text(yaml.safe_dump({"source": str(source), "nodes": {"vpn1": node}}))
    return path


def test_check_runtime_through_the_documented_rules(fleet: SshdFleet, audit_user: SudoUser,
                                                    tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", "-i", str(inventory(tmp_path, fleet, audit_user)),
                                       "--runtime", "--format", "json", "--ssh-config", "none"])
    report = json.loads(result.stdout)
    findings = report["findings"]
    assert not [f for f in findings if f["status"] == "error"], findings
    runtime = [f for f in findings if f["rule"].startswith("runtime")]
    assert runtime and all(f["status"] == "pass" for f in runtime), runtime
    assert result.exit_code == 0, result.stdout


def test_commands_outside_the_rules_are_refused_with_the_rule_that_allows_them(
        fleet: SshdFleet, audit_user: SudoUser) -> None:
    node = fleet.nodes[0]
    target = fleet.target(node, user=audit_user.name, sudo=True)
    with open_ssh(target) as collector:
        assert collector.read_file(DEFAULT_CONF) == CONF.read_bytes()
        with pytest.raises(CollectError) as other:
            collector.read_file(str(OTHER_CONF))
        with pytest.raises(CollectError) as dump_all:
            collector.run(["awg", "show", "all", "dump"])
    for refused in (other.value, dump_all.value):
        assert refused.error_class is ErrorClass.SUDO_PASSWORD_REQUIRED
    label = f"{node.host}:{node.port}"
    rule = f"{audit_user.name} ALL=(root) NOPASSWD: /usr/bin/cat -- {OTHER_CONF}"
    assert str(other.value) == (
        f"{label}:{OTHER_CONF}: sudo wants a password to run `sudo -n cat -- {OTHER_CONF}`; "
        f"allow exactly that with this line in /etc/sudoers.d/awgcheck on the node (edit "
        f"with visudo -f): {rule}")
    assert "`sudo -n -- awg show all dump`" in str(dump_all.value)
    # The suggested line, installed as given, lets that command run.
    assert isinstance(other.value, sudo.SudoRefused) and other.value.rule == rule
    audit_user.allow(other.value.rule)
    with open_ssh(target) as collector:
        assert collector.read_file(str(OTHER_CONF)) == OTHER_CONF.read_bytes()


def test_the_documented_refusal_message_is_the_real_one(fleet: SshdFleet,
                                                       system_paths: None) -> None:
    """docs/ssh.md's example message, for a user without the lines."""
    example = re.search(r"^(vpn1:\S+: sudo wants a password .*)$", DOCS.read_text(), re.M)
    assert example is not None
    node = fleet.nodes[0]
    with SudoUser() as user, open_ssh(fleet.target(node, user=user.name, sudo=True)) as c, \
            pytest.raises(CollectError) as refused:
        c.read_file(DEFAULT_CONF)
    label = f"{node.host}:{node.port}"
    assert str(refused.value) == example.group(1).replace("vpn1:", f"{label}:", 1).replace(
        f" {DOC_USER} ALL=", f" {user.name} ALL=")
