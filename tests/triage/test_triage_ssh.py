"""Triage and ``check --runtime`` end to end over real sshd nodes.

Every node runs the fake ``awg`` and ``ping`` (tests/assets/bin) found on
the PATH sshd gives its sessions (``SetEnv PATH=...``). A small wrapper in
front of each picks the node's own fake state by the sshd port the session
reached (``$SSH_CONNECTION``), and replays ``dump.1``, ``dump.2``, ... in
turn so a probe sees the counters move (or not). One node per mismatch
class of the symptom table (docs/triage.md), each triaged in table,
markdown and JSON.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paths
import pytest
import yaml
from awg_dump import dump_text, key
from click.testing import CliRunner
from sshd_fleet import CONF_REL, FleetNode, SshdFleet, SudoUser

from awgcheck.cli.main import main

ASSET_BIN = paths.ASSETS / "bin"



SERVER_PUB = key("server-public")
HPK = key("hpk-fleet")
HPK_OTHER = key("hpk-rotated")
SECRETS = [key("server-private"), key("node-private"), HPK, HPK_OTHER]

SOURCE: dict[str, str] = {
    "Jc": "4", "Jmin": "40", "Jmax": "70", "S1": "52", "S2": "140", "S3": "36", "S4": "18",
    "H1": "1020325451-1020325461", "H2": "1288052141-1288052151",
    "H3": "1766607858-1766607868", "H4": "2114195744-2114195754",
    "HeaderProtectionKey": HPK,
}
_ORDER = ["Jc", "Jmin", "Jmax", "S1", "S2", "S3", "S4", "H1", "H2", "H3", "H4",
          "HeaderProtectionKey", "RandomTrailers"]

WRAPPER = """#!/bin/sh
# Test wrapper: the fake state of the node this session reached, by port.
port=$(echo "$SSH_CONNECTION" | cut -d' ' -f4)
AWGCHECK_FAKE_AWG_DIR="$(dirname "$0")/../state/$port"
export AWGCHECK_FAKE_AWG_DIR
if [ "$(basename "$0")" = awg ] && [ "$1" = show ] && [ "${3:-}" = dump ]; then
    count="$AWGCHECK_FAKE_AWG_DIR/dump.count"
    n=$(( $(cat "$count" 2>/dev/null || echo 0) + 1 ))
    echo "$n" >"$count"
    next="$AWGCHECK_FAKE_AWG_DIR/dump.$n"
    if [ -f "$next" ]; then cat "$next"; exit 0; fi
