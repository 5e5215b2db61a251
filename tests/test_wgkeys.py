"""Public keys derived from PrivateKey, with `wg pubkey` (wireguard-tools)
as the oracle; the parser keeps the public key and never the private one."""

from __future__ import annotations

import subprocess

import pytest

from awgcheck import params, wgkeys
from awgcheck.parse import awgconf


def _wg(*args: str, stdin: str = "") -> str:
    return subprocess.run(["wg", *args], input=stdin, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.parametrize("run", range(5))
def test_public_key_matches_wg_pubkey(run: int) -> None:
    private = _wg("genkey")
    assert wgkeys.public_key(private) == _wg("pubkey", stdin=private + "\n")


def test_public_key_of_an_unclamped_key_matches_wg_pubkey() -> None:
    # 32 bytes of 0xff: the tools clamp it before use, and so does X25519.
    private = "//////////////////////////////////////////8="
    assert wgkeys.public_key(private) == _wg("pubkey", stdin=private + "\n")


@pytest.mark.parametrize("text", ["", "not a key", params.ZERO_KEY, "AAAA"],
                         ids=["empty", "garbage", "zero-key", "short"])
def test_public_key_of_no_key_is_none(text: str) -> None:
    assert wgkeys.public_key(text) is None


def test_parser_keeps_the_public_key_and_only_the_private_digest() -> None:
    private = _wg("genkey")
    conf = awgconf.parse(f"[Interface]\nPrivateKey = {private}\nPrivateKey = {private}\n"
                         .replace("= ", "=  ", 1).encode(), "node.conf")
    assert conf.public_key == _wg("pubkey", stdin=private + "\n")
    assert private not in repr(conf)
    assert conf.params()["PrivateKey"].raw == params.redact(private)


def test_last_valid_private_key_wins_and_a_template_gives_none() -> None:
    first, second = _wg("genkey"), _wg("genkey")
    conf = awgconf.parse(f"[Interface]\nPrivateKey = {first}\nPrivateKey = {second}\n"
                         .encode(), "node.conf")
    assert conf.public_key == _wg("pubkey", stdin=second + "\n")
    template = awgconf.parse(b"[Interface]\nPrivateKey = {{ key }}\n", "t.conf",
                             template=True)
    assert template.public_key is None
    rejected = awgconf.parse(b"[Interface]\nPrivateKey = nope\n", "n.conf")
    assert rejected.public_key is None
