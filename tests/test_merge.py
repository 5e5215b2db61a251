"""``awgcheck merge``: reports of parts of a scratch fleet, each a real
``check --node`` run, merged through the real CLI and compared with one
run over the whole fleet, in every format."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import paths
import pytest
from jsonschema import Draft7Validator
from scratch_fleet import Fleet, Run, awgcheck, demo_copy, timeless

from awgcheck.report import FORMATS

SARIF_SCHEMA = paths.ASSETS / "sarif" / "sarif-schema-2.1.0.json"
# In 3 shards: almaty | berlin, offline (which cannot be read) | server,
# tbilisi, late; in 4, the first shard is empty.


WAIVERS = [
    # Used on tbilisi (one part), unused on almaty (another): not unused.
    {"nodes": ["partner-tbilisi", "partner-almaty"], "rule": "compose-listener-mesh-bound",
     "reason": "the relay moves in Q3", "expires": "2099-12-31"},
    # Covers nothing on the 3 edge nodes, which are in three parts: one
    # finding that counts them all.
    {"nodes": "group:edge", "rule": "legacy-keys", "reason": "old installer",
     "expires": "2099-12-31"},
    # Expired: partner-late's S3 drift fails again.
    {"nodes": "partner-late", "rule": "must-match-drift", "reason": "rotation",
     "expires": "2020-01-31"},
    # Names no node: said the same by every part.
    {"nodes": "ghost-*", "rule": "*", "reason": "typo", "expires": "2099-12-31"},
]


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    fleet = demo_copy(tmp_path)
    fleet.add_node("partner-offline")
    fleet.add_node("partner-late", conf=fleet.conf("partner-berlin").read_text()
                   .replace("S3 = 36", "S3 = 30"))

    def groups_and_waivers(data: dict[str, Any]) -> None:
        for name in ("partner-berlin", "partner-tbilisi", "partner-late"):
            data["nodes"][name]["groups"] = ["edge"]
        data["waivers"] = WAIVERS

    fleet.edit_inventory(groups_and_waivers)
    return fleet


def _shards(fleet: Fleet, tmp_path: Path, *args: str | Path, count: int = 3) -> list[Path]:
    """The report of each shard, written as a nightly CI matrix would; the
    last shard first, so the order given to merge is not the inventory's."""
    files = []
    for index in range(1, count + 1):
        path = tmp_path / f"shard-{index}-of-{count}.json"
        fleet.night(path, *args, "--shard", f"{index}/{count}")
        files.append(path)
    return files[::-1]


def _parts(fleet: Fleet, tmp_path: Path, *parts: tuple[str, ...]) -> list[Path]:
    """One report per ``check --node ...`` run, in the order given."""
    files = []
    for i, nodes in enumerate(parts):
        path = tmp_path / f"part-{i}.json"
        fleet.night(path, *(word for node in nodes for word in ("--node", node)))
        files.append(path)
    return files


def merge(*args: str | Path) -> Run:
    return awgcheck("merge", *args)


@pytest.mark.parametrize("fmt", FORMATS.names)
def test_merge_of_parts_is_the_report_of_one_run(fleet: Fleet, tmp_path: Path,
                                                 fmt: str) -> None:
    # Only the run's times differ (they are the parts', not the whole run's).
    whole = fleet.check("--format", fmt)
    shards = _shards(fleet, tmp_path)
    assert all(json.loads(s.read_text())["nodes"] for s in shards)  # each holds some
    merged = merge(*shards, "--format", fmt)
    assert merged.code == whole.code == 5
    assert merged.err == ""
    assert timeless(merged.out) == timeless(whole.out)
    if fmt == "junit":
        suites = ET.fromstring(merged.out)
        assert [s.get("name") for s in suites] == [
            "server", "partner-berlin", "partner-tbilisi", "partner-almaty", "partner-offline",
            "partner-late", str(fleet.inventory)]  # the waivers that matched nothing
    if fmt == "sarif":
        Draft7Validator(json.loads(SARIF_SCHEMA.read_text()),
                        format_checker=Draft7Validator.FORMAT_CHECKER).validate(
            json.loads(merged.out))


def test_merge_of_shards_with_an_empty_one_is_the_report_of_one_run(
        fleet: Fleet, tmp_path: Path) -> None:
    shards = _shards(fleet, tmp_path, count=4)
    assert [len(json.loads(s.read_text())["nodes"]) for s in shards[::-1]] == [0, 2, 1, 3]
    merged = merge(*shards, "--format", "json")
    assert (merged.code, merged.err) == (5, "")
    assert timeless(merged.out) == timeless(fleet.check("--format", "json").out)
    assert "shard" not in merged.json()  # the whole fleet, no share of it


