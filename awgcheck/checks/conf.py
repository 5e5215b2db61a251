"""Check types that read a conf's lines: placement, duplicates, spelling,
whether awg-quick loads it, file facts (BOM, CRLF, ...)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from awgcheck import params
from awgcheck.checks.base import (
    Context,
    Outcome,
    conf_entries,
    entry_location,
    entry_name,
)
from awgcheck.checks.options import one_of
from awgcheck.model import ArtifactKind, Level, Location, Status
from awgcheck.parse import awgconf


def check_absent(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """No line sets any selected key (including keys the tool rejects, such as
    1.5-only J1..J3 and Itime)."""
    wanted = {n.lower() for n in ctx.names}
    hits = [e for e in conf_entries(ctx) if entry_name(e).lower() in wanted]
    for entry in hits:
        yield Outcome(Status.FAIL, f"{entry.key} is set on line {entry.line}",
                      entry_name(entry), actual=entry.raw, location=entry_location(ctx, entry))
    if not hits:
        yield Outcome(Status.PASS, f"none of {', '.join(ctx.names)} is set")



def prepare_placement(where: str, options: Mapping[str, Any],
                       reads: tuple[ArtifactKind, ...]) -> Mapping[str, Any]:
    one_of(where, options, "allowed", ("Interface", "Peer"))
    return options


def check_section_placement(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Selected keys may only appear in the section ``allowed`` names."""
    allowed = options["allowed"]
    doc = ctx.doc
    assert isinstance(doc, awgconf.AwgConf)
    wanted = {n.lower() for n in ctx.names}
    bad = False
    for entry in doc.entries:
        if entry_name(entry).lower() not in wanted:
            continue
        section = doc.sections[entry.section].name if entry.section is not None else None
        if section != allowed:
            bad = True
            place = f"[{section}]" if section else "before any section header"
            yield Outcome(Status.FAIL, f"{entry.key} on line {entry.line} is {place}; it is "
                          f"only valid in [{allowed}] (awg setconf rejects the whole file)",
                          entry_name(entry), actual=entry.raw, location=entry_location(ctx, entry))
    if not bad:
        yield Outcome(Status.PASS, f"every selected key is in [{allowed}]")


