"""``plan``: the steps that move a fleet from its source's params to new ones.

The shape of a rotation follows from the symptom table
(:mod:`awgcheck.symptoms`):

* Side-local params (Jc, Jmin, Jmax, I1-I5, ...) have no data-plane
  effect: the source first, checked with ``--profile protocol`` (the
  others then differ from it, which that profile reports as info), then
  every other node, checked strictly.
* A must-match param differs between two nodes from the moment one applies
  it until the other does, and their tunnel meanwhile behaves as its row
  of the table says. Staging such a change node by node would only
  lengthen that window, so a must-match step is applied to the source and
  every node at once. Each step carries one change: one row of the table
  (S1 with H1, S4 with H4, ...), so what a lagging node looks like, and
  what the check after the step says about it, is one known thing, and a
  failed step is rolled back alone. Steps go from the mildest row to the
  worst (the table's order reversed): a procedure that stalls early costs
  the least.
* Every state between two steps is judged by the same rules as a generated
  set (:mod:`awgcheck.rotation.verify`). A step whose intermediate state
  would fail a rule the current params pass (a HeaderProtectionKey before
  S1-S4 reach 12, H1 moved onto the old H2) is bundled with the next
  change until the state passes: the fleet never runs params the rules refuse.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from awgcheck import params, symptoms
from awgcheck.gate.change import diff_params
from awgcheck.model import ArtifactKind, ParamChange, ParamDocument, ParamValue
from awgcheck.parse.paramsdoc import Form, ParamsDoc
from awgcheck.rotation.verify import violations
from awgcheck.ruleset.load import Rule

SIDE_LOCAL_SOURCE = "side-local-source"
SIDE_LOCAL_NODES = "side-local-nodes"
MUST_MATCH = "must-match"


@dataclass(frozen=True)
class Fleet:
    """What a plan needs to know of the fleet: how it was named on the
    command line (for the check commands), its source of truth and the
    other nodes with an AmneziaWG conf."""

    inventory: str
    source: str
    nodes: tuple[str, ...]
    ssh: bool = False  # some node is read over SSH: its runtime can be compared too
    source_is_node: bool = True  # False: a conf or params document, no end of any tunnel


@dataclass(frozen=True)
class Effect:
    """One row of the symptom table, as a step predicts it."""

    mismatch: str  # the row's id (symptoms.MismatchClass.id)
    params: tuple[str, ...]  # the params of the step in that row
    symptom: str
    expects: symptoms.Expect

    @property
    def dark(self) -> bool:
        """Does the row take data away from a tunnel (at once, not only under load)?"""
        return self.expects not in (symptoms.Expect.HEALTHY, symptoms.Expect.INVISIBLE)


@dataclass(frozen=True)
class Step:
    """One step: which nodes apply which changes, what the fleet looks like
    until every one of them has, and the command that says it is done.

    ``together``: the nodes apply it at the same time, the source first
    (a must-match step); otherwise in any order. ``tunnels`` are the
    tunnels that behave as ``effects`` say, each until its node applies
    the step: the source node's tunnel to each node. With a source file
    (no node of its own) the fleet's tunnels are not known and the list
    is empty: every tunnel between a node that has applied the step and
    one that has not is affected."""

    number: int
    kind: str
    nodes: tuple[str, ...]
    together: bool
    changes: tuple[ParamChange, ...]
    effects: tuple[Effect, ...]
    tunnels: tuple[tuple[str, str], ...]  # (source node, node)
    check: str


@dataclass(frozen=True)
class Plan:
    """The steps from the source of truth's params to the ``target``
    document's, for the fleet of ``inventory``."""

    inventory: str
    source: str
    target: str
    preflight: str  # the command that shows the fleet in sync before step 1
    steps: tuple[Step, ...]


def _effects(changes: Sequence[ParamChange]) -> tuple[Effect, ...]:
    """The table's rows for ``changes``, worst first (the table's order)."""
    found = []
    for row in (*symptoms.CLASSES, symptoms.SIDE_LOCAL):
        names = tuple(c.param for c in changes if symptoms.class_of(c.param) is row)
        if names:
            found.append(Effect(row.id, names, row.symptom, row.expects))
    return tuple(found)


