"""The mesh as a picture: nodes coloured by their check status, edges by
their state (``awgcheck topology``, docs/topology.md).

:func:`draw` turns a run's mesh and report into a :class:`Picture`; the
renderers (json, mermaid, dot) only build text from it.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

from awgcheck.mesh.model import Interface, Mesh, PeerEntry
from awgcheck.model import Report
from awgcheck.report.registry import Formats


class EdgeState(enum.StrEnum):
    """Worst first: an edge takes the first state that holds."""

    ONE_SIDED = "one-sided"  # one end lists the other, not back
    KEY_MISMATCH = "key-mismatch"  # PresharedKeys differ, or a key no node holds
    ALLOWED_IPS_GAP = "allowed-ips-gap"  # AllowedIPs miss the other's tunnel address
    DRIFT = "drift"  # a must-match param differs between the ends
    FAILING = "failing"  # another mesh rule fails on it (an Endpoint, the MTU...)
    OK = "ok"
    EXTERNAL = "external"  # the other end is a declared external peer: not read
    UNVERIFIED = "unverified"  # a key that may be a node not read in this run


@dataclass(frozen=True)
class End:
    node: str
    path: str
    line: int


@dataclass(frozen=True)
class Edge:
    a: str
    b: str
    state: EdgeState
    detail: str
    ends: tuple[End, ...]


@dataclass(frozen=True)
class Node:
    name: str
    status: str  # pass, fail, error (the check's), unread, external, unknown


@dataclass(frozen=True)
class Picture:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def draw(mesh: Mesh, report: Report) -> Picture:
    """The picture of ``mesh``, its nodes' status taken from ``report``."""
    status = {n.name: n.status.value for n in report.nodes}
    nodes = [Node(name, status.get(name, "unread")) for name in mesh.members]
    failing: dict[tuple[str, str | None], list[str]] = {}
    for finding in report.findings:
        if finding.failed and finding.rule.startswith("mesh-"):
            failing.setdefault((finding.node, finding.param), []).append(finding.rule)
    edges = [_failing(_edge(mesh, a, b), failing) for a, b in mesh.edges()]
    others: dict[str, Node] = {}
    for face in mesh.interfaces.values():
        for entry in face.peers:
            edge = _loose(mesh, face, entry)
            if edge is not None:
                edges.append(edge)
                kind = "external" if edge.state is EdgeState.EXTERNAL else "unknown"
                others.setdefault(edge.b, Node(edge.b, kind))
    return Picture(tuple(nodes) + tuple(others.values()), tuple(edges))


def _failing(edge: Edge, failing: Mapping[tuple[str, str | None], list[str]]) -> Edge:
    """An edge the conf comparison finds sound, on which a mesh rule still
    fails (an Endpoint at the wrong port, MTUs that differ): not "ok"."""
    if edge.state is not EdgeState.OK:
        return edge
    said = [f"{rule} on {node}" for node, other in ((edge.a, edge.b), (edge.b, edge.a))
            for rule in dict.fromkeys(failing.get((node, f"peer {other}"), ()))]
    return replace(edge, state=EdgeState.FAILING, detail="; ".join(said)) if said else edge


def _end(entry: PeerEntry) -> End:
    return End(entry.node, entry.path, entry.line)


def _edge(mesh: Mesh, a: str, b: str) -> Edge:
    there, back = mesh.peer_for(a, b), mesh.peer_for(b, a)
    ends = tuple(_end(e) for e in (there, back) if e is not None)
    if there is None or back is None:
        lacking, listed = (a, b) if there is None else (b, a)
        return Edge(a, b, EdgeState.ONE_SIDED, f"{lacking} has no [Peer] for {listed}", ends)
    psk = (there.preshared_key.text if there.preshared_key else None,
           back.preshared_key.text if back.preshared_key else None)
    if psk[0] != psk[1]:
        return Edge(a, b, EdgeState.KEY_MISMATCH, "the PresharedKeys differ", ends)
    gaps = [*_gaps(there, mesh.interfaces[b]), *_gaps(back, mesh.interfaces[a])]
    if gaps:
        return Edge(a, b, EdgeState.ALLOWED_IPS_GAP, "; ".join(gaps), ends)
    ours, theirs = dict(mesh.interfaces[a].must_match), dict(mesh.interfaces[b].must_match)
    drift = [f"{name} {ours[name] or 'unset'} / {theirs.get(name) or 'unset'}"
             for name in ours if ours[name] != theirs.get(name)]
    if drift:
        return Edge(a, b, EdgeState.DRIFT, "; ".join(drift), ends)
    return Edge(a, b, EdgeState.OK, "", ends)


def _gaps(entry: PeerEntry, other: Interface) -> Iterator[str]:
    nets = [net for net, _ in entry.allowed_ips]
    for address, _ in other.addresses:
        if not any(address.ip in net for net in nets if net.version == address.ip.version):
            yield f"{entry.node}'s AllowedIPs for {other.node} miss {address.ip}"


