"""Prometheus text exposition: parsed back with the Prometheus Python
client's own parser, as node_exporter's textfile collector would read it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import paths
import pytest
import yaml
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from awgcheck import __version__
from awgcheck.cli.main import main
from awgcheck.errors import ErrorClass
from awgcheck.model import (
    Finding,
    NodeResult,
    Report,
    RuleMeta,
    Severity,
    SourceFailure,
    Status,
)
from awgcheck.report import FORMATS, prometheus
from awgcheck.text import printable

DEMO = paths.DEMO / "fleet.yaml"
CONF = "etc/amnezia/amneziawg/awg0.conf"
Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def parse(text: str) -> Samples:
    """Every sample by family and label set; each family once, a gauge with
    help, an ``awgcheck_`` name, no timestamp (the textfile collector refuses
    them), no label set twice."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        assert family.name.startswith("awgcheck_") and family.name not in found
        assert family.type == "gauge" and family.documentation
        samples = found.setdefault(family.name, {})
        for sample in family.samples:
            assert sample.name == family.name and sample.timestamp is None
            key = tuple(sorted(sample.labels.items()))
            assert key not in samples, f"{family.name}{sample.labels} twice"
            samples[key] = sample.value
    return found


def one(samples: Samples, name: str, **labels: str) -> float:
    return samples[name][tuple(sorted(labels.items()))]


def check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def fleet_of(tmp_path: Path, nodes: dict[str, str | None]) -> Path:
    """The demo server as source, and each node a copy of a demo node (None:
    a node folder without a conf, so it cannot be checked)."""
    shutil.copytree(paths.DEMO / "nodes" / "server", tmp_path / "nodes" / "server")
    entries: dict[str, object] = {"server": {"local": "nodes/server"}}
    for index, (name, demo) in enumerate(nodes.items()):
        folder = tmp_path / "nodes" / f"n{index}"
        if demo is None:
            folder.mkdir(parents=True)
        else:
            shutil.copytree(paths.DEMO / "nodes" / demo, folder)
        entries[name] = {"local": f"nodes/n{index}"}
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "server", "nodes": entries}))
    return inventory


def test_prometheus_demo_fleet_written_with_output_parses(tmp_path: Path) -> None:
    target = tmp_path / "textfile" / "awgcheck.prom"
    target.parent.mkdir()
    target.write_text("stale\n")
    code, out = check("-i", str(DEMO), "--format", "prometheus", "--output", str(target))
    assert (code, out) == (1, "")
    # replaced whole, no temporary file left beside it for the collector to read
    assert sorted(p.name for p in target.parent.iterdir()) == ["awgcheck.prom"]
    samples = parse(target.read_text())
    assert one(samples, "awgcheck_node_status", node="partner-tbilisi", status="fail") == 1
    assert one(samples, "awgcheck_node_status", node="partner-tbilisi", status="pass") == 0
    assert one(samples, "awgcheck_node_status", node="partner-berlin", status="pass") == 1
    assert samples["awgcheck_nodes"] == {(("status", "pass"),): 3, (("status", "fail"),): 1,
                                         (("status", "error"),): 0}
    assert one(samples, "awgcheck_failed_findings", rule="must-match-drift",
               severity="critical") == 1
    assert one(samples, "awgcheck_failed_findings", rule="canonical-spelling",
               severity="warning") == 2
    # evaluated but not failed: a zero series, not a gap
    assert one(samples, "awgcheck_failed_findings", rule="side-local-drift",
               severity="error") == 0
    assert one(samples, "awgcheck_param_drift_nodes", param="S4", severity="critical") == 1
    assert one(samples, "awgcheck_param_drift_nodes", param="S3", severity="critical") == 0
    assert one(samples, "awgcheck_exit_code") == 1
    assert one(samples, "awgcheck_source_readable") == 1
    assert "awgcheck_source_unreadable" not in samples
    assert "awgcheck_node_unchecked" not in samples
    assert one(samples, "awgcheck_run_info", version=__version__, profile="strict",
               fail_on="error") == 1


