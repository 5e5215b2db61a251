"""The pieces every table format is drawn with: wrapping, paths, excerpts,
the grid's columns, colour, and how the CLI picks the width and colour."""

from __future__ import annotations

import itertools
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import paths
import pytest

from awgcheck import excerpt
from awgcheck.cli.screen import Screen
from awgcheck.report.colour import STYLES, paint_word
from awgcheck.report.grid import Column, Kind, grid
from awgcheck.report.layout import Layout, shorten_path, visible, wrap, wrap_all

SGR = re.compile(r"\x1b\[[0-9;]*m")
PROSE = ("S4 differs from server: 17 here, 18 on server (drift: the tunnels will disagree) "
         "and a word longer than any line: " + "x" * 90)


@pytest.mark.parametrize("width", [20, 41, 80])
def test_wrap_keeps_every_character_within_the_width(width: int) -> None:
    lines = wrap(PROSE, width, "   ", "       ")
    assert all(len(line) <= width for line in lines)
    assert lines[0].startswith("   S4") and all(line.startswith("       ") for line in lines[1:])
    assert "".join("".join(lines).split()) == "".join(PROSE.split())


def test_wrap_all_leaves_short_lines_and_indents_continuations() -> None:
    assert wrap_all(["short", "   " + PROSE], 40)[0] == "short"
    wrapped = wrap_all(["   " + PROSE], 40)
    assert wrapped[0].startswith("   S4") and wrapped[1].startswith("       ")


@pytest.mark.parametrize(("path", "width", "shown"), [
    ("fixtures/demo/nodes/partner-tbilisi/etc/amnezia/amneziawg/awg0.conf:13", 30,
     ".../amneziawg/awg0.conf:13"),
    ("fixtures/demo/nodes/partner-tbilisi/etc/amnezia/amneziawg/awg0.conf:13", 200,
     "fixtures/demo/nodes/partner-tbilisi/etc/amnezia/amneziawg/awg0.conf:13"),
    ("a/" + "n" * 40 + ".conf:7", 20, ".../" + "n" * 40 + ".conf:7"),  # the name is kept
], ids=["shortened", "fits", "name-longer-than-width"])
def test_paths_are_shortened_from_the_left(path: str, width: int, shown: str) -> None:
    assert shorten_path(path, width) == shown


def test_excerpt_keeps_the_differing_character_and_counts_the_rest() -> None:
    here = "a" * 1000 + "X" + "b" * 999
    there = "a" * 1000 + "Y" + "b" * 999
    first, last = excerpt.window(here, there, 48)
    assert first < 1000 < last and last - first == 48
    shown = excerpt.around(here, there, 48)
    assert shown == f"({first:,} chars before)...{here[first:last]}...({2000 - last:,} chars after)"
    assert excerpt.around("short", "other") == "short"


def test_excerpt_of_a_long_difference_shows_its_start() -> None:
    first, last = excerpt.window("s" * 10 + "x" * 500, "s" * 10 + "y" * 500, 40)
    assert first <= 10 < last and last - first == 40


CELLS = [["CRITICAL", "S4", "must-match-drift", PROSE,
          "fixtures/demo/nodes/partner-tbilisi/etc/amnezia/amneziawg/awg0.conf:13"],
         ["WARNING", "I1", "side-local-drift", "<b 0x" + "ab" * 200 + ">", "x.conf:18"]]
COLUMNS = [Column("severity", Kind.NAME, coloured=True), Column("param", Kind.NAME),
           Column("rule", Kind.VALUE, under=True), Column("finding", Kind.VALUE),
           Column("where", Kind.PATH, under=True)]


@pytest.mark.parametrize("width", [40, 80, 100, 120, 200])
def test_grid_fits_the_width_and_cuts_no_name(width: int) -> None:
    text = grid(CELLS, COLUMNS, Layout(width, colour=True))
    lines = text.splitlines()
    assert all(visible(line) <= width for line in lines), text
    plain = SGR.sub("", text)
    for name in ("CRITICAL", "WARNING", "S4", "I1", "must-match-drift", "side-local-drift"):
        assert re.search(rf"(^|  ){name}(  |$)", plain, re.M), name
    assert re.search(r"(awg0\.conf|f):13$", plain, re.M) and "x.conf:18" in plain  # lines whole


