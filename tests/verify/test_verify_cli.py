"""``awgcheck verify`` as an installer runs it: the installed entry point in
a subprocess, on a machine whose kernel side is faked (``awg`` and
``ping`` of tests/assets/bin first on PATH, tests/verify/fake_node.py).

One test per outcome and exit code, against a conf and against an epoch
document piped on stdin, as the issue's installer does.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fake_node import (
    AWGCHECK,
    HPK,
    SECRETS,
    SERVER,
    SOURCE,
    FakeNode,
    conf_text,
    epoch_json,
    key,
    with_,
)

from awgcheck import exitcodes

EPOCH = epoch_json(SOURCE)


@pytest.fixture
def node(tmp_path: Path) -> FakeNode:
    return FakeNode(tmp_path)


def hub_conf(tmp_path: Path, values: dict[str, str] = SOURCE) -> Path:
    """The hub's own conf as a source: its Address is the address to ping."""
    path = tmp_path / "hub.conf"
    text = conf_text(values).replace("Address = 10.77.0.3/24", f"Address = {SERVER}/24")
    path.write_text(text.replace(key("node-private"), key("hub-private")))
    return path


def verify(node: FakeNode, *args: str, stdin: str | None = EPOCH) -> tuple[int, str]:
    against = ["--against", "-"] if stdin is not None and "--against" not in args else []
    done = node.awgcheck("verify", "--conf", str(node.conf), *against, *args, stdin=stdin)
    assert "Traceback" not in done.stderr, done.stderr
    for secret in SECRETS:
        assert secret not in done.stdout + done.stderr
    return done.returncode, done.stdout


def test_in_sync_with_a_conf_and_a_passing_probe_prints_one_ok_line(node: FakeNode,
                                                                     tmp_path: Path) -> None:
    node.plant(SOURCE, SOURCE, received=3)
    code, out = verify(node, "--against", str(hub_conf(tmp_path)), "--probe", stdin=None)
    assert code == exitcodes.OK, out
    assert out.count("\n") == 1 and out.startswith("mesh: OK (") and out.endswith(")\n")
    assert f"matches {tmp_path / 'hub.conf'} on 12 params" in out
    assert f"ping {SERVER}: 3/3 replies" in out and "rx grew by 296 bytes" in out


def test_in_sync_with_an_epoch_document_on_stdin(node: FakeNode) -> None:
    node.plant(SOURCE, SOURCE, received=3)
    code, out = verify(node, "--probe")
    assert code == exitcodes.OK, out
    assert out.count("\n") == 1
    assert out.startswith(f"mesh: OK (awg0 runs what {node.conf} says, and it matches "
                          "epoch 42 (stdin) on 12 params; ping 10.77.0.1: 3/3 replies")


def test_without_probe_nothing_is_pinged(node: FakeNode) -> None:
    node.plant(SOURCE, SOURCE, received=0)  # a ping would fail: none is run
    code, out = verify(node)
    assert code == exitcodes.OK
    assert out.endswith("; no probe (add --probe to ping through the tunnel))\n")


def test_the_field_incident_s4_17_against_18_is_drift(node: FakeNode) -> None:
    node.plant(with_(S4="17"), with_(S4="17"), received=0, rx_growth=0)
    code, out = verify(node, "--probe")
    assert code == exitcodes.VERIFY_DRIFT == 10
    lines = out.splitlines()
    assert lines[0] == ("mesh: DRIFT: S4 differs (17 vs 18): handshakes complete and keep "
                        "refreshing, but every data packet is silently dropped: looks up, "
                        "carries nothing.")
    assert "  seen: This matches what we see: last handshake" in out
    assert "rx did not grow, ping 100% loss." in out
    line = conf_text(with_(S4="17")).splitlines().index("S4 = 17") + 1
    assert f"  fix: {node.conf} line {line}: change `S4 = 17` to `S4 = 18`" in lines
    assert "  then: awg-quick down awg0 && awg-quick up awg0" in lines


def test_file_fixed_but_interface_not_recreated_is_not_applied(node: FakeNode) -> None:
    node.plant(SOURCE, with_(S4="17"), received=0, rx_growth=0)
    code, out = verify(node, "--probe")
    assert code == exitcodes.VERIFY_NOT_APPLIED == 11
    assert out.startswith("mesh: NOT APPLIED: S4 differs (17 vs 18): ")
    assert "The file already says S4 = 18: the interface was not recreated" in out
    assert f"  fix: {node.conf}: the file is already right; only recreate the interface" in out
    assert "  then: awg-quick down awg0 && awg-quick up awg0" in out


