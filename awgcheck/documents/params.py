"""A params document (JSON or YAML: param name -> value), read as the source
of truth.

Nodes are not read for one: it is the source a fleet is compared with, from
a local file that may just as well be a conf. The two are told apart by
content, so the file name does not matter.
"""

from __future__ import annotations

from pathlib import Path

from awgcheck.collect.local import read_local_file
from awgcheck.model import ParamDocument
from awgcheck.parse import awgconf, paramsdoc


def parse_source(data: bytes, path: str) -> ParamDocument:
    """``data`` as a params document when it looks like one, else as a conf."""
    if paramsdoc.looks_like_params(data):
        return paramsdoc.parse_source(data, path)
    return awgconf.parse(data, path)


def read_source(path: Path) -> ParamDocument:
    """The source of truth in the local file ``path``; raises
    ``CollectError`` or ``ParseError``."""
    return parse_source(read_local_file(path), str(path))
