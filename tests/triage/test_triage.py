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
from awgcheck.parse.runtime import parse_showconf
from awgcheck.triage.evidence import Evidence, ping_argv
from awgcheck.triage.render import render_json, render_markdown, render_table
from awgcheck.triage.rows import DIFFERS, Sides, build_rows
from awgcheck.triage.run import SourceRead, TriageOptions, triage
from awgcheck.triage.verdict import decide

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
    """ssh:// without --against: compared with nothing, and said so: not
    checked (exit 4), never a pass."""
    source = SourceRead(None, None)
    collector = FakeCollector({"/etc/amnezia/amneziawg/awg0.conf": b"[Interface]\nS4 = 17\n"},
                              {})
    report = triage(_node(), source, TriageOptions(), factory=lambda node, options: collector)
    assert report.verdict is not None and report.verdict.status == "unchecked"
    assert report.verdict.headline == ("No source of truth was named, so edge was not "
                                       "compared with one; only its file was read.")
    assert report.verdict.next_steps[0] == (
        "To check edge, pass --against SOURCE (a conf file, or a node of --inventory).")
    assert report.exit_code() == 4
    assert report.missing[0].what == "runtime" and "does not exist" in report.missing[0].why
    assert render_table(report).startswith("COULD NOT CHECK: No source of truth was named")
    assert json.loads(render_json(report))["verdict"]["status"] == "unchecked"
    assert "**COULD NOT CHECK**: No source of truth" in render_markdown(report)


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
    # A failure, and the source was not checked: as `check` says both.
    assert report.exit_code() == 5
    assert render_table(report).startswith("FAIL: The file and the running interface differ")


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


# --------------------------------------------------------------------------
# several params differ: the cause first, policy differences last


def _steps(fmt: str, out: str) -> list[str]:
    """The fix's steps in the order a format prints them."""
    if fmt == "json":
        return [step["action"] for step in json.loads(out)["verdict"]["fix"]["steps"]]
    fix = out[out.index("Fix"):]
    return re.findall(r"^ *\d+\. .*$", fix, re.M)


@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_triage_local_tree_fix_names_the_cause_first_and_policy_last(
        tmp_path: Path, fmt: str) -> None:
    """Tbilisi's S4 drift plus a Jc the server did not issue: Jc comes
    first in the conf and in the side-by-side table, but the fix starts
    with S4 (the cause) and ends with Jc, marked as a policy difference."""
    shutil.copytree(DEMO, tmp_path / "demo")
    conf = tmp_path / "demo" / "nodes" / "partner-tbilisi" / CONF
    conf.write_text(conf.read_text().replace("Jc = 4", "Jc = 6"))
    code, out = run("triage", "partner-tbilisi", "-i", str(tmp_path / "demo" / "fleet.yaml"),
                    "--format", fmt)
    assert code == 1, out
    steps = _steps(fmt, out)
    assert "change `S4 = 17` to `S4 = 18`" in steps[0], steps
    assert "change `Jc = 6` to `Jc = 4` (policy only: Jc is side-local" in steps[1], steps
    assert "awg-quick down awg0 && awg-quick up awg0" in steps[-1] or fmt == "json"
    if fmt == "json":
        verdict = json.loads(out)["verdict"]
        assert verdict["cause"] == "S4/H4"
        assert [s["policy"] for s in verdict["fix"]["steps"]] == [False, True]
        assert verdict["also"] == [{
            "param": "Jc", "here": "6", "there": "4", "cause": "side-local",
            "symptom": verdict["also"][0]["symptom"], "matches": None, "policy": True}]
        assert verdict["also"][0]["symptom"].startswith("no data-plane effect")
    else:
        assert "Jc (6 vs 4): policy only, no data-plane effect" in out


SHOWCONF_S4_H2 = ("[Interface]\nJc = 4\nS4 = 17\nH2 = 1288052152\n\n"
                  "[Peer]\nPublicKey = {peer}\nAllowedIPs = 10.8.0.0/24\n")


def _two_causes(handshake_age: int | None, rx_growth: int, ping_loss: int) -> FakeCollector:
    """A node whose S4 and H2 both differ from the source's, with the
    given health: two dumps (rx grows by ``rx_growth``) and a ping."""
    dump = (ASSETS / "3.1" / "dump").read_text().replace("10.8.0.2/32", "10.8.0.0/24")
    lines = dump.splitlines()
    peer = lines[1].split("\t")
    now = 1795736524
    peer[4] = "0" if handshake_age is None else str(now - handshake_age)
    first = "\n".join([lines[0], "\t".join(peer)]) + "\n"
    peer[5] = str(int(peer[5]) + rx_growth)
    second = "\n".join([lines[0], "\t".join(peer)]) + "\n"
    received = 3 if ping_loss == 0 else 0
    ping = (f"--- 10.8.0.1 ping statistics ---\n3 packets transmitted, {received} received, "
            f"{ping_loss}% packet loss, time 2003ms\n").encode()
    conf = "[Interface]\nJc = 4\nS4 = 17\nH2 = 1288052152\n"
    return FakeCollector(
        {"/etc/amnezia/amneziawg/awg0.conf": conf.encode()},
        {("awg", "showconf", "awg0"): [SHOWCONF_S4_H2.format(peer=peer[0]).encode()],
         ("awg", "show", "awg0", "dump"): [first.encode(), second.encode()],
         ("ping",): [ping]})


