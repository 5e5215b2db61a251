"""What template engines fill in later, and how a template's text is told
apart from the values it will hold.

Two families, because one of them means something else in a compose file:

- engine tags: Jinja/Ansible/Go-template ``{{ var }}``, ``{% ... %}`` and
  ``{# ... #}``. Nothing reads them as values: a compose file holding one is
  a template in every reading.
- shell expansions: ``${VAR}``, ``$VAR`` and ``$(cmd)`` as an install
  script's heredoc or envsubst fills them. In a conf they are placeholders
  (awg setconf has no variables). In a compose file they are Compose's own
  interpolation, resolved from the project's ``.env`` and ``compose_env``,
  so the compose reader keeps resolving them and only engine tags are
  placeholders there (docs/ci-gate.md, "Compose templates").
"""

from __future__ import annotations

import re

ENGINE_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")
SHELL = re.compile(r"\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*")
CONF = re.compile(f"{ENGINE_TAG.pattern}|{SHELL.pattern}")
"""Placeholders in a conf template: engine tags and shell expansions."""

# A line that is only a block or comment tag (``{% for peer in peers %}``,
# ``{% endif %}``, ``{# note #}``): it renders to nothing or to repeated
# text, never to a value of its own.
_BLOCK_LINE = re.compile(rb"^[ \t]*(?:\{%.*?%\}|\{#.*?#\})[ \t]*\r?$")


def holds_tag(text: str | None) -> bool:
    """Does ``text`` hold an engine tag (``{{ x }}``, ``{% %}``, ``{# #}``)?"""
    return text is not None and ENGINE_TAG.search(text) is not None


def blank_block_lines(data: bytes) -> bytes:
    """``data`` with every line that is only a block or comment tag made
    empty, line numbers kept: a compose template's ``{% if metrics %}`` is
    not YAML, and what the lines between such tags hold is still read (every
    branch, as written)."""
    lines = data.split(b"\n")
    return b"\n".join(b"" if _BLOCK_LINE.match(line) else line for line in lines)
