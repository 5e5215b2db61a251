"""``check --omit-passes``: the JSON report of a large fleet without its
passing findings, still counting them; ``merge`` and ``--baseline`` read
such reports as they read full ones."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scratch_fleet import Fleet, awgcheck, demo_copy

STATUSES = ("pass", "fail", "error", "skip", "waived")


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    fleet = demo_copy(tmp_path)
    fleet.edit("partner-berlin", "Jc = 4", "Jc = 5")
    return fleet


def _counts(findings: list[dict[str, Any]]) -> dict[str, int]:
    found = Counter(f["status"] for f in findings)
    return {status: found[status] for status in STATUSES}


def _without_passes(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in findings if f["status"] != "pass"]


def test_omit_passes_lists_no_pass_and_counts_every_one(fleet: Fleet) -> None:
    full = fleet.check("--format", "json")
    lean = fleet.check("--format", "json", "--omit-passes")
    assert lean.code == full.code == 1
    whole, omitted = full.json(), lean.json()
    assert whole["omitted"] == [] and omitted["omitted"] == ["pass"]
    assert whole["summary"]["findings"] == _counts(whole["findings"])
    assert whole["summary"]["findings"]["pass"] > 100  # most of a report is passes
    assert omitted["findings"] == _without_passes(whole["findings"])
    assert omitted["summary"] == whole["summary"]  # passes still counted
    assert omitted["nodes"] == whole["nodes"]  # and node by node
    assert sum(n["passes"] for n in omitted["nodes"]) == whole["summary"]["findings"]["pass"]


def test_omit_passes_is_for_the_json_report_only(fleet: Fleet) -> None:
    run = fleet.check("--format", "junit", "--omit-passes")
    assert run.code == 2
    assert run.err == ("awgcheck: error: --omit-passes: only --format json lists passing "
                       "findings, not --format junit\n")


def test_merge_of_parts_without_passes_counts_them(fleet: Fleet, tmp_path: Path) -> None:
    full = fleet.check("--format", "json").json()
    parts = []
    for shard, omit in (("1/2", ("--omit-passes",)), ("2/2", ())):  # one part of each kind
        part = tmp_path / f"shard-{shard[0]}.json"
        fleet.night(part, "--shard", shard, *omit)
        parts.append(part)
    merged = awgcheck("merge", *parts, "--format", "json")
    assert merged.code == 1, merged.err
    report = merged.json()
    assert report["omitted"] == ["pass"]  # a part's passes are gone: none is listed
    assert report["findings"] == _without_passes(full["findings"])
    assert report["summary"] == full["summary"]
    assert report["nodes"] == full["nodes"]
    # and merged again, as merged reports may be
    again = awgcheck("merge", tmp_path / "shard-1.json", tmp_path / "shard-1.json",
                     "--format", "json")
    assert again.code in (0, 1), again.err
    assert again.json()["summary"]["findings"]["pass"] == sum(
        n["passes"] for n in again.json()["nodes"])


def test_baseline_without_passes_marks_the_same_states(fleet: Fleet, tmp_path: Path) -> None:
    lean, whole = tmp_path / "night-1-lean.json", tmp_path / "night-1.json"
    fleet.night(lean, "--omit-passes")
    fleet.night(whole)
    fleet.edit("partner-berlin", "Jc = 5", "Jc = 6")  # updated
    fleet.edit("partner-tbilisi", "S4 = 17", "S4 = 18")  # resolved
    against_lean = fleet.check("--format", "json", "--baseline", lean, "--omit-passes")
    against_whole = fleet.check("--format", "json", "--baseline", whole)
    assert against_lean.code == against_whole.code, against_lean.err
    lean_report, whole_report = against_lean.json(), against_whole.json()
    states = [(f["node"], f["rule"], f["param"], f["baseline_state"])
              for f in lean_report["findings"]]
    assert states == [(f["node"], f["rule"], f["param"], f["baseline_state"])
                      for f in _without_passes(whole_report["findings"])]
    assert ("partner-berlin", "side-local-drift", "Jc", "updated") in states
    resolved = [(f["node"], f["rule"], f["param"]) for f in lean_report["resolved"]]
    assert ("partner-tbilisi", "must-match-drift", "S4") in resolved
    assert resolved == [(f["node"], f["rule"], f["param"]) for f in whole_report["resolved"]]
    assert lean_report["summary"] == whole_report["summary"]
