"""Triage's verdict word and exit code when the source of truth is not a
usable reference: it could not be read (COULD NOT CHECK, never PASS), or
it fails its own rules (the fault is the source's: never copied); a
path-like --against that is no file; and the verdict line Markdown opens
with. Local node trees (the demo fleet), run in the test's process.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import paths
import pytest
from awg_dump import key
from in_process import awgcheck
from markdown_it import MarkdownIt
from memory_node import FakeCollector

from awgcheck import exitcodes, inventory
from awgcheck.cli.options import load_rules
from awgcheck.collect.runtime import Missing
from awgcheck.parse import awgconf
from awgcheck.triage.render import render_json, render_markdown, render_table
from awgcheck.triage.run import SourceRead, TriageOptions, judge_source, triage

CONF = "etc/amnezia/amneziawg/awg0.conf"
PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table"])


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A copy of the demo fleet to break; its fleet.yaml."""
    shutil.copytree(paths.DEMO, tmp_path / "demo")
    return tmp_path / "demo" / "fleet.yaml"


def server_conf(fleet: Path) -> Path:
    return fleet.parent / "nodes" / "server" / CONF


def first_line(text: str) -> str:
    """The table's first line, unwrapped."""
    return text.split("\n\n")[0].split("\nawgcheck triage:")[0].replace("\n    ", " ")


# --------------------------------------------------------------------------
# a source that could not be read: not checked, never PASS


def unreadable_source(fleet: Path, tmp_path: Path) -> list[str]:
    """--against an error reply where the params should be."""
    reply = tmp_path / "err.json"
    reply.write_text('{"error": "denied"}')
    return ["--against", str(reply)]


def missing_source_conf(fleet: Path, tmp_path: Path) -> list[str]:
    """The inventory's source node has no conf."""
    server_conf(fleet).unlink()
    return []


@pytest.mark.parametrize("break_source", [unreadable_source, missing_source_conf],
                         ids=["error-reply", "source-node-without-conf"])
@pytest.mark.parametrize("node", ["partner-tbilisi", "partner-berlin"])
def test_an_unread_source_is_could_not_check_not_pass(demo: Path, tmp_path: Path,
                                                      break_source: object, node: str) -> None:
    """Tbilisi drifts (S4 = 17), Berlin does not: with no source read,
    neither can be told apart, so neither is a pass."""
    assert callable(break_source)
    against = break_source(demo, tmp_path)
    done = awgcheck("triage", node, "-i", str(demo), *against, "--width", "1000")
    assert done.returncode == exitcodes.UNCHECKED == 4, done.stdout
    line = first_line(done.stdout)
    assert line.startswith("COULD NOT CHECK: "), line
    assert line.endswith(f"could not be read, so {node} was not compared with it; only its "
                         "file was read; exit code 4")
    assert "PASS" not in done.stdout
    # Missing evidence is printed above the verdict: the verdict points there.
    out = done.stdout
    assert out.index("\nMissing evidence\n") < out.index("\nVerdict\n")
    assert "below" not in out[out.index("\nVerdict\n"):]
    assert "make the source readable (Missing evidence says why it is not, and how)" in out
    report = json.loads(awgcheck("triage", node, "-i", str(demo), *against,
                                 "--format", "json").stdout)
    assert report["verdict"]["status"] == "unchecked" and report["exit_code"] == 4
    assert report["missing"][0]["what"] == "source"
    markdown = awgcheck("triage", node, "-i", str(demo), *against, "--format", "markdown")
    assert markdown.returncode == 4
    assert markdown.stdout.split("\n")[2].startswith("**COULD NOT CHECK**: ")


def test_a_mismatch_shown_without_the_source_is_still_fail() -> None:
    """The named source could not be read, but the file and the running
    interface differ: that is shown, FAIL, exit 5 (a failure, and the
    source not checked: as `check` counts both)."""
    collector = FakeCollector(
        {"/etc/amnezia/amneziawg/awg0.conf": b"[Interface]\nS4 = 17\n"},
        {("awg", "showconf", "awg0"): [b"[Interface]\nS4 = 18\n"]})
    source = SourceRead("server.json", None, Missing("source", "the source could not be read: "
                                                     "server.json: an error reply", "fix it"))
    report = triage(inventory.Node(name="edge", host="edge.example"), source, TriageOptions(),
                    factory=lambda node, options: collector)
    assert report.verdict is not None and report.verdict.cause == "file-vs-runtime"
    assert report.exit_code() == exitcodes.FAILED_AND_UNCHECKED == 5
    assert render_table(report).startswith(
        "FAIL: The file and the running interface differ: S4 = 17 in the file, 18 running; "
        "exit code 5")
    assert report.verdict.details[0] == (
        "server.json (the source of truth) could not be read, so which side is right is "
        "unknown; make the source readable (Missing evidence says why it is not, and how) and "
        "run triage again to find out.")
    assert json.loads(render_json(report))["exit_code"] == 5
    assert "**FAIL**: The file and the running interface differ" in render_markdown(report)