def check_duplicate_keys(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """No single-valued key is set twice in one place. Keys whose lines add
    up (``params.Multi``: Address, DNS, the hooks, AllowedIPs) are meant to
    repeat: a dual-stack node has two Address lines."""
    doc = ctx.doc
    assert isinstance(doc, awgconf.AwgConf)
    groups: dict[tuple[int | str | None, str], list[awgconf.Entry]] = {}
    for entry in conf_entries(ctx):
        if entry.name is not None and params.accumulates(entry.name):
            continue
        # A second [Interface] applies on top of the first (the last value
        # wins across both); each [Peer] is a peer of its own.
        place: int | str | None = entry.section
        if entry.section is not None and doc.sections[entry.section].name == "Interface":
            place = "Interface"
        groups.setdefault((place, entry_name(entry).lower()), []).append(entry)
    clean = True
    for entries in groups.values():
        if len(entries) < 2:
            continue
        clean = False
        last = entries[-1]
        lines = ", ".join(str(e.line) for e in entries)
        spellings = ", ".join(f"'{e.key} = {e.raw}'" for e in entries)
        name = entry_name(last)
        yield Outcome(Status.FAIL, f"{name} is set {len(entries)} times (lines {lines}: "
                      f"{spellings}); the last one wins, so the effective value is "
                      f"{last.effective if last.effective is not None else last.raw}",
                      entry_name(last), actual=last.raw, location=entry_location(ctx, last))
    if clean:
        yield Outcome(Status.PASS, "no key is set twice")


def check_canonical_spelling(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """``Key = value``: PascalCase key, one space each side of '=', nothing
    trailing. Merge tools matching ``^Key = \\d+$`` miss anything else and
    append a duplicate."""
    clean = True
    for entry in conf_entries(ctx):
        if entry.name is None:
            continue
        body, hash_mark, _ = entry.text.rstrip("\r").partition("#")
        if hash_mark:
            body = body.rstrip(" \t")  # blanks before a trailing comment are fine
        if not entry.raw and entry.error is not None:
            # `S4 =` has no canonical form to advise: it is an empty value,
            # which the empty-value rule reports.
            yield Outcome(Status.SKIP, f"line {entry.line}: an empty value, not a spelling",
                          entry.name, location=entry_location(ctx, entry))
            continue
        canonical = f"{entry.name} = {entry.raw}"
        if body == canonical:
            continue
        # A secret's raw is its digest: advising to write that would break the file.
        advice = f"{entry.name} = <value>" if entry.secret else canonical
        clean = False
        problems = []
        if entry.key != entry.name:
            problems.append(f"key spelled '{entry.key}'")
        if body.strip() != canonical:
            problems.append("not 'Key = value' spacing")
        if body != body.strip():
            problems.append("leading or trailing blanks")
        yield Outcome(Status.FAIL, f"line {entry.line} is not canonical "
                      f"({'; '.join(problems) or 'spacing'}); write '{advice}'",
                      entry.name, expected=canonical if not entry.secret else None,
                      # the line as written, beside the line to write (not a value)
                      actual=body if not entry.secret else None,
                      location=entry_location(ctx, entry))
    if clean:
        yield Outcome(Status.PASS, "every selected key is spelled canonically")


def check_loads(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Would ``awg-quick up`` accept the file? One failing outcome per
    fatal diagnostic. A template is judged in its rendered shape: what the
    tool would say about a line holding a placeholder (``PrivateKey =
    $(cat "$KEY_PATH")`` is no key as written) is only known once the line
    is rendered, so such a line loads, and is listed with the template's
    placeholders. Diagnostics whose code ``exclude`` lists are skips: another
    rule owns them (the shipped catalog leaves ``empty-value`` to its rule).

    The other line checks (placement, duplicates, spelling, banned keys)
    judge the key, which a template writes literally, so they apply to
    placeholder lines too."""
    doc = ctx.doc
    assert isinstance(doc, awgconf.AwgConf)
    excluded = set(options.get("exclude", ()))
    fatal = [d for d in doc.diagnostics
             if d.level is Level.FATAL and not doc.placeholder_at(d.location.line)]
    for diagnostic in fatal:
        if diagnostic.code in excluded:
            # The file does not load, but another rule reports why.
            yield Outcome(Status.SKIP, f"{diagnostic.message} (left to the rule that "
                          f"reports {diagnostic.code})", location=diagnostic.location)
        else:
            yield Outcome(Status.FAIL, diagnostic.message, location=diagnostic.location)
    if not fatal:
        rendered = " once its placeholders are rendered" if doc.placeholders() else ""
        yield Outcome(Status.PASS, f"awg-quick would load this file{rendered}")


_FACTS = ("bom", "crlf", "cr_only", "nul", "invalid_utf8", "no_final_newline", "empty")


def prepare_file_fact(where: str, options: Mapping[str, Any],
                       reads: tuple[ArtifactKind, ...]) -> Mapping[str, Any]:
    one_of(where, options, "fact", _FACTS)
    return options


def check_file_fact(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    doc = ctx.doc
    assert isinstance(doc, awgconf.AwgConf)
    fact = options["fact"]
    facts = doc.facts
    present = {
        "bom": facts.bom, "crlf": facts.crlf, "cr_only": facts.cr_only, "nul": facts.nul,
        "invalid_utf8": facts.invalid_utf8, "no_final_newline": not facts.final_newline,
        "empty": doc.interface() is None,
    }[fact]
    label = options.get("message", fact.replace("_", " "))
    line = 1 if fact in ("bom", "cr_only") else None
    if present:
        yield Outcome(Status.FAIL, label, location=Location(doc.path, line))
    else:
        yield Outcome(Status.PASS, f"not the case: {fact.replace('_', ' ')}")
