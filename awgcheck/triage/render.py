"""Triage output: a terminal screen, Markdown for an incident channel, JSON.

Each renderer takes a :class:`~awgcheck.triage.run.TriageReport` and returns
a ``str`` (registered in :data:`FORMATS`); the CLI prints it. Secrets
appear only as ``sha256:`` digests (the parsers never hand anything else
on), and their hex is never shown. Text is escaped as everywhere
(:func:`awgcheck.text.printable`): :data:`FORMATS` escapes the report, and
the renderers escape each :class:`ParamValue` themselves, after taking its
bytes for the hex.
"""

from __future__ import annotations

import json
from typing import Any

from awgcheck.collect.runtime import Missing
from awgcheck.diff import hex_of, shown
from awgcheck.model import ParamValue
from awgcheck.report.colour import paint_word
from awgcheck.report.grid import Column, Kind, grid
from awgcheck.report.layout import PLAIN, Layout, wrap_all
from awgcheck.report.markdown import cell, code, fenced
from awgcheck.report.registry import Formats, ForPeople
from awgcheck.text import printable
from awgcheck.triage.evidence import Evidence
from awgcheck.triage.fix import Fix
from awgcheck.triage.rows import SAME, Row
from awgcheck.triage.run import TriageReport
from awgcheck.triage.verdict import Verdict

SCHEMA = "awgcheck.triage/v1"


# --------------------------------------------------------------------------
# shared pieces


def _cell(value: ParamValue | None, other: ParamValue | None, effective: str | None,
          known: bool, hexed: bool) -> str:
    """A value as :func:`awgcheck.diff.shown` shows it: a long one (an I1 tag
    string) around where it differs from ``other``, its bytes in hex."""
    if not known:
        return "?"
    if value is None:
        return f"{effective} (absent)" if effective is not None else "(absent)"
    return shown(value, other, hexed)


def _source_runtime_column(report: TriageReport) -> bool:
    """Whether the source's own running interface is a column: only when
    it runs something else than its file somewhere (else the column would
    repeat the source's; the header says it was read)."""
    return any(r.source_stale for r in report.rows)


def _headers(report: TriageReport) -> list[str]:
    return ["param", "file", "runtime", "source",
            *(["source runtime"] if _source_runtime_column(report) else []), "verdict"]


def _row_cells(row: Row, source_runtime: bool) -> list[str]:
    hexed = row.verdict != SAME  # bytes only where something differs
    hub = [_cell(row.source_runtime, row.source, row.source_runtime_effective,
                 row.source_runtime_known, hexed)] if source_runtime else []
    return [row.param,
            _cell(row.file, row.source, row.file_effective, True, hexed),
            _cell(row.runtime, row.source or row.file, row.runtime_effective,
                  row.runtime_known, hexed),
            _cell(row.source, row.file or row.runtime, row.source_effective,
                  row.source_known, hexed),
            *hub,
            row.verdict + (f": {row.note}" if row.note else "")]


def _title(report: TriageReport) -> str:
    against = report.source.name or "no source"
    return f"awgcheck triage: {report.node} ({report.interface}) against {against}"


def _sources(report: TriageReport) -> list[tuple[str, str]]:
    runtime = "not read"
    if report.runtime is not None:
        runtime = (f"{report.runtime.view} (tools generation "
                   f"{report.runtime.generation})")
    return [("file", report.conf_path or "not read"),
            ("runtime", runtime),
            ("source", _source_text(report))]


def _source_text(report: TriageReport) -> str:
    name, doc = report.source.name, report.source.doc
    if name is None:
        return "none"
    if doc is None:
        return f"{name} (not read)"
    text = name if doc.path == name else f"{name} ({doc.path})"
    running = report.source.runtime
    if running is not None:
        text += f", running: {running.view} (tools generation {running.generation})"
    return text


def _evidence_lines(evidence: Evidence) -> list[str]:
    lines = []
    peer = evidence.peer
    if peer is not None:
        lines.append(f"peer {peer.peer} ({peer.chosen_by})"
                     + (f", endpoint {peer.endpoint}" if peer.endpoint else ""))
        age = "never" if peer.handshake_age is None else f"{peer.handshake_age} s ago"
        lines.append(f"latest handshake: {age}")
        lines.append(f"rx {peer.rx_bytes} bytes, tx {peer.tx_bytes} bytes")
        if peer.rx_growth is not None and evidence.window is not None:
            lines.append(f"over {evidence.window:g} s: rx +{peer.rx_growth} bytes, "
                         f"tx +{peer.tx_growth} bytes")
    if evidence.ping is not None:
        ping = evidence.ping
        lines.append(f"{ping.command}: {ping.summary or f'exit {ping.exit_status}'}")
    return lines


