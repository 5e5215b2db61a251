"""Reading the running interface for the audit: merging the two views,
every way it can fail (and what the operator is told), the audit's
runtime documents, and quirks in diff.
"""

from __future__ import annotations

import paths
import pytest
from memory_node import FakeCollector

from awgcheck import diff, engine, inventory, nodes
from awgcheck.collect.base import CommandResult
from awgcheck.collect.runtime import command_failure, read_runtime
from awgcheck.errors import CollectError
from awgcheck.model import ArtifactKind, Status
from awgcheck.parse import awgconf
from awgcheck.parse.runtime import parse_showconf
from awgcheck.ruleset import load as ruleset

ASSETS = paths.ASSETS / "runtime"
CONF_PATH = "/etc/amnezia/amneziawg/awg0.conf"
SHOWCONF = ("awg", "showconf", "awg0")
DUMP = ("awg", "show", "awg0", "dump")
NODE = inventory.Node(name="edge", host="edge.example")


def _asset(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


def test_read_runtime_merges_showconf_params_with_dump_peers() -> None:
    collector = FakeCollector({}, {SHOWCONF: [_asset("3.1/showconf-kmod")],
                                   DUMP: [_asset("3.1/dump")]})
    read = read_runtime(collector, NODE)
    assert read.state is not None and not read.missing
    assert read.state.view == "showconf+dump"
    assert read.state.generation == "3.x"  # from the dump: showconf cannot tell
    assert read.state.peers[0].rx_bytes == 91234567
    assert read.commands == ("awg showconf awg0", "awg show awg0 dump")


def test_read_runtime_with_showconf_only_notes_the_missing_counters() -> None:
    collector = FakeCollector({}, {SHOWCONF: [_asset("2.0/showconf-go")]})
    read = read_runtime(collector, NODE)
    assert read.state is not None and read.state.view == "showconf"
    assert [m.what for m in read.missing] == ["counters"]


def test_read_runtime_runs_awg_under_sudo_when_the_node_says_so() -> None:
    collector = FakeCollector({}, {SHOWCONF: [_asset("2.0/showconf-go")],
                                   DUMP: [_asset("2.0/dump")]})
    read_runtime(collector, inventory.Node(name="edge", host="h", sudo=True,
                                           interface="awg0"))
    assert [sudo for _, sudo in collector.ran] == [True, True]


def test_read_runtime_unreadable_output_is_missing_evidence_not_a_crash() -> None:
    collector = FakeCollector({}, {SHOWCONF: [b"interface: awg0\n  listening port: 1\n"],
                                   DUMP: [b"a\tb\n"]})
    read = read_runtime(collector, NODE)
    assert read.state is None
    assert "could not be read" in read.missing[0].why


def test_read_runtime_on_a_transport_error() -> None:
    class Broken(FakeCollector):
        def run(self, argv: object, *, sudo: bool = False,
                timeout: float = 30.0) -> CommandResult:
            raise CollectError("edge: connection dropped", error_class="connection_dropped")

    read = read_runtime(Broken({}, {}), NODE)
    assert read.state is None
    assert "connection dropped" in read.missing[0].why


@pytest.mark.parametrize(("status", "stderr", "why", "how"), [
    (1, "sudo: a password is required", "sudo wants a password", "NOPASSWD"),
    (1, "Sorry, user audit is not allowed to execute '/usr/bin/awg showconf awg0' as root",
     "sudo refused", "NOPASSWD"),
    (127, "sh: 1: awg: not found", "`awg` is not installed", "install amneziawg-tools"),
    (1, "Unable to access interface: Operation not permitted", "needs root",
     "set `sudo: true`"),
    (1, "Unable to access interface: No such device", "interface awg0 does not exist",
     "awg-quick up awg0"),
    (3, "something odd", "exited 3: something odd", "by hand"),
], ids=["sudo-password", "sudo-refused", "no-awg", "needs-root", "interface-down", "other"])
def test_command_failures_say_why_and_how(status: int, stderr: str, why: str,
                                          how: str) -> None:
    result = CommandResult(SHOWCONF, status, b"", stderr.encode())
    missing = command_failure(NODE, SHOWCONF, result)
    assert why in missing.why and how in missing.how


def test_command_failure_never_quotes_a_key() -> None:
    secret = "zgpQUBP7QcEpI4xjZeCCR/O4niUGJ/XyKdL2Ozz401k="
    result = CommandResult(SHOWCONF, 2, b"", f"bad key {secret}".encode())
    assert secret not in command_failure(NODE, SHOWCONF, result).why


def test_command_failure_quotes_a_message_on_stdout_escaped_and_capped() -> None:
    """A login shell that refuses commands (nologin on an SFTP-only
    account) says why on stdout, with stderr empty: that is quoted, with
    control characters escaped and the length capped."""
    said = b"This service allows sftp connections only.\x1b[2J" + b" more" * 100
    missing = command_failure(NODE, SHOWCONF, CommandResult(SHOWCONF, 1, said, b""))
    assert missing.why.startswith("`awg showconf awg0` exited 1 on edge, which said: This "
                                  "service allows sftp connections only.\\x1b[2J more")
    assert "\x1b" not in missing.why and "no message" not in missing.why
    assert missing.why.endswith(" ...") and len(missing.why) < 300
    assert "an account that may only use SFTP cannot run it" in missing.how
    # Nothing on either stream: said so.
    silent = command_failure(NODE, SHOWCONF, CommandResult(SHOWCONF, 3, b"", b""))
    assert silent.why == "`awg showconf awg0` exited 3: no message"


def test_read_node_adds_the_runtime_document_when_asked() -> None:
    conf = b"[Interface]\nS4 = 18\n"
    collector = FakeCollector({CONF_PATH: conf}, {SHOWCONF: [b"[Interface]\nS4 = 17\n"]})
    plain = nodes.read_node(NODE, nodes.RunOptions(), factory=lambda n, o: collector)
    assert plain.documents is not None
    assert ArtifactKind.RUNTIME not in plain.documents.docs and not collector.ran
    read = nodes.read_node(NODE, nodes.RunOptions(runtime=True),
                           factory=lambda n, o: collector)
    assert read.documents is not None and read.error is None
    assert read.documents.docs[ArtifactKind.RUNTIME].params()["S4"].effective == "17"


def test_audit_runtime_rules_on_documents() -> None:
    """runtime-matches-file reads the node's own conf through the context."""
    rules = ruleset.load_shipped()
    conf = awgconf.parse(b"[Interface]\nS3 = 36\nS4 = 18\n", "node.conf")
    state = parse_showconf("[Interface]\nS4 = 17\n", source="node: awg showconf awg0")
    node = engine.NodeDocuments("node", {ArtifactKind.CONF: conf, ArtifactKind.RUNTIME: state})
    findings = engine.evaluate([rules.by_id["runtime-matches-file"]], [node],
                               engine.Source("server", conf))
    failed = {f.param: f for f in findings if f.status is Status.FAIL}
    assert set(failed) == {"S3", "S4"}
    assert "edited but not applied" in failed["S4"].message
    assert failed["S4"].location is not None and failed["S4"].location.line == 3
    assert "the file sets S3 = 36 but the interface runs absent (means 0)" in \
        failed["S3"].message


def test_diff_shows_runtime_quirks_as_quirk() -> None:
    conf = awgconf.parse(b"[Interface]\nJc = 4\nJmin = 50\nJmax = 50\nH1 = 3\nH2 = 4\n",
                         "node.conf")
    state = parse_showconf(_asset("2.0/showconf-kmod-quirks").decode(), source="runtime")
    rows = {r.param: r for r in diff.compare(conf, state)}
    assert rows["Jmax"].verdict == diff.QUIRK and "Jmax + 1" in rows["Jmax"].note
    assert rows["H1"].verdict == diff.QUIRK
    assert rows["S1"].verdict.startswith(diff.DRIFT)  # the file has no S1; the runtime 52
