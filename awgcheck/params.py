"""The AmneziaWG parameter catalog and how the real tools read each value.

Every interpretation here mirrors amneziawg-tools ``src/config.c`` and
``src/type.c`` (v3.1.20260812): ``strtoul`` in base 10, the 32-bit
truncation of ``parse_uint16``, ``u32_range_from_string`` accepting ``0-``,
``parse_bool`` taking ``on``/``off`` or digits. The functions take the value
*after* the tool's whitespace deletion and return the value in the tool's
own canonical rendering, so two documents can be compared by effective
value regardless of how each spelled it.
"""

from __future__ import annotations

import base64
import binascii
import enum
import functools
from dataclasses import dataclass

from awgcheck import limits
from awgcheck.secrecy import redact as redact
from awgcheck.secrecy import scrub as scrub

U16_MAX = 0xFFFF
U32_MAX = 0xFFFFFFFF
ULONG_MAX = 0xFFFFFFFFFFFFFFFF


class Kind(enum.Enum):
    """How the tool parses a value."""

    U16 = "u16"  # parse_uint16: strtoul, truncated to 32 bits, then <= 65535
    U32_RANGE = "u32-range"  # H1..H4: "a" or "a-b", a <= b
    U16_RANGE = "u16-range"  # ContentPaddingAddition, timings, PersistentKeepalive
    BOOL = "bool"  # on/off or digits
    TAGS = "tags"  # I1..I5: kept verbatim, inner spaces preserved
    KEY = "key"  # base64 of 32 bytes
    PORT = "port"
    ENDPOINT = "endpoint"  # host:port, [v6]:port; the port read like ListenPort
    FWMARK = "fwmark"
    TEXT = "text"  # AllowedIPs, awg-quick keys: not interpreted


class Multi(enum.Enum):
    """What a second line setting the same key does.

    Upstream keeps one slot for most keys (config.c overwrites it, so the
    last line wins) but appends for a few: awg-quick's ``parse_options``
    does ``ADDRESSES+=( ${value//,/ } )``, ``DNS+=``, ``PRE_UP+=( "$value" )``
    ..., and setconf's ``parse_allowedips`` links every AllowedIPs line of a
    peer onto the same list.
    """

    SINGLE = "single"  # the last line wins
    SET = "set"  # every line adds its comma/blank separated items; order is irrelevant
    LIST = "list"  # every line adds one item, kept in order (hooks run in file order)


class Role(enum.Enum):
    """What a mismatch between two peers does to the tunnel."""

    MUST_MATCH = "must-match"  # data plane dies on mismatch
    SIDE_LOCAL = "side-local"  # may legally differ per peer
    NODE = "node"  # identity and plumbing: differs per node by design


class Handler(enum.Enum):
    """Which program consumes the line when ``awg-quick up`` runs."""

    SETCONF = "setconf"
    AWG_QUICK = "awg-quick"


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: Kind
    section: str  # "Interface" or "Peer"
    role: Role
    default: str | None = None  # effective value that absence implies
    secret: bool = False
    handler: Handler = Handler.SETCONF
    since: str = "1.0"
    multi: Multi = Multi.SINGLE
    # The all-zero key turns the feature off (amneziawg-go's IsZero checks),
    # so it means what absence means.
    zero_is_unset: bool = False

    @property
    def obfuscation(self) -> bool:
        return self.role is not Role.NODE

    @property
    def accumulates(self) -> bool:
        """Do repeated lines add up rather than replace each other?"""
        return self.multi is not Multi.SINGLE

    def reads_as_absent(self, effective: str | None) -> bool:
        """Whether a stated value means exactly what an absent line means:
        the default written out (``H1 = 1``, ``S3 = 0``, ``RandomTrailers =
        off``) or, for HeaderProtectionKey, the all-zero key that
        amneziawg-go treats as "no header protection". Every check that
        judges an absent param by its default judges these the same way."""
        if effective is None:
            return False
        if self.default is not None and effective == self.default:
            return True
        return self.zero_is_unset and effective == ZERO_KEY_DIGEST