def _loose(mesh: Mesh, face: Interface, entry: PeerEntry) -> Edge | None:
    """An edge to what is not a read node: an external peer, or a key no
    read node holds (two nodes holding one key are such a key too)."""
    target = mesh.target(entry)
    if entry.public_key is None or target.node is not None:
        return None
    ends = (_end(entry),)
    if target.external is not None:
        return Edge(face.node, target.external.name, EdgeState.EXTERNAL, "", ends)
    key = entry.public_key.text[:8] + "..."
    if target.nodes:
        return Edge(face.node, f"key {key}", EdgeState.KEY_MISMATCH,
                    f"held by {', '.join(target.nodes)}", ends)
    if mesh.unread:
        return Edge(face.node, f"key {key}", EdgeState.UNVERIFIED,
                    "may be a node not read in this run", ends)
    return Edge(face.node, f"key {key}", EdgeState.KEY_MISMATCH, "no node holds this key",
                ends)


def when_failing(mesh: Mesh | None, report: Report) -> tuple[str, ...]:
    """The Mermaid lines of ``mesh`` when a mesh rule fails in ``report``
    (what ``check --format markdown`` embeds); none for a clean mesh or none."""
    if mesh is None or not any(f.failed and f.rule.startswith("mesh-")
                               for f in report.findings):
        return ()
    return tuple(render_mermaid(draw(mesh, report)).splitlines())


# --- rendering ----------------------------------------------------------------------

NODE_COLOURS: Mapping[str, str] = {
    "pass": "#c8e6c9", "fail": "#ffcdd2", "error": "#ffe0b2", "unread": "#eeeeee",
    "external": "#e3f2fd", "unknown": "#f5f5f5"}
EDGE_COLOURS: Mapping[EdgeState, str] = {
    EdgeState.ONE_SIDED: "#c62828", EdgeState.KEY_MISMATCH: "#6a1b9a",
    EdgeState.ALLOWED_IPS_GAP: "#ef6c00", EdgeState.DRIFT: "#ad1457",
    EdgeState.FAILING: "#f9a825",
    EdgeState.OK: "#2e7d32", EdgeState.EXTERNAL: "#1565c0", EdgeState.UNVERIFIED: "#9e9e9e"}


def render_json(picture: Picture) -> str:
    return json.dumps({
        "nodes": [{"name": n.name, "status": n.status} for n in picture.nodes],
        "edges": [{"a": e.a, "b": e.b, "state": e.state.value, "detail": e.detail,
                   "ends": [{"node": x.node, "path": x.path, "line": x.line} for x in e.ends]}
                  for e in picture.edges],
    }, indent=2) + "\n"


def _mermaid_text(text: str) -> str:
    # Mermaid's entity codes: a name cannot close the label or open markup.
    return (text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;")
            .replace(">", "#gt;").replace("|", "#124;"))


def render_mermaid(picture: Picture) -> str:
    ids = {n.name: f"n{i}" for i, n in enumerate(picture.nodes)}
    lines = ["graph LR"]
    lines += [f"  classDef {status} fill:{colour},stroke:#616161"
              for status, colour in NODE_COLOURS.items()]
    lines += [f'  {ids[n.name]}["{_mermaid_text(n.name)}"]:::{n.status}'
              for n in picture.nodes]
    for index, edge in enumerate(picture.edges):
        label = edge.state.value + (f": {edge.detail}" if edge.detail else "")
        lines.append(f'  {ids[edge.a]} ---|"{_mermaid_text(label)}"| {ids[edge.b]}')
        lines.append(f"  linkStyle {index} stroke:{EDGE_COLOURS[edge.state]},stroke-width:2px")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(picture: Picture) -> str:
    lines = ["graph mesh {", "  node [style=filled, shape=box];"]
    lines += [f"  {_dot_text(n.name)} [fillcolor={_dot_text(NODE_COLOURS[n.status])}, "
              f"tooltip={_dot_text(n.status)}];" for n in picture.nodes]
    for edge in picture.edges:
        label = edge.state.value + (f": {edge.detail}" if edge.detail else "")
        style = "dashed" if edge.state is EdgeState.ONE_SIDED else "solid"
        lines.append(f"  {_dot_text(edge.a)} -- {_dot_text(edge.b)} "
                     f"[color={_dot_text(EDGE_COLOURS[edge.state])}, style={style}, "
                     f"label={_dot_text(label)}];")
    return "\n".join([*lines, "}"]) + "\n"


RENDERERS: Mapping[str, Callable[[Picture], str]] = {
    "json": render_json, "mermaid": render_mermaid, "dot": render_dot}
FORMATS: Formats[Picture] = Formats(RENDERERS, default="json")
