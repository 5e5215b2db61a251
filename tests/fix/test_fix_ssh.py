"""``awgcheck fix`` over real sshd nodes (tests/sshd_fleet.py): the diff,
applied on the node with the real ``patch`` from ``/``, and ``--apply``
(as root, and as a login user through real ``sudo``) each make ``check``
pass; the merge lock is honoured remotely; ``--reload`` runs awg-quick."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paths
import pytest
import yaml
from fix_fleet import BERLIN, assert_no_secret, assert_only_edited, awgcheck
from sshd_fleet import CONF_REL, SshdFleet, SudoUser
from test_fix_local import PLANTED
from test_fix_lock import lock_held, release, wait_for_lock_waiter

SERVER = (paths.DEMO / "nodes" / "server" / CONF_REL).read_bytes()
DRIFTED = BERLIN.replace(b"S4 = 18\n", b"S4 = 17\n").replace(b"Jc = 4\n", b"jc=4\n")
REFUSED = 3
FAKE_AWG_QUICK = """#!/bin/sh
# Stand-in for awg-quick (no kernel interface here): logs what it was asked.
echo "$(id -u) $*" >> {log}
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdFleet]:
    # A fake awg-quick first on the sessions' PATH (sshd's SetEnv).
    bin_dir = tmp_path_factory.mktemp("bin")
    with SshdFleet(nodes_wanted=2, extra_config=f"SetEnv PATH={bin_dir}:/usr/bin:/bin") as f:
        f.bin_dir = bin_dir  # type: ignore[attr-defined]
        yield f


def inventory(tmp_path: Path, fleet: SshdFleet, conf: bytes = DRIFTED, **edge: Any) -> Path:
    server, node = fleet.nodes
    server.write(CONF_REL, SERVER, 0o600)
    node.write(CONF_REL, conf, 0o600)
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"source": "server", "nodes": {
        "server": fleet.inventory_fields(server),
        "edge": fleet.inventory_fields(node, **edge)}}))
    return path


def ssh(*args: str) -> list[str]:
    return [*args, "--ssh-config", "none"]


def check_passes(path: Path) -> None:
    done = awgcheck(*ssh("check", "-i", str(path), "--node", "edge", "--format", "json"))
    assert done.returncode == 0, [f for f in json.loads(done.stdout)["findings"]
                                  if f["status"] == "fail"]


SSH_PLANTED = ["several", "crlf", "no-final-newline", "duplicate-last-drifts", "next-to-secret"]


@pytest.mark.parametrize("planted", SSH_PLANTED)
def test_ssh_fix_diff_applied_on_the_node(planted: str, fleet: SshdFleet,
                                          tmp_path: Path) -> None:
    drifted = PLANTED[planted](BERLIN)
    path = inventory(tmp_path, fleet, drifted)
    done = awgcheck(*ssh("fix", "edge", "-i", str(path), "--format", "json"))
    assert done.returncode == 0, done.stderr
    assert_no_secret(done.stdout + done.stderr)
    result = json.loads(done.stdout)
    conf = Path(fleet.nodes[1].conf_path)
    assert result["diff"].startswith(f"--- a/{str(conf).lstrip('/')}\n")
    # The node is this machine: patch run from / on it.
    patched = subprocess.run(["patch", "-p1", "--fuzz=0", "--no-backup-if-mismatch"],
                             cwd="/", input=result["diff"].encode(), capture_output=True)
    assert patched.returncode == 0, patched.stdout
    assert_only_edited(drifted, conf.read_bytes(), result["edits"])
    check_passes(path)


@pytest.mark.parametrize("planted", SSH_PLANTED)
def test_ssh_fix_apply_as_root(planted: str, fleet: SshdFleet, tmp_path: Path) -> None:
    drifted = PLANTED[planted](BERLIN)
    path = inventory(tmp_path, fleet, drifted)
    conf = Path(fleet.nodes[1].conf_path)
    for old in conf.parent.glob("*.bak"):
        old.unlink()
    done = awgcheck(*ssh("fix", "edge", "-i", str(path), "--format", "json"))
    expected = json.loads(done.stdout)
    done = awgcheck(*ssh("fix", "edge", "-i", str(path), "--apply"))
    assert done.returncode == 0, done.stderr
    assert_no_secret(done.stdout + done.stderr)
    assert done.stdout.decode() == expected["diff"]
    assert_only_edited(drifted, conf.read_bytes(), expected["edits"])
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    [backup] = conf.parent.glob("awg0.conf.awgcheck-*.bak")
    assert backup.read_bytes() == drifted
    check_passes(path)


