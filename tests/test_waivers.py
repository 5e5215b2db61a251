"""Waivers: loading (every mistake names file and line), matching, expiry,
and the waiver-expired / waiver-unused findings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from awgcheck import inventory, waivers
from awgcheck.errors import InventoryError
from awgcheck.model import Finding, Location, Severity, Status, Waiver

TODAY = dt.date(2025, 6, 1)
FLEET = {"server": (), "partner-berlin": ("eu",), "partner-tbilisi": ("caucasus",),
         "partner-almaty": ()}


def waiver(nodes: tuple[str, ...] = ("partner-tbilisi",), rule: str = "must-match-drift",
           param: str | None = "S4", expires: dt.date = TODAY, line: int = 3) -> Waiver:
    return Waiver(nodes=nodes, rule=rule, reason="vendor build until the 2.1 upgrade",
                  expires=expires, location=Location("fleet.yaml", line), param=param,
                  owner="alice")


def finding(node: str = "partner-tbilisi", rule: str = "must-match-drift",
            param: str | None = "S4", status: Status = Status.FAIL) -> Finding:
    return Finding(rule=rule, node=node, status=status, severity=Severity.CRITICAL,
                   message=f"{param} differs", param=param)


def apply(findings: list[Finding], *given: Waiver, today: dt.date = TODAY,
          checked: tuple[str, ...] = tuple(FLEET)) -> list[Finding]:
    return waivers.apply(findings, given, today=today, fleet=FLEET, checked=checked)


# --- loading -------------------------------------------------------------------------

GOOD = """\
source: server
nodes:
  server: {local: nodes/server}
  partner-berlin: {local: nodes/partner-berlin, groups: [eu]}
waivers:
  - nodes: partner-berlin
    rule: side-local-drift
    param: Jc
    reason: vendor build until the 2.1 upgrade
    owner: alice
    expires: 2025-06-30
  - nodes: [group:eu, "partner-*"]
    rule: "canonical-*"
    reason: |
      cosmetic
    expires: "2025-07-01"
