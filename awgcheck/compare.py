"""One comparison of a param between two sides, the way the tools read it.

Every use that sets two statements of a param side by side (the
``equals-source`` and ``compose-equals`` checks, ``awgcheck diff``, triage,
the gate's change list) asks the same question: would the tool apply the
same value on both sides? :func:`compare` answers it once, with a
:class:`Relation` and everything a caller needs to word the answer in its
own context ("on the source", "there", "running"):

- absence means the catalog default (S3 absent is 0, H1 absent is 1);
- a value awg rejects (``S4 = 0x12``) is UNREADABLE, whatever the other
  side says;
- the same effective value in other bytes (``018`` vs ``18``) is SPELLING,
  and an explicit default against an absent line is ABSENT: neither
  changes the wire. A stated value that means what absence means (the
  default written out, the all-zero HeaderProtectionKey) is compared as
  that absence (:meth:`awgcheck.params.ParamSpec.reads_as_absent`);
- secrets are compared by digest only, so they are SAME or DRIFT, never
  SPELLING (a spelling hint about a key would say something about the key);
- a running interface that stores another value than its file by design
  (Jmax + 1, a header <= 4 replaced by its default) is a QUIRK, not DRIFT.

This module reads only the catalog, the model, the documents protocol and
the runtime parser; checks, triage and the gate import it, never the
other way round.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from awgcheck import excerpt, params
from awgcheck.model import ParamDocument, ParamValue
from awgcheck.parse.runtime import RuntimeState, explain_header_quirk, explain_quirk

# The characters awg's config.c deletes from a line (isspace() in the C
# locale): a non-breaking space or a BOM is not among them.
C_SPACE = " \t\n\v\f\r"


class Relation(enum.Enum):
    """How one param on one side relates to the same param on the other."""

    SAME = "same"  # same effective value, same text
    SPELLING = "spelling"  # same effective value, other text (`018` vs `18`)
    ABSENT = "absent"  # absent on one or both sides, same value through the default
    DRIFT = "drift"  # the tool applies different values
    UNREADABLE = "unreadable"  # a side states a value the tool rejects
    QUIRK = "quirk"  # a runtime stores another value than its file, by design


class Side(enum.Enum):
    """Which side of a comparison a running interface is on."""

    HERE = "here"
    THERE = "there"


@dataclass(frozen=True)
class Quirks:
    """A running interface on one side and the document it is compared
    with on the other: what :func:`runtime_quirk` needs to excuse a value
    the runtime stores differently by design."""

    state: RuntimeState
    other: ParamDocument | None
    side: Side = Side.HERE


def quirks_between(here: ParamDocument, there: ParamDocument) -> Quirks | None:
    """The quirk context when exactly one of two documents is a running
    interface (two runtimes, or two files, have no quirk between them)."""
    if isinstance(here, RuntimeState) and not isinstance(there, RuntimeState):
        return Quirks(here, there, Side.HERE)
    if isinstance(there, RuntimeState) and not isinstance(here, RuntimeState):
        return Quirks(there, here, Side.THERE)
    return None


def absent_text(name: str) -> str:
    """How an absent param is shown: ``absent (means 0)``, ``absent (unset)``."""
    spec = params.spec(name)
    if spec is not None and spec.default is not None:
        return f"absent (means {spec.default})"
    return "absent (unset)"


def shown(name: str, value: ParamValue | None) -> str:
    """How one side's statement is shown: its text (a digest for secrets),
    with a word when an all-zero key stands for "unset"."""
    if value is None:
        return absent_text(name)
    spec = params.spec(name)
    if spec is not None and spec.zero_is_unset and spec.reads_as_absent(value.effective):
        return f"{value.raw} (the all-zero key: unset)"
    return value.raw


@dataclass(frozen=True)
class Comparison:
    """The answer of :func:`compare` for one param.

    ``here_effective``/``there_effective`` are what the tool applies on each
    side: the effective value, the default when absent, None when unset
    without a default or unreadable.
    """

    name: str
    relation: Relation
    here: ParamValue | None
    there: ParamValue | None
    here_effective: str | None
    there_effective: str | None
    default: str | None
    role: params.Role | None
    quirk: str | None = None  # why a QUIRK is not drift

    @property
    def differs(self) -> bool:
        """The two sides put different things on the wire (or one cannot
        be put there at all)."""
        return self.relation in (Relation.DRIFT, Relation.UNREADABLE)

    @property
    def here_unreadable(self) -> bool:
        return self.here is not None and self.here.effective is None

    @property
    def same_text(self) -> bool:
        """Both sides state the param in exactly the same text."""
        return self.here is not None and self.there is not None \
            and self.here.raw == self.there.raw

    @property
    def shown_here(self) -> str:
        """This side as a message shows it: a long value around where it
        differs from the other (:mod:`awgcheck.excerpt`)."""
        return excerpt.around(shown(self.name, self.here), shown(self.name, self.there))

    @property
    def shown_there(self) -> str:
        """The other side, as :attr:`shown_here`."""
        return excerpt.around(shown(self.name, self.there), shown(self.name, self.here))

    @property
    def spelling_here(self) -> bool:
        """The same value, and this side is the one written unusually: its
        text is not the tool's own rendering. A side that writes the
        canonical form (``18``, ``off``; a params document's JSON number or
        bool) has nothing to respell, whatever the other side wrote."""
        return self.relation is Relation.SPELLING and self.here is not None \
            and self.here.raw != self.here.effective

    @property
    def must_match(self) -> bool:
        return self.role is params.Role.MUST_MATCH

    @property
    def effect(self) -> str:
        """What a DRIFT of this param does, by its role."""
        if self.must_match:
            return "drift: the tunnels will disagree"
        return "drift of a side-local param: no data-plane effect"


def compare(name: str, here: ParamValue | None, there: ParamValue | None, *,
            quirks: Quirks | None = None) -> Comparison:
    """Compare one param as two sides state it (None: absent there).

    The order of the questions is the order of what matters on the wire:
    a value the tool rejects first, then whether the applied values differ
    (excused by a runtime quirk when ``quirks`` says one side runs), then
    how the same value is written.
    """
    spec = params.spec(name)
    default = spec.default if spec is not None else None
    role = spec.role if spec is not None else None
    mine = _applied(spec, here)
    theirs = _applied(spec, there)

    def result(relation: Relation, quirk: str | None = None) -> Comparison:
        return Comparison(name, relation, here, there, mine, theirs, default, role, quirk)

    if (here is not None and here.effective is None) or \
            (there is not None and there.effective is None):
        return result(Relation.UNREADABLE)
    if mine != theirs:
        why = _quirk(name, mine, theirs, quirks)
        return result(Relation.QUIRK, why) if why is not None else result(Relation.DRIFT)
    if here is None or there is None:
        return result(Relation.ABSENT)
    if here.raw == there.raw or (spec is not None and spec.secret):
        # A secret's effective value is its digest: equal digests are the
        # same key, whatever bytes around it made the raw digests differ.
        return result(Relation.SAME)
    return result(Relation.SPELLING)


def _applied(spec: params.ParamSpec | None, value: ParamValue | None) -> str | None:
    """What the tool applies for one side: the default when absent, and the
    default too for a value that means absence (so the all-zero
    HeaderProtectionKey applies "unset", like no line at all)."""
    default = spec.default if spec is not None else None
    if value is None or _unset(spec, value):
        return default
    return value.effective


def _unset(spec: params.ParamSpec | None, value: ParamValue) -> bool:
    return spec is not None and spec.zero_is_unset and spec.reads_as_absent(value.effective)


def _quirk(name: str, mine: str | None, theirs: str | None,
           quirks: Quirks | None) -> str | None:
    if quirks is None:
        return None
    running = mine if quirks.side is Side.HERE else theirs
    return runtime_quirk(quirks.state, name, running, quirks.other)


def runtime_quirk(state: RuntimeState, name: str, running: str | None,
                  conf: ParamDocument | None) -> str | None:
    """Why a running value that differs from ``conf`` is a known runtime
    quirk rather than drift (Jmax + 1, H <= 4 replaced), or None."""
    if conf is None:
        return None
    stated = conf.params()

    def effective(key: str) -> str | None:
        found = stated.get(key)
        return found.effective if found is not None else None

    if name == "Jmax":
        return explain_quirk(effective("Jmin"), effective("Jmax"), running,
                             jc=effective("Jc"))
    return explain_header_quirk(name, effective(name), running,
                                generation=state.generation)


def read_written(spec: params.ParamSpec, text: str) -> params.Reading:
    """How awg reads ``text`` once it is written into a conf line as the
    value of ``spec`` (an image rendering its environment, a value copied
    from a report): blanks deleted, I1-I5 only trimmed (the awg-quick
    path, docs/rules.md "How values are read"), then the tool's own parsing."""
    if spec.kind is params.Kind.TAGS:
        cleaned = text.strip(C_SPACE)
    else:
        cleaned = "".join(ch for ch in text if ch not in C_SPACE)
    return params.interpret(spec, cleaned)


def written_value(spec: params.ParamSpec, text: str) -> ParamValue:
    """``text`` as a :class:`ParamValue` read by :func:`read_written`; a
    secret keeps only its digest, as every document does."""
    reading = read_written(spec, text)
    raw = params.redact(text) if spec.secret else text
    return ParamValue(spec.name, raw, reading.effective, error=reading.error)