def test_merge_of_some_shards_says_the_others_are_missing(fleet: Fleet, tmp_path: Path) -> None:
    shards = _shards(fleet, tmp_path)  # 3/3, 2/3, 1/3
    run = merge(shards[0], shards[2], "--format", "json")
    assert run.err == ("awgcheck: warning: shard 2/3 missing: the merged report covers "
                       "only part of the fleet\n")
    assert [n["name"] for n in run.json()["nodes"]] == [
        "server", "partner-tbilisi", "partner-almaty", "partner-late"]


def test_merge_refuses_shards_of_different_counts(fleet: Fleet, tmp_path: Path) -> None:
    three, four = tmp_path / "three.json", tmp_path / "four.json"
    fleet.night(three, "--shard", "1/3")
    fleet.night(four, "--shard", "2/4")
    run = merge(three, four)
    assert run.code == 2
    assert run.err.startswith(f"awgcheck: error: {four}: is a shard of 4, but {three}: 3;")


def test_merge_keeps_what_reading_each_node_said_with_its_node(fleet: Fleet,
                                                               tmp_path: Path) -> None:
    # --runtime on a local tree: reading each node adds a runtime-unavailable
    # warning; a run lists it with its node, so the parts merge back the same.
    whole = fleet.check("--format", "json", "--runtime")
    nodes = [f["node"] for f in whole.json()["findings"]]
    assert [n for i, n in enumerate(nodes) if i == 0 or nodes[i - 1] != n] == [
        "server", "partner-berlin", "partner-tbilisi", "partner-almaty", "partner-late",
        str(fleet.inventory)]  # then the findings about no node: unused waivers
    assert len([f for f in whole.json()["findings"] if f["rule"] == "runtime-unavailable"]) == 5
    merged = merge(*_shards(fleet, tmp_path, "--runtime"), "--format", "json")
    assert (merged.code, timeless(merged.out)) == (whole.code, timeless(whole.out))


def test_merge_of_parts_that_could_not_read_the_source_is_one_such_run(
        fleet: Fleet, tmp_path: Path) -> None:
    fleet.conf("server").unlink()
    parts = _shards(fleet, tmp_path)
    for fmt in ("json", "table"):
        whole = fleet.check("--format", fmt)
        merged = merge(*parts, "--format", fmt)
        assert (merged.code, timeless(merged.out), merged.err) == (
            whole.code, timeless(whole.out), "")
    source = merge(*parts, "--format", "json").json()["source"]
    assert source["error_class"] == "file_missing"
    assert "must-match-drift" in source["not_evaluated"]


def test_merge_says_the_source_unread_when_one_part_could_not_read_it(
        fleet: Fleet, tmp_path: Path) -> None:
    read, unread = tmp_path / "read.json", tmp_path / "unread.json"
    fleet.night(read, "--node", "partner-berlin")
    fleet.conf("server").unlink()
    fleet.night(unread, "--node", "partner-tbilisi")
    run = merge(read, unread, "--format", "json")
    # tbilisi's relay finding is waived, and its S4 drift was not evaluated:
    # not a pass but "could not check everything".
    assert run.code == 4
    assert run.json()["source"]["error_class"] == "file_missing"
    assert run.err == (f"awgcheck: warning: the source of truth could not be read in {unread} "
                       "but could in the other reports: the merged report says it could not be "
                       "read\n")


def test_merge_of_one_report_gives_it_back(fleet: Fleet, tmp_path: Path) -> None:
    path = tmp_path / "whole.json"
    fleet.night(path)
    merged = merge(path, "--format", "json")
    assert (merged.code, merged.out) == (5, path.read_text())


def test_merge_exit_code_is_recomputed(fleet: Fleet, tmp_path: Path) -> None:
    berlin, almaty = _parts(fleet, tmp_path, ("partner-berlin",), ("partner-almaty",))
    assert [json.loads(f.read_text())["summary"]["exit_code"] for f in (berlin, almaty)] == [
        0, 0]
    fleet.edit("partner-berlin", "S4 = 18", "S4 = 19")
    failing = tmp_path / "failing.json"
    fleet.night(failing, "--node", "partner-berlin")
    assert merge(almaty, failing).code == 1
    assert merge(almaty, berlin).code == 0