def test_a_source_that_was_read_and_agrees_is_still_pass(demo: Path) -> None:
    done = awgcheck("triage", "partner-berlin", "-i", str(demo), "--width", "1000")
    assert done.returncode == 0, done.stdout
    assert first_line(done.stdout).startswith("PASS: No param differs: the file and server ")


# --------------------------------------------------------------------------
# a source that fails its own rules: the fault is the source's, never copied


@pytest.mark.parametrize(("line", "broken", "rule", "said"), [
    ("S4 = 18", "S4 = 70000", "conf-loads",
     "awg setconf would reject line {n}: S4: Unable to parse S4: `70000' (over 65535)"),
    ("Jmin = 40", "Jmin = 90", "jmin-below-jmax",
     "Jmin < Jmax does not hold (Jmin=90, Jmax=70)"),
], ids=["value-the-tools-reject", "constraint"])
def test_a_broken_source_is_named_and_never_copied(demo: Path, line: str, broken: str,
                                                   rule: str, said: str) -> None:
    """Berlin is healthy; the server's file has a value its own rules
    reject. `fix` refuses; triage names the source's file, line, param and
    rule, fixes it there, and tells Berlin to change nothing."""
    conf = server_conf(demo)
    conf.write_text(conf.read_text().replace(line, broken))
    n = conf.read_text().splitlines().index(broken) + 1
    assert awgcheck("fix", "partner-berlin", "-i", str(demo)).returncode == exitcodes.REFUSED
    done = awgcheck("triage", "partner-berlin", "-i", str(demo), "--width", "1000")
    assert done.returncode == exitcodes.FAILED == 1, done.stdout
    where = f"{conf} line {n} (`{broken}`) fails {rule}: {said.format(n=n)}"
    assert first_line(done.stdout) == (
        f"FAIL: The source of truth server is broken: {where}; copying its values to "
        "partner-berlin would spread the fault; exit code 1")
    fix = done.stdout[done.stdout.index("\nFix\n"):]
    assert f"  1. {conf} line {n}: `{broken}` fails {rule}: " in fix
    assert f"to `{broken}`" not in done.stdout  # no "change `S4 = 18` to `S4 = 70000`"
    assert "awg-quick down" not in fix  # Berlin is not touched
    assert "Nothing is copied from the source while it fails its own rules" in fix
    report = json.loads(awgcheck("triage", "partner-berlin", "-i", str(demo),
                                 "--format", "json").stdout)
    verdict = report["verdict"]
    assert (verdict["status"], verdict["cause"], report["exit_code"]) == (
        "source-broken", "source-rules", 1)
    assert [(s["path"], s["line"]) for s in verdict["fix"]["steps"]] == [(str(conf), n)]
    assert verdict["fix"]["command"] is None
    markdown = awgcheck("triage", "partner-berlin", "-i", str(demo), "--format", "markdown")
    assert markdown.stdout.split("\n")[2].startswith(
        "**FAIL**: The source of truth server is broken: ")
    assert f"to `{broken}`" not in markdown.stdout


def test_a_broken_source_over_the_node_is_named_before_the_drift(demo: Path) -> None:
    """Tbilisi drifts (S4 = 17) from a server whose Jmin breaks its own
    rule: the server is fixed first, and nothing is copied yet."""
    conf = server_conf(demo)
    conf.write_text(conf.read_text().replace("Jmin = 40", "Jmin = 90"))
    done = awgcheck("triage", "partner-tbilisi", "-i", str(demo), "--width", "1000")
    assert done.returncode == 1
    assert first_line(done.stdout).startswith("FAIL: The source of truth server is broken: ")
    assert "`S4 = 18`" not in done.stdout[done.stdout.index("\nFix\n"):]


def test_a_broken_ssh_source_is_named_by_its_host_and_path() -> None:
    """An SSH source's conf is named ``host:/path``, as `check` names it:
    the step cannot be mistaken for the node's own conf at the same path."""
    source_text = f"[Interface]\nPrivateKey = {key('hub-private')}\nJmin = 90\nJmax = 70\n"
    remote = "10.0.0.1:/etc/amnezia/amneziawg/awg0.conf"
    judged = judge_source(SourceRead("server", awgconf.parse(source_text.encode(), remote)),
                          load_rules(()).rules)
    collector = FakeCollector({"/etc/amnezia/amneziawg/awg0.conf": source_text.encode()}, {})
    report = triage(inventory.Node(name="edge", host="edge.example"), judged, TriageOptions(),
                    factory=lambda node, options: collector)
    assert report.verdict is not None and report.verdict.fix is not None
    [step] = report.verdict.fix.steps
    assert (step.path, step.line) == (remote, 3)
    assert step.action.startswith("`Jmin = 90` fails jmin-below-jmax: ")
    assert report.verdict.headline.startswith(
        f"The source of truth server is broken: {remote} line 3 (`Jmin = 90`) fails "
        "jmin-below-jmax: ")


