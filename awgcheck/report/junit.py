"""JUnit XML: one testcase per (node, rule), so CI dashboards show drift
as failing tests and unreachable nodes as errors (a source of truth that
could not be read: its node's error, or a suite of its own for a file)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from awgcheck.errors import ErrorClass
from awgcheck.model import Finding, Report, Status
from awgcheck.report.source import source_name, statement


def render(report: Report) -> str:
    suites = ET.Element("testsuites", name="awgcheck")
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
        case = ET.SubElement(suite, "testcase", classname=name, name="readable")
        _error(case, report.source_failure.error_class, said)
    for node in report.nodes:
        suite = ET.SubElement(suites, "testsuite", name=node.name)
        cases = failures = errors = 0
        if node.error is not None and node.error_class is not ErrorClass.RULE_ERROR:
            case = ET.SubElement(suite, "testcase", classname=node.name, name="reachable")
            # The source node's entry also says what was not compared with it.
            message = said if said is not None and report.is_failed_source(node) else node.error
            _error(case, node.error_class or "error", message)
            cases, errors = 1, 1
        for rule, findings in by_node.get(node.name, {}).items():
            cases += 1
            case = ET.SubElement(suite, "testcase", classname=node.name, name=rule)
            bad = [f for f in findings if f.failed and f.severity.at_least(report.fail_on)]
            broken = [f for f in findings if f.status is Status.ERROR]
            if bad:
                failures += 1
                failure = ET.SubElement(case, "failure", type=bad[0].severity.value,
                                        message=bad[0].message)
                failure.text = "\n".join(_line(f) for f in bad)
            elif broken:
                errors += 1
                error = ET.SubElement(case, "error", message=broken[0].message)
                error.text = "\n".join(_line(f) for f in broken)
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _error(case: ET.Element, kind: str, message: str) -> None:
    error = ET.SubElement(case, "error", type=kind, message=message)
    error.text = message


def _line(finding: Finding) -> str:
    where = f" [{finding.location}]" if finding.location else ""
    symptom = f"\n  symptom: {finding.symptom}" if finding.symptom else ""
    return f"{finding.severity.value}: {finding.message}{where}{symptom}"
