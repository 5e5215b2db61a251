"""JUnit XML: one testcase per (node, rule), so CI dashboards show drift
as failing tests and unreachable nodes as errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from awgcheck.errors import ErrorClass
from awgcheck.model import Finding, Report, Status


def render(report: Report) -> str:
    suites = ET.Element("testsuites", name="awgcheck")
    by_node: dict[str, dict[str, list[Finding]]] = {}
    for finding in report.findings:
        by_node.setdefault(finding.node, {}).setdefault(finding.rule, []).append(finding)
    for node in report.nodes:
        suite = ET.SubElement(suites, "testsuite", name=node.name)
        cases = failures = errors = 0
        if node.error is not None and node.error_class is not ErrorClass.RULE_ERROR:
            case = ET.SubElement(suite, "testcase", classname=node.name, name="reachable")
            error = ET.SubElement(case, "error", type=node.error_class or "error",
                                  message=node.error)
            error.text = node.error
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


def _line(finding: Finding) -> str:
    where = f" [{finding.location}]" if finding.location else ""
    symptom = f"\n  symptom: {finding.symptom}" if finding.symptom else ""
    return f"{finding.severity.value}: {finding.message}{where}{symptom}"