def test_ssh_fix_apply_refuses_while_the_node_lock_is_held(fleet: SshdFleet,
                                                          tmp_path: Path) -> None:
    path = inventory(tmp_path, fleet)
    conf = Path(fleet.nodes[1].conf_path)
    with lock_held(Path(f"{conf}.lock")):
        done = awgcheck(*ssh("fix", "edge", "-i", str(path), "--apply", "--lock-timeout", "1"))
    assert done.returncode == REFUSED, done.stderr
    assert b"awg0.conf.lock is still held by another process after 1 s" in done.stderr
    assert conf.read_bytes() == DRIFTED


def test_ssh_fix_apply_refuses_a_conf_changed_while_it_waited(fleet: SshdFleet,
                                                             tmp_path: Path) -> None:
    path = inventory(tmp_path, fleet)
    conf = Path(fleet.nodes[1].conf_path)
    wait = "97.25"  # tells this test's remote flock apart
    with lock_held(Path(f"{conf}.lock")) as holder:
        fixing = subprocess.Popen([sys.executable, "-m", "awgcheck", *ssh(
            "fix", "edge", "-i", str(path), "--apply", "--lock-timeout", wait)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert wait_for_lock_waiter(None, wait)
        merged = DRIFTED + b"# merged by the agent\n"
        conf.write_bytes(merged)
        release(holder)
        _, err = fixing.communicate(timeout=120)
    assert fixing.returncode == REFUSED, err
    assert b"changed since the diff was computed; nothing written" in err
    assert conf.read_bytes() == merged


def test_ssh_fix_apply_through_sudo(fleet: SshdFleet, tmp_path: Path) -> None:
    """A login user that may not touch the conf (root's, 0600, in a 0700
    folder) applies through ``sudo -n``: the conf stays root's, 0600."""
    with SudoUser(rules="{user} ALL=(root) NOPASSWD: ALL") as user:
        path = inventory(tmp_path, fleet, user=user.name, sudo=True)
        conf = Path(fleet.nodes[1].conf_path)
        conf.parent.chmod(0o700)
        done = awgcheck(*ssh("fix", "edge", "-i", str(path), "--apply"))
        assert done.returncode == 0, done.stderr
        assert conf.read_bytes() == BERLIN
        info = conf.stat()
        assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o600)
        check_passes(path)


def test_ssh_fix_apply_reload_recreates_the_interface(fleet: SshdFleet,
                                                      tmp_path: Path) -> None:
    log = tmp_path / "awg-quick.log"
    fake = Path(fleet.bin_dir) / "awg-quick"  # type: ignore[attr-defined]
    fake.write_text(FAKE_AWG_QUICK.format(log=log))
    fake.chmod(0o755)
    path = inventory(tmp_path, fleet)
    done = awgcheck(*ssh("fix", "edge", "-i", str(path), "--apply", "--reload"))
    assert done.returncode == 0, done.stderr
    assert log.read_text() == f"{os.geteuid()} down awg0\n{os.geteuid()} up awg0\n"
    assert b"reloaded with `awg-quick down awg0 && awg-quick up awg0`" in done.stderr
    # Nothing left to change: no second reload.
    again = awgcheck(*ssh("fix", "edge", "-i", str(path), "--apply", "--reload"))
    assert again.returncode == 0 and b"nothing to change" in again.stderr
    assert log.read_text().count("up awg0") == 1


def test_ssh_fix_apply_reload_failure_keeps_the_written_conf(fleet: SshdFleet,
                                                             tmp_path: Path) -> None:
    fake = Path(fleet.bin_dir) / "awg-quick"  # type: ignore[attr-defined]
    fake.write_text("#!/bin/sh\necho \"awg-quick: \\`$2' is not a WireGuard interface\" >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    path = inventory(tmp_path, fleet)
    done = awgcheck(*ssh("fix", "edge", "-i", str(path), "--apply", "--reload"))
    assert done.returncode == 1, done.stderr
    assert Path(fleet.nodes[1].conf_path).read_bytes() == BERLIN
    assert (b"the conf is written, but the reload failed: edge: `awg-quick down awg0 && "
            b"awg-quick up awg0` failed (exit 1): awg-quick: `awg0' is not a WireGuard "
            b"interface") in done.stderr
