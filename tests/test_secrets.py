"""Known secret values fed through every output: none may appear.

PrivateKey, PresharedKey and HeaderProtectionKey are compared by digest and
shown as ``sha256:<12 hex>``; this test fails if any format, error or
diagnostic ever prints one in clear (or any recognisable part of it).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from awgcheck.cli.main import main

CONF = "etc/amnezia/amneziawg/awg0.conf"


def _key(seed: str) -> str:
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


SERVER_PRIV, PARTNER_PRIV = _key("server-private"), _key("partner-private")
PSK, HPK_SERVER, HPK_PARTNER = _key("psk"), _key("hpk-server"), _key("hpk-partner")
STRAY = _key("pasted-without-key-name")
SECRETS = [SERVER_PRIV, PARTNER_PRIV, PSK, HPK_SERVER, HPK_PARTNER, STRAY]


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    common = "S1 = 52\nS2 = 140\nS3 = 36\nS4 = 18\n"
    server = (f"[Interface]\nPrivateKey = {SERVER_PRIV}\n{common}"
              f"HeaderProtectionKey = {HPK_SERVER}\n"
              f"[Peer]\nPublicKey = {_key('pub')}\nPresharedKey = {PSK}\n")
    # The partner's HPK differs (drift on a secret), its PSK sits twice with
    # odd spacing, one key is pasted on a line of its own, and a PrivateKey
    # in [Peer] makes setconf reject the line: every path that could echo a
    # value is exercised.
    partner = (f"[Interface]\nPrivateKey = {PARTNER_PRIV}\n{common}"
               f"HeaderProtectionKey =  {HPK_PARTNER} \n{STRAY}\n"
               f"[Peer]\nPublicKey = {_key('pub')}\nPresharedKey={PSK}\nPresharedKey = {PSK}\n"
               f"PrivateKey = {SERVER_PRIV}\n")
    for name, text in (("server", server), ("partner", partner)):
        path = tmp_path / name / CONF
        path.parent.mkdir(parents=True)
        path.write_text(text)
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({
        "source": "server",
        "nodes": {"server": {"local": "server"}, "partner": {"local": "partner"}},
    }))
    return inventory


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        # A 16-character slice is enough to recognise a key; none may leak.
        for start in range(0, len(secret) - 16, 4):
            if secret[start:start + 16] in text:
                raise AssertionError(
                    "a secret value leaked into the output (value withheld from this message)")


@pytest.mark.parametrize("fmt", ["table", "json", "junit", "sarif", "github", "markdown"])
def test_secrets_never_in_check_reports(fleet: Path, fmt: str) -> None:
    result = CliRunner().invoke(main, ["check", "-i", str(fleet), "--format", fmt,
                                       "--fail-on", "info"])
    assert result.exit_code == 1
    _assert_clean(result.stdout + result.stderr)
    assert "sha256:" in result.stdout or fmt == "junit"


def test_secrets_drift_is_found_by_digest(fleet: Path) -> None:
    result = CliRunner().invoke(main, ["check", "-i", str(fleet), "--format", "json"])
    assert "HeaderProtectionKey differs from server" in result.stdout
    assert hashlib.sha256(HPK_PARTNER.encode()).hexdigest()[:12] in result.stdout


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_secrets_never_in_diff_or_inspect(fleet: Path, fmt: str) -> None:
    partner = fleet.parent / "partner" / CONF
    server = fleet.parent / "server" / CONF
    for args in (["diff", str(server), str(partner), "--format", fmt],
                 ["inspect", "conf", str(partner), "--format", fmt]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, result.output
        _assert_clean(result.stdout + result.stderr)


def test_secrets_never_in_parsed_objects(fleet: Path) -> None:
    from awgcheck.parse import awgconf

    conf = awgconf.parse((fleet.parent / "partner" / CONF).read_bytes(), "partner")
    _assert_clean(repr(conf))


@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_secrets_never_in_triage(fleet: Path, fmt: str) -> None:
    result = CliRunner().invoke(main, ["triage", "partner", "-i", str(fleet), "--format", fmt])
    assert result.exit_code == 1, result.stdout
    assert "HeaderProtectionKey differs (sha256:" in result.stdout
    _assert_clean(result.stdout + result.stderr)
