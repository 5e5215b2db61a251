"""Triage without a network: local node trees, usage errors, runtime quirks
and the probe's bookkeeping, through an in-memory collector.

The SSH path itself (sudo, fake awg and ping on real sshd nodes, every
symptom-table class in every format) is in test_triage_ssh.py.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import paths
import pytest
import yaml
from click.testing import CliRunner
from memory_node import FakeCollector

from awgcheck import inventory
from awgcheck.cli.main import main
from awgcheck.parse import awgconf
from awgcheck.triage.evidence import ping_argv
from awgcheck.triage.render import render_json, render_markdown, render_table
from awgcheck.triage.run import SourceRead, TriageOptions, triage

ASSETS = paths.ASSETS / "runtime"
DEMO = paths.DEMO
CONF = "etc/amnezia/amneziawg/awg0.conf"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout + result.stderr


SOURCE_TEXT = """\
[Interface]
Address = 10.8.0.1/24
Jc = 4
Jmin = 50
Jmax = 50
S1 = 52
S2 = 88
S3 = 24
S4 = 18
H1 = 3
H2 = 4
H3 = 1766607858
H4 = 2114940155
"""


def _source(text: str = SOURCE_TEXT) -> SourceRead:
    return SourceRead("server", awgconf.parse(text.encode(), "server.conf"))


def _node(**fields: object) -> inventory.Node:
    return inventory.Node(name="edge", host="edge.example", **fields)  # type: ignore[arg-type]


def test_triage_recognises_the_jmax_and_header_quirks() -> None:
    """2.0 kmod stored Jmax + 1 and replaced H1 = 3, H2 = 4 by the defaults:
    not drift, said so per row, and exit 0."""
    node_conf = SOURCE_TEXT.replace("10.8.0.1", "10.8.0.2")
    collector = FakeCollector(
        {"/etc/amnezia/amneziawg/awg0.conf": node_conf.encode()},
        {("awg", "showconf", "awg0"): [(ASSETS / "2.0" / "showconf-kmod-quirks").read_bytes()],
         ("awg", "show", "awg0", "dump"): [(ASSETS / "2.0" / "dump").read_bytes()]})
    report = triage(_node(), _source(), TriageOptions(),
                    factory=lambda node, options: collector, now=lambda: 1795736524.0)
    rows = {r.param: r for r in report.rows}
    assert rows["Jmax"].verdict == "quirk" and "Jmax + 1" in rows["Jmax"].note
    assert rows["H1"].verdict == "quirk" and "replaces any header <= 4" in rows["H1"].note
    assert report.verdict is not None and report.verdict.status == "clean", report.verdict
    assert report.exit_code() == 0
    assert "quirk" in render_table(report)


def test_triage_probe_reads_two_dumps_and_pings_the_source_address() -> None:
    # Peer A is the node's way to the source: its AllowedIPs route 10.8.0.1.
    dump = (ASSETS / "3.1" / "dump").read_text().replace("10.8.0.2/32", "10.8.0.0/24")
    grown = dump.replace("\t91234567\t", "\t91234999\t")
    node_conf = "[Interface]\nS1 = 52\n[Peer]\nPublicKey = x\nAllowedIPs = 10.8.0.0/24\n"
    ping = (b"--- 10.8.0.1 ping statistics ---\n"
            b"3 packets transmitted, 3 received, 0% packet loss, time 2003ms\n")
    collector = FakeCollector(
        {"/etc/amnezia/amneziawg/awg0.conf": node_conf.encode()},
        {("awg", "show", "awg0", "dump"): [dump.encode(), grown.encode()],
         ("ping",): [ping]})
    slept: list[float] = []
    report = triage(_node(sudo=True), _source(), TriageOptions(probe=True, window=3),
                    factory=lambda node, options: collector, now=lambda: 1795736524.0,
                    sleep=slept.append)
    assert slept == [3]
    peer = report.evidence.peer
    assert peer is not None and peer.rx_growth == 432 and peer.handshake_age == 12
    assert report.evidence.ping is not None and report.evidence.ping.loss == 0
    ping_run = next((argv, sudo) for argv, sudo in collector.ran if argv[0] == "ping")
    assert ping_run == (("ping", "-c", "3", "-W", "2", "-I", "awg0", "10.8.0.1"), False)
    # awg runs under sudo -n when the node says so.
    assert all(sudo for argv, sudo in collector.ran if argv[0] == "awg")
    # showconf failed (not planted): the dump alone gave the params.
    assert report.runtime is not None and report.runtime.view == "dump"


def test_ping_command_from_the_inventory() -> None:
    node = _node(ping="ping -c 5 -q -I {iface} {addr}", interface="awg1")
    assert ping_argv(node, "10.8.0.1") == ["ping", "-c", "5", "-q", "-I", "awg1", "10.8.0.1"]


def test_triage_on_a_local_tree_says_which_evidence_is_missing(tmp_path: Path) -> None:
    shutil.copytree(DEMO, tmp_path / "demo")
    inventory_path = tmp_path / "demo" / "fleet.yaml"
    code, out = run("triage", "partner-tbilisi", "-i", str(inventory_path), "--probe",
                    "--width", "1000")
    assert code == 1
    assert ("S4 differs (17 vs 18): handshakes complete and keep refreshing, but every data "
            "packet is silently dropped: looks up, carries nothing.") in out
    assert "is a local node tree: it has no running interface to ask" in out
    assert "triage the node over SSH" in out
    assert "line 13: change `S4 = 17` to `S4 = 18`" in out
    code, out = run("triage", "partner-berlin", "-i", str(inventory_path), "--format",
                    "markdown")
    assert code == 0
    assert "**Verdict:** No param differs" in out
    assert "look at the path" in out


def test_triage_against_a_conf_file(tmp_path: Path) -> None:
    inventory_path = DEMO / "fleet.yaml"
    source = tmp_path / "rotated.conf"
    source.write_text((DEMO / "nodes" / "server" / CONF).read_text()
                      .replace("S4 = 18", "S4 = 17"))
    code, out = run("triage", "partner-tbilisi", "-i", str(inventory_path), "--against",
                    str(source), "--format", "json")
    assert code == 0, out
    document = json.loads(out)
    assert document["verdict"]["status"] == "clean"
    # The JSON contract names its schema; scripts match on the documented one.
    documented = re.search(r"schema `([^`]+)`", (paths.ROOT / "docs" / "triage.md").read_text())
    assert documented is not None and document["schema"] == documented.group(1)


@pytest.mark.parametrize(("args", "message"), [
    (["triage", "nowhere"], "to name a node, pass --inventory"),
    (["triage", "ghost", "-i", str(DEMO / "fleet.yaml")], "no node named 'ghost'"),
    (["triage", "partner-berlin", "-i", str(DEMO / "fleet.yaml"), "--against", "nope"],
     "no node named 'nope'"),
    (["triage", "partner-berlin", "-i", str(DEMO / "fleet.yaml"), "--format", "xml"],
     "Invalid value"),
], ids=["no-inventory", "unknown-node", "unknown-source", "bad-format"])
def test_triage_usage_errors_exit_2(args: list[str], message: str) -> None:
    code, out = run(*args)
    assert code == 2
    assert message in out


def test_triage_without_a_source(tmp_path: Path) -> None:
    """ssh:// without --against: compared with nothing, and said so."""
    source = SourceRead(None, None)
    collector = FakeCollector({"/etc/amnezia/amneziawg/awg0.conf": b"[Interface]\nS4 = 17\n"},
                              {})
    report = triage(_node(), source, TriageOptions(), factory=lambda node, options: collector)
    assert report.verdict is not None and report.verdict.status == "clean"
    assert report.verdict.headline.startswith("Nothing to compare")
    assert report.missing[0].what == "runtime" and "does not exist" in report.missing[0].why
    for render in (render_table, render_markdown, render_json):
        render(report)  # every format copes with a missing source and runtime


