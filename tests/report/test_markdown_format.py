"""Markdown: verdict, findings table, unchecked nodes, gate change summary."""

from __future__ import annotations

import paths
from click.testing import CliRunner

from awgcheck.cli.main import main
from awgcheck.model import (
    BaseCommit,
    Finding,
    FleetImpact,
    GateSummary,
    Location,
    NodeResult,
    ParamChange,
    Report,
    Severity,
    Status,
)
from awgcheck.params import Role
from awgcheck.report import markdown

DEMO = paths.DEMO / "fleet.yaml"


def test_markdown_cell_escapes_pipes_and_newlines() -> None:
    assert markdown.cell("a|b\nc") == "a\\|b<br>c"
    assert markdown.cell(None) == "-"
    assert markdown.code("<b 0x01>|x") == "`<b 0x01>|x`"
    assert markdown.code("<b 0x01>|x", in_table=True) == "`<b 0x01>\\|x`"


def test_markdown_check_on_the_demo_fleet() -> None:
    result = CliRunner().invoke(main, ["check", "-i", str(DEMO), "--format", "markdown"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "## awgcheck check"
    # Tbilisi's S4 drift and its relay bound to 0.0.0.0 (compose).
    # The table's verdict line, word for word, the word in bold.
    assert lines[2] == "**FAIL**: 1 of 4 nodes failed; 1 critical, 1 error, 2 warnings; exit code 1"
    table = CliRunner().invoke(main, ["check", "-i", str(DEMO)]).stdout.splitlines()
    assert table[0] == lines[2].replace("**", "")
    header = "| node | rule | severity | param | expected | actual | location | message |"
    assert header in lines
    [row] = [line for line in lines if line.startswith("| partner-tbilisi | must-match")]
    cells = [c.strip() for c in row.strip("|").split(" | ")]
    assert cells[:6] == ["partner-tbilisi", "must-match-drift", "critical", "S4", "`18`",
                         "`17`"]
    assert cells[6].endswith("partner-tbilisi/etc/amnezia/amneziawg/awg0.conf:13")
    assert any("looks up, carries nothing" in line for line in lines)


def test_markdown_unchecked_nodes_and_pass_verdict() -> None:
    nodes = (NodeResult("ok", Status.PASS),
             NodeResult("gone", Status.ERROR, "gone: no conf", "file_missing"))
    text = markdown.render(Report(None, "s", nodes, ()))
    assert ("**INCOMPLETE**: 1 of 2 nodes passed, 1 could not be checked; no findings; "
            "exit code 4") in text
    assert "### Could not check" in text
    assert "- **gone** (file_missing): gone: no conf" in text
    clean = markdown.render(Report(None, "s", (NodeResult("ok", Status.PASS),), ()))
    assert "**PASS**: 1 of 1 node passed; no findings; exit code 0" in clean
    assert "No failed findings." in clean


def test_markdown_gate_summary_section() -> None:
    finding = Finding("must-match-drift", "p.conf", Status.FAIL, Severity.CRITICAL, "drift",
                      "S4", "19", "18", Location("p.conf", 4))
    change = ParamChange("S4", Role.MUST_MATCH, "18", "19", "looks up, carries nothing",
                         "S4 changes from 18 to 19")
    summary = GateSummary("server.conf", BaseCommit("origin/main", "0123456789abcdef"),
                          (change,), ("S4 and H4 flip together",),
                          FleetImpact((), (), "this change puts 2 nodes into must-match drift"),
                          ("compose skipped",))
    report = Report(None, "server.conf", (NodeResult("p.conf", Status.FAIL),), (finding,),
                    gate=summary)
    text = markdown.render(report)
    assert text.startswith("## awgcheck gate\n")
    assert "### Parameter change since `origin/main` (0123456789ab)" in text
    assert "| S4 | must-match | `18` | `19` | looks up, carries nothing |" in text
    assert "> **Warning:** S4 and H4 flip together" in text
    assert "> **Fleet impact:** this change puts 2 nodes" in text
    assert "_Note: compose skipped_" in text


def test_markdown_cell_shows_what_github_would_interpret_as_text() -> None:
    text = markdown.cell("<img src=x> [a](http://e) `x` &#64; @org/team #12 a|b \\ mail@x.org")
    assert text == ("\\<img src=x> \\[a\\](http://e) \\`x\\` \\&\\#64; @\u200dorg/team "
                    "\\#\u200d12 a\\|b \\\\ mail@x.org")
    assert markdown.cell("*x* _y_ AWG_S4 ~z~ $v") == "\\*x\\* \\_y\\_ AWG_S4 \\~z\\~ \\$v"
    assert markdown.cell("- item") == "\\- item"
    assert markdown.cell("1. one") == "1\\. one"


def test_markdown_code_fence_is_longer_than_any_backtick_run() -> None:
    assert markdown.code("a``b") == "```a``b```"
    assert markdown.code("`x`") == "`` `x` ``"
    assert markdown.code("x|y", in_table=True) == "`x\\|y`"
    assert markdown.code("") == "-"
