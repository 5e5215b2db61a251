"""No document cites a document the repository does not ship.

Every relative Markdown link in the README and docs/ resolves to a shipped
file (and, with ``#anchor``, to one of its headings, slugged as GitHub
does), and every ``docs/NAME.md`` or ``NAME.md`` a doc, a rule file or the
code names (help texts point readers at them) is shipped too.
"""

from __future__ import annotations

import re
from pathlib import Path

import paths
import pytest

ROOT = paths.ROOT
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
# What users read: docs, code (help texts, messages) and the shipped rules.
CITING = sorted([*DOCS, *(ROOT / "awgcheck").rglob("*.py"), *(ROOT / "rules").glob("*.yaml")])
LINK = re.compile(r"\]\(([^)\s]+)\)")
CITED = re.compile(r"(?<![\w./-])((?:docs/)?[A-Za-z][\w-]*\.md)\b")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
# Files the docs name as something a user writes, not as a document to read.
WRITTEN_BY_USERS = {"awgcheck.md"}


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation other than
    ``-`` and ``_`` dropped, spaces as hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    text = FENCE.sub("", doc.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, re.M)}


def links(doc: Path) -> list[str]:
    text = FENCE.sub("", doc.read_text(encoding="utf-8"))
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_relative_link_resolves(doc: Path) -> None:
    broken = []
    for target in links(doc):
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.is_file():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(ROOT)}")
    assert not broken, f"{doc.relative_to(ROOT)}: " + "; ".join(broken)


def test_every_named_document_is_shipped() -> None:
    shipped = {p.relative_to(ROOT).as_posix() for p in DOCS}
    missing = []
    for file in CITING:
        for name in CITED.findall(file.read_text(encoding="utf-8")):
            if name in WRITTEN_BY_USERS:
                continue
            candidates = {name, f"docs/{name}"}
            if not candidates & shipped:
                missing.append(f"{file.relative_to(ROOT)}: {name}")
    assert not missing, "documents named but not shipped: " + ", ".join(sorted(set(missing)))


def test_no_document_cites_the_development_notes() -> None:
    """The domain notes the project was written from are not shipped; what a
    reader needs from them is in docs/ (rules.md, triage.md, compose.md)."""
    citing = [f.relative_to(ROOT).as_posix() for f in [*CITING, *(ROOT / "tests").rglob("*.py")]
              if f != Path(__file__) and "AWG-FACTS" in f.read_text(encoding="utf-8")]
    assert not citing
