"""``verify`` as a non-root user, on a real sudo: the conf (root's, 0600)
with ``sudo -n cat``, the interface with ``sudo -n -- awg``, exactly the
commands a NOPASSWD rule allows; without the rule, "could not check" and
the rule to add.

Root only, as CI runs (tests/run.sh): a throwaway account and sudoers file
(tests/sshd_fleet.py SudoUser), and a stand-in ``awg`` that, like the
real one, needs root, at /usr/local/sbin/awg (first on sudo's secure_path;
/usr/bin/awg is test_sudo_rules.py's). A machine that has one fails the
test rather than have it replaced.
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_node import AWGCHECK, SOURCE, FakeNode, epoch_json
from sshd_fleet import SudoUser

from awgcheck import exitcodes

AWG = Path("/usr/local/sbin/awg")
FAKE_AWG = """#!/bin/sh
# Stand-in for amneziawg-tools' awg, installed by awgcheck's
# tests/verify/test_verify_sudo.py for the test's duration.
if [ "$(id -u)" != 0 ]; then
    echo "Unable to access interface: Operation not permitted" >&2
    exit 1
fi
AWGCHECK_FAKE_AWG_DIR={state} exec {wrapper} "$@"
"""


@pytest.fixture
def node() -> Iterator[FakeNode]:
    """A fake node in a folder the test user can enter, with root's awg."""
    assert not AWG.exists(), f"{AWG} exists on this machine; run this test where the suite owns it"
    root = Path(tempfile.mkdtemp(prefix="awgcheck-verify-sudo-"))
    root.chmod(0o755)
    fake = FakeNode(root)
    fake.plant(SOURCE, SOURCE, received=3)
    for folder in (fake.bin, fake.state):
        folder.chmod(0o755)
    AWG.write_text(FAKE_AWG.format(state=fake.state, wrapper=fake.bin / "awg"))
    AWG.chmod(0o755)
    try:
        yield fake
    finally:
        AWG.unlink(missing_ok=True)
        shutil.rmtree(root, ignore_errors=True)


def entry_point(user: SudoUser) -> list[str]:
    """The installed awgcheck as ``user`` can run it: the entry point, when
    its interpreter is one ``user`` may execute (a system Python, as in
    CI); else the same entry function on the system Python of the same
    version, with this environment's packages (a pyenv under /root)."""
    if _runs(user, [str(AWGCHECK), "--version"]):
        return [str(AWGCHECK)]
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    packages = next(p for p in site.getsitepackages() if p.startswith(sys.prefix))
    command = [str(system), "-c", "import site, sys; site.addsitedir(sys.argv.pop(1)); "
               "sys.argv[0] = 'awgcheck'; from awgcheck.cli.main import main; main()",
               packages]
    assert _runs(user, [*command, "--version"]), (
        f"neither {AWGCHECK} nor {system} runs as a non-root user: run the suite with a "
        "Python other users may execute (tests/run.sh on a system Python)")
    return command


def _runs(user: SudoUser, argv: list[str]) -> bool:
    done = subprocess.run(["runuser", "-u", user.name, "--", *argv], capture_output=True,
                          check=False, cwd="/")
    return done.returncode == 0


def verify_as(user: SudoUser, node: FakeNode) -> tuple[int, str]:
    source = node.root / "epoch.json"
    source.write_text(epoch_json(SOURCE))
    source.chmod(0o644)
    env = node.env()
    done = subprocess.run(
        ["runuser", "-u", user.name, "--", "env", f"PATH={env['PATH']}",
         f"AWGCHECK_FAKE_AWG_DIR={env['AWGCHECK_FAKE_AWG_DIR']}", *entry_point(user), "verify",
         "--conf", str(node.conf), "--against", str(source), "--probe"],
        capture_output=True, text=True, timeout=60, check=False, cwd=node.root)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout


def test_verify_reads_conf_and_interface_through_sudo(node: FakeNode) -> None:
    rules = [f"{{user}} ALL=(root) NOPASSWD: /usr/bin/cat -- {node.conf}",
             f"{{user}} ALL=(root) NOPASSWD: {AWG} showconf awg0",
             f"{{user}} ALL=(root) NOPASSWD: {AWG} show awg0 dump"]
    with SudoUser(rules="\n".join(rules)) as user:
        code, out = verify_as(user, node)
    assert code == exitcodes.OK, out
    assert out.startswith(f"mesh: OK (awg0 runs what {node.conf} says, and it matches epoch 42")
    assert "ping 10.77.0.1: 3/3 replies" in out


def test_verify_without_a_sudo_rule_says_which_rule_to_add(node: FakeNode) -> None:
    node.conf.chmod(0o644)  # readable: only awg needs root
    with SudoUser() as user:
        code, out = verify_as(user, node)
    assert code == exitcodes.UNCHECKED, out
    assert out.startswith("mesh: COULD NOT CHECK: the running interface could not be read: "
                          "sudo refused to run awg")
    assert f"`{user.name} ALL=(root) NOPASSWD: /usr/bin/awg showconf awg0`" in out
