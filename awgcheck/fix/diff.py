"""A :class:`~awgcheck.fix.plan.Plan` as a unified diff that ``patch -p1``
and ``git apply`` (run from ``/`` on the node, or from a node tree's root)
apply.

Lines that hold a secret are never printed, not even as context: a hunk's
context stops at such a line. Where that leaves fewer context lines after
a change than before it, the leading context is cut to the same number:
``git apply`` reads a hunk without trailing context as "at the end of the
file", and GNU ``patch`` would apply it only with fuzz. A change right
before a secret line therefore gets a hunk without any context, which
``patch`` applies by its line numbers and ``git apply`` with
``--unidiff-zero``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from awgcheck.fix.plan import Op, Plan

CONTEXT = 3
NO_NEWLINE = "\\ No newline at end of file\n"


@dataclass(frozen=True)
class _Span:
    first: int  # index into the ops, inclusive
    last: int


def render(plan: Plan, path: str) -> str:
    """The diff of ``plan`` for the node file ``path`` (absolute; named
    ``a/...`` and ``b/...`` without its leading slash), or "" when nothing
    changes."""
    if not plan.changes:
        return ""
    ops = plan.ops
    name = path.lstrip("/")
    hunks = [_hunk(ops, span, plan.safe) for span in _spans(ops, plan.safe)]
    return f"--- a/{name}\n+++ b/{name}\n" + "".join(hunks)


def _shown(op: Op, safe: frozenset[int]) -> bool:
    """Whether ``op`` may stand as context."""
    return op.kept and op.number in safe


def _spans(ops: Sequence[Op], safe: frozenset[int]) -> list[_Span]:
    """The changed runs of ops, joined when no more than two contexts'
    worth of showable lines lie between them."""
    spans: list[_Span] = []
    for index, op in enumerate(ops):
        if op.kept:
            continue
        if spans:
            gap = ops[spans[-1].last + 1:index]
            if len(gap) <= 2 * CONTEXT and all(_shown(g, safe) for g in gap):
                spans[-1] = _Span(spans[-1].first, index)
                continue
        spans.append(_Span(index, index))
    return spans


def _context(ops: Sequence[Op], safe: frozenset[int], start: int, step: int) -> tuple[int, bool]:
    """How many showable context ops lie from ``start`` in direction
    ``step`` (at most CONTEXT), and whether a hidden line cut them short."""
    count = 0
    index = start
    while count < CONTEXT and 0 <= index < len(ops):
        if not _shown(ops[index], safe):
            return count, True
        count += 1
        index += step
    return count, False


def _hunk(ops: Sequence[Op], span: _Span, safe: frozenset[int]) -> str:
    lead, _ = _context(ops, safe, span.first - 1, -1)
    trail, cut = _context(ops, safe, span.last + 1, +1)
    if cut:
        lead = min(lead, trail)
    first, last = span.first - lead, span.last + trail
    old_before = sum(1 for op in ops[:first] if op.old is not None)
    new_before = sum(1 for op in ops[:first] if op.new is not None)
    shown = ops[first:last + 1]
    old_count = sum(1 for op in shown if op.old is not None)
    new_count = sum(1 for op in shown if op.new is not None)
    header = (f"@@ -{_range(old_before, old_count)} "
              f"+{_range(new_before, new_count)} @@\n")
    return header + "".join(_ordered(shown))


def _ordered(ops: Sequence[Op]) -> list[str]:
    """The hunk's lines: context as is; within each run of changed ops,
    every removed old line, then every new one (the order diff tools write
    and read a changed run in)."""
    lines: list[str] = []
    run: list[Op] = []

    def flush() -> None:
        lines.extend(_line("-", op.old.body, op.old.end) for op in run if op.old is not None)
        lines.extend(_line("+", op.new.body, op.new.end) for op in run if op.new is not None)
        run.clear()

    for op in ops:
        if op.kept:
            flush()
            assert op.old is not None
            lines.append(_line(" ", op.old.body, op.old.end))
        else:
            run.append(op)
    flush()
    return lines


def _range(before: int, count: int) -> str:
    """``start,count`` as unified diffs write it: an empty range starts at
    the line before it."""
    start = before + 1 if count else before
    return f"{start},{count}"


def _line(mark: str, body: bytes, end: bytes) -> str:
    text = body.decode("utf-8")  # only plain lines are shown (text.hidden)
    if not end:
        return f"{mark}{text}\n{NO_NEWLINE}"
    return f"{mark}{text}{end.decode('ascii')}"
