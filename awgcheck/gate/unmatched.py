"""A consumer glob of the gate config that matches no file.

A folder renamed in a pull request leaves its glob matching nothing: the
gate would then check nothing there and pass. So by default such a glob is
a failed finding (``consumer-glob-unmatched``, severity critical, so no
``fail_on`` lets it through) at the glob's line of the config; the config
switch ``allow_unmatched_consumers: true`` makes it a note of the change
summary instead, for a glob that may legitimately match nothing yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from awgcheck.gate.config import ALLOW_UNMATCHED, GateConfig
from awgcheck.model import Finding, Location, RuleMeta, Severity, Status

CONSUMER_GLOB_UNMATCHED = "consumer-glob-unmatched"

RULE = RuleMeta(
    CONSUMER_GLOB_UNMATCHED, "A consumer glob of the gate config matches no file",
    Severity.CRITICAL,
    "A glob under consumers: in the gate config matches no file of the repository, so the "
    "gate checks nothing there: a renamed or moved folder would otherwise turn the gate "
    "green while the files it should check go unchecked. Its node is the config file.",
    f"Correct the glob (or remove it); if it may match nothing for now, set "
    f"{ALLOW_UNMATCHED}: true in the gate config.",
    ("gate",))
"""What SARIF and ``rules`` listings say of the id no rule file declares."""


@dataclass(frozen=True)
class Unmatched:
    """One glob of ``consumers: KIND`` that matched no file."""

    kind: str
    pattern: str

    @property
    def text(self) -> str:
        return f"consumers: {self.kind}: '{self.pattern}' matches no file"


def findings(unmatched: Sequence[Unmatched], config: GateConfig,
             repo: Path) -> list[Finding]:
    """One failed finding per glob, at its line of the config (none when
    the config allows globs that match nothing)."""
    if config.allow_unmatched_consumers:
        return []
    name = _shown(config.path, repo)
    lines = _lines(config.path)
    return [Finding(
        rule=CONSUMER_GLOB_UNMATCHED, node=name, status=Status.FAIL,
        severity=RULE.severity,
        message=f"{item.text}: nothing is checked there (a renamed folder?)",
        location=Location(name, _line_of(lines, item.pattern)),
        remediation=RULE.remediation) for item in unmatched]


def notes(unmatched: Sequence[Unmatched], config: GateConfig) -> list[str]:
    """The change summary's notes: said there only when allowed (otherwise
    each is a finding)."""
    if not config.allow_unmatched_consumers:
        return []
    return [f"{item.text} ({ALLOW_UNMATCHED}: true)" for item in unmatched]


def _shown(path: Path, repo: Path) -> str:
    """The config as findings name files: relative to the repository when
    inside it (the form CI annotations expect)."""
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return str(path)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):  # read once already; a race only loses the line
        return []


def _line_of(lines: Sequence[str], pattern: str) -> int | None:
    """The first config line that writes ``pattern`` (the config is read as
    data, without marks; a glob is written on one line)."""
    return next((number for number, line in enumerate(lines, 1)
                 if pattern in line and not line.lstrip().startswith("#")), None)
