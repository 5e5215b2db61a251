"""``--output`` onto what is not a plain file: a device and a FIFO are
written in place (never replaced), a symlink is written through to its
target, and what cannot hold a report is refused before the run."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import paths
import pytest
from click.testing import CliRunner

from awgcheck.cli import output
from awgcheck.cli.main import main
from awgcheck.errors import UsageError

FLEET = str(paths.DEMO / "fleet.yaml")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _null_device(path: Path) -> Path:
    """A character device like /dev/null (1, 3), made in tmp_path (root)."""
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return path


def test_output_to_a_device_leaves_it_a_device(tmp_path: Path) -> None:
    null = _null_device(tmp_path / "null")
    code, out, err = run("check", "-i", FLEET, "--format", "json", "-o", str(null))
    assert code == 1 and out == "", err
    assert stat.S_ISCHR(null.lstat().st_mode)
    assert os.major(null.lstat().st_rdev) == 1 and os.minor(null.lstat().st_rdev) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def test_output_to_dev_null_itself_stays_a_device() -> None:
    code, out, err = run("check", "-i", FLEET, "-o", "/dev/null")
    assert code == 1 and out == "", err
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_output_to_a_fifo_reaches_its_reader(tmp_path: Path) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as stream:
            received.append(stream.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    code, out, err = run("check", "-i", FLEET, "--format", "json", "-o", str(fifo))
    thread.join(timeout=30)
    assert code == 1 and out == "", err
    assert json.loads(received[0])["summary"]["exit_code"] == 1
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_output_through_a_symlink_replaces_its_target(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    target = reports / "latest.json"
    target.write_text("previous report\n")
    target.chmod(0o640)
    link = tmp_path / "report.json"
    link.symlink_to(os.path.relpath(target, tmp_path))
    code, out, err = run("check", "-i", FLEET, "--format", "json", "-o", str(link))
    assert code == 1 and out == "", err
    assert link.is_symlink() and os.readlink(link) == "reports/latest.json"
    assert json.loads(target.read_text())["summary"]["exit_code"] == 1
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "reports"]
    assert [p.name for p in reports.iterdir()] == ["latest.json"]


def test_output_through_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "report.json"
    link.symlink_to(tmp_path / "new.json")
    code, _, err = run("check", "-i", FLEET, "--format", "json", "-o", str(link))
    assert code == 1, err
    assert link.is_symlink()
    assert json.loads((tmp_path / "new.json").read_text())["summary"]["exit_code"] == 1


def test_output_symlink_into_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    link = tmp_path / "report.json"
    link.symlink_to(tmp_path / "gone" / "new.json")
    code, _, err = run("check", "-i", FLEET, "-o", str(link))
    assert code == 2
    assert f"-> {tmp_path}/gone/new.json): folder {tmp_path}/gone does not exist" in err


def test_output_to_a_socket_is_refused_before_the_run(tmp_path: Path) -> None:
    path = tmp_path / "report.sock"
    held = socket.socket(socket.AF_UNIX)
    held.bind(str(path))
    try:
        with pytest.raises(UsageError, match="is not a regular file, character device or FIFO"):
            output.check_writable(path)
    finally:
        held.close()


def test_output_write_error_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    # /dev/full: every write fails with ENOSPC.
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    code, _, err = run("check", "-i", FLEET, "-o", str(full))
    assert code == 2
    assert f"--output {full}: cannot write the report: No space left on device" in err


def test_output_to_dev_stdout_reaches_the_pipe() -> None:
    # /dev/stdout -> /proc/self/fd/1 -> "pipe:[N]": no resolved path names
    # the pipe; the report must go to it, and /dev/stdout stay a link.
    proc = subprocess.run([sys.executable, "-m", "awgcheck", "check", "-i", FLEET,
                           "--format", "json", "-o", "/dev/stdout"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["summary"]["exit_code"] == 1
    assert os.path.islink("/dev/stdout")
