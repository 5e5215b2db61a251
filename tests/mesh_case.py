"""A mesh rule's YAML case: several nodes' confs and the inventory's
``mesh:`` section, evaluated as one run.

```yaml
  - id: one-sided
    expect: fail
    node: spoke                  # judge this node's findings (default: all)
    mesh: {topology: hub-and-spoke, hub: hub}   # leave out: no mesh declared
    fleet:
      hub:
        host: 203.0.113.1        # optional: host, public_address, behind_nat
        conf: |
          [Interface]
          PrivateKey = {private:hub}
          [Peer]
          PublicKey = {public:spoke}
```

``{private:NAME}``, ``{public:NAME}`` and ``{psk:NAME}`` are replaced by
keys generated for this case at test time (one pair per NAME), so no key
material is committed; ``fleet:`` and ``mesh:`` may use them alike.
"""

from __future__ import annotations

import re
from typing import Any

import mesh_fleet
import yaml

from awgcheck import engine
from awgcheck.mesh import model
from awgcheck.mesh import settings as mesh_settings
from awgcheck.model import ArtifactKind, Finding
from awgcheck.parse import awgconf
from awgcheck.ruleset.load import Rule

_KEY = re.compile(r"\{(private|public|psk):([\w-]+)\}")


class _Keys:
    def __init__(self) -> None:
        self.pairs: dict[str, tuple[str, str]] = {}
        self.psks: dict[str, str] = {}

    def fill(self, text: str) -> str:
        return _KEY.sub(self._one, text)

    def _one(self, match: re.Match[str]) -> str:
        kind, name = match.groups()
        if kind == "psk":
            return self.psks.setdefault(name, mesh_fleet.preshared())
        pair = self.pairs.setdefault(name, mesh_fleet.keypair())
        return pair[0] if kind == "private" else pair[1]


def evaluate(rule: Rule, case: dict[str, Any], source: engine.Source,
             profile: str) -> list[Finding]:
    keys = _Keys()
    fleet: dict[str, dict[str, Any]] = case["fleet"]
    confs = {name: awgconf.parse(keys.fill(node["conf"]).encode(), f"{name}.conf")
             for name, node in fleet.items() if "conf" in node}
    members = [model.Member(name, node.get("host"), tuple(node.get("public_address", ())),
                            bool(node.get("behind_nat", False)))
               for name, node in fleet.items()]
    mesh = None
    if "mesh" in case:
        text = keys.fill(yaml.safe_dump(case["mesh"]))
        settings = mesh_settings.parse(yaml.compose(text), "fleet.yaml", list(fleet), None)
        mesh = model.build(settings, members, confs)
    nodes = [engine.NodeDocuments(name, {ArtifactKind.CONF: conf})
             for name, conf in confs.items()]
    findings = engine.evaluate([rule], nodes, source, profile, mesh=mesh)
    wanted = case.get("node")
    return [f for f in findings if wanted is None or f.node == wanted]