def _missing_lines(missing: tuple[Missing, ...]) -> list[str]:
    return [f"{m.what}: {m.why}. To get it: {m.how}." for m in missing]


def _fix_lines(fix: Fix, node: str) -> list[str]:
    lines = []
    for number, step in enumerate(fix.steps, 1):
        if step.on is not None:
            lines.append(f"{number}. on {step.on}: {step.action}")
            continue
        where = step.path or "the node's conf"
        if step.line is not None:
            where += f" line {step.line}"
        lines.append(f"{number}. {where}: {step.action}")
    if fix.command is not None:
        lines.append(f"{len(fix.steps) + 1}. on {node}: {fix.command}")
    if fix.note:
        lines.append(fix.note)
    return lines


def _verdict_text(verdict: Verdict) -> list[str]:
    lines = [f"{verdict.headline} {verdict.evidence}"]
    lines.extend(verdict.details)
    lines.extend(verdict.next_steps)
    return lines


def _also_lines(verdict: Verdict) -> list[str]:
    """The other differences, each with its own symptom, most likely first."""
    return [also.text for also in verdict.also]


# --------------------------------------------------------------------------
# table (terminal)


_TABLE = (Column("param", Kind.NAME), Column("file", Kind.VALUE), Column("runtime", Kind.VALUE),
          Column("source", Kind.VALUE), Column("verdict", coloured=True))


def render_table(report: TriageReport, view: Layout = PLAIN) -> str:
    """One terminal screen: the verdict in one line, then sources, the
    side-by-side table, evidence, missing evidence, verdict, fix; drawn to
    ``view``'s width."""
    out = [_first_line(report), _title(report)]
    out.extend(f"  {label + ':':9}{text}" for label, text in _sources(report))
    if report.unreachable is not None:
        out += ["", f"COULD NOT READ THE NODE ({report.unreachable_class}): "
                f"{report.unreachable}", ""]
        out.extend(_section("Missing evidence", _missing_lines(report.missing)))
        return _lines(out, view)
    out.append("")
    hub = _source_runtime_column(report)
    table = [_row_cells(r, hub) for r in report.rows]
    columns = [*_TABLE[:4], *([Column("source runtime", Kind.VALUE)] if hub else []), _TABLE[4]]
    out.append(grid(table, columns, view) if table else "(no obfuscation params on any side)")
    out.extend(_section("Evidence", _evidence_lines(report.evidence) or ["none gathered"]))
    out.extend(_section("Missing evidence", _missing_lines(report.missing)))
    assert report.verdict is not None
    out.extend(_section("Verdict", _verdict_text(report.verdict)))
    out.extend(_section("Also differing", _also_lines(report.verdict)))
    if report.verdict.fix is not None:
        out.extend(_section("Fix", _fix_lines(report.verdict.fix, report.node)))
    return _lines(out, view)


def _first_line(report: TriageReport) -> str:
    """The one line to read first: ``FAIL: S4 differs (17 vs 18): ...``."""
    word, detail = verdict_line(report)
    return f"{word}: {detail}"


def verdict_line(report: TriageReport) -> tuple[str, str]:
    """The verdict word and what it rests on, with the exit code: the
    table's first line, and Markdown's under its title (the word in bold).
    FAIL when something is wrong (exit 1, or 5 when the source could not be
    read but the file and the running interface differ), PASS only when
    the node was compared with a source and agrees (exit 0), COULD NOT
    CHECK else (exit 4)."""
    code = report.exit_code()
    if report.unreachable is not None:
        return ("COULD NOT CHECK", f"{report.node} could not be read "
                f"({report.unreachable_class}); exit code {code}")
    assert report.verdict is not None
    word = "FAIL" if report.verdict.failed else "PASS" if code == 0 else "COULD NOT CHECK"
    return word, f"{report.verdict.headline.removesuffix('.')}; exit code {code}"


def _lines(out: list[str], view: Layout) -> str:
    """The screen's lines, each wrapped to the width, verdicts coloured."""
    lines = wrap_all("\n".join(out).split("\n"), view.width)
    return "\n".join(paint_word(line, view) if line.startswith(("COULD NOT", "FAIL:", "PASS:"))
                     else line for line in lines) + "\n"


def _section(title: str, lines: list[str]) -> list[str]:
    if not lines:
        return []
    return ["", title, *(f"  {line}" for line in lines)]


# --------------------------------------------------------------------------
# markdown (incident channel)


