"""Report formats: one module per format, each ``render(report) -> str``.

The CLI owns all I/O; formatters only build text. :data:`FORMATS` is the
one registry ``check`` and ``gate`` choose from. The formats that describe
rules (SARIF) read the metadata the caller attached with
:func:`awgcheck.report.rulemeta.with_rules`.
"""

from __future__ import annotations

from awgcheck.model import Report
from awgcheck.report import github, json_format, junit, markdown, sarif, table
from awgcheck.report.registry import Formats

# Listed alphabetically: the order --format shows them in.
FORMATS: Formats[Report] = Formats({
    "github": github.render,
    "json": json_format.render,
    "junit": junit.render,
    "markdown": markdown.render,
    "sarif": sarif.render,
    "table": table.render,
})
