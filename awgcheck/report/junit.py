"""JUnit XML: one testcase per (node, rule), so CI dashboards show drift
as failing tests, unreachable nodes as errors and waived failures as
skipped tests (the message says why and until when). A source of truth
that could not be read is its node's error, or a suite of its own for a
file.

Findings about no node (a waiver that matched nothing names the file it
is written in) get a testsuite of their own. Each testsuite's
``timestamp`` is the run's start, in UTC without a zone designator (the
JUnit schema allows none); the run's duration is ``time`` on
``<testsuites>``, since nodes are read concurrently and have no time of
their own.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from awgcheck.errors import ErrorClass
from awgcheck.model import Finding, NodeResult, Report, Status
from awgcheck.report.source import source_name, statement


def timestamp(moment: dt.datetime) -> str:
    """``2025-05-01T02:03:04``: the UTC time to the second, without a zone."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def render(report: Report) -> str:
    suites = ET.Element("testsuites", name="awgcheck")
    if report.run is not None:
        suites.set("time", f"{report.run.duration_s:.3f}")
    by_node: dict[str, dict[str, list[Finding]]] = {}
    for finding in report.findings:
        by_node.setdefault(finding.node, {}).setdefault(finding.rule, []).append(finding)
    said = statement(report)
    in_place = any(report.is_failed_source(node) for node in report.nodes)
    if said is not None and report.source_failure is not None and not in_place:
        # A source file, not a node: a suite of its own says it.
        name = source_name(report)
        suite = ET.SubElement(suites, "testsuite", name=name, tests="1", failures="0",
                              errors="1")
        if report.run is not None:
            suite.set("timestamp", timestamp(report.run.started_at))
        case = ET.SubElement(suite, "testcase", classname=name, name="readable")
        _error(case, report.source_failure.error_class, said)
    results: dict[str, NodeResult | None] = {node.name: node for node in report.nodes}
    results.update((name, None) for name in by_node if name not in results)
    for name, node in results.items():
        suite = ET.SubElement(suites, "testsuite", name=name)
        if report.run is not None:
            suite.set("timestamp", timestamp(report.run.started_at))
        cases = failures = errors = skipped = 0
        if (node is not None and node.error is not None
                and node.error_class is not ErrorClass.RULE_ERROR):
            case = ET.SubElement(suite, "testcase", classname=name, name="reachable")
            # The source node's entry also says what was not compared with it.
            message = said if said is not None and report.is_failed_source(node) else node.error
            _error(case, node.error_class or "error", message)
            cases, errors = 1, 1
        for rule, findings in by_node.get(name, {}).items():
            cases += 1
            case = ET.SubElement(suite, "testcase", classname=name, name=rule)
            bad = [f for f in findings if f.failed and f.severity.at_least(report.fail_on)]
            broken = [f for f in findings if f.status is Status.ERROR]
            waived = [f for f in findings if f.status is Status.WAIVED]
            if bad:
                failures += 1
                failure = ET.SubElement(case, "failure", type=bad[0].severity.value,
                                        message=bad[0].message)
                failure.text = "\n".join(_line(f) for f in bad)
            elif broken:
                errors += 1
                error = ET.SubElement(case, "error", message=broken[0].message)
                error.text = "\n".join(_line(f) for f in broken)
            elif waived:
                skipped += 1
                skip = ET.SubElement(case, "skipped", message=_waived(waived[0]))
                skip.text = "\n".join(f"{_line(f)}\n  {_waived(f)}" for f in waived)
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", str(skipped))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _error(case: ET.Element, kind: str, message: str) -> None:
    error = ET.SubElement(case, "error", type=kind, message=message)
    error.text = message


def _line(finding: Finding) -> str:
    where = f" [{finding.location}]" if finding.location else ""
    symptom = f"\n  symptom: {finding.symptom}" if finding.symptom else ""
    return f"{finding.severity.value}: {finding.message}{where}{symptom}"


def _waived(finding: Finding) -> str:
    waiver = finding.waiver
    if waiver is None:
        return "waived"
    owner = f", owner {waiver.owner}" if waiver.owner else ""
    return (f"waived until {waiver.expires.isoformat()}{owner} ({waiver.location}): "
            f"{waiver.reason}")
