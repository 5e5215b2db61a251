"""The digest of rule definitions that a report carries (``rules_digest``).

Two runs with the same digest ran the same rules: each rule's definition
as written (every key and value of its YAML mapping, so a changed
description counts too) is put in one canonical form, and the rules are
taken in id order. What does not change a rule does not change the
digest: comments, formatting, key order, quoting, which file a rule is
in, file names and the order files are loaded in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

PREFIX = "sha256:"


def _plain(value: Any) -> Any:
    """``value`` as JSON can hold it: mapping keys become text (marked with
    their YAML type when not text, so ``1`` and ``"1"`` stay apart), and
    any other scalar YAML builds (a date) its text form."""
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else f"{type(k).__name__}:{k}"): _plain(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return f"{type(value).__name__}:{value}"


def canonical(definition: object) -> str:
    """One rule's YAML mapping as canonical JSON (sorted keys, no spaces)."""
    return json.dumps(_plain(definition), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def of_rule(definition: object) -> str:
    """The sha256 hex digest of one rule's canonical definition."""
    return hashlib.sha256(canonical(definition).encode("utf-8", "surrogatepass")).hexdigest()


def of_rules(rules: Iterable[tuple[str, str]]) -> str:
    """``sha256:<hex>`` over ``(rule id, rule digest)`` pairs, in id order."""
    combined = hashlib.sha256()
    for rule_id, digest in sorted(rules):
        combined.update(f"{rule_id}\0{digest}\n".encode("utf-8", "surrogatepass"))
    return PREFIX + combined.hexdigest()
