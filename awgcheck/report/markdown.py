"""Markdown: a pull-request comment or a CI step summary.

A verdict line first, then (for the CI gate) what the change does to the
params and to the fleet during rollout, then the failed findings as a
table, the waived ones as another, then the nodes that could not be
checked, and last a line saying which awgcheck ran, when and on what.
Table cells are escaped so a value can never break the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from awgcheck.model import TEMPLATE_PLACEHOLDERS, Finding, GateSummary, Report, Status
from awgcheck.report.runinfo import footer
from awgcheck.report.source import consequence, reason
from awgcheck.report.verdict import verdict

# What a Markdown renderer (GitHub's) would act on anywhere in a line, each
# shown as written by a backslash escape (CommonMark's, for any ASCII
# punctuation): the backslash itself, code spans (`), emphasis (* and _),
# strikethrough (~), math ($, GitHub), links and images ([ ]), HTML tags and
# autolinks (<), table cells (|), headings and their closing #, entities
# (&name; &#64;). An underscore inside a word never formats, so it is left
# alone there (AWG_S4 stays readable).
_INLINE = re.compile(r"[\\`*_~$\[\]<|#]|&(?=[#A-Za-z])")
# What acts only at the start of a line: a list item (- + 1. 1)) or a
# block quote (>); escaped wherever the text starts, as it may start a line.
_LINE_START = re.compile(r"[-+>]|\d{1,9}[.)](?= |$)")
# Leading and trailing spaces are dropped by every renderer (and four would
# start a code block): written as character references, they stay.
_EDGE_SPACES = re.compile(r"^ +| +$")
# @mentions and #123 references are linked after rendering, from the text
# itself, so an escape would not stop them: a zero-width joiner does.
_REFERENCE = re.compile(r"(?<![\w&\\])(\\?[@#])(?=\w)")
_JOINER = "\u200d"


def _escaped(match: re.Match[str]) -> str:
    char, text, at = match.group(0), match.string, match.start()
    if char == "_" and 0 < at < len(text) - 1 and text[at - 1].isalnum() \
            and text[at + 1].isalnum():
        return char
    return "\\" + char


def cell(text: object) -> str:
    """Plain text for anywhere in a Markdown line (a table cell, a list
    item, a heading, a paragraph): the one escaping every Markdown writer
    uses (``check``, ``gate``, ``triage``). Whatever Markdown would
    interpret (tags, links, code spans, emphasis, pipes, list and quote
    markers, mentions, issue references) is shown as written, line breaks
    as <br>, empty as a dash. The text is already printable
    (:func:`awgcheck.text.printable`, applied to the report)."""
    if text is None or text == "":
        return "-"
    escaped = _INLINE.sub(_escaped, str(text))
    if (start := _LINE_START.match(escaped)) is not None:
        marker = start.group(0)  # "1." stays a number once its dot is escaped
        escaped = marker[:-1] + "\\" + marker[-1] + escaped[start.end():]
    escaped = _REFERENCE.sub(lambda m: m.group(1) + _JOINER, escaped)
    escaped = _EDGE_SPACES.sub(lambda m: "&#32;" * len(m.group(0)), escaped)
    return escaped.replace("\r\n", "<br>").replace("\n", "<br>").replace("\r", "<br>")


def code(text: object, *, in_table: bool = False) -> str:
    """Inline code for a value: the fence is longer than any run of
    backticks inside, so the value cannot close its own span. In a table
    cell (``in_table``) pipes are escaped, since GFM splits cells before it
    reads code spans (and drops the backslash); elsewhere a backslash would
    show. A value of spaces only, or with a line break (which would end a
    table row), is plain text: a code span cannot show either as written."""
    if text is None:
        return "-"
    value = str(text)
    if not value.strip(" ") or "\n" in value or "\r" in value:
        return cell(value)
    fence = "`" * (max((len(run) for run in re.findall("`+", value)), default=0) + 1)
    # A space on both sides is stripped again by the renderer; without it a
    # value that starts or ends with a backtick would merge with the fence.
    pad = " " if value[0] in "` " or value[-1] in "` " else ""
    if in_table:
        value = value.replace("|", "\\|")
    return fence + pad + value + pad + fence


def fenced(lines: Sequence[str]) -> list[str]:
    """A fenced code block of ``lines``, its fence longer than any run of
    backticks they hold, so no line can close it early."""
    longest = max((len(run) for line in lines for run in re.findall("`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, *lines, fence]


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _verdict(report: Report) -> str:
    """The table's verdict line, the word in bold."""
    said = verdict(report)
    return f"**{said.word}**: {cell(said.detail)}"


