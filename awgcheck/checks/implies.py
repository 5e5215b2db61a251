"""``implies``: when one param is (or is not) set, another check must hold.

The inner check is any other registered check type, so this module gets the
registry handed in by :mod:`awgcheck.checks` instead of importing it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from awgcheck import params
from awgcheck.checks.base import CheckSpec, CheckType, Context, Outcome, not_compared
from awgcheck.errors import RuleError
from awgcheck.model import ArtifactKind, Status


def implies_type(registry: Mapping[str, CheckType],
                 artifacts: frozenset[ArtifactKind]) -> CheckType:
    """The ``implies`` check type, whose inner check comes from ``registry``."""

    def prepare(where: str, options: Mapping[str, Any],
                reads: tuple[ArtifactKind, ...]) -> Mapping[str, Any]:
        return _prepare(registry, where, options, reads)

    def check(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
        return _check(registry, ctx, options)

    def needs_source(options: Mapping[str, Any]) -> bool:
        inner: CheckSpec = options["then"]
        return registry[inner.type].needs_source(inner.options)

    return CheckType(check, {"when": (dict, True), "then": (dict, True)}, artifacts, prepare,
                     needs_source=needs_source)


def _prepare(registry: Mapping[str, CheckType], where: str, options: Mapping[str, Any],
             reads: tuple[ArtifactKind, ...]) -> Mapping[str, Any]:
    when = options["when"]
    if set(when) - {"param", "is", "equals"} or "param" not in when:
        raise RuleError(f"{where}: when: expected 'param' with 'is: present|absent' or "
                        "'equals: VALUE'")
    if when.get("is", "present") not in ("present", "absent"):
        raise RuleError(f"{where}: when: key 'is' must be present or absent")
    then = dict(options["then"])
    inner_type = then.get("type")
    if inner_type in (None, "implies") or inner_type not in registry:
        raise RuleError(f"{where}: then: needs a 'type' naming a check other than implies")
    inner_params = then.pop("params", None)
    if not isinstance(inner_params, list) or not all(isinstance(p, str) for p in inner_params):
        raise RuleError(f"{where}: then: needs 'params', a list of param names")
    # The inner check reads what the rule reads: a conf-only check under a
    # params or runtime rule is a rule error now, not an error at every run.
    inner = registry[inner_type].validate(f"{where}: then", then, reads)
    for name in (when["param"], *inner_params):
        if not isinstance(name, str) or params.spec(name) is None:
            raise RuleError(f"{where}: unknown param {name!r} (a typo would silently "
                            "select nothing)")
    return {"when": {**when, "param": params.canonical(when["param"])}, "then": inner,
            "then_params": tuple(params.canonical(p) for p in inner_params)}


def _check(registry: Mapping[str, CheckType], ctx: Context,
           options: Mapping[str, Any]) -> Iterator[Outcome]:
    when = options["when"]
    stated = ctx.doc.params().get(when["param"])
    if stated is not None and stated.placeholder:
        # Whether the condition holds is only known once rendered.
        yield not_compared(when["param"], when["param"], stated.location)
        return
    spec = params.spec(when["param"])
    assert spec is not None  # checked when the rule was loaded
    # A value that means what absence means (`RandomTrailers = off`, the
    # all-zero HeaderProtectionKey) meets the condition exactly as absence
    # does: writing a default out never changes whether the rule applies.
    set_ = stated is not None and not spec.reads_as_absent(stated.effective)
    if "equals" in when:
        applied = stated.effective if set_ and stated is not None else spec.default
        applies = applied is not None and applied == str(when["equals"])
    else:
        applies = set_ == (when.get("is", "present") == "present")
    if not applies:
        yield Outcome(Status.SKIP, f"does not apply: condition on {when['param']} not met")
        return
    inner: CheckSpec = options["then"]
    # Everything else the rule sees (the node's other documents, the compose
    # selection) reaches the inner check too.
    inner_ctx = replace(ctx, names=options["then_params"])
    for outcome in registry[inner.type].fn(inner_ctx, inner.options):
        if outcome.status is Status.FAIL:
            yield Outcome(outcome.status, f"{when['param']} {_condition(when)}, so: "
                          f"{outcome.message}",
                          outcome.param, outcome.expected, outcome.actual, outcome.location,
                          outcome.severity)
        else:
            yield outcome


def _condition(when: Mapping[str, Any]) -> str:
    """The condition that held, in words ("is set", "is not set", "is on")."""
    if "equals" in when:
        return f"is {when['equals']}"
    return "is set" if when.get("is", "present") == "present" else "is not set"
