"""Hostile files on a real sshd node: sizes that lie, files that never end,
and a read that blocks must not leave anything running on the node (a
FIFO is refused before it is opened; a ``sudo cat`` ends with its
timeout)."""

from __future__ import annotations

import errno
import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sshd_fleet import SFTP_SERVER, SshdFleet, SudoUser

from awgcheck.cli.main import main
from awgcheck.collect.ssh.connect import open_ssh
from awgcheck.errors import CollectError, ErrorClass


def test_sftp_device_that_never_ends_is_not_read(fleet: SshdFleet) -> None:
    # fstat says 0 bytes; trusting it read one chunk and gave parse_error,
    # then it was read to the 1 MiB cap; now its STAT refuses it, as a
    # local node tree does.
    with open_ssh(fleet.target(fleet.nodes[0])) as collector, \
            pytest.raises(CollectError) as caught:
        collector.read_file("/dev/zero")
    assert caught.value.error_class is ErrorClass.NOT_A_FILE
    assert str(caught.value).endswith(":/dev/zero: is a character device, not a regular file; "
                                      "not read")


def test_sftp_proc_file_is_read_whole(fleet: SshdFleet) -> None:
    # /proc files report size 0 and come in page-sized reads: trusting the
    # size cut them at the first chunk.
    env = {"PATH": os.environ["PATH"], "AWGCHECK_BIG": "x" * 100_000}
    holder = subprocess.Popen(["sleep", "60"], env=env)
    try:
        path = f"/proc/{holder.pid}/environ"
        expected = _environ_after_exec(path)
        with open_ssh(fleet.target(fleet.nodes[0])) as collector:
            got = collector.read_file(path)
            assert got == expected
            # A regular file after it: the reader is still in step.
            conf = fleet.nodes[0].conf_path
            same = collector.read_file(conf) == Path(conf).read_bytes()
            assert same
    finally:
        holder.kill()
        holder.wait()


def _environ_after_exec(path: str) -> bytes:
    """The process's environment once ``sleep`` has been exec'd: read at
    once, /proc shows the forked parent's environment, or nothing mid-exec."""
    give_up = time.monotonic() + 10
    while b"AWGCHECK_BIG=" not in (found := Path(path).read_bytes()):
        assert time.monotonic() < give_up, f"{path}: sleep never started"
        time.sleep(0.01)
    return found


def _running(marker: str) -> list[str]:
    found = subprocess.run(["pgrep", "-af", marker], capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if "pgrep" not in line]


def _gone(marker: str, within: float) -> bool:
    ends = time.monotonic() + within
    while time.monotonic() < ends:
        if not _running(marker):
            return True
        time.sleep(0.2)
    return not _running(marker)


def test_sudo_cat_blocked_on_a_fifo_ends_after_the_deadline(fleet: SshdFleet) -> None:
    """A ``sudo cat`` blocked on a FIFO (no writer: open() never returns)
    must not stay on the node once the node's deadline has passed: sshd
    sends no SIGHUP to a command without a pty when its channel closes.

    As an account with a NOPASSWD rule for that cat only, the way nodes are
    audited (root's login shell here runs a profile of its own)."""
    node = fleet.nodes[1]
    marker = f"awgcheck-fifo-{secrets.token_hex(6)}"
    fifo = node.root / "etc" / marker
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    deadline = 3.0
    try:
        with SudoUser([str(fifo)]) as sudo_user:
            target = fleet.target(node, user=sudo_user.name, sudo=True, deadline=deadline)
            started = time.monotonic()
            with open_ssh(target) as collector, pytest.raises(CollectError) as caught:
                collector.read_file(str(fifo))
            assert caught.value.error_class is ErrorClass.DEADLINE_EXCEEDED
            assert time.monotonic() - started < deadline + 10
            # It did start, and is blocked on the node's FIFO right now.
            assert any(f"cat -- {fifo}" in line for line in _running(marker))
            # The remote timeout is the deadline, rounded up; then SIGTERM.
            assert _gone(marker, within=deadline + 10), _running(marker)
    finally:
        fifo.unlink()


