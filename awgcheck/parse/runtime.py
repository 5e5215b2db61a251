"""Readers for what ``awg`` prints about a live interface.

Two views are read, each the output of one amneziawg-tools command:

* ``awg show <iface> dump`` (:func:`parse_dump`): one tab-separated line
  for the interface, one per peer. The interface line grew columns with each
  tools generation, so its column count tells the generation (see
  :data:`DUMP_LAYOUTS`, verified against ``src/show.c`` ``dump_print`` at
  every tag of amnezia-vpn/amneziawg-tools up to v3.1.20260812).
* ``awg showconf <iface>`` (:func:`parse_showconf`): ``Key = value`` lines
  in a fixed order (``src/showconf.c``). The kernel module reports every
  numeric key, amneziawg-go only the non-zero ones.

Both interface views normalise to the conf parser's model: a dict of
:class:`~awgcheck.model.ParamValue` keyed by canonical param name, whose
``effective`` is :func:`awgcheck.params.interpret` of the printed text. A
running interface cannot tell "set to the default" from "never set" (the
kernel keeps a number either way, and amneziawg-go drops zeros before
printing), so a value equal to the param's default is left out of the dict:
absence means "default", as :mod:`awgcheck.compare` reads every document.
That way the kernel module's ``Jc = 0`` and amneziawg-go's
silence compare equal.

Secrets (PrivateKey, PresharedKey, HeaderProtectionKey) are printed in
clear by both commands; they are replaced by :func:`awgcheck.params.redact`
digests the moment a line is split, and error messages quote only values
too short to hold a useful part of a key, so no later stage (report, log,
traceback) can leak them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from awgcheck import limits, params
from awgcheck.errors import ParseError
from awgcheck.model import Location, ParamValue

# What the tools print for an unset string or key (show.c: maybe_key() and
# the "(null)" fallbacks; glibc's printf prints "(null)" for a NULL %s too).
NULL = "(null)"
NONE = "(none)"
OFF = "off"

GEN_WG = "wg"
GEN_1_0 = "1.0"
GEN_1_5 = "1.5"
GEN_2_0 = "2.0"
GEN_3 = "3.x"
GEN_SHOWCONF_KMOD = "showconf-kmod"
GEN_SHOWCONF_GO = "showconf-go"
GEN_SHOWCONF = "showconf"  # showconf whose producer cannot be told

# Generations whose kernel module / amneziawg-go silently replace a magic
# header <= 4 with the default (the
# documented quirk of those builds; not re-read in the module sources for
# this reader).
_HEADER_CLAMPING_GENERATIONS = frozenset({GEN_1_0, GEN_1_5, GEN_2_0})


@dataclass(frozen=True)
class DumpLayout:
    """The interface-line columns of one tools generation's dump."""

    generation: str
    tools: str  # the amneziawg-tools tags that print this layout
    columns: tuple[str, ...]


_HEAD = ("PrivateKey", "PublicKey", "ListenPort")
_V1 = ("Jc", "Jmin", "Jmax", "S1", "S2", "H1", "H2", "H3", "H4")
_V2 = ("Jc", "Jmin", "Jmax", "S1", "S2", "S3", "S4", "H1", "H2", "H3", "H4")
_I = ("I1", "I2", "I3", "I4", "I5")
_V3 = ("HeaderProtectionKey", "ContentPaddingAddition", "RekeyAfterTime", "RekeyTimeout",
       "RejectAfterTime", "KeepaliveTimeout", "MaxHandshakeAttempts")
_V31 = ("RandomTrailers", "DisableCookies")