def _gate(summary: GateSummary) -> Iterator[str]:
    base = summary.base
    since = ""
    if base is not None:
        # A base named by its hash needs no second, shorter hash beside it.
        since = (f" since {code(base.commit[:12])}" if base.commit.startswith(base.ref)
                 else f" since {code(base.ref)} ({cell(base.commit[:12])})")
    yield f"### Parameter change{since}"
    yield ""
    if not summary.changes:
        yield f"No param of the source of truth ({code(summary.source)}) changed."
    else:
        yield f"Source of truth: {code(summary.source)}"
        yield ""
        rows = [[cell(c.param), cell(c.role.value), code(c.before, in_table=True),
                 code(c.after, in_table=True), cell(c.symptom)] for c in summary.changes]
        yield from table(["param", "class", "before", "after",
                          "until a node applies it"], rows)
    for warning in summary.warnings:
        yield ""
        yield f"> **Warning:** {cell(warning)}"
    if summary.impact is not None and summary.impact.message:
        yield ""
        yield f"> **Fleet impact:** {cell(summary.impact.message)}"
    for note in summary.notes:
        yield ""
        yield f"_Note: {cell(note)}_"
    yield ""


def _findings(findings: Sequence[Finding]) -> Iterator[str]:
    yield "### Findings"
    yield ""
    if not findings:
        yield "No failed findings."
        yield ""
        return
    rows = [[cell(f.node), cell(f.rule), cell(f.severity.value), cell(f.param),
             code(f.expected, in_table=True), code(f.actual, in_table=True),
             cell(f.location), cell(f.message)]
            for f in sorted(findings, key=lambda f: (-f.severity.rank, f.node, f.rule))]
    yield from table(["node", "rule", "severity", "param", "expected", "actual",
                      "location", "message"], rows)
    symptoms = dict.fromkeys(f"**{cell(f.param)}**: {cell(f.symptom)}"
                             for f in findings if f.symptom)
    if symptoms:
        yield ""
        yield "Symptoms:"
        yield from (f"- {s}" for s in symptoms)
    yield ""


def _mesh(diagram: Sequence[str]) -> Iterator[str]:
    # GitHub renders a ```mermaid block as the diagram; elsewhere it is
    # the diagram's text, which still reads.
    yield "### Mesh"
    yield ""
    block = fenced(diagram)
    yield block[0] + "mermaid"
    yield from block[1:]
    yield ""


def _source_failure(report: Report) -> Iterator[str]:
    said, then = reason(report), consequence(report)
    if said is None or then is None:
        return
    yield "### Source of truth could not be read"
    yield ""
    yield f"{cell(said)}"
    yield ""
    yield f"{cell(then[0].upper() + then[1:])}."
    yield ""


def _waived(findings: Sequence[Finding]) -> Iterator[str]:
    yield "### Waived"
    yield ""
    rows = [[cell(f.node), cell(f.rule), cell(f.param), cell(f.message),
             cell(f.waiver.reason), cell(f.waiver.owner), cell(f.waiver.expires.isoformat()),
             cell(f.waiver.location)]
            for f in findings if f.waiver is not None]
    yield from table(["node", "rule", "param", "message", "reason", "owner", "expires",
                      "waiver"], rows)
    yield ""


def render(report: Report) -> str:
    title = "awgcheck gate" if report.gate is not None else "awgcheck check"
    out = [f"## {title}", "", _verdict(report), ""]
    out.extend(_source_failure(report))
    if report.gate is not None:
        out.extend(_gate(report.gate))
    out.extend(_findings([f for f in report.findings if f.failed]))
    if report.mesh_diagram:
        out.extend(_mesh(report.mesh_diagram))
    if report.waived():
        out.extend(_waived(report.waived()))
    unchecked = [n for n in report.unchecked() if not report.is_failed_source(n)]
    if unchecked:
        out += ["### Could not check", ""]
        out += [f"- **{cell(n.name)}** ({cell(n.error_class)}): {cell(n.error)}"
                for n in unchecked]
        out.append("")
    templates = [f for f in report.findings if f.rule == TEMPLATE_PLACEHOLDERS]
    if templates:
        out += ["### Not compared: template placeholders", ""]
        out += [f"- {cell(f.node)}: {cell(f.message)}" for f in templates]
        out.append("")
    errors = [f for f in report.findings if f.status is Status.ERROR]
    if errors:
        out += ["### Rules that could not be evaluated", ""]
        out += [f"- {cell(f.node)}: {cell(f.message)}" for f in errors]
        out.append("")
    if report.run is not None:
        out += [cell(footer(report.run)), ""]
    return "\n".join(out)
