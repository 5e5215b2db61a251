"""Tests for awgcheck.parse.runtime: the ``awg show dump`` / ``showconf`` readers.

Fixtures live in tests/assets/runtime (see its README for the upstream tag
each one follows); the fake executables in tests/assets/bin are exercised at
the end.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from awgcheck import params
from awgcheck.errors import ParseError
from awgcheck.model import Location
from awgcheck.parse import runtime
from awgcheck.parse.runtime import (
    RuntimeState,
    explain_header_quirk,
    explain_quirk,
    parse_dump,
    parse_showconf,
)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
RUNTIME = ASSETS / "runtime"
BIN = ASSETS / "bin"

# The fake keys the fixtures print in clear (see tests/assets/runtime/README.md).
PRIVATE_KEY = "zgpQUBP7QcEpI4xjZeCCR/O4niUGJ/XyKdL2Ozz401k="
HEADER_PROTECTION_KEY = "me2aCiIfKRlFzTxfqfPXi+VEeQF5JVSnHAIrVsjCpn0="
PRESHARED_KEY = "+z2VeGXnq/U8aCBwwcBiDBKn3LRALRFdeOc/yQ2qEa0="
SECRETS = (PRIVATE_KEY, HEADER_PROTECTION_KEY, PRESHARED_KEY)
SERVER_PUBLIC = "PbeOKHS61dhmkRaveMvC7+oKgHKKe37+gu4vkZ7bKBA="
PEER_A = "fWsJZa3uoqk52il0pX3MCAOwRig0slU3QZssc0iiafw="
PEER_B = "XbITP87L7vqkLCXJKuQ1cYbLrnvTYjw66rIMl7iMYDM="
I1 = "<b 0xc2000000011e8a3b><r 16> <rc 8> <t>"

OBFUSCATION = params.OBFUSCATION_PARAMS


def load(rel: str) -> RuntimeState:
    text = (RUNTIME / rel).read_text()
    source = f"edge-1:{rel}"
    return parse_dump(text, source=source) if "dump" in rel else parse_showconf(
        text, source=source)


def running(state: RuntimeState, name: str) -> str | None:
    """What the interface runs: the stated effective value, else what absence
    means (the view omits defaults)."""
    found = state.get(name)
    if found is not None:
        return found.effective
    spec = params.spec(name)
    return spec.default if spec is not None else None


def normalised(state: RuntimeState) -> dict[str, str | None]:
    return {name: running(state, name) for name in OBFUSCATION}


ALL_VIEWS = [
    "wg/dump", "1.0/dump", "1.0/showconf-kmod", "1.5/dump", "1.5/showconf", "2.0/dump",
    "2.0/dump-go-defaults", "2.0/showconf-kmod", "2.0/showconf-go",
    "2.0/showconf-kmod-quirks", "3.0/dump", "3.1/dump", "3.1/showconf-kmod",
    "3.1/showconf-go",
]


# ---------------------------------------------------------------- generations

@pytest.mark.parametrize(
    ("rel", "generation", "expected"),
    [
        pytest.param("wg/dump", "wg", {"ListenPort": "51820", "Jc": "0", "H1": "1"}, id="wg"),
        pytest.param("1.0/dump", "1.0",
                     {"Jc": "4", "Jmax": "70", "S2": "88", "H4": "2114940155", "S3": "0",
                      "FwMark": "51820"}, id="1.0"),
        pytest.param("1.5/dump", "1.5", {"S1": "52", "I1": I1, "I2": None}, id="1.5"),
        pytest.param("2.0/dump", "2.0",
                     {"S3": "24", "S4": "18", "H3": "1766607858-1766607900",
                      "I2": "<b 0x01> <r 32>", "I3": None, "FwMark": None}, id="2.0"),
        pytest.param("3.0/dump", "3.x",
                     {"Jc": "5", "H1": "100-200", "ContentPaddingAddition": "8-32",
                      "RekeyAfterTime": "0", "RandomTrailers": "off"}, id="3.0"),
        pytest.param("3.1/dump", "3.x",
                     {"H2": "1200000000-1200099999", "RandomTrailers": "on",
                      "DisableCookies": "off", "FwMark": "1"}, id="3.1"),
    ],
)
def test_parse_dump_generation_and_values(
    rel: str, generation: str, expected: dict[str, str | None]
) -> None:
    state = load(rel)
    assert state.view == "dump"
    assert state.generation == generation
    assert state.public_key == SERVER_PUBLIC
    for name, value in expected.items():
        assert running(state, name) == value, name
    assert "interface columns" in state.diagnostics[0]


@pytest.mark.parametrize(
    ("rel", "generation"),
    [
        pytest.param("1.0/showconf-kmod", "showconf", id="1.0-all-nonzero-undetectable"),
        pytest.param("1.5/showconf", "showconf-kmod", id="1.5-kmod"),
        pytest.param("2.0/showconf-kmod", "showconf-kmod", id="2.0-kmod"),
        pytest.param("2.0/showconf-go", "showconf-go", id="2.0-go"),
        pytest.param("3.1/showconf-kmod", "showconf-kmod", id="3.1-kmod"),
        pytest.param("3.1/showconf-go", "showconf", id="3.1-go-all-nonzero"),
    ],
)
def test_parse_showconf_generation(rel: str, generation: str) -> None:
    state = load(rel)
    assert state.view == "showconf"
    assert state.generation == generation


def test_parse_showconf_go_detected_when_a_kmod_key_is_missing() -> None:
    state = parse_showconf("[Interface]\nListenPort = 51820\nJc = 4\n", source="n:showconf")
    assert state.generation == "showconf-go"
    assert running(state, "H2") == "2"


# -------------------------------------------------------------- normalisation

def test_showconf_kmod_and_go_normalise_to_the_same_params() -> None:
    kmod, go = load("2.0/showconf-kmod"), load("2.0/showconf-go")
    assert {k: v.effective for k, v in kmod.interface.items()} == {
        k: v.effective for k, v in go.interface.items()}
    assert normalised(kmod) == normalised(go)
    assert running(kmod, "S3") == "0"
    assert running(kmod, "H3") == "3"


def test_showconf_3_1_kmod_and_go_normalise_to_the_same_params() -> None:
    assert normalised(load("3.1/showconf-kmod")) == normalised(load("3.1/showconf-go"))


def test_dump_and_showconf_of_one_interface_agree() -> None:
    dump, showconf = load("3.1/dump"), load("3.1/showconf-kmod")
    assert normalised(dump) == normalised(showconf)
    assert [p.public_key for p in dump.peers] == [p.public_key for p in showconf.peers]


@pytest.mark.parametrize(
    ("name", "default"),
    [("S1", "0"), ("S4", "0"), ("H1", "1"), ("H2", "2"), ("H3", "3"), ("H4", "4"),
     ("ContentPaddingAddition", "0"), ("RandomTrailers", "off"), ("I1", None),
     ("HeaderProtectionKey", None), ("s3", "0")],
)
def test_absent_params_run_their_default(name: str, default: str | None) -> None:
    state = load("2.0/dump-go-defaults")
    assert state.get(name) is None
    assert running(state, name) == default


def test_absence_is_explicit_values_at_default_are_not_stored() -> None:
    state = load("2.0/showconf-kmod")  # prints S3 = 0, H3 = 3, H4 = 4
    assert not {"S3", "S4", "H3", "H4", "I2"} & set(state.interface)
    assert state.interface["S1"].effective == "52"


def test_null_values_are_absent() -> None:
    state = load("2.0/dump-go-defaults")  # every H and I column is (null)
    assert not any(name.startswith(("H", "I")) for name in state.interface)
    assert "(null)" not in repr(state.interface)


def test_i_value_with_inner_spaces_survives_tab_split() -> None:
    for rel in ("2.0/dump", "3.1/dump", "3.1/showconf-go"):
        value = load(rel).interface["I1"]
        assert value.raw == value.effective == I1, rel


def test_values_keep_the_printed_text_as_raw_and_name_the_source() -> None:
    state = load("1.0/dump")
    fwmark = state.interface["FwMark"]
    assert (fwmark.raw, fwmark.effective) == ("0xca6c", "51820")
    assert fwmark.location == Location(path="edge-1:1.0/dump")
    showconf = load("1.0/showconf-kmod")
    assert showconf.interface["Jc"].location == Location("edge-1:1.0/showconf-kmod", 5)


def test_legacy_1_5_keys_are_kept_and_flagged() -> None:
    showconf = load("1.5/showconf")
    assert showconf.interface["J1"].raw == "<b 0x10>"
    assert showconf.interface["Itime"].raw == "120"
    assert any("1.5-only" in d for d in showconf.diagnostics)
    assert "J1" not in load("1.5/dump").interface  # (null) there


def test_h_zero_in_a_dump_is_kept_and_noted() -> None:
    text = (RUNTIME / "1.0/dump").read_text().replace("\t1020325451\t", "\t0\t")
    state = parse_dump(text, source="n:dump")
    assert running(state, "H1") == "0"
    assert any("H1 is 0" in d for d in state.diagnostics)


def test_unknown_showconf_key_is_a_diagnostic_not_an_error() -> None:
    state = parse_showconf("[Interface]\nJc = 4\nFutureKnob = 7\n", source="n:showconf")
    assert running(state, "Jc") == "4"
    assert state.diagnostics == ("n:showconf:3: unknown key 'FutureKnob' skipped",)


# ---------------------------------------------------------------------- peers

@pytest.mark.parametrize("rel", ["wg/dump", "1.0/dump", "2.0/dump", "3.1/dump"])
def test_dump_peers(rel: str) -> None:
    a, b = load(rel).peers
    assert a.public_key == PEER_A
    assert a.short_key == "fWsJZa3u\u2026"
    assert (a.latest_handshake, a.rx_bytes, a.tx_bytes) == (1795736512, 91234567, 12345678)
    assert a.endpoint == "203.0.113.7:51820"
    assert a.allowed_ips == ("10.8.0.2/32", "fd00:8::2/128")
    assert a.preshared_key == params.redact(PRESHARED_KEY)
    assert a.latest_handshake != 0 and b.latest_handshake == 0
    assert (b.endpoint, b.preshared_key, b.persistent_keepalive) == (None, None, None)
    assert b.allowed_ips == ("10.8.0.3/32",)


def test_dump_peer_keepalive_is_a_range_on_3x() -> None:
    assert load("3.1/dump").peers[0].persistent_keepalive == "20-30"
    assert load("1.0/dump").peers[0].persistent_keepalive == "25"


def test_showconf_peers_have_no_counters() -> None:
    state = load("2.0/showconf-go")
    a = state.peer(PEER_A)
    assert a is not None and a.latest_handshake is None and a.rx_bytes is None
    assert a.allowed_ips == ("10.8.0.2/32", "fd00:8::2/128")
    assert a.location == Location("edge-1:2.0/showconf-go", 13)
    assert state.peer("nope") is None
    assert a.advanced_security is None
    assert load("2.0/showconf-kmod").peers[1].advanced_security == "off"



# -------------------------------------------------------------------- secrets

@pytest.mark.parametrize("rel", ALL_VIEWS)
def test_secrets_never_stored_in_clear(rel: str) -> None:
    text = (RUNTIME / rel).read_text()
    assert PRIVATE_KEY in text  # the input does carry them
    state = load(rel)
    dumped = repr(state) + str(state.diagnostics) + str(vars(state))
    for secret in SECRETS:
        assert secret not in dumped
    assert state.interface["PrivateKey"].raw == params.redact(PRIVATE_KEY)
    assert state.interface["PrivateKey"].effective == params.redact(PRIVATE_KEY)


@pytest.mark.parametrize("rel", ["3.0/dump", "3.1/dump", "3.1/showconf-kmod"])
def test_header_protection_key_is_a_digest(rel: str) -> None:
    assert HEADER_PROTECTION_KEY in (RUNTIME / rel).read_text()
    hpk = load(rel).interface["HeaderProtectionKey"]
    assert hpk.raw == hpk.effective == params.redact(HEADER_PROTECTION_KEY)


# --------------------------------------------------------------------- quirks

@pytest.mark.parametrize(
    ("jmin", "jmax", "runtime_jmax", "jc", "explained"),
    [
        pytest.param("50", "50", "51", None, True, id="jmin-eq-jmax-plus-one"),
        pytest.param(50, 50, 51, "4", True, id="ints-and-jc"),
        pytest.param("50", "50", "51", "0", False, id="jc-zero-sends-no-junk"),
        pytest.param("50", "50", "50", None, False, id="no-difference"),
        pytest.param("40", "70", "71", None, False, id="jmin-ne-jmax-is-drift"),
        pytest.param("50", "50", "52", None, False, id="plus-two-is-drift"),
        pytest.param(None, None, "1", None, True, id="absent-means-zero"),
        pytest.param("50", "50", "x", None, False, id="unparsable"),
    ],
)
def test_explain_quirk(jmin: str | int | None, jmax: str | int | None,
                       runtime_jmax: str, jc: str | None, explained: bool) -> None:
    result = explain_quirk(jmin, jmax, runtime_jmax, jc=jc)
    assert (result is not None) is explained
    if result:
        assert "not drift" in result


@pytest.mark.parametrize(
    ("name", "file_value", "runtime_value", "generation", "explained"),
    [
        pytest.param("H1", "3", "1", "2.0", True, id="2.0-clamps"),
        pytest.param("H4", "0", "4", "1.0", True, id="1.0-clamps-zero"),
        pytest.param("H1", "3", "1", "3.x", False, id="3.x-keeps-values"),
        pytest.param("H1", "3", "1", "wg", False, id="wg-has-no-headers"),
        pytest.param("H1", "5", "1", "2.0", False, id="5-is-not-clamped"),
        pytest.param("H1", "1", "1", "2.0", False, id="default-is-no-drift"),
        pytest.param("H1", None, "1", "2.0", False, id="absent-in-file"),
        pytest.param("H1", "3", "3", "2.0", False, id="runtime-kept-it"),
        pytest.param("H1", "1-3", "1", "2.0", False, id="range"),
        pytest.param("S1", "3", "0", "2.0", False, id="not-a-header"),
    ],
)
def test_explain_header_quirk(name: str, file_value: str | None, runtime_value: str,
                              generation: str, explained: bool) -> None:
    result = explain_header_quirk(name, file_value, runtime_value, generation=generation)
    assert (result is not None) is explained


def test_quirks_recognised_on_a_runtime_loaded_from_jmin_eq_jmax_and_low_headers() -> None:
    # The file behind this runtime had Jc = 4, Jmin = Jmax = 50, H1 = 3, H2 = 4.
    state = load("2.0/showconf-kmod-quirks")
    assert explain_quirk("50", "50", running(state, "Jmax"),
                         jc=running(state, "Jc"))
    for name, file_value in (("H1", "3"), ("H2", "4")):
        note = explain_header_quirk(name, file_value, running(state, name),
                                    generation=state.generation)
        assert note is not None and "if this runtime is 1.0/2.0" in note


# ------------------------------------------------------------------ malformed

DUMP_1_0 = (RUNTIME / "1.0/dump").read_text()


@pytest.mark.parametrize(
    ("parser", "text", "message"),
    [
        pytest.param(parse_dump, "", "n:x: empty output", id="dump-empty"),
        pytest.param(parse_showconf, "\n\n", "n:x: empty output", id="showconf-blank"),
        pytest.param(parse_dump, (RUNTIME / "malformed/dump-all").read_text(),
                     "n:x:1: not an `awg show <iface> dump` interface line: 14 tab-separated "
                     "columns", id="dump-all-interfaces"),
        pytest.param(parse_dump, (RUNTIME / "malformed/dump-truncated").read_text(),
                     "n:x:1: not an `awg show <iface> dump` interface line: 8", id="truncated"),
        pytest.param(parse_dump, (RUNTIME / "malformed/dump-bad-peer").read_text(),
                     "n:x:2: latest handshake (44 characters) is not a number", id="bad-peer"),
        pytest.param(parse_dump, DUMP_1_0.replace("\t51820\t4\t", "\t51820\tfour\t", 1),
                     "n:x:1: Jc value 'four' is not what the tool prints", id="bad-jc"),
        pytest.param(parse_dump, DUMP_1_0.replace("\t1480\toff", "\t1480"),
                     "n:x:3: not a dump peer line: 7 tab-separated columns", id="short-peer"),
        pytest.param(parse_dump, DUMP_1_0.replace("\t25\n", "\tsoon\n"),
                     "n:x:2: persistent keepalive 'soon'", id="bad-keepalive"),
        pytest.param(parse_dump, DUMP_1_0.replace(PEER_A, "not-a-key"),
                     "n:x:2: peer public key 'not-a-key' is not a base64 key", id="bad-pubkey"),
        pytest.param(parse_dump, DUMP_1_0.replace(PRIVATE_KEY, PRIVATE_KEY[:-2]),
                     "n:x:1: PrivateKey is not a base64 key", id="bad-private-key"),
        pytest.param(parse_dump, DUMP_1_0.replace("\n", "\r\n", 1),
                     "n:x:1: stray carriage return in tool output", id="mixed-crlf"),
        pytest.param(parse_showconf, (RUNTIME / "malformed/showconf-error").read_text(),
                     "n:x:1: showconf output must start with [Interface]", id="error-text"),
        pytest.param(parse_showconf, "[Interface]\nJc=4\n",
                     "n:x:2: not a showconf line", id="showconf-no-spaces"),
        pytest.param(parse_showconf, "[Interface]\nJc = 4\nJc = 5\n",
                     "n:x:3: Jc printed twice", id="duplicate"),
        pytest.param(parse_showconf, "[Interface]\n\n[Peer]\nAllowedIPs = 10.0.0.1/32\n",
                     "n:x:3: [Peer] must begin with PublicKey", id="peer-without-key"),
        pytest.param(parse_showconf, f"[Interface]\n\n[Peer]\nPublicKey = {PEER_A}\nJc = 4\n",
                     "n:x:5: Jc printed under [Peer]", id="interface-key-in-peer"),
        pytest.param(parse_showconf, "[Interface]\nListenPort = 51820\nS4 = 70000\n",
                     "n:x:3: S4 value '70000' is not what the tool prints", id="s4-out-of-range"),
        pytest.param(parse_showconf, "[Interface]\nAddress = 10.8.0.1/24\n",
                     None, id="awg-quick-key-is-only-a-diagnostic"),
    ],
)
def test_malformed_input_raises_parse_error(parser: Callable[..., object], text: str,
                                            message: str | None) -> None:
    if message is None:
        parser(text, source="n:x")
        return
    with pytest.raises(ParseError) as caught:
        parser(text, source="n:x")
    assert str(caught.value).startswith(message)
    for secret in SECRETS:
        assert secret not in str(caught.value)


def test_pty_crlf_output_reads_like_plain_output() -> None:
    for rel in ("3.1/dump", "3.1/showconf-kmod"):
        text = (RUNTIME / rel).read_text()
        parse = parse_dump if "dump" in rel else parse_showconf
        crlf = parse(text.replace("\n", "\r\n"), source="n:x")
        assert crlf.interface == parse(text, source="n:x").interface


def test_error_for_shifted_dump_never_echoes_a_secret() -> None:
    # Drop the public-key column: the private key is then everywhere but
    # where it belongs, and the width no longer matches any layout.
    shifted = DUMP_1_0.replace(f"\t{SERVER_PUBLIC}", "", 1)
    with pytest.raises(ParseError) as caught:
        parse_dump(shifted, source="n:x")
    assert PRIVATE_KEY not in str(caught.value)
    peer_first = DUMP_1_0.split("\n", 1)[0].replace(PRIVATE_KEY, PRESHARED_KEY)
    text = peer_first + "\n" + "\t".join([PEER_A, "(none)", "(none)", "(none)", "1",
                                         PRESHARED_KEY, "3", "off"]) + "\n"
    with pytest.raises(ParseError) as caught:
        parse_dump(text, source="n:x")
    assert PRESHARED_KEY not in str(caught.value)


def test_dump_layouts_are_distinct_by_width() -> None:
    widths = [len(layout.columns) for layout in runtime.DUMP_LAYOUTS]
    assert widths == [4, 13, 22, 20, 27, 29]
    assert len(set(widths)) == len(widths)
    for layout in runtime.DUMP_LAYOUTS:
        assert layout.columns[:3] == ("PrivateKey", "PublicKey", "ListenPort")
        assert layout.columns[-1] == "FwMark"


# ------------------------------------------------------- fake executables

def run_fake(tool: str, *args: str, state: Path, home: Path | None = None,
             env_dir: bool = True) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home or state)}
    if env_dir:
        env["AWGCHECK_FAKE_AWG_DIR"] = str(state)
    return subprocess.run([str(BIN / tool), *args], capture_output=True, text=True,
                          env=env, check=False, timeout=10)


@pytest.fixture
def fake_state(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    (state / "awg1").mkdir(parents=True)
    (state / "dump").write_text((RUNTIME / "3.1/dump").read_text())
    (state / "showconf").write_text((RUNTIME / "3.1/showconf-go").read_text())
    (state / "awg1" / "showconf").write_text((RUNTIME / "1.0/showconf-kmod").read_text())
    (state / "ping").write_text("PING 10.8.0.1 (10.8.0.1) 56(84) bytes of data.\n")
    (state / "ping.rc").write_text("1\n")
    return state


def test_fake_awg_replays_views_that_parse(fake_state: Path) -> None:
    dump = run_fake("awg", "show", "awg0", "dump", state=fake_state)
    assert dump.returncode == 0
    assert parse_dump(dump.stdout, source="fake").generation == "3.x"
    per_iface = run_fake("awg", "showconf", "awg1", state=fake_state)
    assert running(parse_showconf(per_iface.stdout, source="fake"), "Jc") == "4"


def test_fake_awg_fails_like_the_real_tool_when_state_is_missing(fake_state: Path) -> None:
    result = run_fake("awg", "show", "awg0", "latest-handshakes", state=fake_state)
    assert result.returncode == 1
    assert result.stderr == "Unable to access interface: No such device\n"
    assert result.stdout == ""


def test_fake_awg_reads_home_fallback_without_env(fake_state: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".awgcheck-fake").mkdir(parents=True)
    (home / ".awgcheck-fake" / "showconf").write_text("[Interface]\nJc = 9\n")
    result = run_fake("awg", "showconf", "awg0", state=fake_state, home=home, env_dir=False)
    assert result.stdout == "[Interface]\nJc = 9\n"


def test_fake_ping_replays_output_and_status(fake_state: Path) -> None:
    result = run_fake("ping", "-c", "3", "10.8.0.1", state=fake_state)
    assert (result.returncode, result.stdout) == (1, "PING 10.8.0.1 (10.8.0.1) 56(84) "
                                                   "bytes of data.\n")
    (fake_state / "ping").unlink()
    assert run_fake("ping", "10.8.0.1", state=fake_state).returncode == 2