DUMP_LAYOUTS: tuple[DumpLayout, ...] = (
    DumpLayout(GEN_WG, "upstream wireguard-tools", (*_HEAD, "FwMark")),
    DumpLayout(GEN_1_0, "v1.0.20231215..v1.0.20241018, v1.0.20250706",
               (*_HEAD, *_V1, "FwMark")),
    # Only in v1.0.20250704 ("Awg 1.5", reverted two days later): S3/S4 were
    # not dumped yet, the I-, J- and Itime columns were.
    DumpLayout(GEN_1_5, "v1.0.20250704",
               (*_HEAD, *_V1, *_I, "J1", "J2", "J3", "Itime", "FwMark")),
    DumpLayout(GEN_2_0, "v1.0.20250901..v1.0.20260618-2", (*_HEAD, *_V2, *_I, "FwMark")),
    DumpLayout(GEN_3, "v3.0.20260730..v3.0.20260805", (*_HEAD, *_V2, *_I, *_V3, "FwMark")),
    DumpLayout(GEN_3, "v3.1.20260812", (*_HEAD, *_V2, *_I, *_V3, *_V31, "FwMark")),
)
_LAYOUT_BY_WIDTH = {len(layout.columns): layout for layout in DUMP_LAYOUTS}

# Peer line: public key, preshared key, endpoint, allowed ips, latest
# handshake, rx bytes, tx bytes, persistent keepalive. Unchanged since
# upstream wireguard-tools, except that 3.x prints keepalive as a range.
_PEER_COLUMNS = 8

# 1.5-only keys have no catalog spec; the tools printed them as strings
# (J1..J3) and a number (Itime), unset being "(null)" and 0.
_LEGACY_ABSENT = {"J1": NULL, "J2": NULL, "J3": NULL, "Itime": "0"}

# The keys the kernel module has reported since 1.0 whatever their value;
# amneziawg-go prints each only when non-zero (headers: when not 0-0).
_KMOD_ALWAYS = ("Jc", "Jmin", "Jmax", "S1", "S2", "H1", "H2", "H3", "H4")

# Longest value an error message quotes (see _show).
_ECHO_LIMIT = 12


@dataclass(frozen=True)
class PeerState:
    """One peer as the running interface reports it.

    ``public_key`` is kept whole (it is public, and it is what joins a peer
    to its conf section); use :attr:`short_key` for display. The counters
    are None in the showconf view, which does not print them.
    """

    public_key: str
    preshared_key: str | None = None  # sha256 digest; None when unset
    endpoint: str | None = None
    allowed_ips: tuple[str, ...] = ()
    latest_handshake: int | None = None  # unix seconds; 0 = never
    rx_bytes: int | None = None
    tx_bytes: int | None = None
    persistent_keepalive: str | None = None  # effective; None = off
    advanced_security: str | None = None  # "on"/"off" when showconf prints it
    location: Location | None = None

    @property
    def short_key(self) -> str:
        """The key as reports show it: first 8 characters and an ellipsis."""
        return short_key(self.public_key)


@dataclass(frozen=True)
class RuntimeState:
    """A running interface as one ``awg`` view reports it.

    ``interface`` holds only values that differ from the param's default
    (see the module docstring): compare through :mod:`awgcheck.compare`,
    which knows what absence means.
    """

    source: str
    view: str  # "dump" or "showconf"
    generation: str
    interface: dict[str, ParamValue]
    peers: tuple[PeerState, ...] = ()
    public_key: str | None = None  # the interface's own, from the dump
    diagnostics: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """Where the view came from, so a runtime view is a ParamDocument
        (the rule engine and diff read ``path`` and ``params()``)."""
        return self.source

    def params(self) -> dict[str, ParamValue]:
        """The non-default interface params, as rules compare them."""
        return dict(self.interface)

    def get(self, name: str) -> ParamValue | None:
        """The reported value of a param in any spelling, or None if absent."""
        return self.interface.get(params.canonical(name))

    def peer(self, public_key: str) -> PeerState | None:
        """The peer with this (full) public key, or None."""
        for peer in self.peers:
            if peer.public_key == public_key:
                return peer
        return None


def short_key(public_key: str) -> str:
    """A public key shortened for display (``xTIBA5rb…``)."""
    return public_key[:8] + "\u2026" if len(public_key) > 8 else public_key


# --------------------------------------------------------------------------
# awg show <iface> dump