def _check_command(fleet: Fleet, *extra: str) -> str:
    """The exact ``check`` that says a step is done; over SSH with
    ``--runtime``: a conf changed on disk but not applied to the interface
    leaves the tunnel as it was."""
    runtime = ("--runtime",) if fleet.ssh else ()
    return shlex.join(["awgcheck", "check", "--inventory", fleet.inventory, *extra, *runtime])


# --- intermediate states ------------------------------------------------------------


class _States:
    """Obfuscation params between steps, judged by the rules."""

    def __init__(self, current: ParamDocument, new: ParamDocument,
                 rules: Sequence[Rule]) -> None:
        self.rules = rules
        self.new = new.params()
        self.values: dict[str, ParamValue] = {
            name: value for name, value in current.params().items()
            if name in params.OBFUSCATION_PARAMS}
        # What the fleet runs already fails, and what the target itself
        # fails below the refusal threshold: no step is blamed for those.
        self.tolerated = self.failing(self.values) | self.failing(
            {name: value for name, value in self.new.items() if name in params.OBFUSCATION_PARAMS})

    def failing(self, values: dict[str, ParamValue]) -> set[str]:
        doc = ParamsDoc("(params between steps)", Form.EPOCH, None, tuple(values.values()), ())
        return {f.rule for f in violations(doc, ArtifactKind.PARAMS, self.rules)}

    def after(self, changes: Sequence[ParamChange]) -> dict[str, ParamValue]:
        values = dict(self.values)
        for change in changes:
            stated = self.new.get(change.param)
            if stated is None:
                values.pop(change.param, None)
            else:
                values[change.param] = stated
        return values

    def passes(self, changes: Sequence[ParamChange]) -> bool:
        return self.failing(self.after(changes)) <= self.tolerated

    def apply(self, changes: Sequence[ParamChange]) -> None:
        self.values = self.after(changes)


def _must_match_groups(changes: Sequence[ParamChange],
                       states: _States) -> list[list[ParamChange]]:
    """Must-match changes, one row of the table per group, mildest first,
    bundled where a state between them would fail a rule."""
    rows = [[c for c in changes if symptoms.class_of(c.param) is row]
            for row in reversed(symptoms.CLASSES)]
    pending = [row for row in rows if row]
    groups: list[list[ParamChange]] = []
    while pending:
        chosen = next((i for i, row in enumerate(pending) if states.passes(row)), None)
        if chosen is not None:
            group = pending.pop(chosen)
        else:
            group = pending.pop(0)
            while pending and not states.passes(group):
                group = group + pending.pop(0)
        states.apply(group)
        groups.append(sorted(group, key=lambda c: params.OBFUSCATION_PARAMS.index(c.param)))
    return groups


# --- the plan ---------------------------------------------------------------------


def build(current: ParamDocument, new: ParamDocument, target: str, fleet: Fleet,
          rules: Sequence[Rule]) -> Plan:
    """The plan from ``current`` (the source's params) to ``new`` (read
    from ``target``); ``rules`` judge the states between steps."""
    changes = diff_params(current, new)
    side = [c for c in changes if not c.must_match]
    must = [c for c in changes if c.must_match]
    steps: list[Step] = []

    def add(kind: str, nodes: tuple[str, ...], together: bool, step_changes: Sequence[ParamChange],
            tunnels: tuple[tuple[str, str], ...], check: str) -> None:
        steps.append(Step(len(steps) + 1, kind, nodes, together, tuple(step_changes),
                          _effects(step_changes), tunnels, check))

    if side:
        after_source = (_check_command(fleet, "--profile", "protocol") if fleet.nodes
                        else _check_command(fleet))
        add(SIDE_LOCAL_SOURCE, (fleet.source,), False, side, (), after_source)
        if fleet.nodes:
            add(SIDE_LOCAL_NODES, fleet.nodes, False, side, (), _check_command(fleet))
    states = _States(current, new, rules)
    states.apply(side)  # the must-match steps run on the new side-local values
    for group in _must_match_groups(must, states):
        tunnels = (tuple((fleet.source, node) for node in fleet.nodes)
                   if fleet.source_is_node else ())
        add(MUST_MATCH, (fleet.source, *fleet.nodes), True, group, tunnels,
            _check_command(fleet))
    return Plan(fleet.inventory, fleet.source, target, _check_command(fleet), tuple(steps))
