"""The one sentence every format says, once, when the source of truth could
not be read (:attr:`awgcheck.model.Report.source_failure`).

A format shows it in place of the source node's own "could not check"
entry (:meth:`awgcheck.model.Report.is_failed_source`), so the reason is
said once whether the source is a node that could not be reached or a
file (a params document that is an error reply).
"""

from __future__ import annotations

from awgcheck.model import Report


def source_name(report: Report) -> str:
    """The source of truth as the inventory names it: a node or a path."""
    return report.source_node or report.source_path


def reason(report: Report) -> str | None:
    """``source of truth server could not be read (connection_refused):
    127.0.0.1:1: connection refused``, or None when it was read."""
    failure = report.source_failure
    if failure is None:
        return None
    source = source_name(report)
    # The error starts with the node or file it concerns; a file source's
    # path is not said twice.
    who = "" if failure.error.startswith(source) else f" {source}"
    return f"source of truth{who} could not be read ({failure.error_class}): {failure.error}"


def consequence(report: Report) -> str | None:
    """What was not evaluated for want of the source, or None."""
    failure = report.source_failure
    if failure is None:
        return None
    if not failure.not_evaluated:
        return "no rule compares with it"
    return ("not evaluated on any node, as they compare with it: "
            + ", ".join(failure.not_evaluated))


def statement(report: Report) -> str | None:
    """:func:`reason` and :func:`consequence` in one line, or None."""
    said, then = reason(report), consequence(report)
    return None if said is None or then is None else f"{said}; {then}"
