"""Corners of the mesh checks the YAML cases do not reach: options, one
prefix on three peers, nested prefixes inside one peer, IPv6, the owner of
an edge finding."""

from __future__ import annotations

from typing import Any

import mesh_case

from awgcheck import engine
from awgcheck.model import Status
from awgcheck.ruleset import load as ruleset


def _rule(check: str) -> ruleset.Rule:
    [rule] = ruleset.load_text(f"""
rules:
  - id: custom
    title: t
    severity: error
    description: d
    remediation: r
    select: {{artifact: conf}}
    check: {check}
""", "custom.yaml")
    return rule


def _run(rule: ruleset.Rule, fleet: dict[str, Any], mesh: dict[str, Any] | None = None,
         node: str | None = None) -> list[Any]:
    case: dict[str, Any] = {"fleet": fleet, "mesh": mesh or {}}
    if node is not None:
        case["node"] = node
    return mesh_case.evaluate(rule, case, engine.Source("s", None), "strict")


def _conf(name: str, *peers: tuple[str, str]) -> dict[str, str]:
    text = f"[Interface]\nPrivateKey = {{private:{name}}}\n"
    for key, allowed in peers:
        text += f"[Peer]\nPublicKey = {{public:{key}}}\nAllowedIPs = {allowed}\n"
    return {"conf": text}


def test_one_prefix_on_three_peers_goes_to_the_last() -> None:
    fleet = {"hub": _conf("hub", ("a", "10.0.0.9/32"), ("b", "10.0.0.9/32"),
                          ("c", "fd00::9/128, 10.0.0.9/32"))}
    failed = [f for f in _run(_rule("{type: mesh-allowed-ips-disjoint}"), fleet)
              if f.status is Status.FAIL]
    assert [(f.location.line, f.related.location.line) for f in failed] == [(8, 5), (11, 8)]
    assert failed[-1].symptom == ("awg setconf moves 10.0.0.9/32 to the later peer: all traffic "
                                  "for it goes to the [Peer] at line 9, none to the [Peer] at "
                                  "line 6")


def test_nested_prefixes_inside_one_peer_and_across_families_are_no_clash() -> None:
    fleet = {"hub": _conf("hub", ("a", "10.0.0.0/24, 10.0.0.5/32"),
                          ("b", "fd00::/64, 10.0.1.0/24"))}
    found = _run(_rule("{type: mesh-allowed-ips-disjoint}"), fleet)
    assert [f.status for f in found] == [Status.PASS]
    assert found[0].message == "the AllowedIPs of 2 peer(s) are disjoint"


def test_allow_nested_accepts_a_default_route_beside_host_routes() -> None:
    fleet = {"gw": _conf("gw", ("exit", "0.0.0.0/0"), ("a", "10.0.0.2/32"))}
    strict = _rule("{type: mesh-allowed-ips-disjoint}")
    lenient = _rule("{type: mesh-allowed-ips-disjoint, allow_nested: true}")
    assert any(f.status is Status.FAIL for f in _run(strict, fleet))
    assert [f.status for f in _run(lenient, fleet)] == [Status.PASS]


def test_an_edge_finding_is_said_once_on_the_first_node_of_a_full_mesh() -> None:
    fleet = {name: {"conf": f"[Interface]\nPrivateKey = {{private:{name}}}\n"
                            f"MTU = {mtu}\n[Peer]\nPublicKey = {{public:{other}}}\n"
                            "AllowedIPs = 10.0.0.0/32\n"}
             for name, other, mtu in (("a", "b", 1280), ("b", "a", 1420))}
    failed = [f for f in _run(_rule("{type: mesh-mtu}"), fleet, {"topology": "full-mesh"})
              if f.status is Status.FAIL]
    assert [(f.node, f.related.node if f.related else None) for f in failed] == [("a", "b")]
