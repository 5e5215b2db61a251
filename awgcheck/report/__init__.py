"""Report formats: one module per format, each ``render(report) -> str``.

The CLI owns all I/O; formatters only build text. :data:`FORMATS` is the
one registry the CLI chooses from.
"""

from __future__ import annotations

from collections.abc import Callable

from awgcheck.model import Report
from awgcheck.report import json_format, junit, table

Renderer = Callable[[Report], str]

FORMATS: dict[str, Renderer] = {
    "table": table.render,
    "json": json_format.render,
    "junit": junit.render,
}