def _spec(name: str, kind: Kind, role: Role, **kw: object) -> ParamSpec:
    return ParamSpec(name, kind, kw.pop("section", "Interface"), role, **kw)  # type: ignore[arg-type]


_MM, _SL, _NODE = Role.MUST_MATCH, Role.SIDE_LOCAL, Role.NODE

# Order follows config.c's process_line: the order matters nowhere in the
# tool (each "Key=" prefix is unique) but reads the same as upstream.
INTERFACE_SETCONF_KEYS: tuple[ParamSpec, ...] = (
    _spec("ListenPort", Kind.PORT, _NODE),
    _spec("FwMark", Kind.FWMARK, _NODE),
    _spec("PrivateKey", Kind.KEY, _NODE, secret=True),
    _spec("Jc", Kind.U16, _SL, default="0"),
    _spec("Jmin", Kind.U16, _SL, default="0"),
    _spec("Jmax", Kind.U16, _SL, default="0"),
    _spec("S1", Kind.U16, _MM, default="0"),
    _spec("S2", Kind.U16, _MM, default="0"),
    _spec("S3", Kind.U16, _MM, default="0", since="1.5"),
    _spec("S4", Kind.U16, _MM, default="0", since="1.5"),
    _spec("H1", Kind.U32_RANGE, _MM, default="1"),
    _spec("H2", Kind.U32_RANGE, _MM, default="2"),
    _spec("H3", Kind.U32_RANGE, _MM, default="3"),
    _spec("H4", Kind.U32_RANGE, _MM, default="4"),
    _spec("I1", Kind.TAGS, _SL, since="1.5"),
    _spec("I2", Kind.TAGS, _SL, since="1.5"),
    _spec("I3", Kind.TAGS, _SL, since="1.5"),
    _spec("I4", Kind.TAGS, _SL, since="1.5"),
    _spec("I5", Kind.TAGS, _SL, since="1.5"),
    # amneziawg-go (device/uapi.go mergeWithDevice, noise-protocol.go
    # HeaderProtectionCipher) skips header protection and the S >= 12 rule
    # when the key IsZero; tools' ipc-uapi.h does not even report it. The
    # zero key is the central contract's "remove" signal.
    _spec("HeaderProtectionKey", Kind.KEY, _MM, secret=True, since="3.0",
          zero_is_unset=True),
    _spec("ContentPaddingAddition", Kind.U16_RANGE, _SL, default="0", since="3.0"),
    _spec("RekeyAfterTime", Kind.U16_RANGE, _SL, default="0", since="3.0"),
    _spec("RekeyTimeout", Kind.U16_RANGE, _SL, default="0", since="3.0"),
    _spec("RejectAfterTime", Kind.U16_RANGE, _SL, default="0", since="3.0"),
    _spec("KeepaliveTimeout", Kind.U16_RANGE, _SL, default="0", since="3.0"),
    _spec("MaxHandshakeAttempts", Kind.U16_RANGE, _SL, default="0", since="3.0"),
    _spec("RandomTrailers", Kind.BOOL, _MM, default="off", since="3.1"),
    _spec("DisableCookies", Kind.BOOL, _SL, default="off", since="3.1"),
)

PEER_SETCONF_KEYS: tuple[ParamSpec, ...] = (
    _spec("Endpoint", Kind.ENDPOINT, _NODE, section="Peer"),
    _spec("PublicKey", Kind.KEY, _NODE, section="Peer"),
    _spec("AllowedIPs", Kind.TEXT, _NODE, section="Peer", multi=Multi.SET),
    _spec("PersistentKeepalive", Kind.U16_RANGE, _NODE, section="Peer"),
    _spec("PresharedKey", Kind.KEY, _NODE, section="Peer", secret=True),
    _spec("AdvancedSecurity", Kind.BOOL, _NODE, section="Peer"),
)

