"""The one line a report is read by: ``FAIL: 1 of 4 nodes failed; 1
critical, 1 error; exit code 1``.

The table writes it first and last, Markdown writes it (the word in bold)
under its title: the same words, so a pull-request comment and a
terminal say the same thing about the same run.
"""

from __future__ import annotations

from dataclasses import dataclass

from awgcheck.model import BaselineState, Report, Severity, Status
from awgcheck.wording import count

_SEVERITY_ORDER = sorted(Severity, key=lambda s: -s.rank)


@dataclass(frozen=True)
class Verdict:
    """``word`` (FAIL, INCOMPLETE or PASS) and what it rests on."""

    word: str
    detail: str

    def __str__(self) -> str:
        return f"{self.word}: {self.detail}"


def findings_said(report: Report) -> str:
    """``1 critical, 1 error, 2 warnings, 1 waived``, worst first."""
    failed = [f.severity for f in report.findings if f.failed]
    said = [count(failed.count(s), s.value) for s in _SEVERITY_ORDER if s in failed]
    if report.waived():
        said.append(f"{len(report.waived())} waived")
    return ", ".join(said) or "no findings"


def verdict(report: Report) -> Verdict:
    """What the run found, by node and by severity, and its exit code."""
    total = len(report.nodes)
    failed = sum(1 for n in report.nodes if n.status is Status.FAIL)
    passed = sum(1 for n in report.nodes if n.status is Status.PASS)
    unchecked = len(report.unchecked())
    # Nothing failed but something was not checked: not a pass, not a failure.
    word = "FAIL" if report.failing() else "INCOMPLETE" if report.exit_code() else "PASS"
    nodes = (f"{failed} of {count(total, 'node')} failed" if failed
             else f"{passed} of {count(total, 'node')} passed")
    if unchecked:
        nodes += f", {unchecked} could not be checked"
    if report.source_failure is not None:
        nodes += ", source of truth not read"
    news = ""
    if report.baseline is not None:  # with --fail-on-new, what decides the verdict
        states = [f.baseline_state for f in report.findings]
        news = (f"; {states.count(BaselineState.NEW)} new, "
                f"{states.count(BaselineState.UPDATED)} updated since the baseline")
    return Verdict(word, f"{nodes}; {findings_said(report)}{news}; "
                         f"exit code {report.exit_code()}")
