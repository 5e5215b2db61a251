"""Prometheus text exposition, for node_exporter's textfile collector.

``awgcheck check --format prometheus --output DIR/awgcheck.prom`` (written
atomically, as the collector requires) turns a nightly run into metrics:
per-node status, failing findings by rule and severity, nodes that could
not be checked by ``error_class``, drift per param, whether the source of
truth was read, the exit code, and when the run ended and how long it took.

Every series has a stable label set, and the labels only ever hold names
(node, rule, param, severity, status, error_class), never a value or a
message, so no secret and no unbounded text reaches Prometheus. Label
values are escaped per the exposition format (backslash, double quote,
line feed) on top of :func:`awgcheck.text.printable`, which the registry
already applied, so a hostile node name cannot end its label or start a
line of its own. Samples carry no timestamp: the collector refuses them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from awgcheck import __version__
from awgcheck.model import Report, Status

# Every node gets a series for each of these (1 for its status, 0 for the
# others), so `== 1` alerts resolve when a node recovers instead of going stale.
NODE_STATUSES = (Status.PASS, Status.FAIL, Status.ERROR)


@dataclass(frozen=True)
class RunTime:
    """When the run ended (Unix seconds) and how long it took (seconds;
    None when the report does not say)."""

    finished: float
    duration: float | None = None


@dataclass
class _Family:
    """One metric family: its help text and its samples, in order."""

    name: str
    help: str
    samples: list[tuple[Mapping[str, str], float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> None:
        self.samples.append((labels, value))


def run_time(report: Report) -> RunTime:
    """The run's end and duration, from the report's run metadata; a report
    built without a run (tests, older JSON) ends now, with no duration
    rather than a guessed one."""
    if report.run is None:
        return RunTime(time.time())
    return RunTime(report.run.finished_at.timestamp(), report.run.duration_s)


def render(report: Report) -> str:
    return exposition(report, run_time(report))


def exposition(report: Report, when: RunTime) -> str:
    """The metrics of ``report`` for a run that ended as ``when`` says."""
    families = [*_run(report, when), *_nodes(report), *_findings(report)]
    return "".join(_family_text(f) for f in families if f.samples)


def _run(report: Report, when: RunTime) -> Iterator[_Family]:
    finished = _Family("awgcheck_last_run_timestamp_seconds",
                       "When the last awgcheck run ended, in Unix seconds.")
    finished.add(when.finished)
    yield finished
    duration = _Family("awgcheck_run_duration_seconds",
                       "How long the last awgcheck run took, in seconds.")
    if when.duration is not None:
        duration.add(when.duration)
    yield duration
    code = _Family("awgcheck_exit_code",
                   "Exit code of the last run: 0 passed, 1 failed, 4 some node or the "
                   "source of truth could not be checked, 5 both.")
    code.add(report.exit_code())
    yield code
    info = _Family("awgcheck_run_info",
                   "Always 1; the labels say how the last run judged the nodes.")
    info.add(1, version=__version__, profile=report.profile, fail_on=report.fail_on.value)
    yield info
    readable = _Family("awgcheck_source_readable",
                       "1 when the source of truth was read; 0 when it could not be, and "
                       "no rule that compares with it was evaluated.")
    readable.add(0 if report.source_failure is not None else 1)
    yield readable
    unreadable = _Family("awgcheck_source_unreadable",
                         "1, by error_class, when the source of truth could not be read.")
    if report.source_failure is not None:
        unreadable.add(1, error_class=report.source_failure.error_class)
    yield unreadable


def _nodes(report: Report) -> Iterator[_Family]:
    statuses = list(dict.fromkeys([*NODE_STATUSES, *(n.status for n in report.nodes)]))
    totals = _Family("awgcheck_nodes", "Nodes of the last run by status (pass, fail, or error: "
                                       "could not be checked).")
    for status in statuses:
        totals.add(sum(1 for n in report.nodes if n.status is status), status=status.value)
    yield totals
    per_node = _Family("awgcheck_node_status",
                       "1 for the node's status in the last run, 0 for the other statuses.")
    unchecked = _Family("awgcheck_node_unchecked",
                        "1 for a node that could not be checked, by error_class.")
    for node in report.nodes:
        for status in statuses:
            per_node.add(1 if node.status is status else 0, node=node.name,
                         status=status.value)
        if node.status is Status.ERROR:
            unchecked.add(1, node=node.name, error_class=node.error_class or "unknown")
    yield per_node
    yield unchecked


def _findings(report: Report) -> Iterator[_Family]:
    """Failed findings by rule and severity, and nodes drifting per param.
    A rule (or param) that was evaluated but did not fail has a zero series,
    so a graph shows the drop to 0 instead of a gap."""
    failed: dict[tuple[str, str], int] = {}
    waived: dict[str, int] = {}
    drift_rules = {meta.id for meta in report.rules if meta.drift}
    drifting: dict[tuple[str, str], set[str]] = {}
    for f in report.findings:
        key = (f.rule, f.severity.value)
        failed[key] = failed.get(key, 0) + f.failed
        waived[f.rule] = waived.get(f.rule, 0) + (f.status is Status.WAIVED)
        if f.rule in drift_rules and f.param is not None:
            nodes = drifting.setdefault((f.param, f.severity.value), set())
            if f.failed:
                nodes.add(f.node)
    by_rule = _Family("awgcheck_failed_findings",
                      "Failed findings of the last run by rule and severity, whatever "
                      "--fail-on says.")
    for (rule, severity), count in sorted(failed.items()):
        by_rule.add(count, rule=rule, severity=severity)
    yield by_rule
    accepted = _Family("awgcheck_waived_findings",
                       "Failures of the last run that a waiver in force accepted, by rule; "
                       "they fail nothing until the waiver expires.")
    for rule, count in sorted(waived.items()):
        accepted.add(count, rule=rule)
    yield accepted
    by_param = _Family("awgcheck_param_drift_nodes",
                       "Nodes whose drift rules failed on the param in the last run, by the "
                       "finding's severity (a spelling-only difference is a warning).")
    for (param, severity), nodes in sorted(drifting.items()):
        by_param.add(len(nodes), param=param, severity=severity)
    yield by_param


def _family_text(family: _Family) -> str:
    lines = [f"# HELP {family.name} {_help(family.help)}", f"# TYPE {family.name} gauge"]
    for labels, value in family.samples:
        inside = ",".join(f'{key}="{label_value(text)}"' for key, text in labels.items())
        lines.append(f"{family.name}{{{inside}}} {_number(value)}" if inside
                     else f"{family.name} {_number(value)}")
    return "\n".join(lines) + "\n"


def label_value(text: str) -> str:
    """``text`` as a label value: backslash, double quote and line feed
    escaped, as the exposition format requires."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