def render_markdown(report: TriageReport) -> str:
    """For an incident channel: the verdict line first (the table's first
    line, the word in bold), then the sources, the table and the fix."""
    word, detail = verdict_line(report)
    out = [f"### {cell(_title(report))}", "", f"**{word}**: {cell(detail)}", ""]
    out.extend(f"- **{label}**: {code(text)}" for label, text in _sources(report))
    if report.unreachable is not None:
        out += ["", f"**Could not read the node** ({cell(report.unreachable_class)}): "
                f"{cell(report.unreachable)}"]
        out.extend(_md_list("Missing evidence", _missing_lines(report.missing)))
        return "\n".join(out) + "\n"
    assert report.verdict is not None
    out += ["", f"**Verdict:** {cell(report.verdict.headline)} "
                f"{cell(report.verdict.evidence)}"]
    out.extend(f"> {cell(line)}"
               for line in (*report.verdict.details, *report.verdict.next_steps))
    out.extend(_md_list("Also differing", _also_lines(report.verdict)))
    headers = _headers(report)
    hub = _source_runtime_column(report)
    out += ["", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out.extend("| " + " | ".join(cell(c) for c in _row_cells(r, hub)) + " |"
               for r in report.rows)
    out.extend(_md_list("Evidence", _evidence_lines(report.evidence)))
    out.extend(_md_list("Missing evidence", _missing_lines(report.missing)))
    if report.verdict.fix is not None:
        out += ["", "**Fix**", ""]
        out.extend(fenced(_fix_lines(report.verdict.fix, report.node)))
    return "\n".join(out) + "\n"


def _md_list(title: str, lines: list[str]) -> list[str]:
    if not lines:
        return []
    return ["", f"**{title}**", "", *(f"- {cell(line)}" for line in lines)]


# --------------------------------------------------------------------------
# json (tools)


def _value(value: ParamValue | None, effective: str | None, known: bool) -> dict[str, Any] | None:
    if not known:
        return None
    location = value.location if value is not None else None
    return {"raw": printable(value.raw) if value is not None else None, "effective": effective,
            "hex": hex_of(value) or None,
            "line": location.line if location is not None else None}


def as_dict(report: TriageReport) -> dict[str, Any]:
    """The JSON document (schema ``awgcheck.triage/v1``)."""
    verdict = report.verdict
    evidence = report.evidence
    peer = evidence.peer
    return {
        "schema": SCHEMA,
        "node": report.node,
        "interface": report.interface,
        "file": report.conf_path,
        "source": report.source.name,
        "runtime": None if report.runtime is None else {
            "view": report.runtime.view, "generation": report.runtime.generation},
        "source_runtime": None if report.source.runtime is None else {
            "view": report.source.runtime.view,
            "generation": report.source.runtime.generation},
        "unreachable": None if report.unreachable is None else {
            "error": report.unreachable, "error_class": report.unreachable_class},
        "params": [{"param": r.param, "role": r.role, "verdict": r.verdict, "note": r.note,
                    "file": _value(r.file, r.file_effective, True),
                    "runtime": _value(r.runtime, r.runtime_effective, r.runtime_known),
                    "source": _value(r.source, r.source_effective, r.source_known),
                    "source_runtime": _value(r.source_runtime, r.source_runtime_effective,
                                             r.source_runtime_known)}
                   for r in report.rows],
        "evidence": {
            "probed": evidence.probed, "window": evidence.window, "target": evidence.target,
            "peer": None if peer is None else {
                "peer": peer.peer, "endpoint": peer.endpoint, "chosen_by": peer.chosen_by,
                "handshake_age": peer.handshake_age, "rx_bytes": peer.rx_bytes,
                "tx_bytes": peer.tx_bytes, "rx_growth": peer.rx_growth,
                "tx_growth": peer.tx_growth},
            "ping": None if evidence.ping is None else {
                "command": evidence.ping.command, "exit_status": evidence.ping.exit_status,
                "transmitted": evidence.ping.transmitted, "received": evidence.ping.received,
                "loss": evidence.ping.loss},
        },
        "missing": [{"what": m.what, "why": m.why, "how": m.how} for m in report.missing],
        "verdict": None if verdict is None else {
            "status": verdict.status, "cause": verdict.cause, "headline": verdict.headline,
            "evidence": verdict.evidence, "details": list(verdict.details),
            "next_steps": list(verdict.next_steps),
            "also": [{"param": a.param, "here": a.here, "there": a.there, "cause": a.cause,
                      "symptom": a.symptom, "matches": a.matches, "policy": a.policy}
                     for a in verdict.also],
            "fix": None if verdict.fix is None else {
                "steps": [{"path": s.path, "line": s.line, "action": s.action,
                           "policy": s.policy, "on": s.on}
                          for s in verdict.fix.steps],
                "command": verdict.fix.command, "note": verdict.fix.note},
        },
        "exit_code": report.exit_code(),
    }


def render_json(report: TriageReport) -> str:
    """The JSON document for tools (see :func:`as_dict`)."""
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"


# Listed alphabetically: the order --format shows them in.
FORMATS: Formats[TriageReport] = Formats({"json": render_json, "markdown": render_markdown,
                                          "table": ForPeople(render_table)},
                                         keep=(ParamValue,))