fi
exec "$(dirname "$0")/$(basename "$0")-replay" "$@"
"""


def conf_text(values: dict[str, str], address: str, private: str) -> str:
    lines = ["[Interface]", f"PrivateKey = {private}", f"Address = {address}/24"]
    lines += [f"{k} = {values[k]}" for k in _ORDER if k in values]
    lines += ["", "[Peer]", f"PublicKey = {SERVER_PUB}", "Endpoint = 198.51.100.10:51820",
              "AllowedIPs = 10.77.0.0/24", "PersistentKeepalive = 25"]
    return "\n".join(lines) + "\n"


def showconf_text(values: dict[str, str]) -> str:
    lines = ["[Interface]", "ListenPort = 51820", f"PrivateKey = {key('node-private')}"]
    lines += [f"{k} = {values[k]}" for k in _ORDER if k in values]
    lines += ["", "[Peer]", f"PublicKey = {SERVER_PUB}", "AllowedIPs = 10.77.0.0/24",
              "Endpoint = 198.51.100.10:51820", "PersistentKeepalive = 25"]
    return "\n".join(lines) + "\n"



PING_LOSS = ("PING 10.77.0.1 (10.77.0.1) from 10.77.0.3 awg0: 56(84) bytes of data.\n\n"
             "--- 10.77.0.1 ping statistics ---\n"
             "3 packets transmitted, {received} received, {loss}% packet loss, time 2003ms\n")


@dataclass
class Plant:
    """What one node holds: its file, what it runs, and how it behaves."""

    file: dict[str, str]
    running: dict[str, str] | None = None  # None: runs what the file says
    handshake_age: int | None = 12  # None: never
    rx_growth: int = 0
    ping_loss: int | None = 100  # None: no ping output (fails like a dead network)
    extra: dict[str, Any] = field(default_factory=dict)


def with_(**changes: str | None) -> dict[str, str]:
    values = dict(SOURCE)
    for name, value in changes.items():
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return values


def plant(root: Path, node: FleetNode, spec: Plant) -> None:
    node.write(CONF_REL, conf_text(spec.file, "10.77.0.3", key("node-private")), 0o600)
    state = root / "state" / str(node.port)
    if state.exists():
        shutil.rmtree(state)
    state.mkdir(parents=True)
    running = spec.file if spec.running is None else spec.running
    (state / "showconf").write_text(showconf_text(running))
    # Planted just before each run; ages are compared with some slack.
    handshake = 0 if spec.handshake_age is None else int(time.time()) - spec.handshake_age
    first = dump_text(running, handshake=handshake, rx=4096, tx=8192)
    second = dump_text(running, handshake=handshake, rx=4096 + spec.rx_growth, tx=8192 + 148)
    (state / "dump").write_text(first)
    (state / "dump.1").write_text(first)
    (state / "dump.2").write_text(second)
    if spec.ping_loss is not None:
        received = round(3 * (100 - spec.ping_loss) / 100)
        (state / "ping").write_text(PING_LOSS.format(received=received, loss=spec.ping_loss))
        (state / "ping.rc").write_text("0" if received else "1")


def plant_server(root: Path, node: FleetNode, spec: Plant) -> None:
    """A server: its conf (``spec.file``) and what its interface runs."""
    node.write(CONF_REL, server_conf(spec.file), 0o600)
    state = root / "state" / str(node.port)
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    running = spec.file if spec.running is None else spec.running
    (state / "showconf").write_text(showconf_text(running))
    (state / "dump").write_text(dump_text(running, handshake=int(time.time()) - 5,
                                          rx=1 << 20, tx=1 << 20))


@pytest.fixture(scope="module")
def fakes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fake-awg")
    bin_dir = root / "bin"
    bin_dir.mkdir()
    for tool in ("awg", "ping"):
        shutil.copy(ASSET_BIN / tool, bin_dir / f"{tool}-replay")
        (bin_dir / tool).write_text(WRAPPER)
        for path in (bin_dir / tool, bin_dir / f"{tool}-replay"):
            path.chmod(0o755)
    root.chmod(0o755)
    return root


@pytest.fixture(scope="module")
def ssh_fleet(fakes: Path) -> Iterator[SshdFleet]:
    # The server, one node per case, a scratch node and a second server;
    # in /tmp whatever TMPDIR says: docs/triage.md's examples show the
    # server's path wrapped at a width, so its length must not vary.
    workdir = Path(tempfile.mkdtemp(prefix="awgcheck-sshd-", dir="/tmp"))
    try:
        with SshdFleet(nodes_wanted=len(CASES) + 3, workdir=workdir,
                       extra_config=f"SetEnv PATH={fakes / 'bin'}:/usr/bin:/bin") as fleet:
            yield fleet
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def node_fields(fleet: SshdFleet, node: FleetNode, **extra: Any) -> dict[str, Any]:
    return fleet.inventory_fields(node, **extra)


def write_inventory(tmp_path: Path, fleet: SshdFleet, nodes: dict[str, dict[str, Any]],
                    source: str = "server") -> Path:
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": source, "nodes": nodes}))
    return inventory


def server_conf(values: dict[str, str] | None = None) -> str:
    return conf_text(values or SOURCE, "10.77.0.1", key("server-private"))


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--help"] if not args else list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout + result.stderr


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        for start in range(0, len(secret) - 16, 4):
            assert secret[start:start + 16] not in text, "a secret leaked into the output"


# --------------------------------------------------------------------------
# triage: one node per mismatch class


@dataclass(frozen=True)
class Case:
    plant: Plant
    cause: str | None
    headline: str  # in every format
    fits: str  # the evidence sentence
    exit_code: int = 1
    fix: str | None = None  # a fix line (table form)
    source: dict[str, str] | None = None
    server: Plant | None = None  # a server of its own (file and running interface)
    node_restart: bool = True  # the fix ends by recreating the node's interface


CASES: dict[str, Case] = {
    "header-protection-key": Case(
        Plant(with_(HeaderProtectionKey=HPK_OTHER), handshake_age=None, ping_loss=100),
        "HeaderProtectionKey", "HeaderProtectionKey differs (sha256:",
        "This matches what we see: no handshake ever completed",
        fix="change `HeaderProtectionKey = <key>` to `HeaderProtectionKey = <the key from"),
    "s1": Case(Plant(with_(S1="53"), handshake_age=None), "S1/H1",
               "S1 differs (53 vs 52): no handshake at all",
               "This matches what we see: no handshake ever completed",
               fix="change `S1 = 53` to `S1 = 52`"),
    "h1": Case(Plant(with_(H1="1020325462-1020325470"), handshake_age=900), "S1/H1",
               "H1 differs (1020325462-1020325470 vs 1020325451-1020325461)",
               "This matches what we see: last handshake 900 s ago",
               fix="change `H1 = 1020325462-1020325470` to `H1 = 1020325451-1020325461`"),
    "s2": Case(Plant(with_(S2="141"), handshake_age=None, rx_growth=592), "S2/H2",
               "S2 differs (141 vs 140): the initiator never completes the handshake",
               "This matches what we see: no handshake ever completed, rx grew by 592 bytes",
               fix="change `S2 = 141` to `S2 = 140`"),
    "h2": Case(Plant(with_(H2="1288052152"), handshake_age=None), "S2/H2",
               "H2 differs (1288052152 vs 1288052141-1288052151)",
               "This matches what we see",
               fix="change `H2 = 1288052152` to `H2 = 1288052141-1288052151`"),
    "s3": Case(Plant(with_(S3=None), handshake_age=20, rx_growth=1480, ping_loss=0), "S3/H3",
               "S3 differs (0 (absent) vs 36): only cookie replies",
               "This matches what we see: last handshake 20 s ago, rx grew by 1480 bytes",
               fix="add `S3 = 36` in [Interface]"),
    "h3": Case(Plant(with_(H3="5-9"), handshake_age=20, rx_growth=1480, ping_loss=0), "S3/H3",
               "H3 differs (5-9 vs 1766607858-1766607868)", "This matches what we see",
               fix="change `H3 = 5-9` to `H3 = 1766607858-1766607868`"),
    "s4-field-incident": Case(
        Plant(with_(S4="17"), handshake_age=12, rx_growth=0, ping_loss=100), "S4/H4",
        "S4 differs (17 vs 18): handshakes complete and keep refreshing, but every data "
        "packet is silently dropped: looks up, carries nothing.",
        "This matches what we see: last handshake 12 s ago, rx did not grow, ping 100% loss.",
        fix="change `S4 = 17` to `S4 = 18`"),
    "h4": Case(Plant(with_(H4="2114195755-2114195760")), "S4/H4",
               "H4 differs (2114195755-2114195760 vs 2114195744-2114195754)",
               "This matches what we see: last handshake 12 s ago, rx did not grow",
               fix="change `H4 = 2114195755-2114195760` to `H4 = 2114195744-2114195754`"),
    "random-trailers": Case(
        Plant(with_(RandomTrailers="on"), handshake_age=30), "RandomTrailers",
        "RandomTrailers differs (on vs off (absent)): the tunnel is dead in at least one",
        "This matches what we see", fix="delete `RandomTrailers = on`"),
    # The node's own H2 overlaps its H1 (the source's do not): partial loss
    # is what an overlap predicts, not what an H2 difference does.
    "overlapping-h": Case(
        Plant(with_(H2="1020325455-1020325470"), handshake_age=15, rx_growth=300,
              ping_loss=33),
        "overlapping-H", "H1 and H2 overlap on", "This matches what we see: last handshake "
        "15 s ago, rx grew by 300 bytes in 0.2 s, ping 33% loss",
        fix="`H2 = 1020325455-1020325470`: choose H1-H4 ranges that do not overlap"),
    # The source's own ranges overlap and the node copied them: the source
    # fails h-ranges-disjoint, so it is named as the fault and fixed there;
    # nothing of it is copied, and the node is not restarted.
    "source-overlapping-h": Case(
        Plant(with_(H1="100-200", H2="150-250", H3="300", H4="400"), handshake_age=15,
              rx_growth=300, ping_loss=33),
        "source-rules", "line 12 (`H2 = 150-250`) fails h-ranges-disjoint: H2 (150-250) "
        "overlaps H1 (100-200); copying its values to source-overlapping-h would spread "
        "the fault",
        "What we see: last handshake 15 s ago, rx grew by 300 bytes in 0.2 s, ping 33% loss",
        fix="`H2 = 150-250` fails h-ranges-disjoint: ",
        source=with_(H1="100-200", H2="150-250", H3="300", H4="400"), node_restart=False),
    "side-local-only": Case(
        Plant(with_(Jc="5"), handshake_age=20, rx_growth=900, ping_loss=0), "side-local",
        "Jc differs (5 vs 4): no data-plane effect", "This matches what we see",
        fix="change `Jc = 5` to `Jc = 4`"),
    "file-edited-not-applied": Case(
        Plant(with_(), running=with_(S4="17")), "S4/H4",
        "S4 differs (17 vs 18): handshakes complete and keep refreshing, but every data "
        "packet is silently dropped: looks up, carries nothing.",
        "This matches what we see: last handshake 12 s ago, rx did not grow, ping 100% loss.",
        fix="the file is already right; only recreate the interface"),
    "removed-but-still-active": Case(
        Plant(with_(), running=with_(RandomTrailers="on"), handshake_age=40),
        "RandomTrailers", "RandomTrailers differs (on vs off (absent))",
        "This matches what we see",
        fix="the file is already right; only recreate the interface"),
    "file-differs-from-runtime": Case(
        Plant(with_(S4="17"), running=with_(), handshake_age=10, rx_growth=2000, ping_loss=0),
        "file-vs-runtime",
        "The file and the running interface differ: S4 = 17 in the file, 18 running",
        "What we see: last handshake 10 s ago, rx grew by 2000 bytes",
        fix="change `S4 = 17` to `S4 = 18`"),
    # Three params differ; the evidence (handshake ok, no data) is what S4
    # predicts and not what H2 predicts (no handshake); Jc is side-local.
    "s4-h2-jc": Case(
        Plant(with_(S4="17", H2="1288052152", Jc="5")), "S4/H4",
        "S4 differs (17 vs 18): handshakes complete and keep refreshing",
        "This matches what we see: last handshake 12 s ago, rx did not grow, ping 100% loss.",
        fix="change `S4 = 17` to `S4 = 18`"),
    # The same two must-match params, but no handshake ever: H2's symptom.
    "h2-s4-no-handshake": Case(
        Plant(with_(S4="17", H2="1288052152"), handshake_age=None), "S2/H2",
        "H2 differs (1288052152 vs 1288052141-1288052151): the initiator never completes",
        "This matches what we see: no handshake ever completed",
        fix="change `H2 = 1288052152` to `H2 = 1288052141-1288052151`"),
    # The node runs what the server's file says; the server itself still
    # runs the old value: its file was changed and never applied.
    "server-not-applied": Case(
        Plant(with_()), "S4/H4",
        "S4 differs on the wire: server-not-applied runs 18, server runs 17 although its "
        "file says 18 (server is not applied): handshakes complete",
        "This matches what we see: last handshake 12 s ago, rx did not grow, ping 100% loss.",
        fix="awg-quick down awg0 && awg-quick up awg0 (its file already says S4 = 18; its "
            "interface was not recreated)",
        server=Plant(SOURCE, running=with_(S4="17")), node_restart=False),
    "nothing-differs": Case(
        Plant(with_(), handshake_age=None, ping_loss=100), None,
        "No param differs: the file, the running interface and server (server's running "
        "interface too) agree",
        "What we see: no handshake ever completed", exit_code=0),
}


@dataclass(frozen=True)
class Planted:
    inventory: Path
    node: FleetNode


@pytest.fixture(scope="module")
def triage_fleet(ssh_fleet: SshdFleet, fakes: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> dict[str, Planted]:
    """Plant every case on its own node; one inventory per case. The
    server runs what its file says, unless a case has its own server."""
    server = ssh_fleet.nodes[0]
    plant_server(fakes, server, Plant(SOURCE))
    inventories: dict[str, Planted] = {}
    work = tmp_path_factory.mktemp("triage-inventories")
    for index, (name, case) in enumerate(CASES.items(), start=1):
        node = ssh_fleet.nodes[index]
        plant(fakes, node, case.plant)
        its_server = server
        if case.server is not None:
            its_server = second_server(ssh_fleet)
            plant_server(fakes, its_server, case.server)
        nodes = {"server": node_fields(ssh_fleet, its_server),
                 name: node_fields(ssh_fleet, node)}
        folder = work / name
        folder.mkdir()
        source = "server"
        if case.source is not None:
            (folder / "source.conf").write_text(server_conf(case.source))
            source = "source.conf"
        inventories[name] = Planted(write_inventory(folder, ssh_fleet, nodes, source), node)
    return inventories


def scratch_node(fleet: SshdFleet) -> FleetNode:
    """A node no case uses, for the tests that plant their own."""
    return fleet.nodes[len(CASES) + 1]


def second_server(fleet: SshdFleet) -> FleetNode:
    return fleet.nodes[len(CASES) + 2]


_AGE = re.compile(r"last handshake (\d+) s ago")
# Seconds between planting a handshake time and the probe reading it: two
# SSH connections (the node's and the server's) and a busy shared machine.
# Far below the 180 s after which a handshake counts as stale.
_SLACK = 30


def _triage(fakes: Path, planted: Planted, name: str, fmt: str,
            *extra: str) -> tuple[int, str]:
    """Plant afresh (new handshake time, dump sequence from 1) and triage;
    handshake ages up to _SLACK seconds older than planted read as planted."""
    age = CASES[name].plant.handshake_age
    plant(fakes, planted.node, CASES[name].plant)
    code, out = run("triage", name, "-i", str(planted.inventory), "--format", fmt,
                    "--ssh-config", "none", *(extra or ("--probe", "--window", "0.2")))
    if age is not None:
        out = _AGE.sub(lambda m: f"last handshake {age} s ago"
                       if 0 <= int(m.group(1)) - age <= _SLACK else m.group(0), out)
    return code, out


# Markdown is drawn by the same renderer as the table, from the same
# verdict: every case is read as JSON (the verdict) and as a table (the
# screen), and these, one of each kind of verdict, as Markdown too.
MARKDOWN_CASES = ("s4-field-incident", "file-differs-from-runtime", "server-not-applied",
                  "side-local-only", "nothing-differs")


def test_markdown_cases_are_cases() -> None:
    assert set(MARKDOWN_CASES) <= set(CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_triage_names_the_cause_in_every_format(name: str, triage_fleet: dict[str, Planted],
                                                 fakes: Path) -> None:
    case = CASES[name]
    inventory = triage_fleet[name]
    code, out = _triage(fakes, inventory, name, "json")
    assert code == case.exit_code, out
    report = json.loads(out)
    assert report["schema"] == "awgcheck.triage/v1"
    verdict = report["verdict"]
    assert verdict["cause"] == case.cause, verdict
    assert case.headline in verdict["headline"], verdict["headline"]
    assert case.fits in verdict["evidence"], verdict["evidence"]
    assert report["exit_code"] == case.exit_code
    assert report["evidence"]["probed"] is True
    if case.exit_code:
        fix = verdict["fix"]
        assert case.fix is not None, "every mismatch case names its fix"
        assert any(case.fix in step["action"] for step in fix["steps"]), fix
        restart = case.cause != "file-vs-runtime" and case.node_restart
        assert (fix["command"] == "awg-quick down awg0 && awg-quick up awg0") == restart, fix
    else:
        assert verdict["fix"] is None and verdict["next_steps"]
    assert_no_secrets(out)
    for fmt in ("markdown", "table") if name in MARKDOWN_CASES else ("table",):
        code, text = _triage(fakes, inventory, name, fmt)
        assert code == case.exit_code, text
        assert case.headline in text and case.fits in text, text
        if case.fix is not None:
            assert case.fix in text, text
        assert_no_secrets(text)
    if case.cause == "source-rules":  # the fix is on the source: nothing to restart
        assert "awg-quick" not in text and "to `H2 = 150-250`" not in text
    elif case.exit_code:
        assert "awg-quick down awg0 && awg-quick up awg0" in text or \
            case.cause == "file-vs-runtime"
    # The server's own running interface was read (a source conf file has
    # none), and agrees with its file unless the case says otherwise.
    assert ("running: showconf+dump" in text) == (case.source is None)
    assert ("source runtime" in text) == (case.server is not None)
    assert ("SOURCE NOT APPLIED" in text) == (case.server is not None)


def test_triage_field_incident_screen(triage_fleet: dict[str, Planted], fakes: Path) -> None:
    """The S4 incident: the one sentence, the hex, the file line, the command."""
    code, out = _triage(fakes, triage_fleet["s4-field-incident"], "s4-field-incident", "table")
    assert code == 1
    assert ("S4 differs (17 vs 18): handshakes complete and keep refreshing, but every data "
            "packet is silently dropped: looks up, carries nothing. This matches what we see: "
            "last handshake 12 s ago, rx did not grow, ping 100% loss.") in out
    assert "17 (31 37)" in out and "18 (31 38)" in out
    conf_line = next(i for i, line in enumerate(
        conf_text(with_(S4="17"), "10.77.0.3", "x").splitlines(), 1) if line == "S4 = 17")
    # The path to edit is the path on the node, not host:path.
    node = triage_fleet["s4-field-incident"].node
    assert f"  1. {node.conf_path} line {conf_line}: change `S4 = 17` to `S4 = 18`" in out
    assert "on s4-field-incident: awg-quick down awg0 && awg-quick up awg0" in out
    assert "awg syncconf does not clear" in out
    assert "ping -c 3 -W 2 -I awg0 10.77.0.1" in out


def test_triage_without_probe_runs_no_probe(triage_fleet: dict[str, Planted],
                                            fakes: Path) -> None:
    code, out = _triage(fakes, triage_fleet["s4-field-incident"], "s4-field-incident", "json",
                        "--window", "0")
    assert code == 1
    report = json.loads(out)
    assert report["evidence"]["probed"] is False and report["evidence"]["ping"] is None
    assert any(m["what"] == "probe" for m in report["missing"])
    assert "Consistent so far: last handshake 12 s ago. Run with --probe" in \
        report["verdict"]["evidence"]


def _fix_steps(fmt: str, out: str) -> list[str]:
    """The fix's steps in the order the format prints them."""
    if fmt == "json":
        return [step["action"] for step in json.loads(out)["verdict"]["fix"]["steps"]]
    return re.findall(r"^ *\d+\. (.*)$", out[out.index("Fix"):], re.M)


