"""Every command that prints a table fits the width, and cuts nothing that matters.

Each scenario of :mod:`width_scenarios` (the demo fleet, a hostile fleet
with a 90-character node name, a conf 14 folders deep and a 2,000-character
I1 that differs in one byte, a gate repository, the rule catalog, the
three ``inspect`` commands) runs through the real CLI at ``COLUMNS=80``,
``COLUMNS=120`` and ``--width 80`` (with ``COLUMNS`` saying otherwise).
No line may be wider; the param names, line numbers and the differing
byte must still be on screen.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import width_scenarios as ws
from click.testing import CliRunner

from awgcheck.cli.main import main
from awgcheck.report.layout import visible

SCENARIOS = ws.scenarios(Path("/scenarios"))  # names and argv shapes; paths rebuilt below
NAMES = [name for name, _, _ in SCENARIOS]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("widths")
    ws.build(root)
    return root


def run(folder: Path, name: str, extra: list[str], columns: str,
        monkeypatch: pytest.MonkeyPatch) -> str:
    (argv, cwd), = [(a, c) for n, a, c in ws.scenarios(folder) if n == name]
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(main, [*argv, *extra], env={"COLUMNS": columns})
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 1), result.output
    assert result.stdout, result.output
    return result.stdout


WIDTHS = [(80, "80", []), (120, "120", []), (80, "200", ["--width", "80"]),
          (80, "80", ["--color", "always"])]


@pytest.mark.parametrize(("width", "columns", "extra"), WIDTHS,
                         ids=["COLUMNS=80", "COLUMNS=120", "--width-80", "colour-80"])
@pytest.mark.parametrize("name", NAMES)
def test_no_line_is_wider_than_the_width(folder: Path, monkeypatch: pytest.MonkeyPatch,
                                         name: str, width: int, columns: str,
                                         extra: list[str]) -> None:
    out = run(folder, name, extra, columns, monkeypatch)
    wide = [line for line in out.splitlines() if visible(line) > width]
    assert not wide, f"{len(wide)} lines wider than {width}:\n" + "\n".join(wide[:5])
    assert ("\x1b[" in out) == ("--color" in extra and name not in ("inspect-conf",
                                                                   "inspect-compose",
                                                                   "inspect-ssh",
                                                                   "rules-show",
                                                                   "plan-table"))


def test_without_a_terminal_the_width_is_100(folder: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS")
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(main, ["check", "-i", str(folder / "hostile" / "fleet.yaml")])
    widths = [len(line) for line in result.stdout.splitlines()]
    assert max(widths) == 100  # wrapped to it, and using it


# --- nothing that matters is cut ----------------------------------------------------


def tables(text: str) -> Iterator[list[list[str]]]:
    """Each table in ``text`` as its columns, each column the text of its
    rows' lines (found from the ``----  ----`` line under the headers). A
    table ends at a blank line, or at an indented line of prose (a symptom)."""
    lines = text.splitlines()
    for at, line in enumerate(lines):
        if not re.fullmatch(r"-+(  -+)*", line):
            continue
        spans = [m.span() for m in re.finditer(r"-+", line)]
        columns: list[list[str]] = [[] for _ in spans]
        for row in lines[at + 1:]:
            first = row[:spans[0][1]]
            if not row.strip() or (first.strip() and first[0] == " "):
                break
            for n, (start, _) in enumerate(spans):
                stop = spans[n + 1][0] if n + 1 < len(spans) else len(row)
                columns[n].append(row[start:stop].rstrip())
        yield columns


def joined(column: list[str]) -> str:
    """A column's text with the wrapping undone (spaces dropped)."""
    return "".join("".join(column).split())


def test_check_keeps_params_line_numbers_and_the_differing_byte(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(folder, "check-hostile", [], "80", monkeypatch)
    (_severity, param_rule, finding), = list(tables(out))
    assert [cell.strip() for cell in param_rule if cell.strip()] == [
        "S4", "must-match-drift", "I1", "side-local-drift"]
    text = joined(finding)
    assert "/awg0.conf:13" in text and "/awg0.conf:18" in text  # the line numbers, whole
    # Both I1s, around the byte where they differ: the reader sees e against d.
    here = ws.NODE_I1[ws.DIFFERING_AT - 4:ws.DIFFERING_AT + 5]
    there = ws.SERVER_I1[ws.DIFFERING_AT - 4:ws.DIFFERING_AT + 5]
    assert here != there and here in text and there in text
    assert "charsbefore)" in text and "charsafter)" in text  # and what was left out is said
    assert ws.LONG_NODE in "".join(line.strip() for line in out.splitlines()[:6])


def test_diff_keeps_the_differing_byte_and_its_hex(folder: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(folder, "diff-hostile", ["--only-differences"], "80", monkeypatch)
    (param, left, right, _verdict), = list(tables(out))
    assert [p.strip() for p in param if p.strip()] == ["S4", "I1"]
    left_text, right_text = joined(left), joined(right)
    assert "18(3138)" in left_text and "17(3137)" in right_text
    assert ws.SERVER_I1[ws.DIFFERING_AT - 4:ws.DIFFERING_AT + 5] in left_text
    assert ws.NODE_I1[ws.DIFFERING_AT - 4:ws.DIFFERING_AT + 5] in right_text
    # The hex is of the bytes shown, so the differing byte is in it: d is 64, e 65.
    assert "626462" in left_text and "626562" in right_text


def test_diff_names_both_sides_whole(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(folder, "diff-hostile", [], "80", monkeypatch)
    named = "".join(line.removeprefix("left:").removeprefix("right:").strip()
                    for line in out.split("\n\n")[0].splitlines())
    assert ws.LONG_NODE in named and named.count(ws.DEEP) == 2


def test_rules_list_keeps_every_rule_id_whole(folder: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(folder, "rules-list", [], "80", monkeypatch)
    ids = {line.split()[0] for line in out.splitlines()[2:] if line[:1].strip()}
    assert {"must-match-drift", "compose-listener-mesh-bound", "waiver-expired"} <= ids


def test_inspect_conf_keeps_line_numbers_and_keys(folder: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(folder, "inspect-conf", [], "80", monkeypatch)
    (line, key, raw, _effective, _read_by), = list(tables(out))
    keys = [k.strip() for k in key if k.strip()]
    assert "I1" in keys and "HeaderProtectionKey" in keys and "S4" in keys
    numbers = [n.strip() for n in line if n.strip()]
    assert numbers == sorted(numbers, key=int) and "18" in numbers
    # A value wraps, whole up to the cell limit, which says what it left out.
    start = [k.strip() for k in key].index("I1")
    end = next(n for n in range(start + 1, len(line)) if line[n].strip())
    i1 = joined(raw[start:end])
    assert i1.startswith("".join(ws.NODE_I1[:500].split()))
    assert i1.endswith(f"...({len(ws.NODE_I1) - 512:,}morecharacters)")


def test_no_terminal_means_no_colour(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "\x1b" not in run(folder, "check-demo", [], "100", monkeypatch)
    assert os.environ.get("NO_COLOR") is None