"""


def test_waivers_load_from_the_inventory_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(GOOD)
    fleet = inventory.load(path)
    first, second = fleet.waivers
    assert first == Waiver(nodes=("partner-berlin",), rule="side-local-drift",
                           reason="vendor build until the 2.1 upgrade",
                           expires=dt.date(2025, 6, 30), location=Location(str(path), 6),
                           param="Jc", owner="alice")
    assert second.nodes == ("group:eu", "partner-*") and second.param is None
    assert second.reason == "cosmetic" and second.owner is None
    assert second.expires == dt.date(2025, 7, 1) and second.location.line == 12
    assert fleet.node("partner-berlin").groups == ("eu",)


def test_waivers_load_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text("# accepted\nwaivers:\n  - {nodes: a, rule: r, reason: why, "
                    "expires: 2025-01-02}\n")
    (only,) = waivers.load_file(path)
    assert only.location == Location(str(path), 3) and only.expires == dt.date(2025, 1, 2)


def test_waivers_empty_list_is_no_waivers(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text("waivers:\n")
    assert waivers.load_file(path) == ()


BAD = [
    ("- nodes: a\n  rule: r\n  expires: 2025-01-02\n", 3,
     "waiver 1: missing required key 'reason' (a waiver says why the failure is accepted)"),
    ("- nodes: a\n  rule: r\n  reason: why\n", 3,
     "waiver 1: missing required key 'expires' (a waiver ends: YYYY-MM-DD)"),
    ("- {nodes: a, rule: r, reason: why, expires: 2025-01-02}\n"
     "- nodes: a\n  rule: r\n  reason: ''\n  expires: 2025-01-02\n", 6,
     "waiver 2: key 'reason' is empty"),
    ("- nodes: a\n  rule: r\n  reason:\n  expires: 2025-01-02\n", 5,
     "waiver 1: key 'reason' is empty"),
    ("- nodes: a\n  rule: r\n  reason: why\n  expires: 2025-02-30\n", 6,
     "waiver 1: key 'expires' must be a date YYYY-MM-DD, got '2025-02-30'"),
    ("- nodes: a\n  rule: r\n  reason: why\n  expires: next year\n", 6,
     "key 'expires' must be a date YYYY-MM-DD, got 'next year'"),
    ("- nodes: a\n  rule: r\n  reason: why\n  expires: 2025-1-2\n", 6,
     "key 'expires' must be a date YYYY-MM-DD"),
    ("- nodes: a\n  rule: r\n  reason: why\n  expires: 2025-01-02\n  colour: red\n", 7,
     "waiver 1: unknown key 'colour' (allowed: nodes, rule, param, reason, owner, expires)"),
    ("- nodes: []\n  rule: r\n  reason: why\n  expires: 2025-01-02\n", 3,
     "key 'nodes' is an empty list"),
    ("- nodes: 'group:'\n  rule: r\n  reason: why\n  expires: 2025-01-02\n", 3,
     "'group:' needs a group name"),
    ("- nodes: [a, {b: c}]\n  rule: r\n  reason: why\n  expires: 2025-01-02\n", 3,
     "key 'nodes' must be a node name, glob or group:NAME"),
    ("- nodes: a\n  rule: [r]\n  reason: why\n  expires: 2025-01-02\n", 4,
     "key 'rule' must be text"),
    ("- just a string\n", 3, "waiver 1: a waiver must be a mapping"),
    ("  {nodes: a}\n", 3, "key 'waivers' must be a list of waivers"),
]


@pytest.mark.parametrize(("body", "line", "message"), BAD,
                         ids=["no-reason", "no-expires", "empty-reason", "null-reason",
                              "impossible-date", "not-a-date", "short-date", "unknown-key",
                              "no-nodes", "empty-group", "nodes-mapping", "rule-list",
                              "not-a-mapping", "not-a-list"])
def test_waivers_mistakes_name_file_and_line(tmp_path: Path, body: str, line: int,
                                             message: str) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text("source: server\nwaivers:\n" + "\n".join(
        "  " + row if row else row for row in body.split("\n")) +
        "nodes:\n  server: {local: nodes/server}\n")
    with pytest.raises(InventoryError) as caught:
        inventory.load(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)


@pytest.mark.parametrize(("text", "message"), [
    ("rules: []\n", "a waivers file must be a mapping with one key 'waivers'"),
    ("waivers: []\nextra: 1\n", "a waivers file must be a mapping with one key 'waivers'"),
    ("waivers: [\n", "not valid YAML"),
], ids=["wrong-key", "extra-key", "yaml"])
def test_waivers_file_shape_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    with pytest.raises(InventoryError, match=message):
        waivers.load_file(path)


def test_waivers_file_missing(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="waivers file not found"):
        waivers.load_file(tmp_path / "nope.yaml")


def test_waivers_a_key_pasted_into_a_reason_is_digested(tmp_path: Path) -> None:
    key = "6Bq1S2oWm1dP8rB4gJ2wGk0YbX6S9uQm3kLr5n7tZ0E="
    path = tmp_path / "waivers.yaml"
    path.write_text(f"waivers:\n  - {{nodes: a, rule: r, reason: 'old key {key}', "
                    "expires: 2025-01-02}\n")
    (only,) = waivers.load_file(path)
    assert key not in only.reason and only.reason.startswith("old key sha256:")


# --- matching ------------------------------------------------------------------------

@pytest.mark.parametrize(("nodes", "node", "expected"), [
    (("partner-tbilisi",), "partner-tbilisi", True),
    (("partner-tbilisi",), "partner-berlin", False),
    (("partner-*",), "partner-berlin", True),
    (("partner-*",), "server", False),
    (("Partner-*",), "partner-berlin", False),  # names are case-sensitive
    (("group:eu",), "partner-berlin", True),
    (("group:eu",), "partner-tbilisi", False),
    (("group:e*",), "partner-berlin", False),  # a group is named exactly
    (("server", "group:caucasus"), "partner-tbilisi", True),
], ids=["name", "other-name", "glob", "glob-miss", "case", "group", "group-miss",
        "group-no-glob", "list"])
def test_waivers_names_nodes_by_name_glob_and_group(nodes: tuple[str, ...], node: str,
                                                    expected: bool) -> None:
    assert waivers.names(waiver(nodes), node, FLEET[node]) is expected


def test_waivers_name_a_node_exactly_as_node_does() -> None:
    # The exact name first, as `--node` does: `web[1]` is that node, not
    # only the glob that means `web1`.
    assert waivers.names(waiver(("web[1]",)), "web[1]", ()) is True
    assert waivers.names(waiver(("web[1]",)), "web1", ()) is True
    assert waivers.names(waiver(("web[1]",)), "web2", ()) is False


@pytest.mark.parametrize(("rule", "param", "found", "expected"), [
    ("must-match-drift", "S4", finding(), True),
    ("must-match-drift", None, finding(param="H1"), True),
    ("must-match-drift", "S4", finding(param="H1"), False),
    ("must-match-drift", "s4", finding(), False),  # param as findings name it
    ("*-drift", "S4", finding(), True),
    ("side-local-drift", "S4", finding(), False),
], ids=["exact", "any-param", "other-param", "param-case", "rule-glob", "other-rule"])
def test_waivers_covers_rule_and_param(rule: str, param: str | None, found: Finding,
                                       expected: bool) -> None:
    assert waivers.covers(waiver(rule=rule, param=param), found, ()) is expected


# --- applying ------------------------------------------------------------------------

def test_waivers_a_waiver_in_force_waives_its_failed_finding() -> None:
    accepted = waiver()
    out = apply([finding(), finding(param="H1")], accepted)
    assert [f.status for f in out] == [Status.WAIVED, Status.FAIL]
    assert out[0].waiver == accepted and out[1].waiver is None
    assert not out[0].failed


def test_waivers_hold_through_their_expiry_day_and_lapse_the_next() -> None:
    accepted = waiver(expires=TODAY)
    assert apply([finding()], accepted)[0].status is Status.WAIVED
    lapsed = apply([finding()], accepted, today=TODAY + dt.timedelta(days=1))
    assert lapsed[0].status is Status.FAIL


def test_waivers_only_failed_findings_are_waived() -> None:
    out = apply([finding(status=Status.PASS), finding(status=Status.ERROR), finding()],
                waiver())
    assert [f.status for f in out] == [Status.PASS, Status.ERROR, Status.WAIVED]


def test_waivers_expired_waiver_fails_its_findings_and_names_itself_once_per_node() -> None:
    old = waiver(nodes=("partner-*",), param=None, expires=dt.date(2025, 1, 31), line=9)
    found = [finding(), finding(param="H1"), finding(node="partner-berlin")]
    out = apply(found, old)
    assert out[:3] == found  # nothing waived
    expired = out[3:]
    assert [(f.rule, f.node, f.status, f.severity) for f in expired] == [
        ("waiver-expired", "partner-tbilisi", Status.FAIL, Severity.ERROR),
        ("waiver-expired", "partner-berlin", Status.FAIL, Severity.ERROR)]
    first = expired[0]
    assert first.location == Location("fleet.yaml", 9) and first.waiver == old
    assert first.message == (
        "the waiver at fleet.yaml:9 (rule must-match-drift, nodes partner-*) expired on "
        "2025-01-31: 2 findings it covers fail again (reason: vendor build until the "
        "2.1 upgrade; owner: alice)")


def test_waivers_unused_waiver_is_a_warning_about_its_file() -> None:
    stale = waiver(nodes=("partner-berlin",), line=12)
    out = apply([finding()], stale)
    (unused,) = out[1:]
    assert (unused.rule, unused.node, unused.status, unused.severity) == (
        "waiver-unused", "fleet.yaml", Status.FAIL, Severity.WARNING)
    assert unused.location == Location("fleet.yaml", 12) and unused.waiver == stale
    assert "matches no failed finding on the 1 checked node it names" in unused.message


def test_waivers_naming_no_node_of_the_inventory_is_unused() -> None:
    (unused,) = apply([], waiver(nodes=("partner-tbilissi",)))
    assert unused.rule == "waiver-unused" and "names no node of the inventory" in unused.message


def test_waivers_on_nodes_not_checked_say_nothing() -> None:
    """--node, or an unreachable node: whether the waiver is still needed is unknown."""
    assert apply([], waiver(), checked=("server", "partner-berlin")) == []


def test_waivers_expired_and_unused_says_both() -> None:
    (unused,) = apply([], waiver(expires=dt.date(2024, 1, 1)))
    assert unused.rule == "waiver-unused"
    assert "expired on 2024-01-01 and matches no failed finding" in unused.message


def test_waivers_a_renewed_waiver_beside_the_expired_one_wins() -> None:
    """An entry renewed by adding a new one: the finding stays waived, and the
    old entry is only reported as unused (a warning), not expired (an error)."""
    old = waiver(expires=dt.date(2025, 1, 1), line=3)
    new = waiver(expires=dt.date(2025, 12, 31), line=9)
    out = apply([finding()], old, new)
    assert out[0].status is Status.WAIVED and out[0].waiver == new
    assert [(f.rule, f.waiver) for f in out[1:]] == [("waiver-unused", old)]


def test_waivers_first_waiver_in_force_wins_and_the_other_is_unused() -> None:
    first, second = waiver(line=3), waiver(param=None, line=9)
    out = apply([finding()], first, second)
    assert out[0].waiver == first
    assert [(f.rule, f.waiver) for f in out[1:]] == [("waiver-unused", second)]


def test_waivers_none_leave_findings_alone() -> None:
    found = [finding(), finding(status=Status.PASS)]
    assert apply(found) == found


def test_waivers_example_in_the_docs_loads(tmp_path: Path) -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "inventory.md").read_text()
    example = docs.split("## Waivers", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "waivers.yaml"
    path.write_text(example)
    first, second = waivers.load_file(path)
    assert (first.nodes, first.rule, first.param, first.owner, first.expires) == (
        ("partner-tbilisi",), "side-local-drift", "Jc", "alice", dt.date(2025, 6, 30))
    assert second.nodes == ("group:caucasus", "partner-almaty") and second.param is None