@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_triage_several_differences_cause_first(fmt: str, triage_fleet: dict[str, Planted],
                                                fakes: Path) -> None:
    """S4, H2 and Jc differ, handshakes refresh and no data flows: S4 is
    the cause; H2 is listed with its own symptom, which the evidence does
    not match; Jc is a policy difference and its fix comes last."""
    code, out = _triage(fakes, triage_fleet["s4-h2-jc"], "s4-h2-jc", fmt)
    assert code == 1, out
    steps = _fix_steps(fmt, out)
    assert steps[0].endswith("change `S4 = 17` to `S4 = 18`"), steps
    assert steps[1].endswith("change `H2 = 1288052152` to `H2 = 1288052141-1288052151`")
    assert "change `Jc = 5` to `Jc = 4` (policy only: Jc is side-local" in steps[2], steps
    h2 = ("H2 (1288052152 vs 1288052141-1288052151): the initiator never completes the "
          "handshake: the responder's rx/tx grow but its latest-handshake stays 0 (does not "
          "match what we see).")
    jc = ("Jc (5 vs 4): policy only, no data-plane effect (side-local param): policy drift "
          "only, this side does not have what the server issued.")
    if fmt == "json":
        verdict = json.loads(out)["verdict"]
        assert [(a["param"], a["cause"], a["matches"], a["policy"]) for a in verdict["also"]] \
            == [("H2", "S2/H2", False, False), ("Jc", "side-local", False, True)]
        assert [s["policy"] for s in verdict["fix"]["steps"]] == [False, False, True]
    else:
        assert h2 in out.replace("\\", "") and jc in out, out
        # The verdict and what else differs come before the fix.
        assert out.index("S4 differs") < out.index(h2) < out.index(steps[0])