@pytest.mark.parametrize("width", [50, 56, 64, 72])
def test_a_narrow_grid_keeps_each_file_name_and_line_whole(width: int) -> None:
    """Names that fit in half the width stay whole, and the path column is
    at least as wide as ``.../awg0.conf:13``: a line number is never split
    from its file onto the next line."""
    # A rule id longer than half the width wraps; it does not take the room
    # a path needs.
    cells = [*CELLS, ["ERROR", "relay RELAY_BIND", "compose-listener-mesh-bound", PROSE,
                      "fixtures/demo/nodes/partner-tbilisi/opt/partner-edge/compose.yaml:37"]]
    text = grid(cells, COLUMNS, Layout(width))
    assert all(len(line) <= width for line in text.splitlines()), text
    assert re.search(r"(^|  )\.\.\./\S*awg0\.conf:13$", text, re.M), text
    assert re.search(r"(^|  )\.\.\./\S*compose\.yaml:37$", text, re.M), text
    assert re.search(r"(^|  )relay RELAY_BIND(  |$)", text, re.M), text
    assert re.search(r"(^|  )x\.conf:18$", text, re.M), text
    assert re.search(r"(^|  )must-match-drift(  |$)", text, re.M), text


@pytest.mark.parametrize("width", [40, 44, 48])
def test_a_grid_too_wide_for_the_terminal_still_draws_no_line_too_long(width: int) -> None:
    """Below what the table needs, every column gives way (names wrap at
    their dashes) rather than a line being wrapped a second time."""
    cells = [*CELLS, ["WARNING", "S4", "canonical-spelling",
                      "line 12 is not canonical (key spelled 's4'); write 'S4 = 18'",
                      "fixtures/demo/nodes/partner-almaty/etc/amnezia/amneziawg/awg0.conf:12"]]
    text = grid(cells, COLUMNS, Layout(width))
    assert all(len(line) <= width for line in text.splitlines()), text


@pytest.mark.parametrize("width", [40, 80])
def test_grid_wraps_a_value_at_any_character_and_loses_none(width: int) -> None:
    value = "<b 0x" + "ab" * 200 + " >"
    text = grid([["I1", value]], [Column("param", Kind.NAME), Column("value", Kind.VALUE)],
                Layout(width))
    lines = text.splitlines()[2:]
    assert all(len(line) <= width for line in lines)
    assert "".join(line[len("param  "):] for line in lines) == value.rstrip(" >") + " >"


@pytest.mark.parametrize("width", [16, 22, 30, 40])
def test_a_change_wraps_before_its_arrow_and_never_inside_it(width: int) -> None:
    """``old -> new`` (plan, diff) is cut before the arrow, so a line never
    ends in a stray ``-`` with a ``>`` opening the next like a quote."""
    change = "H3: 1766607858-1766607868 -> 341985917-510812429"
    text = grid([["3", change]], [Column("step", Kind.NAME), Column("changes", Kind.VALUE)],
                Layout(width + len("step  ")))
    cells = [line[len("step  "):].rstrip() for line in text.splitlines()[2:]]
    assert "".join(cells).replace(" ", "") == change.replace(" ", ""), text  # nothing lost
    assert sum(cell.count("->") for cell in cells) == 1, text  # the arrow whole
    assert not any(cell.endswith("-") and following.startswith(">")
                   for cell, following in itertools.pairwise(cells)), text


def test_grid_keeps_its_columns_side_by_side_when_it_fits() -> None:
    text = grid([["ERROR", "S4", "r", "short", "a.conf:1"]], COLUMNS, Layout(100))
    assert text.splitlines() == ["severity  param  rule  finding  where",
                                 "--------  -----  ----  -------  --------",
                                 "ERROR     S4     r     short    a.conf:1"]


def test_grid_puts_under_columns_below_when_it_does_not_fit() -> None:
    text = grid(CELLS, COLUMNS, Layout(80))
    assert text.splitlines()[0].split() == ["severity", "param", "/", "rule", "finding", "/",
                                            "where"]


def test_a_hostile_name_longer_than_half_the_width_wraps_whole() -> None:
    name = "K" * 70
    text = grid([[name, "v"]], [Column("key", Kind.NAME), Column("value", Kind.VALUE)],
                Layout(60))
    assert all(len(line) <= 60 for line in text.splitlines())
    assert "".join(line.split()[0] for line in text.splitlines()[2:]) == name


