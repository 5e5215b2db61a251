"""The conf parser against real files in tests/assets/conf/.

Expected effective values follow amneziawg-tools config.c/type.c and
wg-quick/linux.bash at v3.1.20260812 (docs/rules.md, "How values are read").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from awgcheck.errors import ParseError
from awgcheck.model import Level
from awgcheck.parse import awgconf

ASSETS = Path(__file__).parent.parent / "assets" / "conf"


def parse_asset(name: str) -> awgconf.AwgConf:
    return awgconf.parse((ASSETS / name).read_bytes(), name)


def fatal_lines(conf: awgconf.AwgConf) -> list[int | None]:
    return [d.location.line for d in conf.diagnostics if d.level is Level.FATAL]


def test_awgconf_three_peers_keeps_sections_in_order() -> None:
    conf = parse_asset("three-peers.conf")
    assert [s.name for s in conf.sections] == ["Interface", "Peer", "Peer", "Peer"]
    assert conf.loads, conf.diagnostics
    peers = conf.peers()
    assert len(peers) == 3
    allowed = [e.raw for e in peers[1].entries if e.name == "AllowedIPs"]
    assert allowed == ["10.9.0.3/32", "fd00::3/128"]  # AllowedIPs accumulate
    assert peers[2].get("Endpoint") is not None
    assert peers[2].get("Endpoint").raw == "[2001:db8::7]:51820"  # type: ignore[union-attr]
    params = conf.params()
    assert params["H1"].effective == "100-200"
    assert params["S4"].location is not None and params["S4"].location.line == 12


def test_awgconf_lines_are_lossless_apart_from_secrets() -> None:
    data = (ASSETS / "three-peers.conf").read_bytes()
    conf = parse_asset("three-peers.conf")
    assert len(conf.lines) == data.count(b"\n")
    original = data.split(b"\n")
    for line in conf.lines:
        entry = next((e for e in conf.entries if e.line == line.number), None)
        if entry is not None and entry.secret:
            assert b"sha256:" in line.raw
        else:
            assert line.raw == original[line.number - 1]


def test_awgconf_awg_quick_keys_are_stripped_not_sent_to_setconf() -> None:
    conf = parse_asset("three-peers.conf")
    post_up = conf.interface().get("PostUp")  # type: ignore[union-attr]
    assert post_up is not None and post_up.handler is awgconf.params.Handler.AWG_QUICK
    assert "Address" in {e.name for e in conf.entries if e.line in conf.awg_quick_stripped}


def test_awgconf_crlf_loads_and_is_recorded() -> None:
    conf = parse_asset("crlf.conf")
    assert conf.facts.crlf and conf.loads
    assert conf.params()["S4"].effective == "18"
    assert conf.params()["I1"].effective == "<b 0x01> <r 2>"  # CR trimmed, spaces kept


def test_awgconf_bom_makes_the_file_fail_to_load() -> None:
    conf = parse_asset("bom.conf")
    assert conf.facts.bom
    assert not conf.loads
    assert fatal_lines(conf)[0] == 1
    assert any("byte order mark" in d.message for d in conf.diagnostics)


def test_awgconf_duplicates_last_one_wins() -> None:
    conf = parse_asset("duplicates.conf")
    s4 = [e for e in conf.entries if e.name == "S4"]
    assert [e.line for e in s4] == [3, 5, 6]
    assert [e.key for e in s4] == ["S4", "s4", "S4"]
    assert conf.params()["S4"].effective == "18"
    assert conf.params()["S4"].location.line == 6  # type: ignore[union-attr]


def test_awgconf_i_keys_keep_inner_spaces_on_the_awg_quick_path() -> None:
    conf = parse_asset("i1-inner-spaces.conf")
    params = conf.params()
    assert params["I1"].effective == "<b 0xc700000001> <r 16> <t>"
    assert params["I2"].effective == "<b 0x02>   <r 3>"  # awg-quick trims the indent first
    assert params["I3"].effective == "<t>"
    assert any(d.code == "indented-i-key" and d.location.line == 3 for d in conf.diagnostics)


@pytest.mark.parametrize(
    ("key", "effective"),
    [("H1", "5-100"), ("H2", "0"), ("H3", None), ("H4", "4294967295")],
    ids=["range", "zero-dash-is-0-0", "reversed-rejected", "u32-max"],
)
def test_awgconf_h_ranges(key: str, effective: str | None) -> None:
    conf = parse_asset("h-ranges.conf")
    assert conf.params()[key].effective == effective
    assert fatal_lines(conf) == [4]


@pytest.mark.parametrize(
    ("key", "effective"),
    [("Jc", None), ("Jmin", "18"), ("Jmax", "70"), ("S1", "0"), ("S2", "18"), ("S3", None),
     ("S4", "18")],
    ids=["hex-rejected", "leading-zero-decimal", "plus-accepted", "minus-zero",
         "wraps-mod-2^32", "over-u16-rejected", "inner-space-deleted"],
)
def test_awgconf_numbers_follow_strtoul(key: str, effective: str | None) -> None:
    conf = parse_asset("numbers.conf")
    assert conf.params()[key].effective == effective


def test_awgconf_numbers_diagnostics_name_line_and_tool() -> None:
    conf = parse_asset("numbers.conf")
    messages = [d.message for d in conf.diagnostics if d.level is Level.FATAL]
    assert "awg setconf would reject line 2: Jc: Unable to parse Jc: `0x12'" in messages
    assert any(m.startswith("awg setconf would reject line 7:") for m in messages)


def test_awgconf_awg_quick_key_handling() -> None:
    conf = parse_asset("awg-quick-keys.conf")
    messages = " | ".join(d.message for d in conf.diagnostics)
    # "[ Interface ]" is fine for setconf but not for awg-quick, so Address
    # reaches setconf and is rejected; "Post Up" is no awg-quick key either.
    assert "line 2" in messages and "awg-quick key" in messages
    assert "line 3" in messages
    assert "SaveConfig `yes' is neither true nor false" in messages
    assert not conf.loads
    assert conf.sections[1].get("MTU") is not None  # the second [Interface]


def test_awgconf_no_final_newline_still_reads_last_line() -> None:
    conf = parse_asset("no-final-newline.conf")
    assert not conf.facts.final_newline
    assert conf.params()["S4"].effective == "18"
    assert conf.loads


@pytest.mark.parametrize("name", ["garbage.bin", "not-a-conf.yaml"])
def test_awgconf_not_a_conf_is_a_parse_error(name: str) -> None:
    with pytest.raises(ParseError, match=name):
        parse_asset(name)


@pytest.mark.parametrize(
    ("text", "loads"),
    [(b"", True), (b"\n\n", True), (b"# only a comment\n", True),
     (b"[Interface]\rS4 = 18\r", False)],
    ids=["empty", "blank", "comment-only", "cr-only"],
)
def test_awgconf_degenerate_files(text: bytes, loads: bool) -> None:
    conf = awgconf.parse(text, "x.conf")
    assert conf.loads is loads


@pytest.mark.parametrize(
    ("line", "effective", "error"),
    [
        ("Jc = 1 0", "10", None),
        ("J c = 4", "4", None),
        ("jc = 4", "4", None),
        ("S4 = 4294967296", "0", None),
        ("S4 = 65536", None, "Unable to parse S4"),
        ("S4 = -1", None, "Unable to parse S4"),
        ("S4 = 18 # comment", "18", None),
        ("S4 = 1#8", "1", None),
        ("H1 = 100-", None, "Configuration parsing error"),
        ("H4 = 4445556667", None, "Configuration parsing error (over 4294967295)"),
        ("H1 = 5-4445556667", None, "(over 4294967295)"),
        ("H1 = 200-100", None, "range end 100 is below its start 200"),
        ("S4 = 70000", None, "Unable to parse S4: `70000' (over 65535)"),
        ("H1 = 5-+7", "5-7", None),
        ("ContentPaddingAddition = 70000", "4464", None),
        ("RandomTrailers = 2", "on", None),
        ("RandomTrailers = ON", "on", None),
        ("RandomTrailers = yes", None, "neither on/off"),
        ("DisableCookies = 0", "off", None),
        ("FwMark = 0x10", "16", None),
        ("ListenPort = 51820", "51820", None),
        ("ListenPort = 65536", "0", None),
        ("ListenPort = 70000", "4464", None),
        ("ListenPort = 4294967297", "1", None),
        ("ListenPort = +5", "5", None),
        ("ListenPort = 0x10", None, "Servname not supported for ai_socktype"),
        ("ListenPort = CHANGE_PORT", None, "Servname not supported for ai_socktype"),
        ("ListenPort = -1", None, "Servname not supported for ai_socktype"),
        ("ListenPort = 2147483648", None, "Servname not supported for ai_socktype"),
        ("I 1 = <b 0x01> <r 2>", "<b0x01><r2>", None),
    ],
)
def test_awgconf_effective_value(line: str, effective: str | None, error: str | None) -> None:
    conf = awgconf.parse(f"[Interface]\n{line}\n".encode(), "x.conf")
    (entry,) = conf.entries
    assert entry.effective == effective
    if error is None:
        assert entry.error is None and conf.loads
    else:
        assert entry.error is not None and error in entry.error
        assert not conf.loads


@pytest.mark.parametrize(
    "line",
    ["S4 =", "Jc = # x", "I2 =", "Itime = 10", "J1 = 5", "Bogus = 1", "PersistentKeepalive = 5",
     "\u00a0S4 = 18"],
    ids=["empty", "empty-before-comment", "empty-i", "legacy-itime", "legacy-j1", "unknown",
         "peer-key-in-interface", "nbsp"],
)
def test_awgconf_lines_setconf_rejects(line: str) -> None:
    conf = awgconf.parse(f"[Interface]\n{line}\n".encode(), "x.conf")
    assert not conf.loads
    assert fatal_lines(conf) == [2]


def test_awgconf_obfuscation_key_under_peer_rejected() -> None:
    conf = awgconf.parse(
        b"[Interface]\nS4 = 18\n[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
        b"S4 = 18\n", "x.conf")
    assert fatal_lines(conf) == [5]
    assert "not valid under [Peer]" in conf.diagnostics[-1].message


def test_awgconf_nul_byte_is_reported() -> None:
    conf = awgconf.parse(b"[Interface]\nS4 = 1\x008\n", "x.conf")
    assert conf.facts.nul
    assert conf.params()["S4"].effective == "18"  # awg-quick's bash drops the NUL
    assert any(d.code == "nul-byte" for d in conf.diagnostics)


def test_awgconf_invalid_utf8_is_recorded_not_fatal() -> None:
    conf = awgconf.parse(b"[Interface]\n# caf\xe9\nS4 = 18\n", "x.conf")
    assert conf.facts.invalid_utf8 and conf.loads


def test_awgconf_peer_without_public_key_fails() -> None:
    conf = awgconf.parse(b"[Interface]\n[Peer]\nAllowedIPs = 10.0.0.2/32\n", "x.conf")
    assert not conf.loads
    assert any(d.code == "peer-without-key" for d in conf.diagnostics)


TEMPLATE_VALUES = [
    ("jinja", "{{ s4 }}"),
    ("jinja-in-text", "1{{ x }}"),
    ("jinja-statement", "{% if a %}18{% endif %}"),
    ("braced-var", "${S4}"),
    ("bare-var", "$S4"),
    ("command", "$(cat /run/s4)"),
]


@pytest.mark.parametrize("value", [v for _, v in TEMPLATE_VALUES],
                         ids=[i for i, _ in TEMPLATE_VALUES])
def test_awgconf_template_marks_placeholder_values(value: str) -> None:
    data = f"[Interface]\nS4 = {value}\nJc = 4\n".encode()
    conf = awgconf.parse(data, "t.conf.j2", template=True)
    assert conf.params()["S4"].placeholder
    assert not conf.params()["Jc"].placeholder
    assert conf.placeholder_at(2) and not conf.placeholder_at(3)


def test_awgconf_placeholders_are_only_marked_in_templates() -> None:
    conf = awgconf.parse(b"[Interface]\nS4 = ${S4}\n", "x.conf")
    assert not conf.params()["S4"].placeholder
    assert not conf.placeholder_at(2)


def test_awgconf_template_secret_placeholder_is_marked_before_the_digest() -> None:
    conf = awgconf.parse(b"[Interface]\nPrivateKey = {{ private_key }}\n", "t.j2",
                         template=True)
    [entry] = conf.entries
    assert entry.placeholder and entry.raw.startswith("sha256:")


def test_awgconf_template_statement_line_is_marked() -> None:
    conf = awgconf.parse(b"[Interface]\nJc = 4\n{% for peer in peers %}\n[Peer]\n"
                         b"PublicKey = {{ peer.key }}\n{% endfor %}\n{# one block per peer #}\n",
                         "t.j2", template=True)
    assert [n for n in range(1, 8) if conf.placeholder_at(n)] == [3, 5, 6, 7]


def test_awgconf_accumulating_keys_add_up_instead_of_last_one_wins() -> None:
    conf = parse_asset("dual-stack-hooks.conf")
    assert conf.loads
    stated = conf.params()
    assert stated["Address"].items == ("10.9.0.7/24", "fd00:9::7/64")
    assert stated["Address"].effective == "10.9.0.7/24, fd00:9::7/64"
    assert stated["Address"].location is not None and stated["Address"].location.line == 4
    # DNS: commas and blanks both separate, every line adds
    assert stated["DNS"].items == ("10.9.0.1", "fd00:9::1", "mesh.internal")
    # hooks keep their order and their commas; six lines, six commands
    assert len(stated["PostUp"].items) == 6
    assert stated["PostUp"].items[2] == "iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE"
    assert [v.location.line for v in conf.values("PostUp") if v.location] == list(range(15, 21))
    (peer,) = conf.peers()
    assert peer.items("AllowedIPs") == ("10.9.0.0/24", "fd00:9::/64", "10.77.0.0/16")


def test_awgconf_single_valued_keys_still_last_one_wins() -> None:
    conf = awgconf.parse(b"[Interface]\nMTU = 1380\nMTU = 1280\nS4 = 17\nS4 = 18\n", "x.conf")
    assert conf.params()["MTU"].raw == "1280" and conf.params()["MTU"].items == ()
    assert conf.params()["S4"].effective == "18"
    assert [v.raw for v in conf.values("S4")] == ["17", "18"]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("203.0.113.10:51820", None),
        ("vpn.example.net:51820", None),
        ("[2001:db8::1]:51820", None),
        ("203.0.113.10:65536", None),
        ("203.0.113.10", "Unable to find port of endpoint"),
        ("203.0.113.10:", "Unable to find port of endpoint"),
        ("[2001:db8::1]", "Unable to find port of endpoint"),
        ("[2001:db8::1:51820", "Unable to find matching brace of endpoint"),
        ("vpn.example.net:WORD", "Servname not supported for ai_socktype"),
        (":51820", "Name or service not known"),
    ],
)
def test_awgconf_endpoint_follows_parse_endpoint(value: str, error: str | None) -> None:
    peer = "[Peer]\nPublicKey = 2Anz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n"
    conf = awgconf.parse(f"[Interface]\n{peer}Endpoint = {value}\n".encode(), "x.conf")
    entry = conf.entries[-1]
    if error is None:
        assert entry.error is None and conf.loads
    else:
        assert entry.error is not None and error in entry.error and not conf.loads


def test_awgconf_any_bytes_reads_garbage_as_the_tool_does() -> None:
    data = (ASSETS / "garbage-512.bin").read_bytes()
    conf = awgconf.parse(data, "g.bin", any_bytes=True)
    assert not conf.loads
    codes = {d.code for d in conf.diagnostics}
    assert "not-a-conf" in codes and "setconf-reject" in codes
