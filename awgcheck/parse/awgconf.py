"""Lossless ``awg0.conf`` parser that reads values the way the real tools do.

Each line is kept with its number and bytes, and classified as the
``awg-quick up`` path sees it (wg-quick/linux.bash ``parse_options``, then
``awg setconf`` on every line awg-quick did not consume; config.c
``config_read_line``/``process_line``). Lines the tools would reject become
diagnostics, never exceptions; only input that is not a conf at all raises
:class:`ParseError`.

Secret values (PrivateKey, PresharedKey, HeaderProtectionKey) are replaced
by their ``sha256:`` digest here, at the door: no later stage ever holds
them, so no report, log or error can leak them.

A template (``parse(..., template=True)``) is read the same way, and each
line and value holding a placeholder is marked as such here too: after the
digest has replaced a secret, ``PrivateKey = {{ key }}`` could no longer be
recognised as one.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import AnyStr

from awgcheck import params, wgkeys
from awgcheck.errors import ParseError
from awgcheck.model import Diagnostic, Level, Location, ParamValue, Placeholder
from awgcheck.parse.placeholders import CONF as PLACEHOLDER
from awgcheck.secrecy import is_secret_name

# config.c char_is_space(): the C isspace() set in the C locale. A UTF-8 BOM
# or a non-breaking space is not in it.
_C_SPACE = " \t\n\v\f\r"
# bash `read -r` trims IFS whitespace (space and tab; newline is the
# delimiter) from both ends of each line before awg-quick looks at it.
_IFS = " \t"
_SPECIAL_PREFIXES = ("i1", "i2", "i3", "i4", "i5")
# PLACEHOLDER: what template engines fill in later (Jinja/Ansible ``{{ var }}``,
# ``{% ... %}``, ``{# ... #}``; shell/envsubst ``${VAR}``, ``$VAR``, ``$(cmd)``).


class LineKind(enum.Enum):
    BLANK = "blank"
    COMMENT = "comment"
    SECTION = "section"
    KEY = "key"
    GARBAGE = "garbage"  # text that is neither a section nor key = value


@dataclass(frozen=True)
class Entry:
    """One ``Key = value`` line.

    ``key`` and ``raw`` are the text as written (trimmed at both ends);
    ``name`` is the canonical key the tool matched, or None when the tool
    does not know the key in that section.
    """

    line: int
    key: str
    raw: str
    name: str | None
    section: int | None  # index into AwgConf.sections; None before any header
    handler: params.Handler | None
    effective: str | None
    error: str | None
    text: str  # the whole line as decoded (secret values replaced)
    placeholder: bool = False  # a template's value, filled in when rendered

    @property
    def secret(self) -> bool:
        return self.name is not None and params.is_secret(self.name)


@dataclass(frozen=True)
class Section:
    index: int
    name: str  # "Interface" or "Peer" (canonical), or the header as written
    header: str  # as written
    line: int
    entries: tuple[Entry, ...] = ()

    def get(self, name: str) -> Entry | None:
        """The effective (last) entry for a canonical key in this section.

        For a key whose lines add up (``params.accumulates``: Address,
        AllowedIPs, ...) the last line is only part of the value: use
        :meth:`items`."""
        found = self.all(name)
        return found[-1] if found else None

    def all(self, name: str) -> tuple[Entry, ...]:
        """Every line setting a canonical key in this section, in order."""
        return tuple(e for e in self.entries if e.name == name)

    def items(self, name: str) -> tuple[str, ...]:
        """What every line of ``name`` adds up to, as the tool reads them
        (``AllowedIPs = 10.0.0.0/24`` twice and ``fd00::/64``: three items
        in a peer). Lines the tool rejects add nothing."""
        return tuple(item for e in self.all(name) if e.effective is not None
                     for item in params.items(name, e.effective))


@dataclass(frozen=True)
class Line:
    number: int
    raw: bytes  # without the line terminator; secret values replaced
    kind: LineKind
    section: int | None
    placeholder: bool = False  # a template line that holds a placeholder


@dataclass(frozen=True)
class FileFacts:
    size: int
    bom: bool
    crlf: bool
    cr_only: bool
    nul: bool
    invalid_utf8: bool
    final_newline: bool


@dataclass(frozen=True)
class AwgConf:
    """What awgcheck sees in one conf file."""

    path: str
    facts: FileFacts
    lines: tuple[Line, ...]
    sections: tuple[Section, ...]
    entries: tuple[Entry, ...]
    diagnostics: tuple[Diagnostic, ...]
    awg_quick_stripped: tuple[int, ...] = field(default=())
    template: bool = False
    # The interface's public key, derived from the PrivateKey the tool
    # applies (the last valid one); the private key itself is not kept.
    public_key: str | None = None

    def placeholder_at(self, line: int | None) -> bool:
        """Does ``line`` of this template hold a placeholder? What the tool
        would say about such a line is only known once it is rendered."""
        return any(ln.placeholder for ln in self.lines if ln.number == line)

    def placeholders(self) -> tuple[Placeholder, ...]:
        """Every placeholder of this template, in file order: a key line as
        its key (``S4``, ``PrivateKey``), any other line as ``line N``."""
        if not self.template:
            return ()
        keys = {e.line: e.name or "".join(e.key.split()) for e in self.entries}
        return tuple(Placeholder(keys.get(ln.number, f"line {ln.number}"),
                                 Location(self.path, ln.number))
                     for ln in self.lines if ln.placeholder)

    @property
    def loads(self) -> bool:
        """Would ``awg-quick up`` accept this file?"""
        return not any(d.level is Level.FATAL for d in self.diagnostics)

    def interface(self) -> Section | None:
        for section in self.sections:
            if section.name == "Interface":
                return section
        return None

    def peers(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.name == "Peer")

    def params(self) -> dict[str, ParamValue]:
        """Interface params as the tool applies them: the last duplicate wins.

        A copy, so a caller may change it freely; the mapping itself is built
        once, since every rule asks for it."""
        return dict(self._params)

    def values(self, name: str) -> tuple[ParamValue, ...]:
        """Every ``[Interface]`` line that sets ``name``, one value per line
        in file order; :meth:`params` holds what they amount to."""
        return tuple(_value(self.path, e) for e in self._interface_entries()
                     if e.name == name)

    def _interface_entries(self) -> Iterator[Entry]:
        for entry in self.entries:
            if entry.name is None or entry.section is None:
                continue
            if self.sections[entry.section].name == "Interface":
                yield entry

    @functools.cached_property
    def _params(self) -> dict[str, ParamValue]:
        result: dict[str, ParamValue] = {}
        for entry in self._interface_entries():
            assert entry.name is not None
            if params.accumulates(entry.name):
                if entry.name not in result:
                    result[entry.name] = _accumulated(self.values(entry.name))
                continue
            result[entry.name] = _value(self.path, entry)
        return result


def _value(path: str, entry: Entry) -> ParamValue:
    assert entry.name is not None
    return ParamValue(
        key=entry.name, raw=entry.raw, effective=entry.effective,
        location=Location(path, entry.line), error=entry.error,
        placeholder=entry.placeholder,
    )


def _accumulated(lines: tuple[ParamValue, ...]) -> ParamValue:
    """One value for every line of an accumulating key (see
    ``ParamValue.items``). The tool stops at the first line it rejects, so
    one rejected line makes the whole value rejected."""
    first = lines[0]
    spec = params.spec(first.key)
    sep = "; " if spec is not None and spec.multi is params.Multi.LIST else ", "
    error = next((v.error for v in lines if v.error is not None), None)
    found = tuple(item for v in lines if v.effective is not None
                  for item in params.items(first.key, v.effective))
    return ParamValue(
        key=first.key, raw=sep.join(v.raw for v in lines),
        effective=None if error is not None else sep.join(found),
        location=first.location, error=error,
        placeholder=any(v.placeholder for v in lines), items=found,
    )


def _facts(data: bytes) -> FileFacts:
    try:
        data.decode("utf-8")
        invalid = False
    except UnicodeDecodeError:
        invalid = True
    return FileFacts(
        size=len(data),
        bom=data.startswith(b"\xef\xbb\xbf"),
        crlf=b"\r\n" in data,
        cr_only=b"\r" in data and b"\n" not in data.rstrip(b"\r\n"),
        nul=b"\0" in data,
        invalid_utf8=invalid,
        final_newline=not data or data.endswith(b"\n"),
    )


def _split_lines(data: bytes) -> list[bytes]:
    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()  # `read` sees no extra line after a final newline
    return pieces


def _decode(raw: bytes) -> str:
    # surrogateescape keeps invalid bytes round-trippable and visible in hex.
    return raw.decode("utf-8", "surrogateescape")


_DROP_C_SPACE = str.maketrans("", "", _C_SPACE)


def _clean_ordinary(text: str) -> str:
    return text.translate(_DROP_C_SPACE)


def _clean_special(text: str) -> str:
    """config.c clean_special_handshake_line(): I1..I5 keep inner spaces."""
    text = text.rstrip(_C_SPACE)
    key, eq, value = text.partition("=")
    return _clean_ordinary(key) + eq + value.lstrip(_C_SPACE)


def _setconf_clean(line: str) -> str:
    body = line.split("#", 1)[0]
    if line[:2].lower() in _SPECIAL_PREFIXES:
        return _clean_special(body)
    return _clean_ordinary(body)


def _meaningful(lines: list[str]) -> list[str]:
    """The lines with something on them besides blanks and a comment."""
    return [kept for kept in (ln.split("#", 1)[0].strip() for ln in lines) if kept]


def states_nothing(data: bytes) -> bool:
    """Is ``data`` empty, blanks or comments only (a truncated download, an
    unfilled file): nothing a source of truth could be?"""
    return not _meaningful(_decode(data).replace("\r", "\n").split("\n"))


def _looks_like_conf(lines: list[str]) -> bool:
    """A conf has at least one section header or ``key = value`` line."""
    meaningful = _meaningful(lines)
    if not meaningful:
        return True  # empty or comment-only: parses fine (and is reported)
    hits = sum(
        1 for ln in meaningful
        if (ln.startswith("[") and ln.endswith("]")) or re.match(r"^[\w .-]+=", ln)
    )
    return hits > 0 and hits * 2 >= len(meaningful)


class _Reader:
    """Walks the lines once, keeping awg-quick's and setconf's state apart."""

    def __init__(self, path: str, template: bool,
                 placeholders: re.Pattern[str] = PLACEHOLDER) -> None:
        self.path = path
        self.template = template
        self.placeholders = placeholders
        self.quick_interface = False  # awg-quick's interface_section flag
        self.setconf_section: str | None = None  # "Interface" / "Peer"
        self.section_index: int | None = None
        self.sections: list[Section] = []
        self.entries: list[Entry] = []
        self.lines: list[Line] = []
        self.diagnostics: list[Diagnostic] = []
        self.stripped: list[int] = []
        self.headless_reported = False
        self.original = ""
        self.private_key: str | None = None

    def diag(self, line: int | None, code: str, message: str,
             level: Level = Level.FATAL) -> None:
        """Note what the tool would say (or silently do) about ``line``."""
        self.diagnostics.append(Diagnostic(Location(self.path, line), code, message, level))

    def reject(self, number: int, why: str) -> None:
        self.diag(number, "setconf-reject", f"awg setconf would reject line {number}: {why}")

    def placeholder(self, text: str) -> bool:
        return self.template and self.placeholders.search(text) is not None

    def read(self, number: int, raw: bytes) -> None:
        if b"\0" in raw:
            self.diag(
                number, "nul-byte",
                f"line {number} contains a NUL byte: awg-quick drops it and joins the "
                "text, awg setconf alone ignores the rest of the line",
                Level.WARNING,
            )
        # bash `read -r`: NUL bytes dropped, IFS whitespace trimmed.
        self.original = _decode(raw.replace(b"\0", b""))
        line = self.original.strip(_IFS)
        if (line[:2].lower() in _SPECIAL_PREFIXES and line != self.original.lstrip("\r")
                and self.original[:1] in _IFS and " " in line.partition("=")[2].strip()):
            self.diag(number, "indented-i-key",
                      f"line {number}: {line[:2]} is indented: awg-quick trims the indent and "
                      "keeps the inner spaces, but `awg setconf` run on this file directly "
                      "deletes them and applies a different value", Level.WARNING)
        stripped = line.split("#", 1)[0]
        quick_key = stripped.split("=", 1)[0].strip(_C_SPACE)
        quick_value = stripped.split("=", 1)[-1].strip(_C_SPACE)

        if quick_key.startswith("["):
            self.quick_interface = quick_key.lower() == "[interface]"
        quick_spec = params.spec(quick_key)
        if (self.quick_interface and quick_spec is not None
                and quick_spec.handler is params.Handler.AWG_QUICK):
            self._awg_quick_key(number, raw, line, quick_key, quick_value, quick_spec)
            return
        self._setconf_line(number, raw, line)

    def _awg_quick_key(self, number: int, raw: bytes, line: str, key: str, value: str,
                       spec: params.ParamSpec) -> None:
        self.stripped.append(number)
        error = None
        if spec.name == "SaveConfig" and value.lower() not in ("true", "false"):
            error = f"`{value}' is neither true nor false"
            self.diag(number, "awg-quick-reject",
                      f"awg-quick would stop at line {number}: SaveConfig {error}")
        self._add_entry(number, raw, key, value, spec.name,
                        params.Handler.AWG_QUICK, value if error is None else None, error)

    def _setconf_line(self, number: int, raw: bytes, line: str) -> None:
        cleaned = _setconf_clean(line)
        body = line.split("#", 1)[0].strip()
        if not cleaned:
            kind = LineKind.COMMENT if "#" in line else LineKind.BLANK
            if body:  # only characters the tool deletes, e.g. a stray CR
                kind = LineKind.BLANK
            self.lines.append(Line(number, raw, kind, self.section_index))
            return
        lowered = cleaned.lower()
        if lowered in ("[interface]", "[peer]"):
            self._section(number, raw, body, lowered)
            return
        key, eq, _ = body.partition("=")
        if not eq or not key.strip():
            self._garbage(number, raw, line, cleaned)
            return
        self._key_line(number, raw, line, key.strip(_C_SPACE), cleaned)

    def _section(self, number: int, raw: bytes, header: str, lowered: str) -> None:
        name = "Interface" if lowered == "[interface]" else "Peer"
        self.setconf_section = name
        self.section_index = len(self.sections)
        self.sections.append(Section(self.section_index, name, header, number))
        self.lines.append(Line(number, raw, LineKind.SECTION, self.section_index))
        if name == "Interface" and any(s.name == "Interface" for s in self.sections[:-1]):
            self.diag(number, "second-interface",
                      "a second [Interface] section; its keys are "
                      "applied on top of the first one", Level.WARNING)

    def _garbage(self, number: int, raw: bytes, line: str, cleaned: str) -> None:
        scrubbed = _hidden(_decode(raw)).encode("utf-8", "surrogateescape")
        self.lines.append(Line(number, scrubbed, LineKind.GARBAGE, self.section_index,
                               self.placeholder(line)))
        if is_secret_name(cleaned):
            self.reject(number, f"Line unrecognized: `{_WITHHELD}'")
        elif cleaned.startswith("\ufeff") or line.startswith("\ufeff"):
            self.reject(number, f"Line unrecognized: `{_show(cleaned)}' (starts with a "
                        "UTF-8 byte order mark, which is not whitespace to the tool)")
        else:
            self.reject(number, f"Line unrecognized: `{_show(cleaned)}'")

    def _key_line(self, number: int, raw: bytes, line: str, key: str, cleaned: str) -> None:
        """process_line(): "Key=" is matched as a case-insensitive prefix of
        the cleaned line, so the key text is everything before the first '='."""
        cleaned_key, _, cleaned_value = cleaned.partition("=")
        spec = params.spec(cleaned_key)
        raw_value = line.split("#", 1)[0].partition("=")[2].strip(_C_SPACE)
        known_here = (
            spec is not None and spec.handler is params.Handler.SETCONF
            and spec.section == self.setconf_section
        )
        if spec is None or not known_here:
            self._add_entry(number, raw, key, raw_value,
                            spec.name if spec else None, None, None, "Line unrecognized")
            if self.setconf_section is None and self.headless_reported:
                return  # one report is enough: the cause is the missing header
            self.headless_reported |= self.setconf_section is None
            self.reject(number, self._unrecognized_reason(key, cleaned, spec))
            return
        assert spec is not None
        if not cleaned_value:
            # get_value() needs the line to be longer than "Key=": an empty
            # value falls through every key and ends as "Line unrecognized".
            self._add_entry(number, raw, key, raw_value, spec.name,
                            params.Handler.SETCONF, None, "empty value")
            self.diag(number, "empty-value", f"awg setconf would reject line {number}: "
                      f"Line unrecognized: `{_show(cleaned)}' (empty value for {spec.name})")
            return
        reading = params.interpret(spec, cleaned_value)
        if spec.name == "PrivateKey" and reading.error is None and not self.placeholder(line):
            # Kept until the file is read (the last one wins, as in the tool),
            # before _add_entry replaces the value with its digest; only its
            # public key outlives the parse. Derived once, not per line: a
            # file of 170,000 PrivateKey lines costs one X25519.
            self.private_key = cleaned_value
        self._add_entry(number, raw, key, raw_value, spec.name,
                        params.Handler.SETCONF, reading.effective, reading.error)
        if reading.error is not None:
            shown = reading.error
            if spec.secret:
                shown = "Key is not the correct length or format"
            self.reject(number, f"{spec.name}: {shown}")

    def _unrecognized_reason(self, key: str, cleaned: str,
                             spec: params.ParamSpec | None) -> str:
        shown = "Line unrecognized: `" + _show(cleaned) + "'"
        if spec is not None and spec.secret:
            shown = f"Line unrecognized: `{spec.name}=...'"
        elif spec is None and is_secret_name(key):
            return f"Line unrecognized: `{_WITHHELD}'"
        if self.setconf_section is None:
            return f"{shown} (before any [Interface] or [Peer] header)"
        if spec is None:
            legacy = {k.lower(): k for k in params.LEGACY_KEYS}
            name = _clean_ordinary(key).lower()
            if name in legacy:
                return f"{shown} ({legacy[name]} is a 1.5-only key; 2.0+ builds reject it)"
            return f"{shown} (unknown key '{_show(key)}')"
        if spec.handler is params.Handler.AWG_QUICK:
            if key.lower() != spec.name.lower():
                return (f"{shown} (awg-quick does not recognise '{_show(key)}' as its "
                        f"{spec.name} key, so the line reaches awg setconf)")
            return (f"{shown} ({spec.name} is an awg-quick key; awg-quick only strips it "
                    "from an [Interface] header it recognises, written exactly so)")
        return f"{shown} ({spec.name} is not valid under [{self.setconf_section}])"

    def _add_entry(self, number: int, raw: bytes, key: str, raw_value: str,
                   name: str | None, handler: params.Handler | None,
                   effective: str | None, error: str | None) -> None:
        secret = name is not None and params.is_secret(name)
        text = self.original
        # Before any digest replaces the value: afterwards it is unrecognisable.
        # A templated key (``{{ name }} = 18``) is only known once rendered too.
        placeholder = self.placeholder(raw_value) or self.placeholder(key)
        if secret and raw_value:
            digest = params.redact(raw_value)
            raw = _after_equals(raw, raw_value.encode("utf-8", "surrogateescape"),
                                digest.encode())
            text = _after_equals(text, raw_value, digest)
            raw_value = digest
        elif name is None and is_secret_name(key):
            # "PrivateKey <key>" (no "="), "Password: x": an unknown line that
            # names a secret is digested whole, because where its value
            # starts cannot be known.
            raw = _hidden(_decode(raw)).encode()
            text = key = raw_value = _hidden(text)
        elif name is None or not _shows_key(name):
            # An unknown line may be a key pasted without its "PrivateKey ="
            # prefix, and a PostUp may hold one (``wg set %i private-key
            # <(echo KEY)``): scrub every value shown but a PublicKey.
            # A known param's name is no secret's: only what follows its "="
            # is scrubbed (whole, "DisableCookies = 0" read as a cookie's
            # value and showed a digest for 0).
            line_scrub = params.scrub if name is None else _scrub_after_equals
            raw = line_scrub(_decode(raw)).encode("utf-8", "surrogateescape")
            text, key, raw_value = line_scrub(text), params.scrub(key), params.scrub(raw_value)
            if effective is not None:
                effective = params.scrub(effective)  # a digest compares as the key would
        self.lines.append(Line(number, raw, LineKind.KEY, self.section_index, placeholder))
        self.entries.append(Entry(
            line=number, key=key, raw=raw_value, name=name, section=self.section_index,
            handler=handler, effective=effective, error=error, text=text,
            placeholder=placeholder,
        ))


def _after_equals(text: AnyStr, value: AnyStr, digest: AnyStr) -> AnyStr:
    """Replace ``value`` with ``digest`` everywhere after the first '=' (the
    key name before it is left alone, even if the value is a substring)."""
    cut = text.find("=" if isinstance(text, str) else b"=")
    cut = max(cut, 0)
    return text[:cut] + text[cut:].replace(value, digest)


_WITHHELD = "(withheld: the line names a secret)"


def _scrub_after_equals(line: str) -> str:
    """``line`` with what follows its first '=' scrubbed."""
    cut = line.find("=") + 1
    return line[:cut] + params.scrub(line[cut:])


def _hidden(text: str) -> str:
    """An unknown line for storage: digested whole if it names a secret."""
    if is_secret_name(text.split("=", 1)[0]):
        return params.redact(text.strip())
    return params.scrub(text)


def _shows_key(name: str) -> bool:
    """A param whose value is a public key, shown as written."""
    spec = params.spec(name)
    return spec is not None and spec.kind is params.Kind.KEY and not spec.secret


def _show(text: str) -> str:
    """A line as a message quotes it: secrets scrubbed. Invisible characters
    and stray bytes are kept as read and escaped where the message is
    printed (:func:`awgcheck.text.printable`), so they are escaped once."""
    return params.scrub(text)


def _file_diagnostics(facts: FileFacts, reader: _Reader) -> Iterator[Diagnostic]:
    def at(line: int | None) -> Location:
        return Location(reader.path, line)

    if facts.bom:
        yield Diagnostic(at(1), "bom", "file starts with a UTF-8 byte order mark: awg setconf "
                         "reads it as part of line 1 and rejects that line",
                         Level.WARNING)
    if facts.cr_only:
        yield Diagnostic(at(1), "cr-only", "file uses CR-only line endings: the tools read it "
                         "as a single line and reject it", Level.WARNING)
    if facts.invalid_utf8:
        yield Diagnostic(at(None), "invalid-utf8", "file is not valid UTF-8",
                         Level.WARNING)
    if not facts.final_newline:
        yield Diagnostic(at(len(reader.lines) or None), "no-final-newline",
                         "file has no final newline (the tools still read the last line)",
                         Level.WARNING)
    if reader.setconf_section is None and not reader.entries:
        yield Diagnostic(at(None), "empty", "file has no [Interface] section: it loads, but "
                         "clears the private key and every param", Level.WARNING)
    for section in reader.sections:
        has_key = any(e.name == "PublicKey" and e.section == section.index
                      for e in reader.entries)
        if section.name == "Peer" and not has_key:
            yield Diagnostic(at(section.line), "peer-without-key",
                             f"[Peer] at line {section.line} has no PublicKey: awg setconf "
                             "fails with \"A peer is missing a public key\"", Level.FATAL)


def looks_like_conf(data: bytes) -> bool:
    """Is ``data`` a conf at all (a header or ``Key = value`` lines), as
    opposed to a binary or a file of another kind?"""
    # Detection splits on CR too: a CR-only file is still a conf (that the
    # tools reject), not garbage.
    return _looks_like_conf(_decode(data).replace("\r", "\n").split("\n")) and not (
        b"\0" in data and data.count(b"\0") * 8 > len(data)
    )


def parse(data: bytes, path: str, *, template: bool = False, any_bytes: bool = False,
          placeholders: re.Pattern[str] = PLACEHOLDER) -> AwgConf:
    """Parse one conf file. ``path`` is how locations should name the file;
    ``template`` says the file is a template whose placeholders (by default
    :data:`PLACEHOLDER`; a quoted heredoc has no shell expansions, see
    :mod:`awgcheck.parse.heredoc`) are filled in later, so lines and values
    holding one are marked ``placeholder``.

    Bytes that are not a conf at all raise :class:`ParseError` (a node
    whose conf path holds a binary cannot be checked), unless ``any_bytes``:
    then they are read line by line as the tool would, which rejects them
    (``awgcheck inspect conf`` answers "does it load?" for any file)."""
    facts = _facts(data)
    raw_lines = _split_lines(data)
    foreign = not looks_like_conf(data)
    if foreign and not any_bytes:
        raise ParseError(f"{path}: not an AmneziaWG conf (no [Interface]/[Peer] header "
                         "or Key = value lines)")
    reader = _Reader(path, template, placeholders)
    if foreign:
        reader.diag(None, "not-a-conf", "this is not an AmneziaWG conf (no [Interface]/[Peer] "
                    "header or Key = value lines)", Level.WARNING)
    for number, raw in enumerate(raw_lines, start=1):
        reader.read(number, raw)
    sections = tuple(
        Section(s.index, s.name, s.header, s.line,
                tuple(e for e in reader.entries if e.section == s.index))
        for s in reader.sections
    )
    diagnostics = list(_file_diagnostics(facts, reader)) + reader.diagnostics
    diagnostics.sort(key=lambda d: (d.location.line or 0))
    return AwgConf(
        path=path, facts=facts, lines=tuple(reader.lines), sections=sections,
        entries=tuple(reader.entries), diagnostics=tuple(diagnostics),
        awg_quick_stripped=tuple(reader.stripped), template=template,
        public_key=wgkeys.public_key(reader.private_key) if reader.private_key else None,
    )
