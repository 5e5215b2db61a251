"""Triage's Markdown (for an incident channel) parsed back with a real
CommonMark parser: a node whose name holds what Markdown would act on is
shown as written, the table keeps its five columns and the fix block holds
exactly the fix lines. The escaping itself: tests/report/test_markdown_escaping.py."""

from __future__ import annotations

from markdown_it import MarkdownIt
from memory_node import FakeCollector

from awgcheck import inventory
from awgcheck.triage.render import render_markdown
from awgcheck.triage.run import SourceRead, TriageOptions, triage

PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
NAME = "<t>|*edge*_1 #2 [x](y) ```"


def test_triage_markdown_shows_a_hostile_node_name_as_written() -> None:
    collector = FakeCollector(
        {"/etc/amnezia/amneziawg/awg0.conf": b"[Interface]\nS4 = 17\n"},
        {("awg", "showconf", "awg0"): [b"[Interface]\nS4 = 18\n"]})
    node = inventory.Node(name=NAME, host="edge.example")
    report = triage(node, SourceRead(None, None), TriageOptions(),
                    factory=lambda node, options: collector)
    tokens = PARSER.parse(render_markdown(report))
    assert not {t.type for t in tokens} & {"html_block", "code_block"}
    inline = [t for t in tokens if t.type == "inline"]
    heading = "".join(c.content for c in inline[0].children or [])
    assert heading.replace("\u200d", "") == f"awgcheck triage: {NAME} (awg0) against no source"
    assert [c.type for c in inline[0].children or []] == ["text"]  # no link, emphasis or tag
    rows = [t for t in tokens if t.type == "tr_open"]
    cells = [t for t in tokens if t.type in ("th_open", "td_open")]
    assert len(cells) == 5 * len(rows)
    [block] = [t for t in tokens if t.type == "fence"]  # the name's ``` cannot close it
    fix = report.verdict.fix if report.verdict is not None else None
    assert fix is not None and fix.command is not None and fix.note is not None
    assert block.content.splitlines() == [
        "1. /etc/amnezia/amneziawg/awg0.conf: make the file say what should run",
        f"2. on {NAME}: {fix.command}", fix.note]