def _reader_waiting(fifo: Path) -> bool:
    """Whether a process holds ``fifo`` open for reading, or waits in
    ``open()`` to: opening the write end without blocking succeeds only
    then (ENXIO otherwise). It also lets that reader go (it sees EOF)."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        assert exc.errno == errno.ENXIO, exc
        return False
    os.close(fd)
    return True


@pytest.fixture(scope="module", params=["internal-sftp", "sftp-server"])
def sftp_fleet(request: pytest.FixtureRequest) -> Iterator[SshdFleet]:
    """One node served by sshd's internal-sftp, then by OpenSSH's own
    sftp-server program (where a blocked open would stay as a process)."""
    server = "internal-sftp" if request.param == "internal-sftp" else SFTP_SERVER
    with SshdFleet(nodes_wanted=1, sftp_server=server) as started:
        yield started


@pytest.mark.parametrize("link", [False, True], ids=["fifo", "symlink-to-fifo"])
def test_sftp_fifo_is_refused_before_it_is_opened(sftp_fleet: SshdFleet, link: bool) -> None:
    """Opened, a FIFO with no writer blocks the node's sftp-server in
    open(2) for good: closing the connection at the deadline does not wake
    it. It must be refused (``not_a_file``) from its STAT, at once, and no
    process on the node may be left waiting on it."""
    node = sftp_fleet.nodes[0]
    fifo = node.root / "etc" / f"awgcheck-fifo-{secrets.token_hex(6)}"
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    path = fifo
    if link:
        path = fifo.with_suffix(".conf")
        path.symlink_to(fifo)
    try:
        with open_ssh(sftp_fleet.target(node, deadline=8.0)) as collector:
            with pytest.raises(CollectError) as caught:
                collector.read_file(str(path))
            # The session is still in step for the next file.
            conf_read = collector.read_file(node.conf_path) == Path(node.conf_path).read_bytes()
        assert caught.value.error_class is ErrorClass.NOT_A_FILE, caught.value
        assert str(caught.value) == f"{node.host}:{node.port}:{path}: is a FIFO, not a " \
                                    "regular file; not read"
        assert conf_read
        assert not _reader_waiting(fifo)
    finally:
        path.unlink()
        if link:
            fifo.unlink()


def test_check_of_a_node_whose_conf_is_a_fifo(sftp_fleet: SshdFleet, tmp_path: Path) -> None:
    """The whole ``check``: the FIFO node is ``not_a_file`` long before its
    deadline (it used to wait the deadline out), and nothing on the node
    is left waiting on the FIFO."""
    node = sftp_fleet.nodes[0]
    conf = Path(node.conf_path)
    kept = conf.read_bytes()
    conf.unlink()
    os.mkfifo(conf)
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "fifo", "nodes": {
        "fifo": sftp_fleet.inventory_fields(node)}}))
    timeout = 30
    try:
        started = time.monotonic()
        result = CliRunner().invoke(main, ["check", "-i", str(inventory), "--format", "json",
                                           "--ssh-config", "none", "--timeout", str(timeout)])
        elapsed = time.monotonic() - started
        assert not _reader_waiting(conf)
    finally:
        conf.unlink()
        conf.write_bytes(kept)
    (reported,) = json.loads(result.stdout)["nodes"]
    assert (reported["status"], reported["error_class"]) == ("error", "not_a_file")
    assert reported["error"].endswith(f":{conf}: is a FIFO, not a regular file; not read")
    assert elapsed < timeout / 2


@pytest.mark.parametrize("server", ["", "/nonexistent/sftp-server"],
                         ids=["no-subsystem-line", "missing-program"])
def test_a_node_without_sftp_is_not_supported_not_a_dropped_connection(server: str) -> None:
    """An sshd without ``Subsystem sftp`` refuses the subsystem; one whose
    program is missing closes the channel at once. Both keep the
    connection: that is the node's setup (``not_supported``, with what to
    change), not a dropped connection."""
    with SshdFleet(nodes_wanted=1, sftp_server=server) as fleet:
        node = fleet.nodes[0]
        with open_ssh(fleet.target(node, deadline=8.0)) as collector, \
                pytest.raises(CollectError) as caught:
            collector.read_file(node.conf_path)
    assert caught.value.error_class is ErrorClass.NOT_SUPPORTED, caught.value
    assert "Subsystem sftp" in str(caught.value) and "sudo: true" in str(caught.value)
