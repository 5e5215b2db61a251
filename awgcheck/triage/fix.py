"""The fix triage prints: file edits in the order of the causes, then the restart.

The likely cause's edit comes first, then the other differences that can
break the tunnel, then side-local ones, each marked as a policy difference
(the tunnel works without it; a fleet may still require it). A source whose
own interface runs another value than its file gets a restart on the
source. `awg syncconf` is never offered: it does not clear a param removed
from the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from awgcheck import params
from awgcheck.model import ParamValue
from awgcheck.parse.awgconf import AwgConf
from awgcheck.triage.rows import NOT_APPLIED, STILL_ACTIVE, Row, Sides, shown


@dataclass(frozen=True)
class FixStep:
    path: str | None
    line: int | None
    action: str
    policy: bool = False  # a side-local param: policy only, the tunnel works without it
    on: str | None = None  # a node to run the action on (a command, not a file edit)


@dataclass(frozen=True)
class Fix:
    steps: tuple[FixStep, ...]
    command: str | None
    note: str


SYNCCONF = ("awg syncconf does not clear a param removed from the file: recreate the "
            "interface rather than syncconf.")


ONLY_RESTART = "the file is already right; only recreate the interface"


def restart(interface: str, sudo: bool) -> str:
    """The command that recreates ``interface`` (what applies a changed file)."""
    prefix = "sudo " if sudo else ""
    return f"{prefix}awg-quick down {interface} && {prefix}awg-quick up {interface}"


def build_fix(sides: Sides, rows: list[Row]) -> Fix:
    """File edits that make the node's file equal the source, in the order
    of ``rows`` (the likely cause first), the source's restart where it was
    not applied, and the node's restart."""
    steps: list[FixStep] = []
    source_restart = False
    for row in rows:
        if row.source_stale and not source_restart:
            source_restart = True
            steps.append(_restart_source(sides, rows))
        step = _step(sides, row)
        if step is not None:
            steps.append(step)
    node_edits = any(step.on is None for step in steps)
    node_stale = any(r.verdict in (NOT_APPLIED, STILL_ACTIVE) for r in rows)
    if not node_edits and not node_stale and source_restart:
        return Fix(tuple(steps), None, SYNCCONF)  # the node already runs the right values
    if not node_edits:
        steps.append(FixStep(sides.edit_path, None, ONLY_RESTART))
    return Fix(tuple(steps), restart(sides.interface, sides.sudo), SYNCCONF)


def _restart_source(sides: Sides, rows: list[Row]) -> FixStep:
    stale = ", ".join(f"{r.param} = {shown(r.source_effective, r.source)}"
                      for r in rows if r.source_stale)
    return FixStep(None, None, f"{restart(sides.source_interface, sides.source_sudo)} "
                   f"(its file already says {stale}; its interface was not recreated)",
                   on=sides.source_name)


def _step(sides: Sides, row: Row) -> FixStep | None:
    if not row.file_differs:
        return None
    policy = row.role == params.Role.SIDE_LOCAL.value
    path = sides.edit_path
    spec = params.spec(row.param)
    secret = spec is not None and spec.secret
    wanted = f"{row.param} = <the key from {_source_where(sides, row)}>" if secret \
        else f"{row.param} = {row.source.raw if row.source else row.source_effective}"
    if row.file is not None and row.source is None:
        action = (f"delete `{row.param} = {safe_raw(row.file)}` ({sides.source_name} does "
                  "not set it)")
        line = _line(row.file)
    elif row.file is not None:
        action = f"change `{row.param} = {safe_raw(row.file)}` to `{wanted}`"
        line = _line(row.file)
    else:
        line = _interface_end(sides.conf)
        action = f"add `{wanted}` in [Interface]" + (f" (after line {line})" if line else "")
    if policy:
        action += (f" (policy only: {row.param} is side-local, the tunnel works without "
                   "this; change it if the fleet requires what the source issued)")
    return FixStep(path, line, action, policy=policy)


def safe_raw(value: ParamValue) -> str:
    """``value`` as written, or ``<key>`` for a secret (never printed)."""
    spec = params.spec(value.key)
    return "<key>" if spec is not None and spec.secret else value.raw


def _source_where(sides: Sides, row: Row) -> str:
    location = row.source.location if row.source is not None else None
    return str(location) if location is not None else sides.source_name


def _line(value: ParamValue) -> int | None:
    return value.location.line if value.location is not None else None


def _interface_end(conf: AwgConf | None) -> int | None:
    if conf is None:
        return None
    section = conf.interface()
    if section is None:
        return None
    lines = [e.line for e in section.entries]
    return max(lines) if lines else section.line
