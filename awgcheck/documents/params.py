"""A params document (JSON or YAML: param name -> value), read as the source
of truth.

Nodes are not read for one: it is the source a fleet is compared with, from
a local file that may just as well be a conf. A file named ``.json``,
``.yaml`` or ``.yml`` is a params document; any other is told apart by
content, and one that is neither says why as each.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from awgcheck.collect.base import MAX_FILE_BYTES, file_too_large
from awgcheck.collect.local import read_local_file
from awgcheck.errors import ParseError
from awgcheck.model import ParamDocument
from awgcheck.parse import awgconf, paramsdoc

STDIN = "-"
"""The name that means "read it from stdin" (an installer pipes what the
control plane's API returned)."""


def parse_source(data: bytes, path: str) -> ParamDocument:
    """``data`` as a params document when it is named or looks like one
    (:func:`awgcheck.parse.paramsdoc.looks_like_params`), else as a conf;
    ``ParseError`` when it is empty, or neither, saying why as each (a YAML
    document with a syntax error is not a mapping, and no conf either)."""
    if awgconf.states_nothing(data):
        # A node's empty conf is checked (and fails); a source that says
        # nothing would have every param of every node deleted.
        raise ParseError(f"{path}: empty (blanks and comments only): no source of truth "
                         "in it (a truncated download?)")
    if paramsdoc.looks_like_params(data, path):
        return paramsdoc.parse_source(data, path)
    if not awgconf.looks_like_conf(data):
        why = paramsdoc.parse(data, path).refusal
        raise ParseError(f"{path}: neither an AmneziaWG conf (no [Interface]/[Peer] header "
                         f"or Key = value lines) nor a params document ({why})")
    return awgconf.parse(data, path)


def read_source(path: Path) -> ParamDocument:
    """The source of truth in the local file ``path``; raises
    ``CollectError`` or ``ParseError``."""
    return parse_source(read_local_file(path), str(path))


def read_named(spec: str, stdin: BinaryIO) -> tuple[str, ParamDocument]:
    """A conf or params document named on the command line: a file, or
    ``-`` for stdin (named ``stdin``); returns its name and the document.
    Raises ``CollectError`` or ``ParseError``."""
    if spec != STDIN:
        return spec, read_source(Path(spec))
    data = stdin.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise file_too_large("stdin", MAX_FILE_BYTES)
    if not data.strip():
        raise ParseError("stdin: empty: nothing was piped in")
    return "stdin", parse_source(data, "stdin")