def test_triage_probe_refused_by_sudo_names_the_sudoers_lines(
        ssh_fleet: SshdFleet, fakes: Path, tmp_path: Path) -> None:
    """`sudo: true` with a rule for showconf only: the dump and the ping
    are refused, and each hint is the line that allows exactly that."""
    server, node = ssh_fleet.nodes[0], scratch_node(ssh_fleet)
    server.write(CONF_REL, server_conf(), 0o600)
    spec = Plant(with_(S4="17"))
    plant(fakes, node, spec)
    rules = "\n".join([
        # sudo finds the fake awg, and the wrapper the node's state (by port).
        f'Defaults:{{user}} secure_path="{fakes / "bin"}:/usr/bin:/bin"',
        'Defaults:{user} env_keep += "SSH_CONNECTION"',
        f"{{user}} ALL=(root) NOPASSWD: {fakes / 'bin' / 'awg'} showconf awg0"])
    with SudoUser([node.conf_path], rules=rules) as user:
        inventory = write_inventory(tmp_path, ssh_fleet, {
            "server": node_fields(ssh_fleet, server),
            "partner": node_fields(ssh_fleet, node, user=user.name, sudo=True)})
        outputs = {fmt: run("triage", "partner", "-i", str(inventory), "--format", fmt,
                            "--probe", "--window", "0", "--ssh-config", "none")
                   for fmt in ("json", "table", "markdown")}
    report = json.loads(outputs["json"][1])
    assert report["verdict"]["cause"] == "S4/H4", report
    assert report["runtime"]["view"] == "showconf"
    ping = next(m for m in report["missing"] if m["what"] == "ping")
    assert ping["why"] == "sudo refused `sudo -n -- ping -c 3 -W 2 -I awg0 10.77.0.1`"
    ping_line = f"{user.name} ALL=(root) NOPASSWD: /usr/bin/ping -c 3 -W 2 -I awg0 10.77.0.1"
    dump_line = f"{user.name} ALL=(root) NOPASSWD: /usr/bin/awg show awg0 dump"
    assert ping["how"].endswith(f"(edit with visudo -f): `{ping_line}`"), ping
    assert all(dump_line in m["how"] for m in report["missing"] if m["what"] == "counters")
    for code, out in outputs.values():
        assert code == 1, out
        assert ping_line in out and dump_line in out, out
        assert "answers over SSH" not in out


