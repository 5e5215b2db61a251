"""The types every check type shares: what a check reads, what it says.

A check is a plain function ``(Context, options) -> Iterator[Outcome]``
registered in :data:`awgcheck.checks.CHECKS` as a :class:`CheckType`; the
engine turns outcomes into findings. The helpers at the bottom read one
param, or the conf lines a rule selects, the same way for every check;
they are also where a template's placeholders are left alone, so no check
judges a value that only exists once the template is rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from awgcheck import params
from awgcheck.checks.compose_select import ComposeSelection
from awgcheck.checks.options import one_of
from awgcheck.errors import RuleError
from awgcheck.known_keys import refuse_unknown
from awgcheck.mesh.model import Mesh
from awgcheck.model import (
    ArtifactKind,
    Location,
    ParamDocument,
    ParamValue,
    RelatedLocation,
    Severity,
    Status,
)
from awgcheck.parse import awgconf, paramsdoc


@dataclass(frozen=True)
class CheckSpec:
    type: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    status: Status
    message: str
    param: str | None = None
    expected: str | None = None
    actual: str | None = None
    location: Location | None = None
    severity: Severity | None = None  # overrides the rule's (spelling -> warning)
    # A skip because the value is a template placeholder: the engine folds
    # these into one listing per template instead of one skip per rule.
    placeholder: bool = False
    # A finding about two nodes (a mesh edge) names the other end here, and
    # says what this very failure does (the rule's symptom otherwise).
    related: RelatedLocation | None = None
    symptom: str | None = None


@dataclass(frozen=True)
class Context:
    node: str
    doc: ParamDocument
    names: tuple[str, ...]  # the params the rule selects, canonical spelling
    section: str  # "Interface", "Peer" or "any"
    source: ParamDocument | None = None
    source_name: str = "source"
    # The node's other documents, so a runtime view can be compared with
    # the node's own conf (equals-source with ``against: file``).
    documents: Mapping[ArtifactKind, ParamDocument] = field(default_factory=dict)
    # What a compose rule selects (services, env, flags...); None otherwise.
    compose: ComposeSelection | None = None
    # The fleet as a mesh, for the cross-node checks; None when the run
    # declares no mesh (inventory ``mesh:``) or has no fleet (gate, triage).
    mesh: Mesh | None = None

    def selected(self) -> tuple[str, ...]:
        """The selected names; an empty selection (``params: "*"``) means
        every param the document states."""
        return self.names or tuple(self.doc.params())


CheckFn = Callable[[Context, Mapping[str, Any]], Iterator[Outcome]]


def refusal(doc: ParamDocument) -> str | None:
    """Why ``doc`` states no params to judge (a params document that is an
    error reply, or not one at all), or None."""
    return doc.refusal if isinstance(doc, paramsdoc.ParamsDoc) else None


def on_stated_params(fn: CheckFn) -> CheckFn:
    """``fn`` over a document's params, except on a document that states
    none: there it says once why nothing was compared, instead of one
    "absent here" drift per param (``document-valid`` reports the error)."""

    def check(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
        why = refusal(ctx.doc)
        if why is not None:
            yield Outcome(Status.SKIP, f"not compared: {ctx.doc.path} states no params ({why})")
            return
        yield from fn(ctx, options)

    return check
# (where, options, the artifact kinds the rule reads) -> prepared options
Validator = Callable[[str, Mapping[str, Any], tuple[ArtifactKind, ...]], Mapping[str, Any]]
OptionSchema = Mapping[str, tuple[type | tuple[type, ...], bool]]


def never(options: Mapping[str, Any]) -> bool:
    """For :attr:`CheckType.drifts`: no failure of this type is drift."""
    return False


def always(options: Mapping[str, Any]) -> bool:
    """For :attr:`CheckType.drifts`: every failure of this type is drift."""
    return True


@dataclass(frozen=True)
class CheckType:
    """One check type: its function, its options, the document kinds it
    reads, and what the engine and the rule loader need to know of it.

    ``compares_with_source``: it compares a document with the source of
    truth's, so the engine skips it on the source's own document (which
    trivially equals itself). ``drifts(options)``: a failure of a rule
    with these options is drift, a mismatch with another statement of the
    params, and gets the symptom table's text. ``needs_source(options)``: a
    rule with these options reads the source of truth, so when the source
    could not be read the engine does not run it (the report says why
    once, instead of every node saying it for every such rule).
    ``cross_node``: it judges a node against the other nodes' confs (the
    mesh checks); ``select`` does not narrow it.
    """

    fn: CheckFn
    options: OptionSchema
    artifacts: frozenset[ArtifactKind]
    prepare: Validator | None = None
    compares_with_source: bool = False
    drifts: Callable[[Mapping[str, Any]], bool] = never
    needs_source: Callable[[Mapping[str, Any]], bool] = never
    # It reads every node's conf through the run's mesh (Context.mesh), not
    # the params its rule selects: `rules show` says so.
    cross_node: bool = False

    def validate(self, where: str, data: Mapping[str, Any],
                 artifacts: tuple[ArtifactKind, ...]) -> CheckSpec:
        for artifact in artifacts:
            if artifact not in self.artifacts:
                kinds = ", ".join(sorted(a.value for a in self.artifacts))
                raise RuleError(f"{where}: check type '{data['type']}' works on {kinds}, "
                                f"not on '{artifact.value}'")
        options = {k: v for k, v in data.items() if k != "type"}
        refuse_unknown(options, self.options, where, RuleError,
                       of=f"for check type '{data['type']}'")
        for key, (kind, required) in self.options.items():
            if key not in options:
                if required:
                    raise RuleError(f"{where}: check type '{data['type']}' needs key '{key}'")
                continue
            value = options[key]
            if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
                raise RuleError(f"{where}: key '{key}' has the wrong type ({value!r})")
        if self.prepare is not None:
            options = dict(self.prepare(where, options, artifacts))
        return CheckSpec(str(data["type"]), options)


def absent_mode(where: str, options: Mapping[str, Any],
                reads: tuple[ArtifactKind, ...] = ()) -> Mapping[str, Any]:
    one_of(where, options, "absent", ("skip", "default", "fail"))
    return options


def missing_outcomes(ctx: Context, options: Mapping[str, Any]) -> list[Outcome]:
    """With ``absent: fail``, one failure per selected param not stated."""
    if options.get("absent") != "fail":
        return []
    stated = ctx.doc.params()
    return [Outcome(Status.FAIL, f"{name} is not set", name, location=Location(ctx.doc.path))
            for name in ctx.selected() if name not in stated]


def not_compared(what: str, param: str | None, location: Location | None) -> Outcome:
    """The outcome for a template placeholder (``what`` is the param or
    "line N"): its value is only known once the template is rendered."""
    return Outcome(Status.SKIP, f"not compared: {what} is a template placeholder", param,
                   location=location, placeholder=True)


def placeholder_skip(ctx: Context, name: str) -> Outcome | None:
    """A skip when the document states ``name`` as a template placeholder;
    a check asks this before judging the param (see :func:`value_of`)."""
    found = ctx.doc.params().get(name)
    if found is not None and found.placeholder:
        return not_compared(name, name, found.location)
    return None


def value_of(ctx: Context, name: str, mode: str) -> tuple[ParamValue | None, str | None]:
    """(the param as stated or None, the effective value to judge or None).

    A value that means what absence means is judged as absence by ``mode``
    (``skip``: no value; ``default``: the default), never by its text.

    A template placeholder has no value to judge yet: its effective value
    is None here, so a caller that did not ask :func:`placeholder_skip`
    first still never compares it."""
    found = ctx.doc.params().get(name)
    spec = params.spec(name)
    if found is not None and found.placeholder:
        return found, None
    if found is not None and (mode == "fail" or spec is None
                              or not spec.reads_as_absent(found.effective)):
        return found, found.effective
    # Absent, or stated as what absence means (`H1 = 1`, the all-zero
    # HeaderProtectionKey): judged alike, so writing a default out never
    # changes a verdict. Only `absent: fail` asks for a line, and judges it.
    if mode == "default" and spec is not None and spec.default is not None:
        return found, spec.default
    return found, None


def where_of(ctx: Context, value: ParamValue | None) -> Location:
    return value.location if value and value.location else Location(ctx.doc.path)


def conf_entries(ctx: Context) -> list[awgconf.Entry]:
    """The conf lines the rule selects (section and keys), placeholders
    included: a line that sets a key is there whatever its value. A check
    that judges values skips an entry marked ``placeholder``
    (:func:`not_compared`)."""
    doc = ctx.doc
    if not isinstance(doc, awgconf.AwgConf):
        return []
    chosen = []
    wanted = {n.lower() for n in ctx.names}
    for entry in doc.entries:
        if ctx.section != "any" and (
            entry.section is None or doc.sections[entry.section].name != ctx.section
        ):
            continue
        if wanted and entry_name(entry).lower() not in wanted:
            continue
        chosen.append(entry)
    return chosen


def entry_name(entry: awgconf.Entry) -> str:
    return entry.name or "".join(entry.key.split())


def entry_location(ctx: Context, entry: awgconf.Entry) -> Location:
    return Location(ctx.doc.path, entry.line)

