"""Markdown escaping, checked with a real parser: text the check, gate and
triage Markdown writers put anywhere in a line renders as written.

markdown-it-py (CommonMark, with GFM tables and strikethrough enabled) parses
each rendering back; the text content must equal the value (less the
zero-width joiners that break @mentions and #refs), and no construct the
value could smuggle in (emphasis, links, HTML, headings, lists, quotes,
code blocks) may appear.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from awgcheck.model import (
    BaseCommit,
    Finding,
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

# GitHub's flavour as far as a CommonMark parser has it: raw HTML on, tables, ~~.
PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
JOINER = "\u200d"

HOSTILE = [
    "<t>", "<b 0x01><r 16><t>", "<script>alert(1)</script>", "<!-- hidden -->",
    "a|b", "| a | b |", "`x`", "``", "a ``` b", "*bold* _it_ __x__ **y**", "a*b*c",
    "~~gone~~ ~x~", "$x$ and ${AWG_S4} $$y$$", "[a](http://e) ![i](x) [b][c]",
    "&amp; &#64; &copy", "# heading", "## closing ##", "- item", "+ item", "* item",
    "1. one", "2) two", "1.5", "> quote", "    four spaces", "trailing  ", " both ",
    "back\\slash\\", "\\*not emphasis\\*", "AWG_S4_PORT", "x_y_", "_x_", "snake_case_",
    "@org/team and #12", "---", "***", "___", "=====", "line1\nline2", "a\\", "<http://x>",
    "mail@example.org", "host:2222:/etc/amnezia/amneziawg/awg0.conf:13",
]
CONTEXTS = {
    "paragraph": "{}", "list": "- {}", "quote": "> {}", "heading": "### {}",
    "strong": "**{}**", "emphasis": "_Note: {}_",
}
PREFIX = {"emphasis": "Note: "}
# Block tokens each context itself makes; anything else came from the value.
BLOCKS = {
    "paragraph": ["paragraph"], "list": ["bullet_list", "list_item", "paragraph"],
    "quote": ["blockquote", "paragraph"], "heading": ["heading"],
    "strong": ["paragraph"], "emphasis": ["paragraph"],
}
WRAPPING = {"strong": "strong", "emphasis": "em"}


def _text(children: Sequence[Token], allowed_wrap: str | None = None) -> str:
    """The text a reader sees; fails on any inline construct but <br>."""
    out = []
    for token in children:
        if token.type in ("text", "code_inline"):
            out.append(token.content)
        elif token.type == "html_inline" and token.content == "<br>":
            out.append("\n")
        elif allowed_wrap and token.type in (f"{allowed_wrap}_open", f"{allowed_wrap}_close"):
            continue
        else:
            raise AssertionError(f"the value made a {token.type}: {token.content!r}")
    return "".join(out).replace(JOINER, "")


def _blocks(tokens: Sequence[Token]) -> list[str]:
    return list(dict.fromkeys(t.type.removesuffix("_open") for t in tokens
                              if t.type != "inline" and not t.type.endswith("_close")))


@pytest.mark.parametrize("context", list(CONTEXTS))
@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_cell_renders_as_written(value: str, context: str) -> None:
    tokens = PARSER.parse(CONTEXTS[context].format(markdown.cell(value)))
    assert _blocks(tokens) == BLOCKS[context]
    [inline] = [t for t in tokens if t.type == "inline"]
    assert inline.children is not None
    assert _text(inline.children, WRAPPING.get(context)) == PREFIX.get(context, "") + value


@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_code_renders_as_written(value: str) -> None:
    for line, in_table in ((f"{markdown.code(value)} after", False),
                           (f"| h |\n|---|\n| {markdown.code(value, in_table=True)} |", True)):
        tokens = PARSER.parse(line)
        [inline] = [t for t in tokens if t.type == "inline" and t.content != "h"]
        assert inline.children is not None
        shown = _text(inline.children)
        assert shown == (value if in_table else value + " after"), line


@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_table_cell_keeps_the_row_whole(value: str) -> None:
    rows = markdown.table(["a", "b", "c"], [[markdown.cell(value), markdown.code(
        value, in_table=True), markdown.cell("end")]])
    tokens = PARSER.parse("\n".join(rows))
    cells = [t for t in tokens if t.type == "inline"]
    assert len(cells) == 6, rows  # three headers, three cells: no pipe split the row
    assert [_text(c.children or []) for c in cells[3:]] == [value, value, "end"]


def test_markdown_fenced_block_cannot_be_closed_by_its_lines() -> None:
    lines = ["1. step", "```", "````sh", "rm -rf <t> | *x*"]
    tokens = PARSER.parse("\n".join([*markdown.fenced(lines), "after"]))
    [block] = [t for t in tokens if t.type == "fence"]
    assert block.content == "\n".join(lines) + "\n"
    assert [t.content for t in tokens if t.type == "inline"] == ["after"]


def _cells_of(text: str) -> list[list[str]]:
    """Each body row of the report's tables, as a reader sees its cells."""
    tokens = PARSER.parse(text)
    rows: list[list[str]] = []
    inside = False
    for token in tokens:
        if token.type == "tbody_open":
            inside = True
        elif token.type == "tbody_close":
            inside = False
        elif inside and token.type == "tr_open":
            rows.append([])
        elif inside and token.type == "inline":
            rows[-1].append(_text(token.children or []))
    return rows


def test_markdown_report_tables_show_hostile_values_as_written() -> None:
    """The gate's change and findings tables, rendered by the report writer."""
    node, value, message = "deploy/<t>|x.conf", "<b 0x01>|`*x*`", "*S4* _is_ <t> #1 @me"
    finding = Finding("must-match-drift", node, Status.FAIL, Severity.CRITICAL, message,
                      "S4", value, "1. ~~18~~", Location(node, 4))
    change = ParamChange("I1", Role.MUST_MATCH, value, "<t>", "- dropped | all")
    summary = GateSummary("server/awg0.conf", BaseCommit("origin/main", "0" * 40), (change,),
                          notes=("consumers: confs: 'a_*' matches no file",))
    report = Report(None, "server/awg0.conf", (NodeResult(node, Status.FAIL),), (finding,),
                    gate=summary)
    text = markdown.render(report)
    assert _cells_of(text) == [
        ["I1", "must-match", value, "<t>", "- dropped | all"],
        [node, "must-match-drift", "critical", "S4", value, "1. ~~18~~", f"{node}:4", message],
    ]
    tokens = PARSER.parse(text)
    assert not {t.type for t in tokens} & {"html_block", "code_block", "fence"}
    notes = [_text(t.children or [], "em") for t in tokens if t.type == "inline"
             and t.content.startswith("_Note")]
    assert notes == ["Note: consumers: confs: 'a_*' matches no file"]
