"""Name patterns as the command line and the inventory write them.

One rule for every place a user names nodes or rules by pattern
(``--node``, a waiver's ``nodes`` and ``rule``): the exact name, or a shell
glob (``*``, ``?``, ``[...]``), case-sensitive as the names are. The exact
name comes first, so a node called ``web[1]`` can still be named. Its own
module, below both the inventory and the waivers, so neither imports the
other to share it.
"""

from __future__ import annotations

from fnmatch import fnmatchcase


def matches(pattern: str, name: str) -> bool:
    """Whether ``pattern`` names ``name``."""
    return name == pattern or fnmatchcase(name, pattern)