def test_triage_sftp_only_node_shows_what_the_node_said(
        ssh_fleet: SshdFleet, fakes: Path, tmp_path: Path) -> None:
    """An account whose shell is nologin: SFTP reads the conf, every
    command is refused with a message on stdout. Triage quotes it."""
    server, node = ssh_fleet.nodes[0], scratch_node(ssh_fleet)
    server.write(CONF_REL, server_conf(), 0o600)
    node.write(CONF_REL, conf_text(with_(S4="17"), "10.77.0.3", key("node-private")), 0o644)
    with SudoUser() as user:
        subprocess.run(["usermod", "-s", "/usr/sbin/nologin", user.name], check=True)
        inventory = write_inventory(tmp_path, ssh_fleet, {
            "server": node_fields(ssh_fleet, server),
            "partner": node_fields(ssh_fleet, node, user=user.name)})
        outputs = {fmt: run("triage", "partner", "-i", str(inventory), "--format", fmt,
                            "--ssh-config", "none") for fmt in ("json", "table", "markdown")}
    said = subprocess.run(["/usr/sbin/nologin"], capture_output=True, text=True).stdout.strip()
    assert said  # what nologin prints on this system, the oracle
    report = json.loads(outputs["json"][1])
    assert report["verdict"]["cause"] == "S4/H4"
    runtime = next(m for m in report["missing"] if m["what"] == "runtime")
    # sshd may add its own complaint on stderr (this account has no home).
    assert runtime["why"].startswith("`awg showconf awg0` exited 1 on partner, which said: ")
    assert runtime["why"].endswith(said), runtime
    for code, out in outputs.values():
        assert code == 1, out
        assert said in out and "no message" not in out


