"""A mapping whose keys must be among a known set (an inventory's node
fields, a rule and its check's options, a waiver, the mesh section, the
gate's config): one check and one wording of the key that is not, for
every file awgcheck reads.

The key is quoted as written, secrets scrubbed (a pasted ``PrivateKey=...``
as a key must not print the key), and a key YAML read as a boolean is
explained: a bare ``on``, ``off``, ``yes`` or ``no`` is not text to YAML 1.1.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

import yaml

from awgcheck.secrecy import scrub

Refusal = Callable[[str], Exception]
"""The error a file's reader raises (InventoryError, RuleError, ...)."""


def unknown(key: object, allowed: Collection[str], of: str = "") -> str:
    """``unknown key 'K' (allowed: a, b)``; ``of`` follows the key (``for
    check type 'range'``)."""
    listed = ", ".join(allowed) or "none"
    hint = (" (YAML reads a bare on/off/yes/no as true/false: quote the key)"
            if isinstance(key, bool) else "")
    named = f"unknown key {scrub(str(key))!r}" + (f" {of}" if of else "")
    return f"{named} (allowed: {listed}){hint}"


def refuse_unknown(keys: Iterable[object], allowed: Collection[str], where: str,
                   error: Refusal, of: str = "") -> None:
    """Raise ``error`` at ``where`` for the first of ``keys`` not in ``allowed``."""
    for key in keys:
        if key not in allowed:
            raise error(f"{where}: {unknown(key, allowed, of)}")


def mapping_fields(node: yaml.MappingNode, allowed: Collection[str],
                where: Callable[[yaml.Node], str], error: Refusal) -> dict[str, yaml.Node]:
    """The values of a YAML mapping by key; a key not in ``allowed`` (or not
    text) raises ``error`` at ``where(key)``, the line it is on."""
    fields: dict[str, yaml.Node] = {}
    for key_node, value in node.value:
        key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else None
        if key is None or key not in allowed:
            raise error(f"{where(key_node)}: {unknown(key or '(not text)', allowed)}")
        fields[key] = value
    return fields
