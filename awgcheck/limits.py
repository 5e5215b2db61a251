"""Every bound awgcheck puts on what one input may cost, in one place.

A node's files are hostile until read: a few hundred bytes of YAML aliases
or ``.env`` lines that double the previous value expand to gigabytes, a
catastrophic rule pattern runs for minutes, and Python's own limits (the
4,300-digit ``str -> int`` cap, the recursion limit) surface as uncaught
exceptions. Readers check these bounds and turn a breach into a diagnostic
or finding naming the file and line; docs/reports.md ("Limits") lists them
for users. The values are far above anything a real AmneziaWG or Compose
file needs, and below what costs more than a node's deadline.
"""

from __future__ import annotations

import re

# --- YAML (compose files, params documents, inventories, rules) --------------

YAML_MAX_DEPTH = 64
"""Nesting of mappings and sequences. go-yaml stops at 10,000 (its Go stack
allows it); Python's recursion limit does not, and no real file nests more
than a dozen levels."""

YAML_MAX_NODES = 100_000
"""Nodes aliases may add to one YAML file (every ``*alias`` counts the whole
subtree it copies, each time it is used). The nodes written out are bounded
by the file's size and are not counted: a 10,000-node inventory has
170,000 of them. Compose's go-yaml refuses "excessive aliasing" by a ratio
(aliases may be 99% of at most 400,000 decoded nodes); a fixed budget for
the copies is simpler to state and bounds time and memory the same way."""

# --- numbers --------------------------------------------------------------------

MAX_INT_DIGITS = 64
"""Significant digits (leading zeros aside) read as a number; longer is
"out of range" as it is for every tool (64 binary digits hold a uint64).
Keeps clear of Python's 4,300-digit ``str -> int`` limit, which raises."""

# --- interpolation (compose files and .env) ------------------------------------

INTERPOLATION_MAX_VALUE = 65_536
"""Characters one interpolated value may reach (a certificate fits)."""

INTERPOLATION_MAX_TOTAL = 4 * 1024 * 1024
"""Characters all interpolated values of one file may reach together."""

INTERPOLATION_MAX_DEPTH = 32
"""Nesting of ``${A:-${B:-...}}`` defaults."""

PORT_RANGE_MAX = 65_536
"""Ports one ``a-b`` range in a compose ``ports``/``expose`` may expand to."""

# --- rule evaluation ------------------------------------------------------------

REGEX_MAX_SUBJECT = 16_384
"""Characters a rule's ``pattern`` is matched against; a longer value is an
error finding, not a match (an I1 packet of a full MTU is ~3,000)."""

EVALUATION_DEADLINE = 30.0
"""Seconds one node's rules may take when no ``--timeout`` says otherwise
(in ``check`` they get what reading the node left of its deadline)."""

EVALUATION_MIN = 1.0
"""Seconds a node's rules get at least, however little its deadline has
left when they can start (the run read slower nodes first): enough for any
rule set on any node that is not a pattern bomb, so no node is failed for
another's slowness, and a bound on what each late node can add."""

MAX_OUTCOMES_PER_RULE = 50
"""Findings one rule reports on one node; the rest become one "and N more"
finding (a file of 170,000 duplicate lines stays a readable report)."""

# --- reports read back (check --baseline, merge) ---------------------------------

MAX_REPORT_BYTES = 256 * 1024 * 1024
"""Bytes of a JSON report read back. A node's report takes ~30 kB with every
passing finding listed, so this holds a fleet of several thousand nodes,
and keeps a wrong file (a disk image, /dev/zero behind a symlink) from
being read into memory."""

# --- rendering ------------------------------------------------------------------

MAX_CELL_CHARS = 512
"""Characters of one table cell; a longer value is cut with "... (N more
characters)". The json/sarif/junit formats keep values whole."""


def int_or_none(text: str, base: int = 10) -> int | None:
    """``int(text, base)`` for ASCII digits of that base (one leading sign
    allowed), or None: not a number, or more than :data:`MAX_INT_DIGITS`
    significant digits (out of every range awgcheck checks)."""
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isalnum():
        return None
    if len(body.lstrip("0")) > MAX_INT_DIGITS:
        return None
    try:
        return int(text, base)
    except ValueError:
        return None


_ASCII_DIGITS = re.compile(r"[0-9]+")


def is_ascii_digits(text: str) -> bool:
    """``text.isdigit()`` for ASCII only: ``²`` and ``٤`` are digits to
    Python but not to strtoul, Go or awg."""
    return _ASCII_DIGITS.fullmatch(text) is not None


SSH_CONFIG_MAX_LINE = 4096
"""Characters in one ssh_config line (paramiko, which awgcheck used to read
ssh_config with, took seconds on a 500 KB line); real lines are far
shorter, and a Host pattern is matched in time length times pattern."""
