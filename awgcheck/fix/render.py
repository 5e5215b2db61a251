"""How ``awgcheck fix`` shows its result: the unified diff alone (notes go
to stderr, :func:`notes`), or everything as one JSON object.

The plan is kept out of the escaping every format gets
(:class:`~awgcheck.report.registry.Formats`): a diff must hold the conf's
exact bytes to apply, and it only ever shows lines that are plain text
and hold no secret (:func:`awgcheck.fix.text.hidden`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from awgcheck.fix import diff
from awgcheck.fix.plan import Plan
from awgcheck.model import Finding
from awgcheck.report.registry import Formats


@dataclass(frozen=True)
class FixView:
    """One node's fix, as shown."""

    node: str
    path: str  # on the node: the diff's a/ and b/ name
    where: str
    plan: Plan
    remaining: tuple[Finding, ...]
    reload: str  # the command the change needs to take effect ("" when none)
    applied: bool = False
    backup: str | None = None
    reloaded: bool = False
    reload_error: str | None = None


@dataclass(frozen=True)
class Note:
    """One line for stderr beside the diff: a ``warning`` when something is
    left to a person or went wrong, a ``note`` when it only says what was
    done or comes next."""

    level: str  # "warning" or "note"
    text: str


def notes(view: FixView) -> list[Note]:
    """What the diff alone does not say: work left to a person, what would
    still fail, what was written and what runs next."""
    said = [Note("warning", f"{view.node}: line {m.line}: {m.param}: {m.why}" if m.line
                 else f"{view.node}: {m.param}: {m.why}") for m in view.plan.manual]
    said += [Note("warning", f"{view.node}: still failing after the fix: {f.rule}: {f.message}")
             for f in view.remaining]
    if not view.plan.changes:
        said.append(Note("note", f"{view.node}: {view.where}: nothing to change"))
    elif view.applied:
        said.append(Note("note", f"{view.node}: {view.where} written; the previous conf is "
                                 f"kept as {view.backup}"))
    if view.reloaded:
        said.append(Note("note", f"{view.node}: reloaded with `{view.reload}`"))
    elif view.reload_error:
        said.append(Note("warning", f"{view.node}: the conf is written, but the reload "
                                    f"failed: {view.reload_error}"))
    elif view.reload and view.plan.changes:
        said.append(Note("note", f"{view.node}: for the new values to take effect, run "
                                 f"`{view.reload}` on the node (awg syncconf does not clear a "
                                 "removed param), or use --apply --reload"))
    return said


def _diff(view: FixView) -> str:
    return diff.render(view.plan, view.path)


def _json(view: FixView) -> str:
    data: dict[str, Any] = {
        "node": view.node,
        "path": view.where,
        "changes": view.plan.changes,
        "edits": [{"action": e.action.value, "param": e.param, "line": e.line,
                   "old": e.old, "new": e.new, "why": e.why} for e in view.plan.edits],
        "manual": [{"param": m.param, "line": m.line, "why": m.why} for m in view.plan.manual],
        "remaining": [{"rule": f.rule, "param": f.param, "severity": f.severity.value,
                       "message": f.message} for f in view.remaining],
        "diff": diff.render(view.plan, view.path),
        "reload": view.reload or None,
        "applied": view.applied,
        "backup": view.backup,
        "reloaded": view.reloaded,
        "reload_error": view.reload_error,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


FORMATS: Formats[FixView] = Formats({"diff": _diff, "json": _json}, default="diff",
                                    keep=(Plan,))