@pytest.mark.parametrize(("health", "cause", "param", "other"), [
    # Handshakes refresh, no data: what S4 predicts, not what H2 does.
    ((12, 0, 100), "S4/H4", "S4", "H2"),
    # No handshake ever: what H2 predicts; an S4 drift alone would handshake.
    ((None, 0, 100), "S2/H2", "H2", "S4"),
], ids=["handshake-ok-no-data", "no-handshake"])
def test_triage_cause_is_the_difference_the_evidence_supports(
        health: tuple[int | None, int, int], cause: str, param: str, other: str) -> None:
    source = _source("[Interface]\nAddress = 10.8.0.1/24\nJc = 4\nS4 = 18\n"
                     "H2 = 1288052141-1288052151\n")
    collector = _two_causes(*health)
    report = triage(_node(), source, TriageOptions(probe=True, window=1),
                    factory=lambda node, options: collector, now=lambda: 1795736524.0,
                    sleep=lambda seconds: None)
    verdict = report.verdict
    assert verdict is not None and verdict.cause == cause, verdict
    assert verdict.evidence.startswith("This matches what we see"), verdict.evidence
    assert verdict.headline.startswith(f"{param} differs")
    assert [(a.param, a.matches) for a in verdict.also] == [(other, False)]
    assert verdict.fix is not None
    assert [s.action.split(" = ")[0] for s in verdict.fix.steps] == [
        f"change `{param}", f"change `{other}"]
    table = render_table(report)
    assert f"{other} (" in table.split("Also differing")[1]
    assert "does not match what we see" in table.split("Also differing")[1]


def test_triage_source_not_applied_while_the_node_differs_too() -> None:
    """The server's file says S4 = 18 but it still runs 17, and the node
    has 17 in its file and runtime: the node's fix is the S4 edit, the
    server needs its interface recreated, and the verdict says so."""
    conf = awgconf.parse(b"[Interface]\nS4 = 17\n", "node.conf")
    state = parse_showconf("[Interface]\nS4 = 17\n", source="node: awg showconf awg0")
    source = awgconf.parse(b"[Interface]\nS4 = 18\n", "server.conf")
    hub = parse_showconf("[Interface]\nS4 = 17\n", source="server: awg showconf awg0")
    rows = build_rows(conf, state, source, hub, "server")
    s4 = next(r for r in rows if r.param == "S4")
    assert (s4.verdict, s4.note) == (DIFFERS, "server runs 17: its file was not applied")
    sides = Sides("edge", "awg0", conf, state, source, "server", source_state=hub,
                  source_interface="awg1", source_sudo=True)
    verdict = decide(sides, rows, Evidence())
    assert verdict.cause == "S4/H4" and verdict.headline.startswith("S4 differs (17 vs 18)")
    assert ("server is not applied: its file says S4 = 18 but it runs S4 = 17: its interface "
            "was not recreated after the edit.") in verdict.details
    assert verdict.fix is not None
    assert [(s.on, s.action) for s in verdict.fix.steps] == [
        ("server", "sudo awg-quick down awg1 && sudo awg-quick up awg1 (its file already "
                   "says S4 = 18; its interface was not recreated)"),
        (None, "change `S4 = 17` to `S4 = 18`")]
    assert verdict.fix.command == "awg-quick down awg0 && awg-quick up awg0"


def test_triage_source_not_applied_besides_the_cause_is_listed_with_what_runs() -> None:
    """H2 differs on the node (no handshake: the cause); the server also
    still runs an old S4 its file no longer says."""
    conf = awgconf.parse(b"[Interface]\nS4 = 18\nH2 = 7\n", "node.conf")
    source = awgconf.parse(b"[Interface]\nS4 = 18\nH2 = 8\n", "server.conf")
    hub = parse_showconf("[Interface]\nS4 = 17\nH2 = 8\n", source="server: awg showconf awg0")
    rows = build_rows(conf, None, source, hub, "server")
    verdict = decide(Sides("edge", "awg0", conf, None, source, "server", source_state=hub),
                     rows, Evidence())
    assert verdict.cause == "S2/H2"
    assert [(a.param, a.here, a.there) for a in verdict.also] == [
        ("S4", "18", "17 running on server, whose file says 18")]
    assert any(d.startswith("server is not applied: its file says S4 = 18 but it runs S4 = 17")
               for d in verdict.details)
    assert verdict.fix is not None
    assert [s.on for s in verdict.fix.steps] == [None, "server"]
