"""``awgcheck inspect conf``: what awgcheck sees in one file, raw and effective."""

from __future__ import annotations

import json
from typing import Any

from awgcheck.parse.awgconf import AwgConf
from awgcheck.report.grid import Column, Kind, grid
from awgcheck.report.layout import PLAIN, Layout, wrap_all
from awgcheck.report.registry import Formats, ForPeople


def conf_as_dict(conf: AwgConf) -> dict[str, Any]:
    return {
        "path": conf.path,
        "loads": conf.loads,
        "facts": {
            "size": conf.facts.size, "bom": conf.facts.bom, "crlf": conf.facts.crlf,
            "cr_only": conf.facts.cr_only, "nul": conf.facts.nul,
            "invalid_utf8": conf.facts.invalid_utf8,
            "final_newline": conf.facts.final_newline,
        },
        "diagnostics": [
            # "severity" is the key this JSON view has always used for the level.
            {"line": d.location.line, "code": d.code, "severity": d.level.value,
             "message": d.message}
            for d in conf.diagnostics
        ],
        "sections": [
            {
                "name": s.name, "header": s.header, "line": s.line,
                "keys": [
                    {"key": e.key, "name": e.name, "raw": e.raw, "effective": e.effective,
                     "line": e.line, "handled_by": e.handler.value if e.handler else None,
                     "error": e.error}
                    for e in s.entries
                ],
            }
            for s in conf.sections
        ],
    }


_TABLE = (Column("line", Kind.NAME), Column("key", Kind.NAME),
          Column("section", Kind.NAME, under=True), Column("raw", Kind.VALUE),
          Column("effective", Kind.VALUE), Column("read by", Kind.NAME))


def render_conf_table(conf: AwgConf, view: Layout = PLAIN) -> str:
    """Every key, raw and effective, drawn to ``view``'s width."""
    rows = []
    for section in conf.sections:
        for e in section.entries:
            rows.append([e.line, e.key, f"[{section.name}]", e.raw,
                         e.effective if e.effective is not None else f"REJECTED: {e.error}",
                         e.handler.value if e.handler else "-"])
    out = [f"{conf.path}: {'loads' if conf.loads else 'DOES NOT LOAD'} with awg-quick up"]
    out.append(grid(rows, _TABLE, view))
    if conf.diagnostics:
        out.append("")
        for d in conf.diagnostics:
            where = f"line {d.location.line}" if d.location.line else "file"
            out.append(f"{d.level.value}: {where}: {d.message}")
    return "\n".join(wrap_all("\n".join(out).split("\n"), view.width)) + "\n"


def render_conf_json(conf: AwgConf) -> str:
    return json.dumps(conf_as_dict(conf), indent=2, ensure_ascii=False) + "\n"


FORMATS: Formats[AwgConf] = Formats({"table": ForPeople(render_conf_table),
                                     "json": render_conf_json})