DOCS = paths.ROOT / "docs" / "triage.md"
_EXAMPLE = re.compile(r"^<!-- example: (\S+) (\S+) -->\n```\n(.*?)^```$", re.M | re.S)


def documented_output(planted: Planted, name: str, fmt: str, fakes: Path) -> str:
    """The real output of a case as docs/triage.md shows it: the node is
    partner-tbilisi, paths are the default ones, ages as planted, at the
    width a pipe gets (100 columns)."""
    _, out = _triage(fakes, planted, name, fmt, "--probe", "--width", "100")
    # The age may be wrapped onto the next line: keep the blanks as they are.
    out = re.sub(r"((?:latest handshake:|last handshake)\s+)\d+(\s+s\s+ago)", r"\g<1>12\2", out)
    out = out.replace(planted.node.conf_path, "/etc/amnezia/amneziawg/awg0.conf")
    out = re.sub(r"[\d.]+:\d+:\S*?/etc/amnezia/amneziawg/awg0\.conf",
                 "10.0.0.1:/etc/amnezia/amneziawg/awg0.conf", out)
    return out.replace(name, "partner-tbilisi")


def test_docs_examples_are_the_real_output(triage_fleet: dict[str, Planted],
                                           fakes: Path) -> None:
    """With AWGCHECK_UPDATE_DOCS=1 the examples are rewritten instead (then
    review the diff), as tests/doc_examples.py --update does for the others."""
    text = DOCS.read_text()
    examples = _EXAMPLE.findall(text)
    assert len(examples) >= 2, "docs/triage.md marks its output examples"
    for name, fmt, shown in examples:
        real = documented_output(triage_fleet[name], name, fmt, fakes)
        if os.environ.get("AWGCHECK_UPDATE_DOCS") == "1":
            text = text.replace(f"<!-- example: {name} {fmt} -->\n```\n{shown}```",
                                f"<!-- example: {name} {fmt} -->\n```\n{real}```")
            continue
        assert shown == real, f"docs/triage.md example {name} {fmt} is not the output:\n{real}"
    if os.environ.get("AWGCHECK_UPDATE_DOCS") == "1":
        DOCS.write_text(text)