# wg-quick/linux.bash parse_options(): consumed by awg-quick itself, only in
# [Interface], matched case-insensitively (shopt -s nocasematch). Address and
# DNS lines append to arrays (sets of addresses/servers), the four hooks to
# ordered command lists; MTU, Table and SaveConfig are plain assignments.
_AWG_QUICK_MULTI = {
    "Address": Multi.SET, "MTU": Multi.SINGLE, "DNS": Multi.SET, "Table": Multi.SINGLE,
    "PreUp": Multi.LIST, "PreDown": Multi.LIST, "PostUp": Multi.LIST,
    "PostDown": Multi.LIST, "SaveConfig": Multi.SINGLE,
}
AWG_QUICK_KEYS: tuple[ParamSpec, ...] = tuple(
    _spec(name, Kind.TEXT, _NODE, handler=Handler.AWG_QUICK, multi=multi)
    for name, multi in _AWG_QUICK_MULTI.items()
)

# Keys of the 1.5 generation that every 2.0+ build rejects.
LEGACY_KEYS = ("J1", "J2", "J3", "Itime")

SECRET_KEYS = frozenset(
    s.name.lower() for s in INTERFACE_SETCONF_KEYS + PEER_SETCONF_KEYS if s.secret
)

_BY_NAME: dict[str, ParamSpec] = {
    s.name.lower(): s
    for s in INTERFACE_SETCONF_KEYS + AWG_QUICK_KEYS + PEER_SETCONF_KEYS
}

OBFUSCATION_PARAMS: tuple[str, ...] = tuple(
    s.name for s in INTERFACE_SETCONF_KEYS if s.obfuscation
)
MUST_MATCH_PARAMS: tuple[str, ...] = tuple(
    s.name for s in INTERFACE_SETCONF_KEYS if s.role is Role.MUST_MATCH
)
SIDE_LOCAL_PARAMS: tuple[str, ...] = tuple(
    s.name for s in INTERFACE_SETCONF_KEYS if s.role is Role.SIDE_LOCAL
)


def accumulates(name: str) -> bool:
    """Do repeated lines of this key (any spelling) add up? Unknown keys do
    not: the tool rejects them anyway."""
    found = spec(name)
    return found is not None and found.accumulates


def items(name: str, value: str) -> tuple[str, ...]:
    """The items one line of an accumulating key adds, in order.

    Address and DNS: awg-quick turns commas into blanks and lets bash split
    the words (``${value//,/ }`` unquoted). AllowedIPs: setconf splits the
    blank-free value on commas (``strsep``). Hooks: the whole value is one
    command, commas included. A single-valued key is its value.
    """
    found = spec(name)
    if found is None or found.multi is not Multi.SET:
        return (value,)
    if found.handler is Handler.AWG_QUICK:
        return tuple(value.replace(",", " ").split())
    return tuple(part for part in value.split(",") if part)


def spec(name: str) -> ParamSpec | None:
    """The spec for a key in any spelling (``s4``, ``S4``), or None."""
    return _BY_NAME.get(name.lower())


def canonical(name: str) -> str:
    """The canonical spelling of a known key; unknown keys are returned as is."""
    found = spec(name)
    return found.name if found else name


def is_secret(name: str) -> bool:
    return name.lower() in SECRET_KEYS


# The base64 of 32 zero bytes, and the digest every reading of it carries.
ZERO_KEY = base64.b64encode(bytes(32)).decode("ascii")
ZERO_KEY_DIGEST = redact(ZERO_KEY)

@dataclass(frozen=True)
class Reading:
    """The tool's reading of one value: effective text, or why it refuses."""

    effective: str | None
    error: str | None = None


def strtoul10(text: str) -> tuple[int, str]:
    """C ``strtoul(text, &end, 10)`` on LP64: (value, unconsumed rest).

    Accepts leading whitespace and one sign; a minus negates modulo 2**64;
    overflow saturates at ULONG_MAX. No digits: (0, text), as C leaves
    ``end == text``.
    """
    i = 0
    while i < len(text) and text[i] in " \t\n\v\f\r":
        i += 1
    negative = False
    if i < len(text) and text[i] in "+-":
        negative = text[i] == "-"
        i += 1
    start = i
    while i < len(text) and "0" <= text[i] <= "9":
        i += 1
    if i == start:
        return 0, text
    digits = text[start:i].lstrip("0")
    # Past 20 digits strtoul has long saturated; int() of thousands raises.
    value = int(digits or "0") if len(digits) <= 20 else ULONG_MAX + 1
    if value > ULONG_MAX:
        value = ULONG_MAX
    elif negative:
        value = (-value) & ULONG_MAX
    return value, text[i:]