def parse_dump(text: str, *, source: str) -> RuntimeState:
    """Read ``awg show <iface> dump`` output.

    ``source`` names the output in messages and locations (for example
    ``"edge-1:awg show awg0 dump"``). Raises :class:`ParseError` naming the
    source and line when the text is not a single-interface dump.
    """
    lines = _lines(text, source)
    header = lines[0][1].split("\t")
    layout = _LAYOUT_BY_WIDTH.get(len(header))
    if layout is None:
        raise ParseError(_dump_width_error(source, len(header)))
    where = Location(path=source)
    interface, public_key, notes = _dump_interface(layout, header, source, where)
    peers = tuple(_dump_peer(number, line, source) for number, line in lines[1:])
    diagnostics = (f"{source}: {len(header)} interface columns: the {layout.generation} "
                   f"dump layout, printed by tools {layout.tools}", *notes)
    return RuntimeState(source=source, view="dump", generation=layout.generation,
                        interface=interface, peers=peers, public_key=public_key,
                        diagnostics=diagnostics)


def _dump_width_error(source: str, width: int) -> str:
    known = ", ".join(f"{len(x.columns)} ({x.generation})" for x in DUMP_LAYOUTS)
    hint = ""
    if width - 1 in _LAYOUT_BY_WIDTH:
        hint = ("; one column too many for a known layout: is this `awg show all dump`"
                " (interface name first) or an I1..I5 value with a tab in it?")
    return (f"{source}:1: not an `awg show <iface> dump` interface line: {width} "
            f"tab-separated columns, expected one of {known}{hint}")


def _dump_interface(
    layout: DumpLayout, columns: list[str], source: str, where: Location
) -> tuple[dict[str, ParamValue], str | None, list[str]]:
    interface: dict[str, ParamValue] = {}
    public_key: str | None = None
    notes: list[str] = []
    for name, text in zip(layout.columns, columns, strict=True):
        if name == "PublicKey":
            public_key = None if text == NONE else _checked_key(text, source, 1, name)
            continue
        value = _dump_value(name, text, source, where)
        if value is not None:
            interface[name] = value
        if name in ("H1", "H2", "H3", "H4") and text == "0":
            # The uapi reader callocs the device and fills H only when the
            # daemon reports it, so 0 may mean "not reported" as well as 0.
            notes.append(f"{source}: {name} is 0: the runtime either did not report it "
                         "(amneziawg-go omits zero headers) or holds 0")
    if layout.generation == GEN_1_5:
        notes.append(f"{source}: 1.5 tools generation: J1-J3/Itime are rejected by 2.0+")
    return interface, public_key, notes


def _dump_value(name: str, text: str, source: str, where: Location) -> ParamValue | None:
    """One interface column as a ParamValue, or None when it means unset."""
    if name in _LEGACY_ABSENT:
        return None if text == _LEGACY_ABSENT[name] else ParamValue(name, text, text, where)
    if name == "FwMark":
        # Printed as "off" or "0x%x"; showconf omits a zero mark the same way.
        return None if text == OFF else _reading(name, text, source, 1, where)
    if name == "ListenPort" and text == "0":
        return None  # no port bound yet; showconf omits it too
    if text in (NULL, NONE) and _nullable(name):
        return None
    return _default_dropped(_reading(name, text, source, 1, where))


def _nullable(name: str) -> bool:
    spec = params.spec(name)
    return spec is not None and spec.kind in (params.Kind.TAGS, params.Kind.KEY,
                                              params.Kind.U32_RANGE)


def _dump_peer(number: int, line: str, source: str) -> PeerState:
    columns = line.split("\t")
    if len(columns) != _PEER_COLUMNS:
        raise ParseError(f"{source}:{number}: not a dump peer line: {len(columns)} "
                         f"tab-separated columns, expected {_PEER_COLUMNS}")
    pub, psk, endpoint, allowed, handshake, rx, tx, keepalive = columns
    return PeerState(
        public_key=_checked_key(pub, source, number, "peer public key"),
        preshared_key=None if psk == NONE else _secret(psk, source, number, "PresharedKey"),
        endpoint=None if endpoint == NONE else endpoint,
        allowed_ips=() if allowed == NONE else tuple(allowed.split(",")),
        latest_handshake=_counter(handshake, source, number, "latest handshake"),
        rx_bytes=_counter(rx, source, number, "rx bytes"),
        tx_bytes=_counter(tx, source, number, "tx bytes"),
        persistent_keepalive=_keepalive(keepalive, source, number),
        location=Location(path=source, line=number),
    )


