"""Report formats: one module per format, each ``render(report) -> str``.

The CLI owns all I/O; formatters only build text. :data:`FORMATS` is the
registry ``check`` chooses from; ``gate`` chooses from :data:`GATE_FORMATS`,
the same but Prometheus (a CI job's files are not a fleet to scrape). The
formats that describe rules (SARIF, Prometheus's drift) read the metadata
the caller attached with :func:`awgcheck.report.rulemeta.with_rules`.
"""

from __future__ import annotations

from awgcheck.model import Report
from awgcheck.report import github, json_format, junit, markdown, prometheus, sarif, table
from awgcheck.report.registry import Formats, ForPeople, InPieces

# Listed alphabetically: the order --format shows them in.
FORMATS: Formats[Report] = Formats({
    "github": github.render,
    "json": InPieces(json_format.pieces),
    "junit": junit.render,
    "markdown": markdown.render,
    "prometheus": prometheus.render,
    "sarif": sarif.render,
    "table": ForPeople(table.render),
})

GATE_FORMATS: Formats[Report] = Formats({
    name: render for name, render in FORMATS.renderers.items() if name != "prometheus"})