def read_u16(name: str, value: str) -> Reading:
    """``parse_uint16``: the result is stored in a uint32_t before the check,
    so ``4294967314`` wraps to 18 and is accepted."""
    if not value:
        return Reading(None, "Unable to parse empty string")
    number, rest = strtoul10(value)
    number &= U32_MAX
    if rest:
        return Reading(None, f"Unable to parse {name}: `{value}'")
    if number > U16_MAX:
        # The tool prints only "Unable to parse"; say which limit it was.
        return Reading(None, f"Unable to parse {name}: `{value}' (over {U16_MAX})")
    return Reading(str(number))


def _read_range(value: str, bits: int) -> Reading:
    """``u32_range_from_string`` / ``u16_range_from_string``: "a" or "a-b"."""
    parse_error = Reading(None, "Configuration parsing error")
    # The tool prints nothing more than "Configuration parsing error"; the
    # reason is added here so a reader knows which limit was crossed.
    too_big = Reading(None, f"Configuration parsing error (over {U32_MAX})")
    lo, rest = strtoul10(value)
    if rest == value:
        return parse_error
    if lo > U32_MAX:
        return too_big
    if rest:
        if rest[0] != "-":
            return parse_error
        # strtoul of an empty string yields 0 with nothing left over, which
        # is why "0-" is accepted as 0-0 while "100-" fails (hi < lo).
        hi, tail = strtoul10(rest[1:])
        if tail:
            return parse_error
        if hi > U32_MAX:
            return too_big
        if hi < lo:
            return Reading(None, f"Configuration parsing error (range end {hi} is below "
                           f"its start {lo})")
    else:
        hi = lo
    if bits == 16:
        lo, hi = lo & U16_MAX, hi & U16_MAX
    return Reading(str(lo) if lo == hi else f"{lo}-{hi}")


def read_bool(name: str, value: str) -> Reading:
    if not value:
        return Reading(None, "Unable to parse empty string")
    if value.lower() == "off":
        return Reading("off")
    if value.lower() == "on":
        return Reading("on")
    if not value[0].isdigit() or not value[0].isascii():
        return Reading(None, f"Boolean value is neither on/off nor 0/1: `{value}'")
    number, rest = strtoul10(value)
    if rest:
        return Reading(None, f"Unable to parse {name}: `{value}'")
    return Reading("on" if number & U32_MAX else "off")


def read_key(value: str) -> Reading:
    """``key_from_base64``: exactly 44 characters of base64 ending in '='."""
    error = Reading(None, "Key is not the correct length or format")
    if len(value) != 44 or not value.endswith("="):
        return error
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return error
    if len(decoded) != 32:
        return error
    if not any(decoded):
        # Every spelling Python decodes to 32 zero bytes is the zero key.
        return Reading(ZERO_KEY_DIGEST)
    return Reading(redact(value))


def service_port(value: str) -> int | None:
    """The port glibc's ``getaddrinfo(NULL, value, ...)`` gives a service
    text (config.c ``parse_port``, ``parse_endpoint``), or None when it would
    look the text up as a service name.

    glibc reads the text with ``strtoul`` base 10 into an ``int``: only a
    fully numeric text is a number; a negative int (``-1``, ``2147483648``)
    sends it to the name lookup; the port is then ``htons(num)``, i.e. the
    low 16 bits (``65536`` is port 0, ``70000`` is 4464).
    """
    number, rest = strtoul10(value)
    if rest or not value:
        return None
    number &= U32_MAX
    if number >= 1 << 31:
        return None
    return number & U16_MAX