# --------------------------------------------------------------------------
# awg showconf <iface>


def parse_showconf(text: str, *, source: str) -> RuntimeState:
    """Read ``awg showconf <iface>`` output.

    The generation is ``showconf-kmod`` when a numeric key is printed as 0
    (only the kernel module does that), ``showconf-go`` when one of the
    keys the kernel module always prints is missing, else ``showconf``.
    Raises :class:`ParseError` naming the source and line when the text is
    not showconf output.
    """
    lines = _lines(text, source)
    first_number, first = lines[0]
    if first != "[Interface]":
        raise ParseError(f"{source}:{first_number}: showconf output must start with "
                         "[Interface]")
    sections = list(_showconf_sections(lines[1:], source))
    printed: dict[str, str] = {}
    interface: dict[str, ParamValue] = {}
    diagnostics: list[str] = []
    for number, key, value in sections[0][1]:
        name = _showconf_key(key, "Interface", source, number, diagnostics)
        if name is None:
            continue
        if name in printed:
            raise ParseError(f"{source}:{number}: {name} printed twice")
        printed[name] = value
        found = _showconf_value(name, value, source, number)
        if found is not None:
            interface[name] = found
    peers = tuple(_showconf_peer(start, body, source, diagnostics)
                  for start, body in sections[1:])
    return RuntimeState(source=source, view="showconf",
                        generation=_showconf_generation(printed), interface=interface,
                        peers=peers, diagnostics=tuple(diagnostics))


_Entry = tuple[int, str, str]  # line number, key, value


def _showconf_sections(
    lines: list[tuple[int, str]], source: str
) -> Iterator[tuple[int, list[_Entry]]]:
    """Split into the [Interface] body and one body per [Peer]."""
    start = 1
    body: list[_Entry] = []
    for number, line in lines:
        if line == "":
            continue  # showconf separates sections with one blank line
        if line == "[Peer]":
            yield start, body
            start, body = number, []
            continue
        key, sep, value = line.partition(" = ")
        if not sep or not key or not value:
            raise ParseError(f"{source}:{number}: not a showconf line: expected "
                             "`Key = value`, `[Peer]` or a blank line")
        body.append((number, key, value))
    yield start, body


def _showconf_key(key: str, section: str, source: str, number: int,
                  diagnostics: list[str]) -> str | None:
    """The canonical name for a printed key, or None to skip it."""
    legacy = key in _LEGACY_ABSENT if section == "Interface" else key == "SpecialHandshake"
    if legacy:
        diagnostics.append(f"{source}:{number}: {key} is a 1.5-only key, rejected by 2.0+")
        # Interface legacy keys are kept so that a rule can flag them; the
        # 1.5 peer flag has no counterpart anywhere else and is only noted.
        return key if section == "Interface" else None
    spec = params.spec(key)
    if spec is None or spec.handler is params.Handler.AWG_QUICK:
        # A newer tools release may print keys we do not know yet; that is
        # worth saying, not worth refusing the whole view.
        diagnostics.append(f"{source}:{number}: unknown key {key!r} skipped")
        return None
    if spec.section != section:
        raise ParseError(f"{source}:{number}: {spec.name} printed under [{section}]")
    return spec.name


def _showconf_value(name: str, value: str, source: str, number: int) -> ParamValue | None:
    where = Location(path=source, line=number)
    if name in _LEGACY_ABSENT:
        return None if value == _LEGACY_ABSENT[name] else ParamValue(name, value, value, where)
    return _default_dropped(_reading(name, value, source, number, where))


