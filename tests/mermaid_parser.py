"""The real Mermaid parser as a test oracle: the ``mermaid`` npm package
(under jsdom, which it needs even to parse) run by node on the diagrams.

tests/run.sh installs it (``npm ci`` in tests/mermaid, pinned by its
package-lock.json); when node or the package is missing a test fails
saying so, it is never skipped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from markdown_it import MarkdownIt

HERE = Path(__file__).resolve().parent / "mermaid"
SCRIPT = HERE / "parse.mjs"
INSTALL = "npm ci --prefix tests/mermaid (tests/run.sh does it)"


def parse(text: str) -> str:
    """The diagram type the real parser reads ``text`` as (``flowchart-v2``
    for ``graph LR``); raises AssertionError with the parser's message when
    it rejects the text."""
    [kind] = parse_all([text])
    return kind


def parse_all(texts: list[str]) -> list[str]:
    """:func:`parse` for each of ``texts``, in one run of the parser
    (starting it costs a second); the AssertionError names the first text
    it rejects."""
    node = shutil.which("node")
    assert node is not None, f"node is not installed: apt-get install nodejs npm, then {INSTALL}"
    assert (HERE / "node_modules" / "mermaid").is_dir(), (
        f"the mermaid parser is not installed: {INSTALL}")
    proc = subprocess.run([node, str(SCRIPT)], input=json.dumps(texts), capture_output=True,
                          text=True, cwd=HERE, timeout=120)
    lines = proc.stdout.strip().splitlines()
    assert lines, f"the mermaid parser printed nothing: {proc.stderr[-2000:]}"
    answers = json.loads(lines[-1])
    assert len(answers) == len(texts), answers
    for text, answer in zip(texts, answers, strict=True):
        assert answer["ok"], f"mermaid rejects the diagram: {answer['error']}\n{text}"
    return [str(answer["type"]) for answer in answers]


def fences(markdown: str) -> list[str]:
    """The bodies of the ```mermaid fenced blocks of ``markdown``, as a
    CommonMark parser reads them."""
    return [token.content for token in MarkdownIt("commonmark").parse(markdown)
            if token.type == "fence" and token.info.strip() == "mermaid"]
