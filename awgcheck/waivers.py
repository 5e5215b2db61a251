"""Waivers: failures the fleet's owners have accepted, for a while.

A waiver is written in the inventory's ``waivers:`` list or in a file given
with ``check --waivers FILE`` (a mapping with the one key ``waivers``):

```yaml
waivers:
  - nodes: partner-tbilisi        # a name, a glob (partner-*), group:NAME, or a list
    rule: side-local-drift        # a rule id, or a glob
    param: Jc                     # optional: only this param, as findings name it
    reason: partner runs the vendor build until the 2.1 upgrade
    owner: alice                  # optional
    expires: 2025-06-30           # required, YYYY-MM-DD; holds through that day (UTC)
```

:func:`apply` turns each failed finding a waiver in force covers into a
finding of status ``waived`` that carries the waiver (it never fails the
run). An expired waiver waives nothing: its findings keep failing, and one
``waiver-expired`` finding per node names it. A waiver that covered no
failed finding on the nodes it names that were checked is a
``waiver-unused`` warning; its ``node`` is the file the waiver is written
in. A waiver without ``reason`` or ``expires`` (or any other malformed
entry) is an :class:`~awgcheck.errors.InventoryError` naming the file and
line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import yaml

from awgcheck import yamlfile
from awgcheck.errors import InventoryError
from awgcheck.known_keys import mapping_fields
from awgcheck.model import Finding, Location, RuleMeta, Severity, Status, Waiver
from awgcheck.patterns import matches
from awgcheck.secrecy import scrub
from awgcheck.wording import count as counted

KEY = "waivers"
GROUP = "group:"
WAIVER_EXPIRED = "waiver-expired"
WAIVER_UNUSED = "waiver-unused"

RULES: tuple[RuleMeta, ...] = (
    RuleMeta(
        WAIVER_EXPIRED, "A waiver has expired", Severity.ERROR,
        "A waiver's expires date has passed. It waives nothing any more: the findings it "
        "covered fail again, and this finding (one per node) names the waiver: where it "
        "is written, its reason, owner and expiry.",
        "Fix what the waived findings report; if the exception still holds, agree a new "
        "expires date with the waiver's owner and change it.",
        ("waivers",)),
    RuleMeta(
        WAIVER_UNUSED, "A waiver matches no failed finding", Severity.WARNING,
        "No failed finding on the checked nodes a waiver names matches its rule and param "
        "(or it names no node of the inventory at all): what it waived is fixed, or the "
        "waiver is mistyped. Its node is the file the waiver is written in.",
        "Remove the waiver once what it waived is fixed; otherwise correct its nodes, rule "
        "or param (param is matched exactly, as findings name it).",
        ("waivers",)),
)
"""What ``rules list`` and SARIF say of the two ids no rule file declares."""

_FIELDS = ("nodes", "rule", "param", "reason", "owner", "expires")
_REQUIRED = {
    "nodes": "the node names, globs or group:NAME it covers",
    "rule": "the rule id or glob it covers",
    "reason": "a waiver says why the failure is accepted",
    "expires": "a waiver ends: YYYY-MM-DD",
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NULL = "tag:yaml.org,2002:null"


# --- loading -------------------------------------------------------------------------


def load_file(path: Path) -> tuple[Waiver, ...]:
    """The waivers of a ``--waivers`` file: a mapping with the one key ``waivers``."""
    text = yamlfile.read_text(path, "waivers file", InventoryError)
    root = yamlfile.load_node(text, str(path), InventoryError)
    if not isinstance(root, yaml.MappingNode) or [_key(k) for k, _ in root.value] != [KEY]:
        raise InventoryError(f"{path}: a waivers file must be a mapping with one key "
                             f"'{KEY}' (a list of waivers)")
    return parse(root.value[0][1], str(path))


def in_inventory(text: str, origin: str) -> tuple[Waiver, ...]:
    """The waivers of an inventory's ``waivers:`` key (none without it).
    Read from the YAML nodes, which keep the line of every entry."""
    root = yamlfile.load_node(text, origin, InventoryError)
    if not isinstance(root, yaml.MappingNode):
        return ()
    for key, value in root.value:
        if _key(key) == KEY:
            return parse(value, origin)
    return ()


def parse(node: yaml.Node, origin: str) -> tuple[Waiver, ...]:
    """A ``waivers:`` list (an empty value is no waivers); ``origin`` is its file."""
    if _is_null(node):
        return ()
    if not isinstance(node, yaml.SequenceNode):
        raise InventoryError(f"{origin}:{_line(node)}: key '{KEY}' must be a list of waivers")
    return tuple(_waiver(item, origin, index) for index, item in enumerate(node.value, 1))


def _waiver(node: yaml.Node, origin: str, index: int) -> Waiver:
    where = f"{origin}:{_line(node)}: waiver {index}"
    if not isinstance(node, yaml.MappingNode):
        raise InventoryError(f"{where}: a waiver must be a mapping of {', '.join(_FIELDS)}")
    fields = mapping_fields(node, _FIELDS, lambda key: f"{origin}:{_line(key)}: waiver {index}",
                         InventoryError)
    for key, why in _REQUIRED.items():
        if key not in fields:
            raise InventoryError(f"{where}: missing required key '{key}' ({why})")

    def text(key: str, required: bool = False) -> str | None:
        value = fields.get(key)
        if value is None:
            return None
        at = f"{origin}:{_line(value)}: waiver {index}: key '{key}'"
        if _is_null(value) or (isinstance(value, yaml.ScalarNode) and not value.value.strip()):
            if required:
                raise InventoryError(f"{at} is empty ({_REQUIRED[key]})")
            return None
        if not isinstance(value, yaml.ScalarNode):
            raise InventoryError(f"{at} must be text")
        # A key pasted into a reason must not reach a report either.
        return scrub(str(value.value).strip())

    expires_text = text("expires", required=True) or ""
    return Waiver(
        nodes=_patterns(fields["nodes"], f"{origin}:{_line(fields['nodes'])}: waiver {index}"),
        rule=text("rule", required=True) or "", reason=text("reason", required=True) or "",
        expires=_date(expires_text, f"{origin}:{_line(fields['expires'])}: waiver {index}"),
        location=Location(origin, _line(node)), param=text("param"), owner=text("owner"))


def _patterns(node: yaml.Node, where: str) -> tuple[str, ...]:
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    patterns = []
    for item in items:
        if not isinstance(item, yaml.ScalarNode) or _is_null(item) or not item.value.strip():
            raise InventoryError(f"{where}: key 'nodes' must be a node name, glob or "
                                 f"{GROUP}NAME, or a list of them")
        pattern = str(item.value).strip()
        if pattern == GROUP:
            raise InventoryError(f"{where}: key 'nodes': '{GROUP}' needs a group name")
        patterns.append(pattern)
    if not patterns:
        raise InventoryError(f"{where}: key 'nodes' is an empty list ({_REQUIRED['nodes']})")
    return tuple(patterns)


def _date(value: str, where: str) -> dt.date:
    try:
        if _DATE.fullmatch(value):
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise InventoryError(f"{where}: key 'expires' must be a date YYYY-MM-DD, "
                         f"got {scrub(value)!r}")


def _key(node: yaml.Node) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


# --- applying ------------------------------------------------------------------------


def names(waiver: Waiver, node: str, groups: Collection[str]) -> bool:
    """Whether ``waiver`` names ``node`` (a member of ``groups``)."""
    return any(pattern[len(GROUP):] in groups if pattern.startswith(GROUP)
               else matches(pattern, node) for pattern in waiver.nodes)


def covers(waiver: Waiver, finding: Finding, groups: Collection[str]) -> bool:
    """Whether ``waiver`` covers ``finding`` (on a node in ``groups``)."""
    return (names(waiver, finding.node, groups) and matches(waiver.rule, finding.rule)
            and (waiver.param is None or finding.param == waiver.param))


def apply(findings: Sequence[Finding], waivers: Sequence[Waiver], *, today: dt.date,
          fleet: Mapping[str, Collection[str]], checked: Collection[str]) -> list[Finding]:
    """``findings`` with the waivers applied, then the ``waiver-expired`` and
    ``waiver-unused`` findings.

    ``fleet`` maps every node of the inventory to its groups; ``checked``
    holds the nodes that were read. Only failed findings are waived; the
    first waiver in force that covers one waives it. A waiver none of whose
    nodes was checked (not chosen, or unreachable) says nothing: whether it
    is still needed is unknown.
    """
    if not waivers:
        return list(findings)
    in_force = [(i, w) for i, w in enumerate(waivers) if w.expires >= today]
    expired = [(i, w) for i, w in enumerate(waivers) if w.expires < today]
    used: set[int] = set()
    lapsed: dict[int, dict[str, int]] = {}  # expired waiver -> node -> findings failing again
    out: list[Finding] = []
    for finding in findings:
        groups = fleet.get(finding.node, ())
        if finding.status is Status.FAIL:
            first = next(((i, w) for i, w in in_force if covers(w, finding, groups)), None)
            if first is not None:
                used.add(first[0])
                out.append(replace(finding, status=Status.WAIVED, waiver=first[1]))
                continue
            for i, w in expired:
                if covers(w, finding, groups):
                    per_node = lapsed.setdefault(i, {})
                    per_node[finding.node] = per_node.get(finding.node, 0) + 1
        out.append(finding)
    for i, per_node in sorted(lapsed.items()):  # in the order the waivers are written
        out.extend(_expired(waivers[i], node, count) for node, count in per_node.items())
    for i, waiver in enumerate(waivers):
        if i not in used and i not in lapsed:
            unused = _unused(waiver, today, fleet, checked)
            if unused is not None:
                out.append(unused)
    return out


def describe(waiver: Waiver) -> str:
    """``rule side-local-drift, param Jc, nodes partner-*`` for messages."""
    param = f", param {waiver.param}" if waiver.param is not None else ""
    return f"rule {waiver.rule}{param}, nodes {', '.join(waiver.nodes)}"


def _expired(waiver: Waiver, node: str, count: int) -> Finding:
    owner = f"; owner: {waiver.owner}" if waiver.owner else ""
    return Finding(
        rule=WAIVER_EXPIRED, node=node, status=Status.FAIL, severity=Severity.ERROR,
        message=(f"the waiver at {waiver.location} ({describe(waiver)}) expired on "
                 f"{waiver.expires.isoformat()}: {counted(count, 'finding')} it covers "
                 f"{'fails' if count == 1 else 'fail'} again "
                 f"(reason: {waiver.reason}{owner})"),
        param=waiver.param, location=waiver.location, remediation=RULES[0].remediation,
        waiver=waiver)


def _unused(waiver: Waiver, today: dt.date, fleet: Mapping[str, Collection[str]],
            checked: Collection[str]) -> Finding | None:
    named = [node for node, groups in fleet.items() if names(waiver, node, groups)]
    if named and not any(node in checked for node in named):
        return None
    lapsed = (f" expired on {waiver.expires.isoformat()} and" if waiver.expires < today
              else "")
    what = ("names no node of the inventory" if not named else
            "matches no failed finding on the "
            f"{counted(sum(n in checked for n in named), 'checked node')} it names")
    return Finding(
        rule=WAIVER_UNUSED, node=waiver.location.path, status=Status.FAIL,
        severity=Severity.WARNING,
        message=f"the waiver at {waiver.location} ({describe(waiver)}){lapsed} {what}",
        param=waiver.param, location=waiver.location, remediation=RULES[1].remediation,
        waiver=waiver)