def _showconf_peer(start: int, body: list[_Entry], source: str,
                   diagnostics: list[str]) -> PeerState:
    if not body or body[0][1] != "PublicKey":
        raise ParseError(f"{source}:{start}: [Peer] must begin with PublicKey")
    fields: dict[str, tuple[int, str]] = {}
    for number, key, value in body:
        name = _showconf_key(key, "Peer", source, number, diagnostics)
        if name is None:
            continue
        if name in fields:
            raise ParseError(f"{source}:{number}: {name} printed twice in one [Peer]")
        fields[name] = (number, value)

    def field(name: str) -> str | None:
        return fields[name][1] if name in fields else None

    psk, keepalive, allowed = field("PresharedKey"), field("PersistentKeepalive"), \
        field("AllowedIPs")
    return PeerState(
        public_key=_checked_key(fields["PublicKey"][1], source, body[0][0], "PublicKey"),
        preshared_key=None if psk is None else _secret(
            psk, source, fields["PresharedKey"][0], "PresharedKey"),
        endpoint=field("Endpoint"),
        allowed_ips=() if allowed is None else tuple(allowed.split(", ")),
        persistent_keepalive=None if keepalive is None else _keepalive(
            keepalive, source, fields["PersistentKeepalive"][0]),
        advanced_security=field("AdvancedSecurity"),
        location=Location(path=source, line=start),
    )


def _showconf_generation(printed: dict[str, str]) -> str:
    for name, value in printed.items():
        spec = params.spec(name)
        if spec is not None and spec.kind in (params.Kind.U16, params.Kind.U16_RANGE) \
                and value == "0":
            return GEN_SHOWCONF_KMOD
    if any(name not in printed for name in _KMOD_ALWAYS):
        return GEN_SHOWCONF_GO
    return GEN_SHOWCONF


# --------------------------------------------------------------------------
# Quirks: runtime values that differ from the file without being drift


def explain_quirk(
    file_value_jmin: str | int | None,
    file_value_jmax: str | int | None,
    runtime_jmax: str | int | None,
    *,
    jc: str | int | None = None,
) -> str | None:
    """Why a runtime Jmax of file Jmax + 1 is not drift, or None.

    Several builds (kmod 1.0/2.0, amneziawg-go <= v0.2.12) store Jmax + 1
    when Jmin == Jmax, so that the random junk size range is not empty.
    Values are effective renderings (absent = None = 0). When ``jc`` is
    given and is 0 no junk is sent and the quirk does not apply.
    """
    jmin, jmax, seen = _num(file_value_jmin), _num(file_value_jmax), _num(runtime_jmax)
    if None in (jmin, jmax, seen) or (jc is not None and _num(jc) == 0):
        return None
    if jmin == jmax and seen == (jmax or 0) + 1:
        return (f"runtime Jmax {seen} = file Jmax {jmax} + 1: builds that store Jmax + 1 "
                "when Jmin == Jmax (kmod 1.0/2.0, amneziawg-go <= v0.2.12); not drift")
    return None


def explain_header_quirk(
    name: str, file_value: str | None, runtime_value: str | None, *, generation: str
) -> str | None:
    """Why a runtime magic header equal to the default is not drift, or None.

    1.0 and 2.0 runtimes silently replace a header <= 4 with the default
    (H1 -> 1, ..., H4 -> 4). A showconf generation does not tell the tools
    generation, so the quirk is allowed there too, and the text says so.
    """
    spec = params.spec(name)
    if spec is None or spec.kind is not params.Kind.U32_RANGE or spec.default is None:
        return None
    if generation in (GEN_WG, GEN_3) or runtime_value != spec.default:
        return None
    if file_value is None:  # absent in the file: the runtime default is no drift
        return None
    value = _num(file_value)
    if value is None or value > 4 or str(value) == spec.default:
        return None
    which = ("this runtime" if generation in _HEADER_CLAMPING_GENERATIONS
             else "if this runtime is 1.0/2.0, it")
    return (f"file {spec.name} = {value} but runtime {spec.default}: {which} replaces any "
            f"header <= 4 with the default; not drift (choose headers >= 5)")


