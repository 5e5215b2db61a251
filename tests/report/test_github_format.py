"""GitHub workflow commands: one annotation per failed finding, escaped."""

from __future__ import annotations

import paths
import pytest
from click.testing import CliRunner

from awgcheck.cli.main import main
from awgcheck.model import Finding, Location, NodeResult, Report, Severity, Status
from awgcheck.report import github

DEMO = paths.DEMO / "fleet.yaml"


@pytest.mark.parametrize(("text", "escaped"), [
    ("100% dropped", "100%25 dropped"),
    ("line one\r\nline two", "line one%0D%0Aline two"),
    ("%0A is not a newline", "%250A is not a newline"),
])
def test_github_escape_data(text: str, escaped: str) -> None:
    assert github.escape_data(text) == escaped


def test_github_escape_property_also_escapes_colon_and_comma() -> None:
    assert github.escape_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"


def test_github_command_cannot_be_forged_by_a_message() -> None:
    line = github.command("error", "x\n::error file=evil::pwned", file="a,b.conf", line=3,
                          title="t:1")
    assert line == ("::error file=a%2Cb.conf,line=3,title=t%3A1::"
                    "x%0A::error file=evil::pwned")
    assert "\n" not in line


@pytest.mark.parametrize(("severity", "name"), [
    (Severity.CRITICAL, "error"), (Severity.ERROR, "error"),
    (Severity.WARNING, "warning"), (Severity.INFO, "notice"),
])
def test_github_command_by_severity(severity: Severity, name: str) -> None:
    finding = Finding("r", "a.conf", Status.FAIL, severity, "m", location=Location("a.conf", 2))
    passing = Finding("r", "a.conf", Status.PASS, severity, "fine")
    report = Report(None, "s", (NodeResult("a.conf", Status.FAIL),), (finding, passing))
    assert github.render(report) == f"::{name} file=a.conf,line=2,title=r::m\n"


def test_github_unchecked_node_is_an_error_without_file() -> None:
    node = NodeResult("edge", Status.ERROR, "edge: timed out", "deadline_exceeded")
    text = github.render(Report(None, "s", (node,), ()))
    assert text == ("::error title=awgcheck%3A could not check (deadline_exceeded)::"
                    "edge: edge: timed out\n")


def test_github_check_on_the_demo_fleet() -> None:
    result = CliRunner().invoke(main, ["check", "-i", str(DEMO), "--format", "github"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert all(line.startswith("::") for line in lines)
    errors = [line for line in lines if line.startswith("::error")]
    [error] = [line for line in errors if "title=must-match-drift" in line]
    [compose] = [line for line in errors if "title=compose-" in line]
    assert compose.startswith("::error file=fixtures/demo/nodes/partner-tbilisi/opt/"
                              "partner-edge/compose.yaml,line=37,"
                              "title=compose-listener-mesh-bound::")
    assert error.startswith("::error file=fixtures/demo/nodes/partner-tbilisi/etc/amnezia/"
                            "amneziawg/awg0.conf,line=13,title=must-match-drift::")
    assert "%0ASymptom: handshakes complete" in error
    assert sum(line.startswith("::warning") for line in lines) == 2  # almaty's spelling
