"""Which nodes a run checks: ``--node`` globs, ``--group`` names and
``--shard K/N``, decided here and nowhere else.

A node is selected when it matches any ``--node`` pattern or is in any
``--group`` (none of either: every node); ``--shard`` then keeps the
selected nodes whose name falls in that shard. The selection is what the
run reports. The source node is read whenever anything is selected (the
others are compared with it) but reported only when it is selected
itself, so the shards of one fleet report it once, in the shard it falls
in.

A shard is chosen by the node's name alone, never its place in the
inventory: adding or removing a node moves no other node to another
shard, and every runner computes the same split.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from awgcheck.errors import InventoryError, UsageError
from awgcheck.inventory import Inventory, Node, listing
from awgcheck.model import Shard
from awgcheck.patterns import matches

_SHARD = re.compile(r"([0-9]{1,6})/([0-9]{1,6})")


@dataclass(frozen=True)
class Selection:
    """The nodes a run checks and reports, and what it reads for them."""

    nodes: tuple[Node, ...]  # checked and reported, in inventory order
    read: tuple[Node, ...]  # the nodes, and the source node when it is not one of them
    shard: Shard | None = None


def parse_shard(text: str) -> Shard:
    """``K/N`` with 1 <= K <= N, as ``--shard`` takes it."""
    match = _SHARD.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"--shard {text!r}: expected K/N, for example 2/4 (shard 2 of 4)")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= index <= count:
        raise UsageError(f"--shard {text}: K must be 1..N (there are {count} shards, "
                         "numbered from 1)")
    return Shard(index, count)


def shard_of(name: str, count: int) -> int:
    """The shard (1..count) the node ``name`` falls in: the first 8 bytes of
    the SHA-256 of its UTF-8 name, big-endian, modulo ``count``, plus 1.
    Python's ``hash()`` would not do: it differs from run to run."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def select(inventory: Inventory, patterns: Sequence[str] = (), groups: Sequence[str] = (),
           shard: Shard | None = None) -> Selection:
    """The selection of ``inventory`` for ``--node``/``--group``/``--shard``.

    A pattern or group that selects nothing is a :class:`UsageError` naming
    it (a typo must not pass as "checked nothing, all fine"); a selected
    host that cannot be read (see :class:`~awgcheck.inventory.Rejected`)
    is an :class:`InventoryError` with its reason. A shard that holds none
    of the selected nodes is not an error: a small fleet split in many
    shards leaves some empty.
    """
    members = [(n.name, n.groups) for n in inventory.nodes]
    members += [(h.name, h.groups) for h in inventory.rejected]
    _each_selects(patterns, groups, members, inventory)
    wanted = {name for name, in_groups in members
              if (not patterns and not groups)
              or any(matches(p, name) for p in patterns)
              or any(g in in_groups for g in groups)}
    if shard is not None:
        wanted = {name for name in wanted if shard_of(name, shard.count) == shard.index}
    _refuse_rejected(inventory, wanted)
    chosen = tuple(n for n in inventory.nodes if n.name in wanted)
    needs_source = bool(chosen) and inventory.source_node not in wanted
    read = tuple(n for n in inventory.nodes
                 if n.name in wanted or (needs_source and n.name == inventory.source_node))
    return Selection(chosen, read, shard)


def _each_selects(patterns: Iterable[str], groups: Iterable[str],
                  members: Sequence[tuple[str, tuple[str, ...]]],
                  inventory: Inventory) -> None:
    names = [name for name, _ in members]
    for pattern in patterns:
        if not any(matches(pattern, name) for name in names):
            what = ("no node name matches it" if pattern != _literal(pattern)
                    else f"no node named '{pattern}'")
            raise UsageError(f"--node {pattern}: {what} in {inventory.path} "
                             f"(nodes: {listing(names)})")
    known = sorted({g for _, in_groups in members for g in in_groups})
    for group in groups:
        if group not in known:
            raise UsageError(f"--group {group}: no node of {inventory.path} is in group "
                             f"'{group}' (groups: {listing(known) or 'none'})")


def _literal(pattern: str) -> str:
    """``pattern`` without glob characters (equal to it when it has none)."""
    return re.sub(r"[*?\[\]]", "", pattern)


def _refuse_rejected(inventory: Inventory, wanted: set[str]) -> None:
    refused = [h for h in inventory.rejected if h.name in wanted]
    if not refused:
        return
    more = f" (and {len(refused) - 1} more selected hosts awgcheck cannot read)" \
        if len(refused) > 1 else ""
    raise InventoryError(f"{refused[0].reason}{more}; leave such hosts out with --node "
                         "or --group")