def test_prometheus_last_run_and_duration_from_the_run_metadata() -> None:
    before = time.time()
    code, out = check("-i", str(DEMO), "--format", "prometheus")
    after = time.time()
    assert code == 1
    samples = parse(out)
    ended = one(samples, "awgcheck_last_run_timestamp_seconds")
    assert before <= ended <= after
    duration = one(samples, "awgcheck_run_duration_seconds")
    assert 0 <= duration <= after - before


def test_prometheus_report_without_run_metadata_guesses_no_duration() -> None:
    report = Report(None, "s", (NodeResult("a", Status.PASS),), ())
    before = time.time()
    samples = parse(prometheus.render(report))
    assert one(samples, "awgcheck_last_run_timestamp_seconds") >= before
    assert "awgcheck_run_duration_seconds" not in samples


def test_prometheus_run_duration_and_end_from_the_run_time() -> None:
    report = Report(None, "s", (NodeResult("a", Status.PASS),), ())
    text = prometheus.exposition(report, prometheus.RunTime(1733000000.25, 12.5))
    samples = parse(text)
    assert one(samples, "awgcheck_run_duration_seconds") == 12.5
    assert one(samples, "awgcheck_last_run_timestamp_seconds") == 1733000000.25


def test_prometheus_unchecked_nodes_by_error_class(tmp_path: Path) -> None:
    inventory = fleet_of(tmp_path, {"berlin": "partner-berlin", "empty": None})
    code, out = check("-i", str(inventory), "--format", "prometheus")
    assert code == 4
    samples = parse(out)
    assert samples["awgcheck_node_unchecked"] == {
        (("error_class", "file_missing"), ("node", "empty")): 1}
    assert one(samples, "awgcheck_node_status", node="empty", status="error") == 1
    assert one(samples, "awgcheck_node_status", node="empty", status="pass") == 0
    assert one(samples, "awgcheck_nodes", status="error") == 1
    assert one(samples, "awgcheck_exit_code") == 4


def test_prometheus_source_that_could_not_be_read(tmp_path: Path) -> None:
    inventory = fleet_of(tmp_path, {"berlin": "partner-tbilisi"})
    (tmp_path / "params.json").write_text('{"error": "upstream timeout"}\n')
    data = yaml.safe_load(inventory.read_text())
    inventory.write_text(yaml.safe_dump({**data, "source": "params.json"}))
    code, out = check("-i", str(inventory), "--format", "prometheus")
    assert code == 4
    samples = parse(out)
    assert one(samples, "awgcheck_source_readable") == 0
    assert samples["awgcheck_source_unreadable"] == {(("error_class", "parse_error"),): 1}
    assert "upstream timeout" not in out  # a message is never a label
    # the tbilisi copy drifts on S4, but nothing was compared with the source
    assert not any(key == (("param", "S4"), ("severity", "critical"))
                   for key in samples.get("awgcheck_param_drift_nodes", {}))


HOSTILE_NAMES = [
    'evil"} 1\nawgcheck_nodes{status="pass"} 999\n# TYPE awgcheck_nodes counter',
    "back\\slash\\",
    'quote"} 7 # and a brace {',
    "tab\tand\x1b[31m escape \u202e bidi \udcff byte",
    "\\x0a written as text",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=["inject", "backslash", "quote",
                                                     "controls", "escape-lookalike"])
def test_prometheus_hostile_label_values_round_trip(name: str) -> None:
    report = Report(name, "src", (NodeResult(name, Status.ERROR, "x", ErrorClass.BAD_TARGET),
                                  NodeResult("ok", Status.PASS)),
                    (Finding(name, "ok", Status.FAIL, Severity.ERROR, "m", param=name),),
                    rules=(RuleMeta(name, "t", Severity.ERROR, "d", "r", drift=True),))
    text = FORMATS.render("prometheus", report)
    samples = parse(text)
    shown = printable(name)  # what every format shows of it
    assert one(samples, "awgcheck_node_status", node=shown, status="error") == 1
    assert one(samples, "awgcheck_node_unchecked", node=shown, error_class="bad_target") == 1
    assert one(samples, "awgcheck_failed_findings", rule=shown, severity="error") == 1
    assert one(samples, "awgcheck_param_drift_nodes", param=shown, severity="error") == 1
    # nothing injected: the totals are the real ones, and no line was added
    assert samples["awgcheck_nodes"] == {(("status", "pass"),): 1, (("status", "fail"),): 0,
                                         (("status", "error"),): 1}
    assert all(line.startswith(("# HELP awgcheck_", "# TYPE awgcheck_", "awgcheck_"))
               for line in text.splitlines())


