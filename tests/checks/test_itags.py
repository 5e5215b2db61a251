"""amneziawg-go's two I-tag parser generations, as the i-tags check reads them."""

from __future__ import annotations

import pytest

from awgcheck.checks import itags


@pytest.mark.parametrize(
    ("value", "v2_ok", "v3_ok"),
    [
        ("<b 0xc10000000108><r 16>", True, True),
        ("<b abCD01>", False, True),  # 2.0 needs 0x
        ("<b 0X0a>", True, False),  # 3.x trims only a lowercase 0x
        ("<b 0xabc>", True, False),  # 2.0 pads an odd count, 3.x refuses it
        ("<t anything-here>", False, True),  # 3.x ignores the argument
        ("<t><c>", True, False),  # <c> is 2.0-only
        ("<t><t>", False, True),  # 2.0: <t> at most once
        ("<r 1001>", False, True),  # 2.0 caps random lengths at 1000
        ("<dz 0><rd 65535><r 32><t>", False, True),  # <dz> is 3.x-only
        ("<d><ds>", False, True),
        ("junk<r 2>trailing", True, True),  # text outside tags is ignored
        ("<r +5>", True, True),  # strconv.Atoi takes a sign
        ("<r 0x10>", False, False),
        ("<>", False, False),
        ("<r 2", False, False),
        ("", False, False),
    ],
)
def test_itags_generations(value: str, v2_ok: bool, v3_ok: bool) -> None:
    assert (not itags.parse_v2(value)) is v2_ok, itags.parse_v2(value)
    assert (not itags.parse_v3(value)) is v3_ok, itags.parse_v3(value)