def _started(path: Path) -> str:
    return str(json.loads(path.read_text())["run"]["started_at"])


def test_merge_run_spans_its_parts(fleet: Fleet, tmp_path: Path) -> None:
    parts = _shards(fleet, tmp_path)
    runs = [json.loads(p.read_text())["run"] for p in parts]
    run = merge(*parts, "--format", "json").json()["run"]
    assert run["started_at"] == min(r["started_at"] for r in runs)
    assert run["finished_at"] == max(r["finished_at"] for r in runs)
    assert run["duration_s"] > max(r["duration_s"] for r in runs)  # the parts ran one by one
    assert (run["version"], run["rules_digest"], run["inventory"]) == (
        runs[0]["version"], runs[0]["rules_digest"], runs[0]["inventory"])


def test_merge_counts_a_waiver_unused_over_every_part(fleet: Fleet, tmp_path: Path) -> None:
    parts = _shards(fleet, tmp_path)
    unused = [f for p in parts for f in json.loads(p.read_text())["findings"]
              if f["rule"] == "waiver-unused"]
    # Each part alone: the relay waiver unused on almaty, the edge waiver
    # on the one or two edge nodes it checked, the ghost waiver everywhere.
    assert sum("compose-listener-mesh-bound" in f["message"] for f in unused) == 1
    merged = [f for f in merge(*parts, "--format", "json").json()["findings"]
              if f["rule"] == "waiver-unused"]
    assert [(f["node"], f["message"].split(") ", 1)[1]) for f in merged] == [
        (str(fleet.inventory), "matches no failed finding on the 3 checked nodes it names"),
        (str(fleet.inventory), "names no node of the inventory")]
    assert [f["waiver"]["rule"] for f in merged] == ["legacy-keys", "*"]


def test_merge_of_parts_compared_with_a_baseline_is_one_run_compared_with_it(
        fleet: Fleet, tmp_path: Path) -> None:
    first = tmp_path / "night-1.json"
    fleet.night(first)
    fleet.edit("partner-tbilisi", "S4 = 17", "S4 = 18")  # resolved
    fleet.edit("partner-berlin", "Jc = 4", "Jc = 5")  # new
    parts = _shards(fleet, tmp_path, "--baseline", first, "--fail-on-new")
    for fmt in FORMATS.names:
        whole = fleet.check("--format", fmt, "--baseline", first, "--fail-on-new")
        merged = merge(*parts, "--format", fmt)
        assert merged.code == whole.code == 5
        assert timeless(merged.out) == timeless(whole.out)
    report = merge(*parts, "--format", "json").json()
    started = min(_started(p) for p in parts)
    assert report["run"]["started_at"] == started
    assert {f["first_seen"] for f in report["findings"] if f["baseline_state"] == "new"} == {
        started}
    assert {f["first_seen"] for f in report["findings"]
            if f["baseline_state"] == "unchanged"} == {_started(first)}
    assert [f["node"] for f in report["resolved"]] == ["partner-tbilisi"]


@pytest.mark.parametrize(("args", "message"), [
    (("--profile", "protocol"), "--profile protocol, but {first}: strict"),
    (("--fail-on", "critical"), "--fail-on critical, but {first}: error"),
    (("--rules", str(paths.ROOT / "rules" / "params.yaml")), "ran rules sha256:"),
], ids=["profile", "fail-on", "rules"])
def test_merge_refuses_reports_of_different_runs(fleet: Fleet, tmp_path: Path,
                                                 args: tuple[str, ...], message: str) -> None:
    first = tmp_path / "first.json"
    fleet.night(first, "--node", "partner-berlin")
    other = tmp_path / "other.json"
    fleet.night(other, "--node", "partner-almaty", *args)
    run = merge(first, other)
    assert run.code == 2
    assert run.err.startswith(f"awgcheck: error: {other}: ")
    assert message.format(first=first) in run.err
    assert run.out == ""


def test_merge_refuses_reports_of_another_awgcheck(fleet: Fleet, tmp_path: Path) -> None:
    first, other = tmp_path / "first.json", tmp_path / "other.json"
    fleet.night(first, "--node", "partner-berlin")
    fleet.night(other, "--node", "partner-almaty")
    report = json.loads(other.read_text())
    version = report["run"]["version"]
    report["run"]["version"] = "9.9.9"
    other.write_text(json.dumps(report))
    run = merge(first, other)
    assert (run.code, run.err) == (2, f"awgcheck: error: {other}: ran awgcheck 9.9.9, but "
                                      f"{first}: {version}; merge combines reports of one run, "
                                      "cut in parts\n")


