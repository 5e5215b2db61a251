"""Reading a JSON report back (awgcheck/report/load.py).

The round trip is checked on reports of real runs that, together, fill in
every field of the JSON format: a check with a node that cannot be read,
groups and waivers, a shard compared with a baseline (its passes omitted), a check whose source
could not be read, and a gate run with a change summary and a fleet
impact. If the format gains a field, the coverage test fails until one of
these runs fills it in, and then the round trip fails until the loader
reads it back. A key written only by some runs (as ``gate``, ``baseline``
or ``shard`` are) needs such a run here to be seen at all.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mesh_fleet
import paths
import pytest
import yaml
from scratch_fleet import CONF, Fleet, awgcheck, demo_copy, timeless

from awgcheck import limits
from awgcheck.report import FORMATS, GATE_FORMATS, load

# Every format each kind of run renders, json aside: (run, format).
RENDERED = [(name, fmt) for name, formats in (("check", FORMATS), ("source-unread", FORMATS),
                                               ("gate", GATE_FORMATS), ("mesh", FORMATS))
            for fmt in formats.names if fmt != "json"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo,
                   check=True, capture_output=True)


WAIVERS = [
    {"nodes": "partner-tbilisi", "rule": "compose-listener-mesh-bound", "owner": "alice",
     "reason": "the relay moves to the mesh address in Q3", "expires": "2099-12-31"},
    {"nodes": "group:edge", "rule": "must-match-drift", "param": "S4", "owner": "bob",
     "reason": "rotation in progress", "expires": "2020-01-31"},  # expired
    {"nodes": "partner-almaty", "rule": "side-local-drift", "param": "Jc",
     "reason": "vendor build", "expires": "2099-12-31"},  # covers nothing: unused
]


def _fleet_with_offline_node(tmp_path: Path) -> Fleet:
    """The demo fleet, a node that cannot be read, groups and waivers (one
    in force, one expired, one unused)."""
    fleet = demo_copy(tmp_path)
    fleet.add_node("partner-offline")

    def groups_and_waivers(data: dict[str, Any]) -> None:
        data["nodes"]["partner-berlin"]["groups"] = ["edge"]
        data["nodes"]["partner-tbilisi"]["groups"] = ["edge", "caucasus"]
        data["waivers"] = WAIVERS

    fleet.edit_inventory(groups_and_waivers)
    return fleet


def _gate_repo(tmp_path: Path) -> Path:
    """A repository whose gate report fills every gate field: a base, two
    must-match changes (a warning), and a note (a consumer glob that
    matches nothing); the fleet impact comes from --fleet-report."""
    repo = tmp_path / "mesh-config"
    server = (paths.DEMO / "nodes" / "server" / CONF).read_text()
    (repo / "server").mkdir(parents=True)
    (repo / "partners").mkdir()
    (repo / "server" / "awg0.conf").write_text(server)
    shutil.copy(paths.DEMO / "nodes" / "partner-berlin" / CONF, repo / "partners" / "berlin.conf")
    (repo / "awgcheck.yaml").write_text(yaml.safe_dump({
        "source": "server/awg0.conf",
        "consumers": {"confs": ["partners/*.conf"], "templates": ["templates/*.j2"]},
        "allow_unmatched_consumers": True}))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    (repo / "server" / "awg0.conf").write_text(
        server.replace("S4 = 18", "S4 = 19").replace("S3 = 36", "S3 = 37"))
    _git(repo, "commit", "-q", "-am", "rotate S3 and S4")
    return repo


def _gate(repo: Path, *args: str | Path) -> str:
    here = Path.cwd()
    os.chdir(repo)
    try:
        run = awgcheck("gate", "--base", "HEAD~1", *args)
    finally:
        os.chdir(here)
    assert run.code == 1, run.err
    return run.out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """Reports of real runs, each in every format: name -> format -> text."""
    tmp = tmp_path_factory.mktemp("runs")
    fleet = _fleet_with_offline_node(tmp)
    fleet.edit("partner-berlin", "S4 = 18", "S4 = 20")
    check = {fmt: fleet.check("--format", fmt).out for fmt in FORMATS.names}
    first = tmp / "night-1.json"
    first.write_text(check["json"])
    fleet.edit("partner-tbilisi", "S4 = 17", "S4 = 16")  # updated
    fleet.edit("partner-berlin", "Jc = 4", "Jc = 5")  # new
    fleet.edit("partner-berlin", "S4 = 20", "S4 = 18")  # resolved, with a symptom
    fleet.edit("partner-almaty", "1766607868 \n", "1766607868\n")  # resolved
    baseline = fleet.check("--format", "json", "--baseline", first, "--shard", "2/2",
                           "--omit-passes").out
    fleet.conf("server").unlink()  # the source of truth cannot be read
    unread = {fmt: fleet.check("--format", fmt).out for fmt in FORMATS.names}
    repo = _gate_repo(tmp)
    gate = {fmt: _gate(repo, "--fleet-report", first, "--format", fmt)
            for fmt in GATE_FORMATS.names}
    mesh = _faulty_mesh(tmp / "mesh")
    return {"check": check, "baseline": {"json": baseline}, "gate": gate,
            "source-unread": unread,
            "mesh": {fmt: awgcheck("check", "-i", mesh, "--format", fmt).out
                     for fmt in FORMATS.names}}


def _faulty_mesh(root: Path) -> Path:
    """A hub and two spokes, one of which forgot the hub: a finding with
    a related location (the hub's [Peer] for it)."""
    mesh = mesh_fleet.hub_and_spoke(["hub", "spoke1", "spoke2"])
    del mesh.nodes["spoke2"].peers["hub"]
    return mesh.write_trees(root)


CORPUS = ["check", "baseline", "gate", "source-unread", "mesh"]


@pytest.mark.parametrize("name", CORPUS)
def test_load_json_round_trip_is_identical(runs: dict[str, dict[str, str]], name: str) -> None:
    text = runs[name]["json"]
    assert FORMATS.render("json", load.parse(text.encode(), name)) == text


@pytest.mark.parametrize(("name", "fmt"), RENDERED, ids=[f"{n}-{f}" for n, f in RENDERED])
def test_load_renders_every_format_as_the_run_did(runs: dict[str, dict[str, str]], name: str,
                                                  fmt: str) -> None:
    # Each format came from a run of its own: they differ in their times.
    report = load.parse(runs[name]["json"].encode(), name)
    assert timeless(FORMATS.render(fmt, report)) == timeless(runs[name][fmt])


def _fields(value: Any, path: str = "") -> Iterator[tuple[str, bool]]:
    """(field path, filled in?) for every field in a JSON value; array
    items share one path (``findings[].param``)."""
    if isinstance(value, dict):
        if path:
            yield path, True
        for key, item in value.items():
            yield from _fields(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        yield path, bool(value)
        for item in value:
            yield from _fields(item, f"{path}[]")
    else:
        yield path, value is not None and value != ""


def test_load_corpus_fills_in_every_field_of_the_json_format(
        runs: dict[str, dict[str, str]]) -> None:
    filled: dict[str, bool] = {}
    for name in CORPUS:
        for path, value in _fields(json.loads(runs[name]["json"])):
            filled[path] = filled.get(path, False) or value
    empty = sorted(path for path, value in filled.items() if not value)
    assert not empty, ("fields no report of tests/report/test_load.py fills in, so the round "
                       f"trip does not test them: {empty}")
    assert {"baseline.previous_run", "resolved[].first_seen", "gate.impact.unknown[]",
            "shard.count",
            "nodes[].index", "nodes[].groups[]", "rules[].tags[]", "nodes[].error_class",
            "source.not_evaluated[]", "findings[].waiver.owner", "run.rules_digest",
            "findings[].related.location.line"} <= set(filled)


def test_load_every_field_of_a_check_report_is_in_docs_reports_md(
        runs: dict[str, dict[str, str]]) -> None:
    documented = (paths.ROOT / "docs" / "reports.md").read_text()
    keys = {path.rsplit(".", 1)[-1].removesuffix("[]")
            for name in ("check", "baseline", "source-unread", "mesh")
            for path, _ in _fields(json.loads(runs[name]["json"]))}
    assert sorted(key for key in keys if f'"{key}"' not in documented) == []


def test_load_text_with_escapes_comes_back_as_it_was_before_escaping(tmp_path: Path) -> None:
    fleet = demo_copy(tmp_path)
    fleet.edit("partner-berlin", "# awg0 on partner-berlin\n",
               "# awg0 on partner-berlin\nMTU\x1b[31m = 1\\x41\n")
    text = fleet.check("--format", "json").out
    assert "\\\\x1b[31m" in text and "\\\\\\\\x41" in text  # escaped once, as written
    report = load.parse(text.encode(), "report.json")
    assert any("\x1b[31m" in f.message for f in report.findings)
    assert FORMATS.render("json", report) == text


# --- what is not a report ---------------------------------------------------------------

VALID = '{"schema": "awgcheck.report/v1", "source": {"node": null, "path": "s.conf"}, ' \
        '"profile": "strict", "fail_on": "error", "nodes": [], "findings": []}'

BROKEN = [
    ("empty", b"", "not a JSON report: ends early: truncated"),
    ("truncated", VALID[:-20].encode(), "not a JSON report: ends early: truncated"),
    ("not-json", b"S4 = 18\n", "not a JSON report: Expecting value at line 1 column 1"),
    ("not-utf8", b'{"schema": "\xff"}', "not a JSON report: not UTF-8 text (byte 12)"),
    ("nan", VALID.replace('"nodes": []', '"nodes": NaN').encode(),
     "not a JSON report: NaN is not a JSON number"),
    ("deep", b"[" * 100_000 + b"]" * 100_000, "not a JSON report: nested too deeply"),
    ("array", b"[1, 2]", "not an awgcheck JSON report (no \"schema\": \"awgcheck.report/v2\""),
    ("sarif", b'{"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": []}',
     "not an awgcheck JSON report"),
    ("triage-schema", VALID.replace("report/v1", "triage/v1").encode(),
     "schema: schema 'awgcheck.triage/v1' is not awgcheck.report/v2 or awgcheck.report/v1"),
    ("no-findings", VALID.replace(', "findings": []', "").encode(), "findings: missing"),
    ("node-not-object", VALID.replace('"nodes": []', '"nodes": [7]').encode(),
     "nodes[0]: expected an object, found a number"),
    ("bad-status", VALID.replace('"nodes": []', '"nodes": [{"name": "a", "status": "ok"}]')
     .encode(), "nodes[0].status: 'ok' is not one of pass, fail, error, skip"),
    ("bool-line", VALID.replace('"findings": []', '"findings": [{"rule": "r", "node": "a", '
                                '"status": "fail", "severity": "error", "message": "m", '
                                '"location": {"path": "p", "line": true}}]').encode(),
     "findings[0].location.line: expected a whole number or null, found true"),
    ("bad-time", VALID.replace('"findings": []', '"findings": [{"rule": "r", "node": "a", '
                               '"status": "fail", "severity": "error", "message": "m", '
                               '"first_seen": "yesterday"}]').encode(),
     "findings[0].first_seen: 'yesterday' is not an ISO 8601 date and time with its time "
     "zone"),
    ("naive-time", VALID.replace('"findings": []', '"findings": [{"rule": "r", "node": "a", '
                                 '"status": "fail", "severity": "error", "message": "m", '
                                 '"first_seen": "2026-12-01T03:00:00"}]').encode(),
     "findings[0].first_seen: '2026-12-01T03:00:00' is not an ISO 8601 date and time with "
     "its time zone"),
    ("error-without-class", VALID.replace('"path": "s.conf"}', '"path": "s.conf", "error": '
                                          '"s.conf: file not found"}').encode(),
     "source.error_class: missing while error is set"),
    ("bad-profile", VALID.replace('"strict"', '"lenient"').encode(),
     "profile: 'lenient' is not one of strict, protocol"),
    ("long-value", VALID.replace('"strict"', '"' + "x" * 5000 + '"').encode(),
     "profile: '" + "x" * load.MAX_QUOTE + "...' is not one of"),
]


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_load_refuses_what_is_not_a_report_naming_file_and_place(
        tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "previous.json"
    path.write_bytes(data)
    with pytest.raises(load.ReportFileError) as caught:
        load.read(path, "--baseline")
    assert str(caught.value).startswith(f"--baseline {path}: ")
    assert message in str(caught.value)


def test_load_reads_the_minimal_report() -> None:
    report = load.parse(VALID.encode(), "r.json")
    assert (report.source_path, report.nodes, report.findings) == ("s.conf", (), ())


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p, "file not found"),
    (lambda p: p.mkdir() or p, "is a directory, not a file"),
    (lambda p: os.mkfifo(p) or p, "is a FIFO, not a regular file; not read"),
], ids=["missing", "folder", "fifo"])
def test_load_refuses_a_path_that_is_not_a_readable_file(tmp_path: Path, make: Any,
                                                         message: str) -> None:
    path = make(tmp_path / "previous.json")
    with pytest.raises(load.ReportFileError, match=f"^--baseline {path}: {message}"):
        load.read(path, "--baseline")


def test_load_refuses_a_report_over_the_size_cap(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.json"
    path.write_text(VALID + " " * 100)
    monkeypatch.setattr(limits, "MAX_REPORT_BYTES", len(VALID) + 50)
    with pytest.raises(load.ReportFileError, match="file is larger than"):
        load.read(path)


def test_load_refuses_a_gate_report_where_a_check_report_is_needed(
        runs: dict[str, dict[str, str]], tmp_path: Path) -> None:
    path = tmp_path / "gate.json"
    path.write_text(runs["gate"]["json"])
    with pytest.raises(load.ReportFileError,
                       match=f"^{path}: a report of awgcheck gate, not of check$"):
        load.read_check(path)


def test_load_errors_reach_the_terminal_escaped_without_traceback(tmp_path: Path) -> None:
    fleet = demo_copy(tmp_path)
    path = tmp_path / "evil.json"
    path.write_text(VALID.replace('"strict"', '"\\u001b]52;c;aGk=\\u0007"'))
    run = fleet.check("--baseline", path)
    assert run.code == 2
    assert run.err == (f"awgcheck: error: --baseline {path}: profile: "
                       "'\\x1b]52;c;aGk=\\x07' is not one of strict, protocol\n")
