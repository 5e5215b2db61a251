"""A generated param set written in the three documented forms, and each
form read back by awgcheck's own reader for it.

* ``conf``: an ``[Interface]`` section of ``Key = value`` lines in the
  canonical spelling (``Key = value``, one space each side), the lines a node's awg0.conf
  takes; the file is itself a conf awgcheck reads as a source of truth.
* ``epoch``: ``{"epoch": N, "params": {...}}`` with conf-spelled keys.
* ``registration``: ``{"awg": {...}}`` with snake_case keys, as a control
  plane's registration reply carries them (without the partner identity,
  which is not a param).

Numbers are JSON numbers, ranges ``"lo-hi"`` strings, bools ``true`` /
``false``: what :mod:`awgcheck.parse.paramsdoc` reads without a warning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from awgcheck import params
from awgcheck.model import ArtifactKind, ParamDocument
from awgcheck.parse import awgconf, paramsdoc
from awgcheck.rotation.generate import ParamSet

FORMS = ("conf", "epoch", "registration")

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake(name: str) -> str:
    """``HeaderProtectionKey`` -> ``header_protection_key``, ``S1`` -> ``s1``."""
    return _CAMEL.sub("_", name).lower()


def _json_value(name: str, value: str) -> object:
    spec = params.spec(name)
    kind = spec.kind if spec is not None else params.Kind.TEXT
    if kind is params.Kind.BOOL:
        return value == "on"
    if kind in (params.Kind.U16, params.Kind.U32_RANGE) and value.isdigit():
        return int(value)
    return value


def conf_text(generated: ParamSet) -> str:
    lines = [f"# AmneziaWG {generated.generation} obfuscation params "
             "(awgcheck params generate):",
             "# the same lines in [Interface] of the server and every node",
             "[Interface]"]
    lines += [f"{name} = {value}" for name, value in generated.values]
    return "\n".join(lines) + "\n"


def epoch_text(generated: ParamSet, epoch: int) -> str:
    body = {name: _json_value(name, value) for name, value in generated.values}
    return json.dumps({"epoch": epoch, "params": body}, indent=2) + "\n"


def registration_text(generated: ParamSet) -> str:
    body = {snake(name): _json_value(name, value) for name, value in generated.values}
    return json.dumps({"awg": body}, indent=2) + "\n"


@dataclass(frozen=True)
class Form:
    """How one form is written, and read back as the document kind rules
    judge it as."""

    write: Callable[[ParamSet, int], str]
    read: Callable[[bytes, str], ParamDocument]
    kind: ArtifactKind


FORM: dict[str, Form] = {
    "conf": Form(lambda generated, epoch: conf_text(generated), awgconf.parse,
                 ArtifactKind.CONF),
    "epoch": Form(epoch_text, paramsdoc.parse, ArtifactKind.PARAMS),
    "registration": Form(lambda generated, epoch: registration_text(generated),
                         paramsdoc.parse, ArtifactKind.PARAMS),
}
