"""``awgcheck fix`` on local node trees with planted drift: the diff the
real ``patch`` and ``git apply`` apply, and ``--apply``, each leave a conf
that ``check`` passes, with no other byte changed and no secret printed."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from fix_fleet import (
    BERLIN,
    CONF,
    apply_with,
    assert_no_secret,
    assert_only_edited,
    awgcheck,
    check_passes,
    fix_json,
    make_fleet,
)

I1 = (b"I1 = <b 0xc70000000108ce1bf31eec7d93360000449e227e4596ed7f75c4d35ce31880b4133107c822"
      b"c6355d51f0d977bb34ce8fc1c8> <r 16> <t>")


def sub(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def change(conf: bytes) -> bytes:
        assert old in conf
        return conf.replace(old, new, 1)
    return change


def crlf(conf: bytes) -> bytes:
    return conf.replace(b"\n", b"\r\n")


PLANTED: dict[str, Callable[[bytes], bytes]] = {
    "must-match-drift": sub(b"S4 = 18\n", b"S4 = 17\n"),
    "comment-kept": sub(b"S4 = 18\n", b"S4 = 17   # set by hand\n"),
    "spelling": lambda c: sub(b"S4 = 18\n", b"s4=18\n")(sub(b"H3 = 1766607858-1766607868\n",
                                                         b"  H3 = 1766607858-1766607868 \n")(c)),
    "number-format": sub(b"S1 = 52\n", b"S1 = 052\n"),
    "duplicate-same": sub(b"S3 = 36\nS4 = 18\n", b"S3 = 36\nS4=17\nS4 = 18\n"),
    "duplicate-last-drifts": sub(b"S4 = 18\n", b"S4 = 18\nS4 = 17\n"),
    "missing": sub(b"S3 = 36\n", b""),
    "extra": sub(b"H4 = 2114195744-2114195754\n",
                 b"H4 = 2114195744-2114195754\nI2 = <r 8>\n"),
    "side-local": sub(b"Jc = 4\n", b"Jc = 9\n"),
    "next-to-secret": sub(I1, b"I1 = <r 10>"),
    "crlf": lambda c: crlf(sub(b"S4 = 18\n", b"S4 = 17\n")(c)),
    "no-final-newline": lambda c: sub(b"S4 = 18\n", b"S4 = 17\n")(c.rstrip(b"\n")),
    "several": lambda c: sub(b"Jmax = 70\n", b"jmax=70\n")(
        sub(b"S2 = 140\n", b"S2 = 141\n")(sub(b"S3 = 36\n", b"")(c))),
}


@pytest.mark.parametrize("planted", PLANTED, ids=list(PLANTED))
def test_fix_diff_applies_and_check_passes(planted: str, tmp_path: Path) -> None:
    conf = PLANTED[planted](BERLIN)
    inventory = make_fleet(tmp_path, conf)
    result = fix_json(inventory)
    assert result["changes"] and result["remaining"] == [] and result["manual"] == []
    diff = result["diff"].encode()
    tree = tmp_path / "nodes" / "edge"
    fixed = apply_with("patch", tree, diff)
    assert apply_with("git", tree, diff) == fixed
    assert_only_edited(conf, fixed, result["edits"])
    assert fixed.endswith(b"\n") == conf.endswith(b"\n")
    (tree / CONF).write_bytes(fixed)
    check_passes(inventory)
    again = fix_json(inventory)
    assert not again["changes"], again["edits"]


@pytest.mark.parametrize("planted", ["must-match-drift", "crlf", "no-final-newline", "several"])
def test_fix_apply_writes_what_the_diff_says(planted: str, tmp_path: Path) -> None:
    conf = PLANTED[planted](BERLIN)
    inventory = make_fleet(tmp_path, conf)
    tree = tmp_path / "nodes" / "edge"
    fixed = apply_with("patch", tree, fix_json(inventory)["diff"].encode())
    done = awgcheck("fix", "edge", "-i", str(inventory), "--apply")
    assert done.returncode == 0, done.stderr
    assert_no_secret(done.stdout + done.stderr)
    path = tree / CONF
    assert path.read_bytes() == fixed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    backups = list(path.parent.glob("awg0.conf.awgcheck-*.bak"))
    assert [b.read_bytes() for b in backups] == [conf]
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    # What was done and what comes next are notes; nothing here is a warning.
    said = done.stderr.decode().splitlines()
    assert any(line.startswith("awgcheck: note: ") and "written; the previous conf is kept as"
               in line for line in said), said
    assert any(line.startswith("awgcheck: note: ") and "awg-quick down awg0 && awg-quick up "
               "awg0" in line for line in said), said
    assert not any("warning" in line for line in said), said
    check_passes(inventory)


def test_fix_dry_run_writes_nothing(tmp_path: Path) -> None:
    conf = PLANTED["must-match-drift"](BERLIN)
    inventory = make_fleet(tmp_path, conf)
    done = awgcheck("fix", "edge", "-i", str(inventory))
    assert done.returncode == 0
    assert done.stdout.startswith(b"--- a/etc/amnezia/amneziawg/awg0.conf\n")
    assert b"-S4 = 17\n+S4 = 18\n" in done.stdout
    path = tmp_path / "nodes" / "edge" / CONF
    assert path.read_bytes() == conf
    assert os.listdir(path.parent) == ["awg0.conf"]


def test_fix_profile_protocol_leaves_side_local(tmp_path: Path) -> None:
    conf = PLANTED["side-local"](BERLIN)
    inventory = make_fleet(tmp_path, conf)
    result = fix_json(inventory, "--profile", "protocol")
    assert not result["changes"] and result["diff"] == ""
    check_passes(inventory, "--profile", "protocol")
    strict = fix_json(inventory)
    assert [(e["param"], e["new"]) for e in strict["edits"]] == [("Jc", "Jc = 4")]


def test_fix_profile_protocol_sets_a_side_local_value_that_fails_a_rule(tmp_path: Path) -> None:
    conf = sub(b"Jmax = 70\n", b"Jmax = 2000\n")(sub(b"Jc = 4\n", b"Jc = 9\n")(BERLIN))
    inventory = make_fleet(tmp_path, conf)
    result = fix_json(inventory, "--profile", "protocol")
    assert [(e["param"], e["new"]) for e in result["edits"]] == [("Jmax", "Jmax = 70")]
    (tmp_path / "nodes" / "edge" / CONF).write_bytes(
        apply_with("patch", tmp_path / "nodes" / "edge", result["diff"].encode()))
    check_passes(inventory, "--profile", "protocol")


def test_fix_never_prints_or_changes_a_secret(tmp_path: Path) -> None:
    """A drifted HeaderProtectionKey, a non-canonical PrivateKey line and a
    duplicate PresharedKey: listed as work for a person by key and line,
    never in the diff, not even as context."""
    conf = sub(b"HeaderProtectionKey = 2gtwTVAuutW+pbxXRX0K6mlCFQItiKz8qeS7LVj8PD0=",
               b"HeaderProtectionKey = AbCdTVAuutW+pbxXRX0K6mlCFQItiKz8qeS7LVj8PD0=")(BERLIN)
    conf = sub(b"PrivateKey = ", b"privatekey=")(conf)
    conf = sub(b"Endpoint", b"PresharedKey = AbCd5kZJdaA7PD5NxgT8YM1zpBZJlFyDJGzD2gqUflc=\n"
                            b"Endpoint")(conf)
    conf = sub(b"S4 = 18\n", b"S4 = 17\n")(sub(b"MTU = 1380\n", b"mtu = 1380\n")(conf))
    inventory = make_fleet(tmp_path, conf)
    done = awgcheck("fix", "edge", "-i", str(inventory), "--format", "json")
    assert done.returncode == 1  # the key drift is left: check would still fail
    out = done.stdout + done.stderr
    assert_no_secret(out)
    assert b"AbCd" not in out
    result = fix_json(inventory)
    manual = {(m["param"], m["line"]) for m in result["manual"]}
    assert manual == {("HeaderProtectionKey", 18), ("PrivateKey", 3), ("PresharedKey", 23)}
    assert {r["rule"] for r in result["remaining"]} == {"must-match-drift"}
    # The PrivateKey line sits between two edited lines: the diff shows
    # neither it nor any other key line, and still applies.
    assert "Key" not in result["diff"].replace("PublicKey", "")
    fixed = apply_with("patch", tmp_path / "nodes" / "edge", result["diff"].encode())
    assert apply_with("git", tmp_path / "nodes" / "edge", result["diff"].encode()) == fixed
    assert_only_edited(conf, fixed, result["edits"])
    diff = awgcheck("fix", "edge", "-i", str(inventory))
    assert_no_secret(diff.stdout + diff.stderr)
    said = ("awgcheck: warning: edge: line 18: HeaderProtectionKey: differs from the source; "
            "awgcheck never writes a secret: copy it from the source by hand")
    assert said.encode() in diff.stderr
    assert said in (Path(__file__).parents[2] / "docs" / "fix.md").read_text()


REFUSED = 3


def test_fix_refuses_a_conf_that_does_not_load(tmp_path: Path) -> None:
    inventory = make_fleet(tmp_path, sub(b"S4 = 18\n", b"S4 = 0x12\n")(BERLIN))
    done = awgcheck("fix", "edge", "-i", str(inventory))
    assert done.returncode == REFUSED
    assert b"fix refused" in done.stderr and b"does not load" in done.stderr
    assert b"line 12" in done.stderr and done.stdout == b""


def test_fix_refuses_a_source_that_breaks_its_own_rules(tmp_path: Path) -> None:
    server = (Path(__file__).parents[2] / "fixtures/demo/nodes/server" / CONF).read_bytes()
    broken = sub(b"Jmax = 70\n", b"Jmax = 2000\n")(server)
    inventory = make_fleet(tmp_path, PLANTED["must-match-drift"](BERLIN), source=broken)
    done = awgcheck("fix", "edge", "-i", str(inventory), "--apply")
    assert done.returncode == REFUSED
    assert b"the source of truth server fails its own rules (jmax-mtu" in done.stderr
    assert (tmp_path / "nodes" / "edge" / CONF).read_bytes() == PLANTED["must-match-drift"](
        BERLIN)


def test_fix_takes_a_source_conf_of_params_only(tmp_path: Path) -> None:
    """A source conf as ``params generate`` writes it holds no PrivateKey:
    a param set is judged as one, not as a node (private-key-present is
    not its rule), so fix copies its values and refuses only what breaks
    them."""
    inventory = make_fleet(tmp_path, PLANTED["must-match-drift"](BERLIN))
    generated = tmp_path / "generated.conf"
    # A fresh draw, but not one whose S4 is the node's 17 (one in fifty):
    # then there would be no S4 to copy.
    while not generated.exists() or re.search(r"(?m)^S4 = 17$", generated.read_text()):
        assert awgcheck("params", "generate", "--generation", "3.1",
                        "-o", str(generated)).returncode == 0
    done = awgcheck("fix", "edge", "-i", str(inventory), "--source", str(generated))
    assert done.returncode in (0, 1) and b"fix refused" not in done.stderr, done.stderr
    assert b"+S4 = " in done.stdout
    generated.write_text(re.sub(r"(?m)^S4 = .*$", "S4 = 70000", generated.read_text()))
    done = awgcheck("fix", "edge", "-i", str(inventory), "--source", str(generated))
    assert done.returncode == REFUSED
    assert b"fails its own rules (conf-loads: awg setconf would reject line" in done.stderr
    assert b"private-key-present" not in done.stderr


def test_fix_refuses_a_node_it_cannot_read(tmp_path: Path) -> None:
    inventory = make_fleet(tmp_path, BERLIN)
    (tmp_path / "nodes" / "edge" / CONF).unlink()
    done = awgcheck("fix", "edge", "-i", str(inventory))
    assert done.returncode == REFUSED
    assert b"edge: cannot be read" in done.stderr and b"file not found" in done.stderr


def test_fix_reload_needs_an_ssh_node(tmp_path: Path) -> None:
    inventory = make_fleet(tmp_path, PLANTED["must-match-drift"](BERLIN))
    done = awgcheck("fix", "edge", "-i", str(inventory), "--apply", "--reload")
    assert done.returncode == 2 and b"--reload needs an SSH node" in done.stderr
    assert (tmp_path / "nodes" / "edge" / CONF).read_bytes() == PLANTED["must-match-drift"](
        BERLIN)


def test_fix_output_is_plain_text_whatever_the_conf_holds(tmp_path: Path) -> None:
    """Comments with terminal escapes and bytes that are not UTF-8 load fine
    (the tools ignore comments), but are never printed: not as context, and
    a drifted line carrying one is left to a person."""
    conf = sub(b"S2 = 140\n", b"# \x1b]52;c;aGk=\x07 \xff\nS2 = 140\n")(BERLIN)
    conf = sub(b"S4 = 18\n", b"S4 = 17 # \x1b[31mred\n")(conf)
    conf = sub(b"Jc = 4\n", b"Jc = 9\n")(conf)
    inventory = make_fleet(tmp_path, conf)
    for fmt in ("diff", "json"):
        done = awgcheck("fix", "edge", "-i", str(inventory), "--format", fmt)
        assert done.returncode == 1  # S4 is left: check would still fail
        out = (done.stdout + done.stderr).decode("utf-8")
        assert not [ch for ch in out if not ch.isprintable() and ch not in "\n"], out
    result = fix_json(inventory)
    assert [(e["param"], e["new"]) for e in result["edits"]] == [("Jc", "Jc = 4")]
    assert [(m["param"], m["line"]) for m in result["manual"]] == [("S4", 13)]
    fixed = apply_with("patch", tmp_path / "nodes" / "edge", result["diff"].encode())
    assert_only_edited(conf, fixed, result["edits"])


@pytest.mark.parametrize(("line", "why"), [
    (b"I2 = <b 0x01\x1b[31m> <r 4>", "the line holds a control character, which awgcheck "
                                     "never prints or writes (it could drive the terminal"),
    (b"I2 = <b 0x01> <r 4> # caf\xe9", "the line holds bytes that are not UTF-8, which "
                                        "awgcheck never prints or writes"),
    (b"I2 = <r 4> # old PrivateKey = " + b"A" * 43 + b"=",
     "the line holds a secret, which awgcheck never prints or writes"),
], ids=["control-character", "not-utf8", "secret"])
def test_fix_names_why_a_line_is_left_to_a_person(tmp_path: Path, line: bytes,
                                                  why: str) -> None:
    """A line fix will not print or write is left to a person with the
    reason it is hidden: a control character is not called a secret."""
    conf = sub(b"\nHeaderProtectionKey", b"\n" + line + b"\nHeaderProtectionKey")(BERLIN)
    inventory = make_fleet(tmp_path, conf)
    result = fix_json(inventory)
    [manual] = [m for m in result["manual"] if m["param"] == "I2"]
    assert manual["why"].startswith(f"the source does not set it; {why}")
    assert manual["why"].endswith(": change it by hand")
    done = awgcheck("fix", "edge", "-i", str(inventory))
    assert f"I2: the source does not set it; {why}".encode() in done.stderr
