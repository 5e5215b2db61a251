"""A fresh obfuscation param set for one protocol generation, drawn from
the operating system's CSPRNG (:mod:`secrets`).

Which params a generation has comes from the catalog
(:attr:`awgcheck.params.ParamSpec.since`), plus one fact the catalog does
not carry: H ranges (``lo-hi``) exist from 2.0 on, 1.5 takes one value per H.
Only the params that make a fleet's obfuscation are drawn: Jc/Jmin/Jmax,
S1-S4, H1-H4 and, from 3.0, HeaderProtectionKey and (3.1) RandomTrailers.
I1-I5 imitate a real protocol's first packet (a random one imitates
nothing), and ContentPaddingAddition, the timings and DisableCookies are
per-side tuning whose absence means WireGuard's behaviour: none is drawn.

The values are built to satisfy the shipped constraint rules (docs/rules.md)
but are not trusted to: :mod:`awgcheck.rotation.verify` runs the real rules
on the rendered, re-read result before anything is printed.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from awgcheck import params

GENERATIONS = ("1.5", "2.0", "3.1")
"""What ``--generation`` accepts: the protocol generations a fleet runs."""

H_RANGES_SINCE = "2.0"
"""H1-H4 as ``lo-hi`` ranges (amneziawg-tools 2.0+); earlier, one u32 each."""

# Values drawn (inclusive). Every S is at least 15, so a HeaderProtectionKey
# (which needs S1-S4 >= 12) can be added later without touching them. S4 is
# added to every data packet, so it stays small (it costs MTU on every
# packet); S3 pads only cookie replies. Jc/Jmin/Jmax follow Amnezia's own
# recommended ballpark: a few junk packets of a few dozen to hundreds of bytes.
JC = (3, 10)
JMIN = (40, 100)
JMAX_ABOVE_JMIN = (20, 200)
S1 = (15, 150)
S2 = (15, 150)
S3 = (15, 64)
S4 = (15, 32)
S1_S2_OFFSET = 56  # the s1-s2-offset rule: S1 + 56 must not be S2

H_BOUNDS = (5, 2147483647)
"""The default H range: 1..4 are WireGuard's own message types, and the
Windows client caps H at 2^31-1 (the h-min and h-windows-range rules)."""


def version(text: str) -> tuple[int, ...]:
    """``"3.1"`` -> ``(3, 1)``, for comparing generations."""
    return tuple(int(part) for part in text.split("."))


def has(generation: str, name: str) -> bool:
    """Does ``generation`` know the param ``name`` (by the catalog's ``since``)?"""
    spec = params.spec(name)
    return spec is not None and version(spec.since) <= version(generation)


@dataclass(frozen=True)
class ParamSet:
    """A generated param set: canonical name -> value in the conf spelling.

    The one object that holds a secret in clear (a new HeaderProtectionKey)
    on purpose, to print it; its ``repr`` shows the secret's digest only,
    so a traceback or a debug log never does."""

    generation: str
    values: tuple[tuple[str, str], ...]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={params.redact(value) if params.is_secret(name) else value}"
                          for name, value in self.values)
        return f"ParamSet({self.generation}: {shown})"

    __str__ = __repr__

    def get(self, name: str) -> str | None:
        return dict(self.values).get(name)


def _between(bounds: tuple[int, int]) -> int:
    low, high = bounds
    return low + secrets.randbelow(high - low + 1)


def _s2(s1: int) -> int:
    forbidden = s1 + S1_S2_OFFSET
    while True:  # one draw in 136 is the forbidden value: this ends at once
        value = _between(S2)
        if value != forbidden:
            return value


def _h_values(generation: str, bounds: tuple[int, int]) -> list[str]:
    """H1-H4: distinct values (1.5) or pairwise disjoint ``lo-hi`` ranges
    (2.0+) inside ``bounds``, assigned to H1..H4 in random order."""
    low, high = bounds
    rng = secrets.SystemRandom()
    ranged = version(generation) >= version(H_RANGES_SINCE)
    count = 8 if ranged else 4
    # 1..4 are WireGuard's own message types: a header drawn as one of them
    # is not obfuscated at all, and h-min reads H1 = 1 as H1's default (so
    # it would pass), hence never drawn, whatever the bounds.
    candidates = [v for v in range(low, high + 1) if not 1 <= v <= 4] if low <= 4 else None
    pool = candidates if candidates is not None else range(low, high + 1)
    if len(pool) < count:
        raise ValueError(f"H bounds {low}-{high} hold fewer than {count} values other than 1-4")
    points = sorted(rng.sample(pool, count))
    if ranged:
        # Eight distinct sorted points paired up: each range ends below the
        # next one's start, so the four are disjoint by construction.
        values = [f"{points[i]}-{points[i + 1]}" for i in range(0, 8, 2)]
    else:
        values = [str(point) for point in points]
    rng.shuffle(values)
    return values


def header_protection_key() -> str:
    """A new HeaderProtectionKey: 32 random bytes in base64, never the
    all-zero key (amneziawg-go reads that as "no header protection")."""
    while True:
        key = secrets.token_bytes(32)
        if any(key):
            return base64.b64encode(key).decode("ascii")


def generate(generation: str, *, h_bounds: tuple[int, int] = H_BOUNDS,
             header_protection: bool = True) -> ParamSet:
    """A fresh param set for ``generation`` (one of :data:`GENERATIONS`);
    ``header_protection=False`` leaves HeaderProtectionKey out of a 3.x set."""
    if generation not in GENERATIONS:
        raise ValueError(f"unknown generation {generation!r} (known: {', '.join(GENERATIONS)})")
    jmin = _between(JMIN)
    s1 = _between(S1)
    drawn: dict[str, str] = {
        "Jc": str(_between(JC)), "Jmin": str(jmin),
        "Jmax": str(jmin + _between(JMAX_ABOVE_JMIN)),
        "S1": str(s1), "S2": str(_s2(s1)), "S3": str(_between(S3)), "S4": str(_between(S4)),
    }
    drawn.update(zip(("H1", "H2", "H3", "H4"), _h_values(generation, h_bounds), strict=True))
    if header_protection:
        drawn["HeaderProtectionKey"] = header_protection_key()
    drawn["RandomTrailers"] = "on"
    values = tuple((spec.name, drawn[spec.name]) for spec in params.INTERFACE_SETCONF_KEYS
                   if spec.name in drawn and has(generation, spec.name))
    return ParamSet(generation, values)
