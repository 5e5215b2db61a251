"""Writing a file that holds a secret: mode 0600 from its first byte.

``params generate --output`` writes a new HeaderProtectionKey. The report
writer (:func:`awgcheck.cli.output.write_atomic`) keeps an existing file's
mode or gives a new one the umask's; a key file must never be readable by
others, not even between its creation and a chmod. ``mkstemp`` creates the
temporary file 0600, it is filled and synced, then renamed over the target.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from awgcheck.rotation import RotationError


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, readable by its owner only."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise RotationError(f"--output {path}: cannot create the file: "
                            f"{exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise RotationError(f"--output {path}: cannot write the file: "
                            f"{exc.strerror or exc}") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