def test_colour_marks_only_the_styled_word_and_takes_no_column() -> None:
    on, off = Layout(80, colour=True), Layout(80)
    assert paint_word("== node: FAIL ==", off) == "== node: FAIL =="
    coloured = paint_word("== node: FAIL ==", on)
    assert coloured == f"== node: {STYLES['FAIL']}FAIL\x1b[0m =="
    assert visible(coloured) == len("== node: FAIL ==")
    assert paint_word("critical", on, any_case=True).startswith(STYLES["CRITICAL"])
    assert paint_word("critical", on) == "critical"  # prose keeps its words
    assert paint_word("DRIFT", on, any_case=True).startswith(STYLES["DRIFT"])
    # diff's keys and addresses that differ by design are not a verdict
    assert paint_word("differs (per node)", on, any_case=True) == "differs (per node)"


# --- how the CLI picks width and colour -------------------------------------------


def test_screen_width_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "90")
    assert Screen(120).layout().width == 120  # --width first
    assert Screen().layout().width == 90  # then COLUMNS
    monkeypatch.delenv("COLUMNS")
    assert Screen().layout().width == 100  # no terminal (pytest captures stdout)
    assert Screen(10).layout().width == 40  # never narrower than names need


@pytest.mark.parametrize(("choice", "no_color", "target", "coloured"), [
    ("always", "", None, True),
    ("always", "1", None, True),  # an explicit choice wins over NO_COLOR
    ("always", "", Path("report.txt"), False),  # files are plain text
    ("never", "", None, False),
    ("auto", "", None, False),  # stdout is not a terminal here
])
def test_screen_colour_choice(monkeypatch: pytest.MonkeyPatch, choice: str, no_color: str,
                              target: Path | None, coloured: bool) -> None:
    monkeypatch.setenv("NO_COLOR", no_color)
    assert Screen(None, choice).layout(target).colour is coloured


def _on_a_terminal(args: list[str], env: dict[str, str]) -> bytes:
    """awgcheck's stdout when it is a real terminal (a pty)."""
    leader, follower = pty.openpty()
    done = subprocess.run([sys.executable, "-m", "awgcheck", *args], stdout=follower,
                          stderr=subprocess.DEVNULL, env={**os.environ, **env}, timeout=60,
                          check=False, cwd=paths.ROOT)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child side is closed and drained
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert done.returncode == 1
    return out


DEMO = ["check", "-i", "fixtures/demo/fleet.yaml"]


def test_a_terminal_gets_colour_unless_no_color_says_otherwise(tmp_path: Path) -> None:
    plain_term = {"TERM": "xterm", "NO_COLOR": "", "COLUMNS": "80"}
    assert b"\x1b[1;31mCRITICAL\x1b[0m" in _on_a_terminal(DEMO, plain_term)
    assert b"\x1b" not in _on_a_terminal(DEMO, {**plain_term, "NO_COLOR": "1"})
    assert b"\x1b" not in _on_a_terminal([*DEMO, "--color", "never"], plain_term)
    assert b"\x1b" not in _on_a_terminal(DEMO, {**plain_term, "TERM": "dumb"})
    report = tmp_path / "report.txt"
    _on_a_terminal([*DEMO, "--color", "always", "--output", str(report)], plain_term)
    assert "\x1b" not in report.read_text() and "CRITICAL" in report.read_text()


def test_colour_never_lets_a_nodes_escape_through(tmp_path: Path) -> None:
    fleet = tmp_path / "demo"
    shutil.copytree(paths.DEMO, fleet)
    conf = fleet / "nodes" / "partner-tbilisi" / "etc" / "amnezia" / "amneziawg" / "awg0.conf"
    conf.write_bytes(conf.read_bytes().replace(b"S4 = 17", b"S4 = 17\x1b[32mOK\x1b]52;c;aGk=\x07"))
    done = subprocess.run([sys.executable, "-m", "awgcheck", "check", "-i",
                           str(fleet / "fleet.yaml"), "--color", "always", "--width", "80"],
                          capture_output=True, check=False, timeout=60)
    out = done.stdout.decode()
    assert "\\x1b[32mOK\\x1b]52;c;aGk=\\x07" in "".join(out.split())  # shown, escaped
    ours = set(STYLES.values()) | {"\x1b[0m"}
    assert {m.group(0) for m in SGR.finditer(out)} <= ours
    assert out.count("\x1b") == len(SGR.findall(out))  # no other escape at all
