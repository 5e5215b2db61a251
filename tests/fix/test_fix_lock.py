"""``fix --apply`` against a real ``flock`` holder (the merge agent's lock
on ``<conf>.lock``) and against a conf changed after the diff was computed.
No timings are asserted: "waits" is shown by a lock released while fix
waits, "then refuses" by one that is not."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from fix_fleet import BERLIN, CONF, awgcheck, check_passes, make_fleet

REFUSED = 3
DRIFTED = BERLIN.replace(b"S4 = 18\n", b"S4 = 17\n")


@contextlib.contextmanager
def lock_held(lock: Path, seconds: int = 120) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``flock`` process holding ``lock`` until it is stopped
    (with its ``sleep``, which holds the lock too: ``release``)."""
    holder = subprocess.Popen(["flock", str(lock), "sleep", str(seconds)],
                              start_new_session=True)
    try:
        ends = time.monotonic() + 30
        while subprocess.run(["flock", "-n", str(lock), "true"]).returncode == 0:
            assert time.monotonic() < ends, "the lock holder never took the lock"
            time.sleep(0.05)
        yield holder
    finally:
        release(holder)


def release(holder: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(holder.pid, signal.SIGKILL)
    holder.wait()


def backups(tmp_path: Path) -> list[Path]:
    return list((tmp_path / "nodes" / "edge" / CONF).parent.glob("*.bak"))


def test_apply_refuses_while_the_lock_stays_held(tmp_path: Path) -> None:
    inventory = make_fleet(tmp_path, DRIFTED)
    conf = tmp_path / "nodes" / "edge" / CONF
    with lock_held(Path(f"{conf}.lock")):
        done = awgcheck("fix", "edge", "-i", str(inventory), "--apply", "--lock-timeout", "1")
    assert done.returncode == REFUSED, done.stderr
    assert b"awg0.conf.lock is still held by another process after 1 s" in done.stderr
    assert conf.read_bytes() == DRIFTED and backups(tmp_path) == []


def test_apply_waits_for_a_lock_released_in_time(tmp_path: Path) -> None:
    inventory = make_fleet(tmp_path, DRIFTED)
    conf = tmp_path / "nodes" / "edge" / CONF
    with lock_held(Path(f"{conf}.lock")) as holder:
        fixing = subprocess.Popen([sys.executable, "-m", "awgcheck", "fix", "edge", "-i",
                                   str(inventory), "--apply", "--lock-timeout", "120"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        waiter = wait_for_lock_waiter(fixing.pid)
        assert conf.read_bytes() == DRIFTED  # still waiting: nothing written
        release(holder)
        _, err = fixing.communicate(timeout=120)
    assert waiter
    assert fixing.returncode == 0, err
    assert conf.read_bytes() == BERLIN
    check_passes(inventory)


def test_apply_refuses_a_conf_changed_after_the_diff(tmp_path: Path) -> None:
    """The merge agent rewrites the conf while fix waits for its lock."""
    inventory = make_fleet(tmp_path, DRIFTED)
    conf = tmp_path / "nodes" / "edge" / CONF
    with lock_held(Path(f"{conf}.lock")) as holder:
        fixing = subprocess.Popen([sys.executable, "-m", "awgcheck", "fix", "edge", "-i",
                                   str(inventory), "--apply", "--lock-timeout", "120"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert wait_for_lock_waiter(fixing.pid)
        merged = DRIFTED + b"# merged by the agent\n"
        conf.write_bytes(merged)
        release(holder)
        _, err = fixing.communicate(timeout=120)
    assert fixing.returncode == REFUSED, err
    assert b"changed since the diff was computed; nothing written" in err
    assert conf.read_bytes() == merged and backups(tmp_path) == []


def wait_for_lock_waiter(ancestor: int | None, seconds: str | None = None) -> bool:
    """Until a descendant of ``ancestor`` (any process: None) runs ``flock
    -w`` (with ``seconds``): fix has its diff and waits for the lock."""
    ends = time.monotonic() + 60
    while time.monotonic() < ends:
        for pid in os.listdir("/proc"):
            if pid.isdigit() and _waits(int(pid), seconds) and (
                    ancestor is None or _descends(int(pid), ancestor)):
                return True
        time.sleep(0.05)
    return False


def _waits(pid: int, seconds: str | None) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return argv[:2] == [b"flock", b"-w"] and (seconds is None or argv[2:3] == [seconds.encode()])


def _descends(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
        pid = int(next(line.split()[1] for line in status.splitlines()
                       if line.startswith("PPid:")))
    return False
