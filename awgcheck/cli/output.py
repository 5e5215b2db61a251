"""Writing reports: checked before the run, written after it.

A report goes where ``--output`` names, by what that path is:

* a regular file, or a path that does not exist yet, is replaced
  atomically: the text goes to a temporary file in the same folder, renamed
  over the target only once it is complete, so an interrupted run (Ctrl+C,
  SIGTERM) never leaves an empty or truncated report;
* a symlink is written through: its target is replaced atomically, in the
  target's folder, and the link stays a link;
* a character device (``/dev/null``) or a FIFO, also behind a symlink
  (``/dev/stdout``), is opened by the name given and written, never
  replaced (a rename would put a regular file where ``/dev/null`` was); a
  FIFO waits for its reader, as ``>`` in a shell does;
* a folder, block device or socket is a usage error before any node is read.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from awgcheck.errors import UsageError


def _target(path: Path) -> Path:
    """The path the report goes to: a symlink's final target (which may not
    exist yet), else ``path`` itself."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _streamed(mode: int) -> bool:
    """Written in place: a rename would replace the device or FIFO."""
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _mode(path: Path) -> int | None:
    """What ``path`` is once every symlink is followed; None if nothing."""
    try:
        return path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None


def check_writable(path: Path) -> None:
    """Fail early, before any node is read, if the report cannot be written."""
    mode = _mode(path)
    if mode is not None and _streamed(mode):
        if not os.access(path, os.W_OK):
            raise UsageError(f"--output {path}: is not writable")
        return
    target = _target(path)
    named = f"--output {path}" if target == path else f"--output {path} (-> {target})"
    mode = _mode(target)
    if mode is not None and stat.S_ISDIR(mode):
        raise UsageError(f"{named}: is a folder")
    if mode is not None and not stat.S_ISREG(mode):
        raise UsageError(f"{named}: is not a regular file, character device or FIFO")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"{named}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{named}: folder {folder} is not writable")
    if mode is not None and not os.access(target, os.W_OK):
        raise UsageError(f"{named}: file is not writable")


def write_atomic(path: Path, text: str | Iterable[str]) -> None:
    """Write ``text`` (or its pieces, as they come) to ``path`` as the
    module says: atomically for files (through a symlink to its target), in
    place for devices and FIFOs."""
    text = writes(text)
    mode = _mode(path)
    try:
        if mode is not None and _streamed(mode):
            # Opened by the name given: the kernel follows /dev/stdout to
            # the pipe it stands for, which no resolved path names.
            _write_through(path, text)
        else:
            _replace(_target(path), text)
    except OSError as exc:  # a full disk, a FIFO whose reader went away
        raise UsageError(f"--output {path}: cannot write the report: "
                         f"{exc.strerror or exc}") from None


PIECE = 1 << 20
"""Characters written at a time: a text stream encodes what it is given
whole, so a 22 MB report written at once held a second, encoded copy of
itself at the run's peak of memory (docs/performance.md, Memory)."""


def writes(text: str | Iterable[str]) -> Iterator[str]:
    """What to write at a time: a whole text in slices (:func:`pieces`), a
    report made in pieces joined into about as much (:func:`batched`)."""
    return pieces(text) if isinstance(text, str) else batched(text)


def pieces(text: str) -> Iterator[str]:
    """``text`` in slices of at most :data:`PIECE` characters."""
    for start in range(0, len(text), PIECE):
        yield text[start:start + PIECE]


def batched(parts: Iterable[str]) -> Iterator[str]:
    """Small ``parts`` (a report's findings) joined into texts of about
    :data:`PIECE` characters, so each write is worth its call."""
    held: list[str] = []
    size = 0
    for part in parts:
        held.append(part)
        size += len(part)
        if size >= PIECE:
            yield "".join(held)
            held.clear()
            size = 0
    if held:
        yield "".join(held)


def _write_through(target: Path, text: Iterable[str]) -> None:
    # No O_CREAT, no O_TRUNC: the node must stay what it is.
    fd = os.open(target, os.O_WRONLY | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.writelines(text)


def _replace(path: Path, text: Iterable[str]) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.writelines(text)
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
