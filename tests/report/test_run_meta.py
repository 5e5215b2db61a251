"""Run metadata on every check report: the awgcheck version, start and end
in UTC, duration, the inventory and the rules digest, in each format."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import paths
from click.testing import CliRunner
from report.test_sarif_format import validate as validate_sarif

from awgcheck import __version__
from awgcheck.cli.main import main
from awgcheck.ruleset import load as ruleset

DEMO = paths.DEMO / "fleet.yaml"
RULES = paths.ROOT / "rules"


def check(*args: str) -> str:
    result = CliRunner().invoke(main, ["check", "-i", str(DEMO), *args])
    assert result.exit_code == 1, result.output  # the demo fleet's drift
    return result.stdout


def utc(text: str) -> dt.datetime:
    """An ISO 8601 UTC time as the reports write it (``...Z``)."""
    assert text.endswith("Z"), text
    moment = dt.datetime.fromisoformat(text)
    assert moment.utcoffset() == dt.timedelta(0)
    return moment


def run_of(*args: str) -> dict[str, Any]:
    run: dict[str, Any] = json.loads(check("--format", "json", *args))["run"]
    return run


def test_run_meta_json() -> None:
    before = dt.datetime.now(dt.UTC)
    run = run_of()
    after = dt.datetime.now(dt.UTC)
    assert set(run) == {"version", "started_at", "finished_at", "duration_s", "inventory",
                        "rules_digest"}
    assert run["version"] == __version__ and run["inventory"] == str(DEMO)
    started, finished = utc(run["started_at"]), utc(run["finished_at"])
    # Written to the millisecond: compare at that precision.
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= started
    assert started <= finished <= after
    assert run["duration_s"] == round((finished - started).total_seconds(), 3)
    assert run["rules_digest"] == ruleset.load_shipped().digest


def test_run_meta_sarif_invocation_times_and_version() -> None:
    document = json.loads(check("--format", "sarif"))
    validate_sarif(document)
    sarif_run = document["runs"][0]
    assert sarif_run["tool"]["driver"]["version"] == __version__
    invocation = sarif_run["invocations"][0]
    assert utc(invocation["startTimeUtc"]) <= utc(invocation["endTimeUtc"])
    assert invocation["properties"]["inventory"] == str(DEMO)
    assert invocation["properties"]["rulesDigest"] == ruleset.load_shipped().digest


def test_run_meta_junit_timestamp_and_time() -> None:
    root = ET.fromstring(check("--format", "junit"))
    assert float(root.get("time") or "-1") >= 0
    stamps = {suite.get("timestamp") for suite in root.iter("testsuite")}
    (stamp,) = stamps  # the run's start, on every suite
    moment = dt.datetime.fromisoformat(stamp or "")
    assert moment.tzinfo is None  # the JUnit schema allows no zone: it is UTC
    assert abs(moment - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(minutes=5)


def test_run_meta_table_and_markdown_footer() -> None:
    digest = ruleset.load_shipped().digest
    lines = check("--width", "300").splitlines()  # wide enough for the footer on one line
    footer = lines[-3]  # the node counts, then the verdict line stay last
    assert footer.startswith(f"awgcheck {__version__}, ")
    assert footer.endswith(f", inventory {DEMO}, rules {digest[:len('sha256:') + 12]}")
    started, _, rest = footer.removeprefix(f"awgcheck {__version__}, ").partition(" to ")
    finished = rest.split(" ", 1)[0]
    assert utc(started) <= utc(finished)
    markdown = check("--format", "markdown").rstrip().splitlines()
    assert markdown[-1].startswith(f"awgcheck {__version__}, ")
    assert f"rules {digest[:len('sha256:') + 12]}" in markdown[-1]


def test_run_meta_digest_follows_the_rules_used(tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(RULES, copy, ignore=shutil.ignore_patterns("*.py"))
    same = run_of("--rules", str(copy))["rules_digest"]
    assert same == run_of()["rules_digest"]  # the same rules, from another folder
    drift = copy / "drift.yaml"
    drift.write_text(drift.read_text().replace("severity: critical", "severity: error", 1))
    changed = run_of("--rules", str(copy))["rules_digest"]
    assert changed != same and changed.startswith("sha256:") and len(changed) == 7 + 64
