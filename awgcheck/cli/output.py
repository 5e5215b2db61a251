"""Writing reports: checked before the run, replaced atomically after it.

An interrupted run (Ctrl+C, SIGTERM) never leaves an empty or truncated
report: the text goes to a temporary file in the same folder, which is
renamed over the target only once it is complete.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from awgcheck.errors import UsageError


def check_writable(path: Path) -> None:
    """Fail early, before any node is read, if the report cannot be written."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"--output {path}: folder {folder} does not exist")
    if path.is_dir():
        raise UsageError(f"--output {path}: is a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"--output {path}: folder {folder} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"--output {path}: file is not writable")


def write_atomic(path: Path, text: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