def test_ping_loss_with_matching_params_is_no_traffic(node: FakeNode) -> None:
    node.plant(SOURCE, SOURCE, received=0, rx_growth=0)
    code, out = verify(node, "--probe")
    assert code == exitcodes.VERIFY_NO_TRAFFIC == 12
    assert out.startswith("mesh: NO TRAFFIC: the params agree, but nothing came back through "
                          "awg0: ping 10.77.0.1: 3 packets transmitted, 0 received, 100% "
                          "packet loss")
    assert "  hint: Handshakes work but data does not flow: check AllowedIPs" in out


def test_a_missing_conf_could_not_be_checked(node: FakeNode) -> None:
    node.plant(None, SOURCE)
    code, out = verify(node, "--probe")
    assert code == exitcodes.UNCHECKED == 4
    assert out == (f"mesh: COULD NOT CHECK: the conf could not be read: {node.conf}: file "
                   "not found\n  hint: pass --conf with the path the installer wrote\n")


def test_an_interface_that_is_not_up_could_not_be_checked(node: FakeNode) -> None:
    node.plant(SOURCE, None)
    code, out = verify(node)
    assert code == exitcodes.UNCHECKED
    assert out.startswith("mesh: COULD NOT CHECK: the running interface could not be read: "
                          "interface awg0 does not exist")
    assert "  hint: check `interface:` in the inventory; bring it up with `awg-quick up awg0`" \
        in out


@pytest.mark.parametrize("stdin", ["", '{"error": "partner not registered"}'],
                         ids=["nothing piped", "error reply"])
def test_a_source_that_states_nothing_could_not_be_checked(node: FakeNode, stdin: str) -> None:
    node.plant(SOURCE, SOURCE)
    code, out = verify(node, stdin=stdin)
    assert code == exitcodes.UNCHECKED
    assert out.startswith("mesh: COULD NOT CHECK: the source could not be read: stdin: ")


def test_a_source_that_breaks_a_shipped_rule_is_named_not_checked_against(
        node: FakeNode) -> None:
    """The server issued Jmin > Jmax and the installer wrote it faithfully:
    the fault is the source's (as `fix` refuses it), said with its line
    and its fix there; exit 4, the node could not be checked against it."""
    broken = with_(Jmin="80")
    node.plant(broken, broken)
    code, out = verify(node, stdin=epoch_json(broken, 43))
    assert code == exitcodes.UNCHECKED, out
    assert out.startswith("mesh: COULD NOT CHECK: The source of truth epoch 43 (stdin) is "
                          "broken: stdin line 1 (`Jmin = 80`) fails jmin-below-jmax: ")
    assert "  fix: stdin line 1: `Jmin = 80` fails jmin-below-jmax: Make Jmin lower than " \
        "Jmax." in out
    assert "  hint: Nothing is copied from the source while it fails its own rules" in out


def test_a_source_the_tools_reject_is_never_copied(node: FakeNode, tmp_path: Path) -> None:
    """The hub's conf says S4 = 70000 (awg setconf rejects it); the node's
    S4 = 18 is healthy: verify names the hub's line, never 'change S4 = 18
    to S4 = 70000'."""
    node.plant(SOURCE, SOURCE)
    hub = hub_conf(tmp_path, with_(S4="70000"))
    code, out = verify(node, "--against", str(hub), stdin=None)
    assert code == exitcodes.UNCHECKED, out
    line = hub.read_text().splitlines().index("S4 = 70000") + 1
    assert out.splitlines()[0] == (
        f"mesh: COULD NOT CHECK: The source of truth is broken: {hub} line {line} "
        f"(`S4 = 70000`) fails conf-loads: awg setconf would reject line {line}: S4: Unable to "
        "parse S4: `70000' (over 65535); copying its values to "
        f"{out.split('copying its values to ')[1].split(' ')[0]} would spread the fault.")
    assert f"  fix: {hub} line {line}: `S4 = 70000` fails conf-loads: " in out
    assert "to `S4 = 70000`" not in out
    document = json.loads(node.awgcheck("verify", "--conf", str(node.conf), "--against",
                                        str(hub), "--format", "json").stdout)
    assert document["outcome"] == "unchecked" and document["exit_code"] == 4
    assert document["triage"]["verdict"]["status"] == "source-broken"
    assert not any("70000" in step["action"] and "change" in step["action"]
                   for step in document["triage"]["verdict"]["fix"]["steps"])


def test_a_file_that_breaks_a_shipped_rule_on_its_own_is_drift(node: FakeNode) -> None:
    """The source is sound and every param agrees, but the file repeats Jc
    under [Peer] (the tools reject the file): drift, with the rule's fix."""
    node.plant(SOURCE, SOURCE)
    node.conf.write_text(node.conf.read_text() + "Jc = 4\n")
    code, out = verify(node)
    assert code == exitcodes.VERIFY_DRIFT, out
    assert out.startswith("mesh: DRIFT: obfuscation-in-peer: Jc on line ")
    assert "  fix: Move the line into the [Interface] section." in out