# --------------------------------------------------------------------------
# --against that looks like a path


@pytest.mark.parametrize("against", ["./nope.conf", "nope.conf", "nope.json", "nope.yaml",
                                     "nope.yml", "dir/nope"])
def test_a_path_like_against_that_is_no_file_is_file_not_found(against: str) -> None:
    done = awgcheck("triage", "partner-berlin", "-i", str(paths.DEMO / "fleet.yaml"),
                    "--against", against)
    assert done.returncode == exitcodes.USAGE == 2
    assert done.stderr == f"awgcheck: error: --against {against}: {against}: file not found\n"


def test_a_directory_as_against_is_not_a_file() -> None:
    nodes = str(paths.DEMO / "nodes")
    done = awgcheck("triage", "partner-berlin", "-i", str(paths.DEMO / "fleet.yaml"),
                    "--against", nodes)
    assert done.returncode == 2
    assert done.stderr == f"awgcheck: error: --against {nodes}: {nodes}: not a file\n"


def test_a_node_name_is_still_a_node(demo: Path) -> None:
    """A name without a / or a file suffix is a node; an unknown one says so."""
    assert awgcheck("triage", "partner-berlin", "-i", str(demo), "--against",
                    "server").returncode == 0
    done = awgcheck("triage", "partner-berlin", "-i", str(demo), "--against", "nope")
    assert done.returncode == 2 and "no node named 'nope'" in done.stderr


def test_diff_names_a_missing_file_too() -> None:
    """diff's sides are node-or-file arguments as well: one rule for both."""
    done = awgcheck("diff", "partner-berlin", "nope.conf", "-i",
                    str(paths.DEMO / "fleet.yaml"))
    assert done.returncode == 2
    assert done.stderr == "awgcheck: error: nope.conf: file not found\n"


# --------------------------------------------------------------------------
# Markdown opens with the table's verdict line


@pytest.mark.parametrize(("node", "word", "code"), [
    ("partner-tbilisi", "FAIL", 1), ("partner-berlin", "PASS", 0)])
def test_markdown_opens_with_the_tables_verdict_line(node: str, word: str, code: int) -> None:
    fleet = str(paths.DEMO / "fleet.yaml")
    table = awgcheck("triage", node, "-i", fleet, "--width", "1000")
    markdown = awgcheck("triage", node, "-i", fleet, "--format", "markdown")
    assert table.returncode == markdown.returncode == code
    tokens = PARSER.parse(markdown.stdout)
    assert tokens[0].type == "heading_open"
    paragraph = tokens[4]  # heading open, inline, close; then the verdict paragraph
    assert tokens[3].type == "paragraph_open" and paragraph.type == "inline"
    children = [c for c in paragraph.children or [] if c.content or c.type != "text"]
    assert [c.type for c in children[:3]] == ["strong_open", "text", "strong_close"]
    assert children[1].content == word
    shown = "".join(c.content for c in children if c.type in ("text", "code_inline"))
    assert shown.replace("\u200d", "") == first_line(table.stdout)
    assert shown.endswith(f"; exit code {code}")


@pytest.mark.parametrize("content", [b"", b"\n\n", b"# issued 2026-12-01\n   \n"],
                         ids=["empty", "blank", "comments"])
def test_a_source_that_says_nothing_is_refused_by_every_command(
        demo: Path, tmp_path: Path, content: bytes) -> None:
    """A truncated download is no source: triage cannot check (it said
    "delete every param" before), plan refuses it, check cannot read it."""
    source = tmp_path / "issued.src"
    source.write_bytes(content)
    inv = str(demo)
    said = "empty (blanks and comments only): no source of truth in it"
    triaged = awgcheck("triage", "partner-tbilisi", "-i", inv, "--against", str(source),
                       "--format", "json")
    assert triaged.returncode == exitcodes.UNCHECKED, triaged.stdout
    report = json.loads(triaged.stdout)
    assert report["verdict"]["status"] == "unchecked"
    assert not (report["verdict"]["fix"] or {}).get("steps")
    assert said in triaged.stdout
    planned = awgcheck("plan", "--to", str(source), "-i", inv)
    assert planned.returncode == 2 and said in planned.stderr, planned.stderr
    checked = awgcheck("check", "-i", inv, "--source", str(source), "--format", "json")
    assert checked.returncode == exitcodes.FAILED_AND_UNCHECKED, checked.stdout
    assert said in json.loads(checked.stdout)["source"]["error"]
