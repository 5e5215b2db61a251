"""Loading user-written YAML (inventories, rule files, gate configs) safely.

Always ``yaml.safe_load``: these files come from users and repositories
and must never construct arbitrary objects. A syntax error becomes the
caller's own error type, naming the file and line.
"""

from __future__ import annotations

import yaml

from awgcheck.errors import AwgcheckError


def load(text: str, origin: str, error: type[AwgcheckError]) -> object:
    """Parse ``text``; on a syntax error raise ``error("<origin>: line N: ...")``."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}:" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise error(f"{origin}:{line} not valid YAML: {problem}") from None
