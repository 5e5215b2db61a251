"""The output examples in the README and docs/, and the commands that print them.

An example is a fenced block right below a marker naming the command that
prints it, run from the repository root::

    <!-- output: awgcheck check -i fixtures/demo/fleet.yaml -->

The block is then exactly what the command prints (stdout, then stderr)
when its output is not a terminal: 100 columns, no colour; times,
durations and the rule catalog's digest may differ. A block may start
with the command itself as a prompt line (``$ awgcheck ...``). An
``output excerpt`` marker shows part of the output: each line of the block
must appear in order, with ``...`` inside a line standing for any text and a
line of only ``...`` for any number of lines. A marker may start with
``cd DIR &&`` to run the command in DIR (a folder of the repository).

``python tests/doc_examples.py --update`` rewrites every exact example with
what its command prints now, and prints the output of each excerpt that no
longer matches for a person to edit.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"^<!-- output( excerpt)?: (.+?) -->$")
FENCE = re.compile(r"^(```|~~~)")
# What differs between two runs of one command: when it ran, how long it
# took, and the digest of a rule catalog that another change extended.
VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"), "TIME"),
    (re.compile(r"\(\d+\.\d+ s\)"), "(N s)"),
    (re.compile(r"sha256:[0-9a-f]{12,64}"), "sha256:DIGEST"),
]


@dataclass(frozen=True)
class Example:
    document: Path
    line: int  # of the marker, 1-based
    command: str
    excerpt: bool
    body: tuple[str, ...]  # the block's lines, without the fences
    first: int  # index of the block's first line in the document's lines

    def __str__(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"

    @property
    def folder(self) -> Path:
        prefix = re.match(r"cd (\S+) && ", self.command)
        return ROOT / prefix.group(1) if prefix else ROOT

    @property
    def shown(self) -> str:
        """The command as a reader would type it (without the ``cd``)."""
        return re.sub(r"^cd \S+ && ", "", self.command)

    @property
    def expected(self) -> list[str]:
        lines = list(self.body)
        if lines and lines[0].startswith("$ "):
            lines.pop(0)
        return lines


def examples(document: Path) -> Iterator[Example]:
    lines = document.read_text(encoding="utf-8").split("\n")
    for number, text in enumerate(lines):
        marker = MARKER.match(text)
        if not marker:
            continue
        fence = FENCE.match(lines[number + 1]) if number + 1 < len(lines) else None
        if not fence:
            raise AssertionError(f"{document.relative_to(ROOT)}:{number + 1}: an output marker "
                                 "must be followed by a fenced block")
        end = next(i for i in range(number + 2, len(lines)) if lines[i].startswith(fence.group(1)))
        yield Example(document, number + 1, marker.group(2), bool(marker.group(1)),
                      tuple(lines[number + 2:end]), number + 2)


def every_example() -> list[Example]:
    return [e for doc in DOCUMENTS for e in examples(doc)]


def run(example: Example) -> str:
    """What the command prints when its output is a pipe: the width and
    colour a reader gets from ``awgcheck ... | less`` or a CI log."""
    argv = shlex.split(example.shown)
    if argv[0] != "awgcheck":
        raise AssertionError(f"{example}: an output example runs awgcheck, not {argv[0]}")
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "LINES", "FORCE_COLOR"}}
    env["NO_COLOR"] = "1"
    done = subprocess.run([sys.executable, "-m", "awgcheck", *argv[1:]], cwd=example.folder,
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    out = done.stdout + done.stderr
    return "\n".join(line.rstrip() for line in out.rstrip("\n").split("\n"))


def stable(text: str) -> str:
    for pattern, stand_in in VOLATILE:
        text = pattern.sub(stand_in, text)
    return text


def matches(example: Example, output: str) -> bool:
    output = stable(output)
    expected = [stable(line) for line in example.expected]
    if not example.excerpt:
        return "\n".join(line.rstrip() for line in expected) == output
    parts = []
    for line in expected:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            pieces = (re.escape(piece) for piece in line.rstrip().split("..."))
            parts.append(r".*?".join(pieces) + r"[^\n]*\n")
    return re.search("^" + "".join(parts), output + "\n", re.M) is not None


def update() -> int:
    stale = 0
    for document in DOCUMENTS:
        lines = document.read_text(encoding="utf-8").split("\n")
        for example in reversed(list(examples(document))):
            output = run(example)
            if matches(example, output):
                continue
            if example.excerpt:
                stale += 1
                print(f"--- {example}: excerpt no longer matches; the output is:\n{output}\n")
                continue
            prompt = [example.body[0]] if example.body and example.body[0].startswith("$ ") else []
            lines[example.first:example.first + len(example.body)] = prompt + output.split("\n")
            print(f"updated {example}")
        document.write_text("\n".join(lines), encoding="utf-8")
    return 1 if stale else 0


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/doc_examples.py --update")
    sys.exit(update())