# --------------------------------------------------------------------------
# missing evidence: no awg, no sudo rule, the interface is down


def test_triage_without_awg_says_what_is_missing(ssh_fleet: SshdFleet, fakes: Path,
                                                 tmp_path: Path) -> None:
    server, node = ssh_fleet.nodes[0], scratch_node(ssh_fleet)
    server.write(CONF_REL, server_conf(), 0o600)
    node.write(CONF_REL, conf_text(with_(S4="17"), "10.77.0.3", key("node-private")), 0o600)
    state = fakes / "state" / str(node.port)
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)  # no showconf, no dump: the interface does not exist
    inventory = write_inventory(tmp_path, ssh_fleet, {
        "server": node_fields(ssh_fleet, server), "down": node_fields(ssh_fleet, node),
        "no-awg": node_fields(ssh_fleet, node, interface="wg9")})
    code, out = run("triage", "down", "-i", str(inventory), "--format", "json", "--probe",
                    "--window", "0", "--ssh-config", "none")
    assert code == 1, out
    report = json.loads(out)
    assert report["verdict"]["cause"] == "S4/H4"
    runtime = next(m for m in report["missing"] if m["what"] == "runtime")
    assert "interface awg0 does not exist" in runtime["why"]
    assert "awg-quick up awg0" in runtime["how"]
    assert any("running state could not be read" in d for d in report["verdict"]["details"])


def test_triage_with_sudo_but_no_rule(ssh_fleet: SshdFleet, fakes: Path,
                                      tmp_path: Path) -> None:
    server, node = ssh_fleet.nodes[0], scratch_node(ssh_fleet)
    server.write(CONF_REL, server_conf(), 0o600)
    node.write(CONF_REL, conf_text(with_(), "10.77.0.3", key("node-private")), 0o600)
    with SudoUser([node.conf_path]) as user:
        inventory = write_inventory(tmp_path, ssh_fleet, {
            "server": node_fields(ssh_fleet, server),
            "partner": node_fields(ssh_fleet, node, user=user.name, sudo=True)})
        code, out = run("triage", "partner", "-i", str(inventory), "--ssh-config", "none")
    assert code == 0, out
    assert "sudo refused to run awg" in out and "sudo wants a password" in out
    # The exact commands and the lines that allow them.
    assert "`sudo -n -- awg showconf awg0`, `sudo -n -- awg show awg0 dump`" in out
    assert f"`{user.name} ALL=(root) NOPASSWD: /usr/bin/awg show awg0 dump`" in out
    assert "No param differs: the file and server" in out


def test_triage_unreachable_node_exits_4(ssh_fleet: SshdFleet, tmp_path: Path) -> None:
    server = ssh_fleet.nodes[0]
    inventory = write_inventory(tmp_path, ssh_fleet, {
        "server": node_fields(ssh_fleet, server),
        "gone": node_fields(ssh_fleet, server, port=1)})
    code, out = run("triage", "gone", "-i", str(inventory), "--ssh-config", "none",
                    "--timeout", "5")
    assert code == 4, out
    assert "COULD NOT READ THE NODE (connection_refused)" in out


