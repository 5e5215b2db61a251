"""A rotation plan as Markdown, JSON or a terminal table (``plan --format``).

Renderers only build text (the CLI writes it); :data:`FORMATS` hands them
the plan with every string made printable. Each predicted effect is the
symptom table's own row (:class:`~awgcheck.rotation.plan.Effect`), shown
as is. Secret values are already digests in the documents a plan is made
from, and are shown as such.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from awgcheck.compare import absent_text, shown
from awgcheck.model import ParamChange, ParamValue
from awgcheck.report.grid import Column, Kind, grid
from awgcheck.report.layout import PLAIN, Layout
from awgcheck.report.markdown import cell, code
from awgcheck.report.markdown import table as md_table
from awgcheck.report.registry import Formats, ForPeople
from awgcheck.rotation.plan import MUST_MATCH, SIDE_LOCAL_SOURCE, Effect, Plan, Step


def _value(change: ParamChange, after: bool) -> str:
    raw = change.after if after else change.before
    if raw is None:
        return absent_text(change.param)
    # A secret's raw text is its digest, the zero key's digest included:
    # read as its own effective value, shown() names the all-zero key.
    return shown(change.param, ParamValue(change.param, raw, raw))


def _title(step: Step) -> str:
    names = ", ".join(c.param for c in step.changes)
    if step.kind == SIDE_LOCAL_SOURCE:
        return f"side-local params ({names}) on the source of truth, {step.nodes[0]}"
    if step.kind == MUST_MATCH:
        return f"must-match {names}: the source of truth and every node at once"
    return f"side-local params ({names}) on every other node"


def _order(step: Step) -> str:
    if step.together:
        return (f"at the same time, {step.nodes[0]} first; each tunnel below is affected "
                f"from when {step.nodes[0]} applies the step until its other end does")
    return "in any order, one at a time or all at once"


def _effect_line(effect: Effect) -> str:
    state = "dark" if effect.dark else "not dark"
    return f"{effect.mismatch} ({effect.expects.value}, {state}): {effect.symptom}"


def _tunnels(step: Step, show: Callable[[str], str] = str) -> str:
    if not any(e.dark for e in step.effects):
        return "no tunnel goes dark"
    if step.tunnels:
        return "tunnels affected: " + ", ".join(show(f"{a} <-> {b}") for a, b in step.tunnels)
    return ("tunnels affected: every tunnel between a node that has applied this step and "
            "one that has not")


# --- Markdown ---------------------------------------------------------------------


def _md_step(step: Step) -> Iterator[str]:
    yield f"## Step {step.number}: {cell(_title(step))}"
    yield ""
    yield f"Nodes ({cell(_order(step))}): {', '.join(code(n) for n in step.nodes)}"
    yield ""
    yield from md_table(["param", "from", "to"],
                        [[cell(c.param), code(_value(c, False), in_table=True),
                          code(_value(c, True), in_table=True)] for c in step.changes])
    yield ""
    yield "Expected effect until every node has applied this step:"
    yield ""
    for effect in step.effects:
        yield f"- {cell(_effect_line(effect))}"
    yield f"- {_tunnels(step, code) if step.tunnels else cell(_tunnels(step))}"
    yield ""
    yield f"Check after the step: {code(step.check)}"
    yield ""


def markdown(plan: Plan) -> str:
    lines = [f"# Rotation plan: {cell(plan.source)} to {cell(plan.target)}", "",
             f"Inventory {code(plan.inventory)}; source of truth {code(plan.source)}.", "",
             f"Before step 1, the fleet must be in sync with the source: {code(plan.preflight)}",
             ""]
    if not plan.steps:
        lines += ["Nothing to do: the new params are what the source of truth states.", ""]
    for step in plan.steps:
        lines.extend(_md_step(step))
    return "\n".join(lines)


# --- JSON -------------------------------------------------------------------------


def _json_step(step: Step) -> dict[str, object]:
    return {
        "step": step.number, "kind": step.kind, "nodes": list(step.nodes),
        "together": step.together,
        "changes": [{"param": c.param, "role": c.role.value, "from": c.before, "to": c.after}
                    for c in step.changes],
        "effects": [{"mismatch": e.mismatch, "params": list(e.params), "symptom": e.symptom,
                     "expects": e.expects.value, "dark": e.dark} for e in step.effects],
        "tunnels": [list(t) for t in step.tunnels], "check": step.check,
    }


def json_text(plan: Plan) -> str:
    body = {"inventory": plan.inventory, "source": plan.source, "target": plan.target,
            "preflight": plan.preflight, "steps": [_json_step(s) for s in plan.steps]}
    return json.dumps(body, indent=2) + "\n"


# --- table ------------------------------------------------------------------------


_TABLE = (Column("step", Kind.NAME), Column("nodes"), Column("changes", Kind.VALUE),
          Column("expected effect"), Column("check after"))


def table(plan: Plan, view: Layout = PLAIN) -> str:
    """The steps as a terminal table drawn to ``view``'s width, a blank line
    between steps."""
    rows = [["0", "every node", "-", "fleet in sync with the source", plan.preflight]]
    for step in plan.steps:
        changes = "\n".join(f"{c.param}: {_value(c, False)} -> {_value(c, True)}"
                            for c in step.changes)
        nodes = ", ".join(step.nodes) + ("\n(at once)" if step.together else "")
        effects = "\n".join([*(_effect_line(e) for e in step.effects), _tunnels(step)])
        rows.append([str(step.number), nodes, changes, effects, step.check])
    return grid(rows, _TABLE, view, apart=True) + "\n"


FORMATS: Formats[Plan] = Formats({"markdown": markdown, "json": json_text,
                                  "table": ForPeople(table)},
                                 default="markdown")