def test_triage_file_and_runtime_differ_without_a_source() -> None:
    """No source: a file/runtime difference is reported without guessing
    which side is right."""
    collector = FakeCollector(
        {"/etc/amnezia/amneziawg/awg0.conf": b"[Interface]\nS4 = 17\n"},
        {("awg", "showconf", "awg0"): [b"[Interface]\nS4 = 18\n"]})
    report = triage(_node(), SourceRead(None, None), TriageOptions(),
                    factory=lambda node, options: collector)
    assert report.verdict is not None and report.verdict.cause == "file-vs-runtime"
    assert report.verdict.headline == ("The file and the running interface differ: S4 = 17 "
                                       "in the file, 18 running.")
    assert "pass --against SOURCE" in report.verdict.details[0]
    assert report.rows[0].verdict == "FILE != RUNTIME"
    assert report.exit_code() == 1


def test_check_runtime_on_local_trees_warns_and_still_checks(tmp_path: Path) -> None:
    shutil.copytree(DEMO, tmp_path / "demo")
    code, out = run("check", "-i", str(tmp_path / "demo" / "fleet.yaml"), "--runtime",
                    "--format", "json")
    assert code == 1
    report = json.loads(out)
    warnings = [f for f in report["findings"] if f["rule"] == "runtime-unavailable"]
    assert len(warnings) == 4 and all(f["severity"] == "warning" for f in warnings)
    assert any(f["rule"] == "must-match-drift" and f["status"] == "fail"
               for f in report["findings"])


