"""Report formats: one module per format, each ``render(report) -> str``.

The CLI owns all I/O; formatters only build text. :data:`FORMATS` is the
one registry the CLI chooses from; :func:`render` is how a command renders
a report, giving the formats that describe rules (SARIF) their metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from awgcheck.model import Report
from awgcheck.report import github, json_format, junit, markdown, rulemeta, sarif, table
from awgcheck.ruleset.load import Rule

Renderer = Callable[[Report], str]

FORMATS: dict[str, Renderer] = {
    "table": table.render,
    "json": json_format.render,
    "junit": junit.render,
    "sarif": sarif.render,
    "github": github.render,
    "markdown": markdown.render,
}

# Formats that describe every loaded rule, not only the ones with findings.
# Kept out of the others so the JSON report does not grow a rule catalog.
RULE_AWARE = frozenset({"sarif"})


def render(fmt: str, report: Report, rules: Sequence[Rule] = ()) -> str:
    """Render ``report`` in format ``fmt``; ``rules`` are the rules that ran."""
    if fmt in RULE_AWARE and rules:
        report = rulemeta.with_rules(report, rules)
    return FORMATS[fmt](report)
