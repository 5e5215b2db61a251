"""Whether an argument that may name a node or a file was meant as a file.

``--source``, ``--against`` and ``diff``'s sides take either. A value with
a ``/`` or a conf or params document's suffix is a file, never a node, so
a missing file is "file not found", not "no node named ...".
"""

from __future__ import annotations

from awgcheck.parse.paramsdoc import DOCUMENT_SUFFIXES

PATH_SUFFIXES = (".conf", *DOCUMENT_SUFFIXES)
"""What a conf or params document file is named."""


def looks_like_path(spec: str) -> bool:
    """Whether a node-or-file argument was meant as a file."""
    return not spec.startswith("ssh://") and ("/" in spec or spec.endswith(PATH_SUFFIXES))