def test_triage_ssh_url_with_against(ssh_fleet: SshdFleet, tmp_path: Path) -> None:
    """NODE as ssh://user@host:port with --identity and --known-hosts (default
    conf path, which this test node does not have: exit 4, said plainly),
    the source as a conf file."""
    node = ssh_fleet.nodes[0]
    source = tmp_path / "server.conf"
    source.write_text(server_conf())
    # A home without keys or known_hosts: what the node needs comes from
    # the two options, not from ~/.ssh.
    home = tmp_path / "home"
    home.mkdir()
    url = f"ssh://root@{node.host}:{node.port}"
    result = CliRunner().invoke(main, [
        "triage", url, "--against", str(source), "--format", "json", "--ssh-config", "none",
        "--identity", str(ssh_fleet.client_key), "--known-hosts", str(ssh_fleet.known_hosts)],
        env={"HOME": str(home), "SSH_AUTH_SOCK": ""})
    assert result.exit_code == 4, result.stdout
    report = json.loads(result.stdout)
    assert report["unreachable"]["error_class"] == "file_missing"
    assert "/etc/amnezia/amneziawg/awg0.conf" in report["unreachable"]["error"]
    assert report["source"] == str(source)
    # Without them, the same node is refused at the host key.
    result = CliRunner().invoke(main, [
        "triage", url, "--against", str(source), "--format", "json", "--ssh-config", "none"],
        env={"HOME": str(home), "SSH_AUTH_SOCK": ""})
    assert result.exit_code == 4, result.stdout
    assert json.loads(result.stdout)["unreachable"]["error_class"] == "host_key_unknown"


def test_triage_identity_for_an_inventory_node_is_a_usage_error(ssh_fleet: SshdFleet,
                                                               tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path, ssh_fleet, {
        "server": node_fields(ssh_fleet, ssh_fleet.nodes[0])})
    code, out = run("triage", "server", "-i", str(inventory), "--known-hosts",
                    str(ssh_fleet.known_hosts))
    assert code == 2, out
    assert "--identity and --known-hosts apply to nodes named ssh://" in out
    assert "set 'identity' and 'known_hosts' for it in the inventory" in out


# --------------------------------------------------------------------------
# check --runtime and diff NODE:runtime


def test_check_runtime_reports_every_planted_mismatch(ssh_fleet: SshdFleet, fakes: Path,
                                                      triage_fleet: dict[str, Planted],
                                                      tmp_path: Path) -> None:
    names = ["s4-field-incident", "file-edited-not-applied", "removed-but-still-active",
             "file-differs-from-runtime", "side-local-only", "nothing-differs"]
    server = ssh_fleet.nodes[0]
    nodes: dict[str, Any] = {"server": node_fields(ssh_fleet, server)}
    for name in names:
        nodes[name] = node_fields(ssh_fleet, ssh_fleet.nodes[list(CASES).index(name) + 1])
    local = tmp_path / "local-node"
    (local / CONF_REL).parent.mkdir(parents=True)
    (local / CONF_REL).write_text(conf_text(with_(), "10.77.0.9", key("node-private")))
    nodes["local-tree"] = {"local": str(local)}
    inventory = write_inventory(tmp_path, ssh_fleet, nodes)
    code, out = run("check", "-i", str(inventory), "--runtime", "--format", "json",
                    "--ssh-config", "none")
    assert code == 1, out
    report = json.loads(out)
    failed = {(f["node"], f["rule"], f["param"]) for f in report["findings"]
              if f["status"] == "fail"}
    expected = {
        ("s4-field-incident", "must-match-drift", "S4"),
        ("s4-field-incident", "runtime-must-match-source", "S4"),
        ("file-edited-not-applied", "runtime-matches-file", "S4"),
        ("file-edited-not-applied", "runtime-must-match-source", "S4"),
        ("removed-but-still-active", "runtime-matches-file", "RandomTrailers"),
        ("removed-but-still-active", "runtime-must-match-source", "RandomTrailers"),
        ("file-differs-from-runtime", "must-match-drift", "S4"),
        ("file-differs-from-runtime", "runtime-matches-file", "S4"),
        ("side-local-only", "side-local-drift", "Jc"),
        ("side-local-only", "runtime-side-local-source", "Jc"),
        ("local-tree", "runtime-unavailable", None),
    }
    assert expected <= failed, sorted(failed - expected)
    assert not {f for f in failed if f[0] == "nothing-differs"}
    messages = {f["message"] for f in report["findings"] if f["status"] == "fail"}
    assert any("edited but not applied" in m for m in messages)
    assert any("removed from the file but still active" in m for m in messages)
    assert_no_secrets(out)
    # Without --runtime, no runtime rule runs and nothing is missing.
    code, out = run("check", "-i", str(inventory), "--format", "json", "--ssh-config", "none")
    assert not any(f["rule"].startswith("runtime") for f in json.loads(out)["findings"])


def test_diff_node_runtime(triage_fleet: dict[str, Planted]) -> None:
    inventory = triage_fleet["file-edited-not-applied"].inventory
    code, out = run("diff", "file-edited-not-applied",
                    "file-edited-not-applied:runtime", "-i", str(inventory),
                    "--ssh-config", "none", "--format", "json")
    assert code == 1, out
    rows = {r["param"]: r for r in json.loads(out)["params"]}
    assert rows["S4"]["left"] == "18" and rows["S4"]["right"] == "17"
    assert rows["S4"]["verdict"] == "DRIFT"
    assert_no_secrets(out)