def test_the_ping_address_can_be_given(node: FakeNode) -> None:
    node.plant(SOURCE, SOURCE, received=3)
    code, out = verify(node, "--probe", "--ping", "10.77.0.9", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["exit_code"] == 0 and report["outcome"] == "ok"
    assert report["target"] == {"address": "10.77.0.9", "chosen_by": "--ping"}
    assert report["triage"]["evidence"]["ping"]["command"] == \
        "ping -c 3 -W 2 -I awg0 10.77.0.9"


def test_json_names_the_outcome_cause_and_fix(node: FakeNode) -> None:
    node.plant(with_(S4="17"), with_(S4="17"), received=0, rx_growth=0)
    code, out = verify(node, "--probe", "--format", "json")
    report = json.loads(out)
    assert code == report["exit_code"] == 10
    assert report["schema"] == "awgcheck.verify/v1" and report["outcome"] == "drift"
    assert report["triage"]["verdict"]["cause"] == "S4/H4"
    assert report["command"] == "awg-quick down awg0 && awg-quick up awg0"
    assert any(f["param"] == "S4" for f in report["findings"])
    assert report["target"]["chosen_by"] == "the first address of the mesh 10.77.0.0/24"
    assert HPK not in out


def test_a_ping_address_that_is_not_an_ip_is_a_usage_error(node: FakeNode) -> None:
    node.plant(SOURCE, SOURCE)
    code, _ = verify(node, "--probe", "--ping", "10.77.0.1; reboot")
    assert code == exitcodes.USAGE


def test_a_ping_that_hangs_ends_at_the_timeout_as_could_not_check(node: FakeNode) -> None:
    node.plant(SOURCE, SOURCE)
    (node.bin / "ping").write_text("#!/bin/sh\nexec sleep 60\n")
    code, out = verify(node, "--probe", "--timeout", "2")  # the subprocess allows 60 s
    assert code == exitcodes.UNCHECKED
    assert out.startswith("mesh: COULD NOT CHECK: the ping to 10.77.0.1 could not be run: ")
    assert "command did not finish within" in out
    assert "  hint: run it by hand to see why; or raise --timeout (it was 2 s" in out


def test_a_header_protection_key_mismatch_never_shows_a_key(node: FakeNode) -> None:
    other = with_(HeaderProtectionKey=key("hpk-other"))
    node.plant(other, other)
    code, out = verify(node)
    assert code == exitcodes.VERIFY_DRIFT
    assert out.startswith("mesh: DRIFT: HeaderProtectionKey differs (sha256:")
    assert "`HeaderProtectionKey = <key>` to `HeaderProtectionKey = <the key from stdin:1>`" \
        in out
    assert key("hpk-other") not in out


def test_nothing_to_ping_could_not_be_checked(node: FakeNode) -> None:
    node.plant(SOURCE, SOURCE)
    node.conf.write_text(node.conf.read_text().replace("AllowedIPs = 10.77.0.0/24",
                                                       "AllowedIPs = 0.0.0.0/0"))
    code, out = verify(node, "--probe")
    assert code == exitcodes.UNCHECKED
    assert out == ("mesh: COULD NOT CHECK: no address to ping: neither the source nor the conf "
                   "names the hub's mesh address\n"
                   "  hint: pass --ping ADDR (the hub's address inside the tunnel)\n")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_control_characters_in_the_conf_are_escaped(node: FakeNode, fmt: str) -> None:
    node.plant(SOURCE, SOURCE)
    hostile = node.conf.read_bytes().replace(b"S3 = 36", b"S3 = 36\x1b]52;c;aGk=\x07")
    node.conf.write_bytes(hostile.replace(b"S4 = 18", b"S4 = 18\xff"))
    done = subprocess.run([str(AWGCHECK), "verify", "--conf", str(node.conf), "--against", "-",
                           "--format", fmt], input=EPOCH.encode(), capture_output=True,
                          env=node.env(), timeout=60, check=False)
    assert done.returncode == exitcodes.VERIFY_DRIFT
    raw = done.stdout
    assert not [b for b in raw if b < 0x20 and b not in (0x0A, 0x09)], raw
    text = raw.decode("utf-8")  # valid UTF-8: the stray byte is escaped
    if fmt == "json":
        report = json.loads(text)
        text = "\n".join([report["headline"], *report["fix"]])
    assert "\\x1b]52;c;aGk=\\x07" in text and "\\xff" in text