def test_diff_runtime_of_a_local_tree_is_a_usage_error() -> None:
    code, out = run("diff", "partner-berlin", "partner-berlin:runtime", "-i",
                    str(DEMO / "fleet.yaml"))
    assert code == 2
    assert "running state could not be read" in out and "local node tree" in out


def test_inventory_with_ping_field_loads(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"source": "a", "nodes": {
        "a": {"host": "h", "ping": "ping -c 1 -I {iface} {addr}"}}}))
    assert inventory.load(path).node("a").ping == "ping -c 1 -I {iface} {addr}"


def test_triage_unreadable_file_value_with_a_right_runtime() -> None:
    """`S4 = 0x12` cannot be read by awg: the tunnel still runs the old,
    right value, and the next awg-quick up would fail."""
    collector = FakeCollector(
        {"/etc/amnezia/amneziawg/awg0.conf": b"[Interface]\nS4 = 0x12\n"},
        {("awg", "showconf", "awg0"): [b"[Interface]\nS4 = 18\n"]})
    source = _source("[Interface]\nS4 = 18\n")
    report = triage(_node(), source, TriageOptions(), factory=lambda node, options: collector)
    assert report.verdict is not None and report.verdict.cause == "file-vs-runtime"
    assert "S4 = 0x12 (unreadable) in the file, 18 running" in report.verdict.headline
    row = next(r for r in report.rows if r.param == "S4")
    assert "the next awg-quick up fails" in row.note
    assert report.verdict.fix is not None
    assert report.verdict.fix.steps[0].action == "change `S4 = 0x12` to `S4 = 18`"
    assert report.verdict.fix.steps[0].line == 2


def test_triage_spelling_is_shown_in_hex_but_is_no_mismatch() -> None:
    collector = FakeCollector(
        {"/etc/amnezia/amneziawg/awg0.conf": b"[Interface]\nS4 = 018\n"}, {})
    report = triage(_node(), _source("[Interface]\nS4 = 18\n"), TriageOptions(),
                    factory=lambda node, options: collector)
    row = next(r for r in report.rows if r.param == "S4")
    assert row.verdict == "spelling"
    assert report.exit_code() == 0
    assert "018 (30 31 38)" in render_table(report)


def test_triage_collector_that_raises_is_an_unreadable_node_not_a_traceback() -> None:
    def broken(node: inventory.Node, options: object) -> FakeCollector:
        raise RuntimeError("transport bug")

    report = triage(_node(), _source(), TriageOptions(), factory=broken)
    assert report.exit_code() == 4
    assert report.unreachable_class == "internal_error"
    assert report.unreachable == ("edge: internal error while opening the node: "
                                  "RuntimeError: transport bug")
    assert "COULD NOT READ THE NODE (internal_error)" in render_table(report)


def test_triage_read_that_raises_is_an_unreadable_node_not_a_traceback() -> None:
    class Broken(FakeCollector):
        def read_file(self, path: str, *, sudo: bool = False, limit: int = 1 << 20) -> bytes:
            raise KeyError(path)

    report = triage(_node(), _source(), TriageOptions(),
                    factory=lambda node, options: Broken({}, {}))
    assert report.exit_code() == 4
    assert report.unreachable_class == "internal_error"
    assert "internal error while reading: KeyError" in (report.unreachable or "")
