"""``awgcheck merge``: reports of parts of one fleet as one report.

Reads as the data flow: report files -> one report -> render -> exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from awgcheck import merge as merging
from awgcheck.cli import output
from awgcheck.cli.options import (
    emit,
    format_option,
    output_option,
    screen_options,
    user_errors,
    warn,
)
from awgcheck.cli.screen import Screen
from awgcheck.report import FORMATS
from awgcheck.report import load as report_file


@click.command()
@click.argument("paths", metavar="REPORT.json...", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@format_option(FORMATS, help="Report format.")
@output_option
@screen_options
@user_errors
def merge(paths: Sequence[Path], fmt: str, output_path: Path | None,
          screen: Screen) -> None:
    """Combine `check --format json` reports of parts of one fleet (--shard
    K/N runs, or --node / --group runs) into the report one run over all
    their nodes would have given: nodes in inventory order, summary and
    exit code recomputed, in any --format.

    The reports must agree on the source of truth, --profile, --fail-on,
    the awgcheck version and rules, the shard count and the --baseline they
    were compared with; otherwise, or when a file is not such a report,
    exit code 2 names the file. Missing shards, and a source node whose
    results differ between reports (the source changed between the runs;
    the first report's are kept), are warnings. Exit codes as for `check`.
    """
    if output_path is not None:
        output.check_writable(output_path)
    parts = [merging.Part(str(path), report_file.read_check(path)) for path in paths]
    merged = merging.merge(parts)
    for warning in merged.warnings:
        warn(warning)
    emit(FORMATS.pieces(fmt, merged.report, screen.layout(output_path)), output_path)
    sys.exit(merged.report.exit_code())