# --------------------------------------------------------------------------
# Shared helpers


def _lines(text: str, source: str, *, empty_ok: bool = False) -> list[tuple[int, str]]:
    """Numbered lines split on "\n" only (not splitlines(), which would also
    split an I-value on \v, \f or \x1c); trailing blank lines dropped.

    Output read through a pseudo-terminal (``ssh -t``, a sudo that wants a
    tty) has every "\n" turned into "\r\n"; that uniform form is undone.
    Any other carriage return is not something awg prints.
    """
    raw = text.split("\n")
    if raw[-1] == "":
        raw.pop()
    if raw and all(line.endswith("\r") for line in raw):
        raw = [line[:-1] for line in raw]
    lines = list(enumerate(raw, start=1))
    while lines and lines[-1][1] == "":
        lines.pop()
    if not lines and not empty_ok:
        raise ParseError(f"{source}: empty output (is the interface up?)")
    for number, line in lines:
        if "\r" in line:
            raise ParseError(f"{source}:{number}: stray carriage return in tool output")
    return lines


def _reading(name: str, text: str, source: str, number: int,
             where: Location) -> ParamValue:
    """``params.interpret`` of a printed value; a value the tool would not
    have printed means this is not the tool's output."""
    spec = params.spec(name)
    if spec is None:  # pragma: no cover - the layouts only name catalog params
        raise ParseError(f"{source}:{number}: no catalog entry for {name}")
    if spec.secret:
        digest = _secret(text, source, number, name)
        return ParamValue(name, digest, digest, where)
    reading = params.interpret(spec, text)
    if reading.effective is None:
        # The tool's error quotes the value: only as much of it as _show would.
        why = reading.error if len(text) <= _ECHO_LIMIT else "rejected"
        raise ParseError(f"{source}:{number}: {name} value {_show(text)} is not what the tool "
                         f"prints: {params.scrub(why or 'rejected')}")
    return ParamValue(name, text, reading.effective, where)


def _default_dropped(value: ParamValue) -> ParamValue | None:
    spec = params.spec(value.key)
    if spec is not None and spec.reads_as_absent(value.effective):
        return None
    return value


def _secret(text: str, source: str, number: int, what: str) -> str:
    """The digest of a printed secret; the message never contains the text."""
    if params.read_key(text).effective is None:
        raise ParseError(f"{source}:{number}: {what} is not a base64 key")
    return params.redact(text)


def _checked_key(text: str, source: str, number: int, what: str) -> str:
    if params.read_key(text).effective is None:
        raise ParseError(f"{source}:{number}: {what} {_show(text)} is not a base64 key")
    return text


def _counter(text: str, source: str, number: int, what: str) -> int:
    value = limits.int_or_none(text) if limits.is_ascii_digits(text) else None
    if value is None:
        raise ParseError(f"{source}:{number}: {what} {_show(text)} is not a number")
    return value


def _keepalive(text: str, source: str, number: int) -> str | None:
    if text == OFF:
        return None
    spec = params.spec("PersistentKeepalive")
    assert spec is not None
    reading = params.interpret(spec, text)
    if reading.effective is None:
        raise ParseError(f"{source}:{number}: persistent keepalive {_show(text)} is not "
                         "`off`, a number or a range")
    return None if reading.effective == "0" else reading.effective


def _show(text: str) -> str:
    """A value quoted for an error message, unless it could hold a secret.

    Column shifts in malformed output can put a private key in any column,
    so only short values are echoed: they cannot carry a useful part of a
    44-character key.
    """
    # Quoted, not repr()'d: the message is escaped where it is printed
    # (awgcheck.text.printable), and escaping it here too would show it twice.
    return f"'{text}'" if len(text) <= _ECHO_LIMIT else f"({len(text)} characters)"


def _num(value: str | int | None) -> int | None:
    """An effective single number; None for ranges and unparsable text,
    0 for absent (absent J and H-free params mean 0)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    return limits.int_or_none(value) if limits.is_ascii_digits(value) else None