def test_merge_refuses_reports_against_another_source_file(fleet: Fleet,
                                                           tmp_path: Path) -> None:
    inventory = fleet.inventory.read_text()
    server = fleet.conf("server")
    copy = tmp_path / "copy.conf"
    copy.write_text(server.read_text())
    one, other = tmp_path / "one.json", tmp_path / "other.json"
    fleet.inventory.write_text(inventory.replace("source: server", f"source: {server}"))
    fleet.night(one, "--node", "partner-berlin")
    fleet.inventory.write_text(inventory.replace("source: server", f"source: {copy}"))
    fleet.night(other, "--node", "partner-almaty")
    run = merge(one, other)
    assert run.code == 2
    assert run.err == (f"awgcheck: error: {other}: source of truth {copy}, but {one}: "
                       f"{server}; merge combines reports of one run, cut in parts\n")


def test_merge_refuses_parts_compared_with_and_without_a_baseline(
        fleet: Fleet, tmp_path: Path) -> None:
    night = tmp_path / "night-1.json"
    fleet.night(night)
    with_baseline, without = tmp_path / "a.json", tmp_path / "b.json"
    fleet.night(with_baseline, "--node", "partner-berlin", "--baseline", night)
    fleet.night(without, "--node", "partner-almaty")
    run = merge(with_baseline, without)
    assert run.code == 2
    assert f"{without}: --baseline not given, but {with_baseline}: given" in run.err


def test_merge_refuses_a_node_with_other_results_in_two_reports(fleet: Fleet,
                                                                 tmp_path: Path) -> None:
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    fleet.night(before, "--node", "partner-berlin")
    fleet.edit("partner-berlin", "S4 = 18", "S4 = 19")
    fleet.night(after, "--node", "partner-berlin")
    run = merge(before, after)
    assert run.code == 2
    assert run.err == (f"awgcheck: error: {after}: node partner-berlin is also in {before}, "
                       "with other results: merge combines reports of one run, cut in parts\n")
    assert merge(before, before).code == 0  # the same report twice is the same results


def test_merge_warns_when_the_source_node_differs_between_reports(fleet: Fleet,
                                                                   tmp_path: Path) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    # Two --node runs that both name the source node.
    fleet.night(first, "--node", "server", "--node", "partner-berlin")
    fleet.edit("server", "Jc = 4", "Jc = 5")  # the source changed between the parts
    fleet.night(second, "--node", "server", "--node", "partner-almaty")
    run = merge(first, second, "--format", "json")
    assert run.err == (f"awgcheck: warning: {second}: the source node server has other "
                       f"results than in {first} (did it change between the runs?); kept "
                       f"those of {first}\n")
    server = [f for f in run.json()["findings"] if f["node"] == "server" and f["param"] == "Jc"]
    assert {f["actual"] for f in server} == {"4"}


@pytest.mark.parametrize(("text", "message"), [
    ("", "not a JSON report: ends early: truncated"),
    ('{"hello": 1}', "not an awgcheck JSON report"),
], ids=["empty", "other-json"])
def test_merge_names_the_file_that_is_not_a_report(fleet: Fleet, tmp_path: Path, text: str,
                                                   message: str) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    fleet.night(good, "--node", "partner-berlin")
    bad.write_text(text)
    run = merge(good, bad)
    assert run.code == 2
    assert run.err.startswith(f"awgcheck: error: {bad}: {message}")


def test_merge_needs_a_report(fleet: Fleet) -> None:
    run = merge()
    assert run.code == 2
    assert "Missing argument 'REPORT.json...'" in run.err


def test_merge_output_is_written_atomically(fleet: Fleet, tmp_path: Path) -> None:
    parts = _shards(fleet, tmp_path)
    target = tmp_path / "out" / "merged.sarif"
    run = merge(*parts, "--format", "sarif", "-o", target)
    assert run.code == 2
    assert run.err == (f"awgcheck: error: --output {target}: folder {target.parent} does not "
                       "exist\n")
    target.parent.mkdir()
    target.write_text("yesterday's report")
    os.chmod(target, 0o640)
    run = merge(*parts, "--format", "sarif", "-o", target)
    assert (run.code, run.out) == (5, "")
    assert timeless(target.read_text()) == timeless(fleet.check("--format", "sarif").out)
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in target.parent.iterdir()] == ["merged.sarif"]