def test_prometheus_hostile_node_name_through_the_cli(tmp_path: Path) -> None:
    name = HOSTILE_NAMES[0]
    inventory = fleet_of(tmp_path, {name: "partner-tbilisi"})
    target = tmp_path / "awgcheck.prom"
    done = subprocess.run([sys.executable, "-m", "awgcheck", "check", "-i", str(inventory),
                           "--format", "prometheus", "--output", str(target)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    samples = parse(target.read_text())
    assert one(samples, "awgcheck_node_status", node=printable(name), status="fail") == 1
    assert one(samples, "awgcheck_nodes", status="pass") == 1


@pytest.mark.parametrize(("text", "escaped"), [
    ("a\\b", "a\\\\b"), ('say "hi"', 'say \\"hi\\"'), ("two\nlines", "two\\nlines"),
])
def test_prometheus_label_value_escapes_what_the_format_requires(text: str,
                                                                  escaped: str) -> None:
    assert prometheus.label_value(text) == escaped


def test_prometheus_a_node_status_awgcheck_does_not_know_still_shows() -> None:
    # A status added later (or by a newer model) gets its own series,
    # and its node is not counted under another status.
    report = Report(None, "s", (NodeResult("a", Status.SKIP), NodeResult("b", Status.PASS)), ())
    samples = parse(prometheus.render(report))
    assert one(samples, "awgcheck_node_status", node="a", status="skip") == 1
    assert one(samples, "awgcheck_node_status", node="b", status="skip") == 0
    assert one(samples, "awgcheck_nodes", status="skip") == 1
    assert one(samples, "awgcheck_nodes", status="pass") == 1


def test_prometheus_source_failure_labels_only_its_class() -> None:
    failure = SourceFailure("db.example: password=hunter2hunter2", ErrorClass.PARSE_ERROR,
                            ("must-match-drift",))
    report = Report(None, "src", (), (), source_failure=failure)
    text = prometheus.render(report)
    assert "hunter2" not in text
    assert parse(text)["awgcheck_source_unreadable"] == {(("error_class", "parse_error"),): 1}


def test_gate_does_not_offer_prometheus(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["gate", "--format", "prometheus"])
    assert result.exit_code == 2
    assert "'prometheus' is not one of" in result.stderr


def test_prometheus_docs_list_every_metric_with_its_labels() -> None:
    """docs/reports.md's table is the metrics the format writes, labels included,
    and its alert examples use only those."""
    docs = (paths.ROOT / "docs" / "reports.md").read_text()
    section = docs.split("## Prometheus", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for row in re.findall(r"^\| `(awgcheck_\w+)` \|([^|]*)\|", section, re.MULTILINE):
        documented[row[0]] = set(re.findall(r"`(\w+)`", row[1].split("(")[0]))
    failure = SourceFailure("src: error reply", ErrorClass.PARSE_ERROR, ("d",))
    report = Report("src", "src.conf", (NodeResult("a", Status.FAIL),
                                        NodeResult("b", Status.ERROR, "x", ErrorClass.BAD_TARGET)),
                    (Finding("d", "a", Status.FAIL, Severity.CRITICAL, "m", param="S4"),),
                    rules=(RuleMeta("d", "t", Severity.CRITICAL, "d", "r", drift=True),),
                    source_failure=failure)
    written = {}
    for family in text_string_to_metric_families(
            prometheus.exposition(report, prometheus.RunTime(1.0, 2.0))):
        written[family.name] = {label for s in family.samples for label in s.labels}
    assert documented == written
    used = set(re.findall(r"awgcheck_\w+", section.split("Alerts (PromQL):", 1)[1]))
    assert used <= set(written)