def _service_error(value: str) -> str:
    # There is no AI_NUMERICSERV in the hints, so a name is looked up in the
    # node's /etc/services; awgcheck does not read that file, and no portable
    # conf relies on it, so a name is judged as the lookup usually ends.
    return f"Servname not supported for ai_socktype: `{value}' (not a decimal port)"


def read_port(value: str) -> Reading:
    """``parse_port``: a decimal port, wrapping at 16 bits."""
    if not value:
        return Reading(None, "Unable to parse empty port")
    port = service_port(value)
    if port is None:
        return Reading(None, _service_error(value))
    return Reading(str(port))


def read_endpoint(value: str) -> Reading:
    """``parse_endpoint``: ``host:port`` split at the last ':', or
    ``[v6]:port``; the port is read like ListenPort. The host is resolved on
    the node (DNS), so only its absence is judged here."""
    if not value:
        return Reading(None, "Unable to parse empty endpoint")
    if value.startswith("["):
        host, bracket, after = value[1:].partition("]")
        if not bracket:
            return Reading(None, f"Unable to find matching brace of endpoint: `{value}'")
        if not after.startswith(":") or len(after) < 2:
            return Reading(None, f"Unable to find port of endpoint: `{value}'")
        port_text = after[1:]
    else:
        host, colon, port_text = value.rpartition(":")
        if not colon or not port_text:
            return Reading(None, f"Unable to find port of endpoint: `{value}'")
    if not host:
        return Reading(None, f"Name or service not known: `{value}'")
    if service_port(port_text) is None:
        return Reading(None, _service_error(port_text))
    return Reading(value)


def read_fwmark(value: str) -> Reading:
    error = Reading(None, f"Fwmark is neither 0/off nor 0-0xffffffff: `{value}'")
    if value.lower() == "off":
        return Reading("0")
    if not value or not ("0" <= value[0] <= "9"):
        return error
    digits = value
    base = 10
    if len(value) > 2 and value[:2] == "0x":
        base, digits = 16, value[2:]
    try:
        number = int(digits, base)
    except ValueError:
        return error
    return Reading(str(number)) if number <= U32_MAX else error


def interpret(param: ParamSpec, value: str) -> Reading:
    """Read ``value`` (already cleaned as the tool cleans it) like the tool."""
    # A fleet states the same values on every node (the obfuscation params
    # are the point of agreeing): short ones are read once per run. A
    # secret is unique to its node, and is not kept beyond its reading.
    remember = not param.secret and len(value) <= _REMEMBERED
    return (_interpret_short if remember else _interpret)(
        param.name, param.kind, param.secret, value)


_REMEMBERED = 256  # characters: a param value, not a pasted file


def _interpret(name: str, kind: Kind, secret: bool, value: str) -> Reading:
    """:func:`interpret` of what it reads of the param: its name (for
    messages), kind and secrecy."""
    if kind is Kind.U16:
        return read_u16(name, value)
    if kind is Kind.U32_RANGE:
        return _read_range(value, 32)
    if kind is Kind.U16_RANGE:
        return _read_range(value, 16)
    if kind is Kind.BOOL:
        return read_bool(name, value)
    if kind is Kind.KEY:
        reading = read_key(value)
        if reading.effective is not None and not secret:
            return Reading(value)
        return reading
    if kind is Kind.PORT:
        return read_port(value)
    if kind is Kind.ENDPOINT:
        return read_endpoint(value)
    if kind is Kind.FWMARK:
        return read_fwmark(value)
    return Reading(value)


_interpret_short = functools.lru_cache(maxsize=8192)(_interpret)


def parse_range(effective: str) -> tuple[int, int] | None:
    """Split an effective range value ("5" or "5-9") into (lo, hi)."""
    lo, sep, hi = effective.partition("-")
    low = limits.int_or_none(lo) if limits.is_ascii_digits(lo) else None
    high = limits.int_or_none(hi) if sep and limits.is_ascii_digits(hi) else low
    if low is None or high is None:
        return None
    return (low, high)
