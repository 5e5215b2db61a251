"""The plan and its diff, on small confs: where lines go, which duplicate
is kept, what happens at the file's edges and next to a secret."""

from __future__ import annotations

import base64

import pytest

from awgcheck.fix import diff, plan
from awgcheck.fix.plan import Action
from awgcheck.parse import awgconf

KEY = base64.b64encode(bytes(range(32)))
OTHER_KEY = base64.b64encode(bytes(range(1, 33)))
SOURCE = awgconf.parse(b"[Interface]\nPrivateKey = " + OTHER_KEY + b"\nJc = 4\nS3 = 36\n"
                       b"S4 = 18\nHeaderProtectionKey = " + OTHER_KEY + b"\n", "source.conf")


def fixed(data: bytes, profile: str = "strict") -> plan.Plan:
    return plan.plan(data, awgconf.parse(data, "node.conf"), SOURCE, plan.targets(profile))


def actions(result: plan.Plan) -> list[tuple[str, str, int]]:
    return [(e.action.value, e.param, e.line) for e in result.edits]


def test_plan_keeps_the_last_duplicate_per_place() -> None:
    """A second [Interface] applies on top of the first: one place. Each
    [Peer] is its own. Address lines add up: never duplicates."""
    data = (b"[Interface]\nPrivateKey = " + KEY + b"\nAddress = 10.0.0.2/24\nS4 = 18\n"
            b"Address = fd00::2/64\nJc = 4\nS3 = 36\nHeaderProtectionKey = " + OTHER_KEY
            + b"\n[Peer]\nPublicKey = " + OTHER_KEY + b"\nPersistentKeepalive = 20\n"
            b"PersistentKeepalive = 25\n[Interface]\nS4 = 18\n")
    result = fixed(data)
    assert actions(result) == [("drop-duplicate", "S4", 4), ("drop-duplicate",
                                                            "PersistentKeepalive", 11)]
    assert result.data == data.replace(b"S4 = 18\nAddress", b"Address").replace(
        b"PersistentKeepalive = 20\n", b"")


def test_plan_adds_after_the_last_interface_line_it_may_show() -> None:
    """S3 is missing; the last [Interface] line is the key, which the diff
    must not show as context, so the new line goes before it."""
    data = (b"[Interface]\nPrivateKey = " + KEY + b"\nJc = 4\nS4 = 18\n"
            b"HeaderProtectionKey = " + OTHER_KEY + b"\n")
    result = fixed(data)
    assert actions(result) == [("add", "S3", 4)]
    assert result.data == data.replace(b"S4 = 18\n", b"S4 = 18\nS3 = 36\n")
    shown = diff.render(result, "/etc/amnezia/amneziawg/awg0.conf")
    assert KEY.decode() not in shown and OTHER_KEY.decode() not in shown
    # Context stops at the key line after the change, so the lines before
    # are cut to the same count: none.
    assert shown.splitlines()[2:] == ["@@ -4,0 +5,1 @@", "+S3 = 36"]


def test_plan_keeps_a_missing_final_newline() -> None:
    data = b"[Interface]\nPrivateKey = " + KEY + b"\nJc = 4\nS3 = 36\nS4 = 17\nI2 = <r 8>"
    result = fixed(data)
    assert actions(result) == [("set", "S4", 5), ("remove", "I2", 6)]
    assert result.data == data.replace(b"S4 = 17\nI2 = <r 8>", b"S4 = 18")
    assert diff.render(result, "/x.conf").endswith(
        "-S4 = 17\n-I2 = <r 8>\n\\ No newline at end of file\n"
        "+S4 = 18\n\\ No newline at end of file\n")


def test_plan_writes_crlf_lines_in_a_crlf_file() -> None:
    data = (b"[Interface]\nPrivateKey = " + KEY + b"\nJc = 4\nS4 = 18\n").replace(
        b"\n", b"\r\n")
    result = fixed(data)
    assert [e.action for e in result.edits] == [Action.ADD]
    assert result.data == data + b"S3 = 36\r\n"


@pytest.mark.parametrize(("line", "canonical"), [
    (b"s4=18", b"S4 = 18"),
    (b"  S4 = 18", b"S4 = 18"),
    (b"S4 = 018   # from the installer", b"S4 = 18   # from the installer"),
    (b"S 4 = 1 8", b"S4 = 18"),
    (b"S4 = 18 # ok", None),
], ids=["case-and-spacing", "indented", "number-comment-kept", "inner-blanks", "canonical"])
def test_plan_respells(line: bytes, canonical: bytes | None) -> None:
    data = (b"[Interface]\nPrivateKey = " + KEY + b"\nJc = 4\nS3 = 36\n" + line
            + b"\nHeaderProtectionKey = " + OTHER_KEY + b"\n")
    result = fixed(data)
    if canonical is None:
        assert not result.changes
        return
    assert actions(result) == [("respell", "S4", 5)]
    assert result.data == data.replace(line, canonical)


def test_plan_profile_protocol_leaves_side_local_params() -> None:
    data = (b"[Interface]\nPrivateKey = " + KEY + b"\nJc = 9\nS3 = 36\nS4 = 18\n"
            b"HeaderProtectionKey = " + OTHER_KEY + b"\n")
    assert not fixed(data, "protocol").changes
    assert actions(fixed(data)) == [("set", "Jc", 3)]


def test_plan_adds_after_a_last_line_without_newline() -> None:
    data = b"[Interface]"
    result = fixed(data)
    assert result.data == b"[Interface]\nS3 = 36\nS4 = 18\nJc = 4"
    assert diff.render(result, "/x.conf").splitlines()[2:] == [
        "@@ -1,1 +1,4 @@", "-[Interface]", "\\ No newline at end of file", "+[Interface]",
        "+S3 = 36", "+S4 = 18", "+Jc = 4", "\\ No newline at end of file"]


@pytest.mark.parametrize(("source_key", "said"), [
    (OTHER_KEY, "copy it from the source by hand"),
    (None, "delete the line by hand"),
    (base64.b64encode(bytes(32)), "delete the line by hand"),  # the all-zero key: unset
], ids=["other-key", "source-unset", "source-zero-key"])
def test_plan_leaves_a_secret_to_a_person(source_key: bytes | None, said: str) -> None:
    source = b"[Interface]\nJc = 4\nS3 = 36\nS4 = 18\n"
    if source_key is not None:
        source += b"HeaderProtectionKey = " + source_key + b"\n"
    data = (b"[Interface]\nPrivateKey = " + KEY + b"\nJc = 4\nS3 = 36\nS4 = 18\n"
            b"HeaderProtectionKey = " + KEY + b"\n")
    result = plan.plan(data, awgconf.parse(data, "node.conf"),
                       awgconf.parse(source, "source.conf"), plan.targets("strict"))
    assert not result.changes
    [manual] = result.manual
    assert (manual.param, manual.line) == ("HeaderProtectionKey", 6)
    assert manual.why.endswith(said)


def test_diff_never_shows_a_commented_out_key() -> None:
    """The parser keeps comments as written; a key in one is still a key."""
    old = base64.b64encode(bytes(range(2, 34)))
    data = (b"[Interface]\nPrivateKey = " + KEY + b"\n# PrivateKey = " + old
            + b"\nJc = 4\nS3 = 36\nS4 = 17\n")
    shown = diff.render(fixed(data), "/x.conf")
    assert shown.splitlines()[2:] == ["@@ -4,3 +4,3 @@", " Jc = 4", " S3 = 36", "-S4 = 17",
                                      "+S4 = 18"]
