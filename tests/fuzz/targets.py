"""The readers under fuzz: their seeds, and how one input is read.

A target reads one generated input (a set of files) the way awgcheck does
and returns every text that input makes awgcheck print: the reader's own
error message when it refuses, and, for the documents that reach reports
(conf, params, compose, runtime; inventories and rule files through the
audit they configure), the report in every format of
:data:`awgcheck.report.FORMATS`, from a real audit with the shipped rules.
Nodes are held in memory (:class:`MemoryCollector`): what is under test is
what the readers make of bytes, not how the bytes travel (the transports
have their own tests against real sshd).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from awgcheck import audit, inventory
from awgcheck.collect.base import CommandResult
from awgcheck.collect.ssh.config import SshTarget, load_ssh_config, resolve_route
from awgcheck.documents.compose import is_secret_name
from awgcheck.errors import CollectError, ErrorClass
from awgcheck.gate import config as gate_config
from awgcheck.inventory import Inventory, Node
from awgcheck.model import Report
from awgcheck.parse import awgconf, paramsdoc, runtime
from awgcheck.parse.compose.project import load_project
from awgcheck.report import FORMATS
from awgcheck.report.rulemeta import with_rules
from awgcheck.ruleset.load import RuleSet, load_shipped, load_text

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "tests" / "assets"
DEMO = ROOT / "fixtures" / "demo" / "nodes"
SEEDS = Path(__file__).resolve().parent / "seeds"
CONF_PATH = "/etc/amnezia/amneziawg/awg0.conf"
STACK = "/srv/stack"

Files = dict[str, bytes]
Outputs = dict[str, str]


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _demo(node: str, rel: str = "etc/amnezia/amneziawg/awg0.conf") -> bytes:
    return _read(DEMO / node / rel)


SERVER_CONF = _demo("server")
PARTNER_CONF = _demo("partner-tbilisi")
RULES = load_shipped()


# --- planted secrets -----------------------------------------------------------

# A value shorter than 16 characters is no key or password worth planting,
# and would match words the input merely repeats ("PrivateKey = PrivateKey").
_ASSIGNMENT = re.compile(
    rb"""(?m)^[ \t-]*["']?([A-Za-z_][A-Za-z0-9_]*)["']?[ \t]*[:=][ \t]*["']?([^\s"',]{16,})""")
_DUMP_PRIVATE = re.compile(rb"\A([A-Za-z0-9+/]{43}=)\t")
_DUMP_PRESHARED = re.compile(rb"(?m)^[A-Za-z0-9+/]{43}=\t([A-Za-z0-9+/]{43}=)\t")


@dataclass(frozen=True)
class Secret:
    """A secret in a file: ``fragment`` is how it is written (name and
    value, or its place in a dump line). The harness looks for the values
    a seed carries that the mutated input still holds under a secret name."""

    file: str
    fragment: bytes
    value: str


def planted(files: Files) -> tuple[Secret, ...]:
    """Every secret in ``files``: secret-named assignments (PrivateKey,
    PresharedKey, HeaderProtectionKey, *_PASSWORD, *_TOKEN, ...) and the
    private and preshared key columns of ``awg show dump``."""
    found = []
    for name, data in files.items():
        for m in _ASSIGNMENT.finditer(data):
            key, value = m.group(1).decode(), m.group(2).decode("utf-8", "replace")
            if is_secret_name(key) and value[0] not in "${<(" and set(value) - set("A="):
                found.append(Secret(name, m.group(0), value))
        for pattern in (_DUMP_PRIVATE, _DUMP_PRESHARED):
            for m in pattern.finditer(data):
                found.append(Secret(name, m.group(0), m.group(1).decode()))
    return tuple(found)


# --- nodes in memory ---------------------------------------------------------


class MemoryCollector:
    """A node whose files and command output are held in memory."""

    def __init__(self, files: Files, outputs: dict[tuple[str, ...], bytes] | None = None,
                 ) -> None:
        self.files = files
        self.outputs = outputs or {}

    remote = None  # local files, as far as reports go

    def describe(self, path: str) -> str:
        return f"fuzz:{path}"

    def read_file(self, path: str, *, sudo: bool = False, limit: int = 1 << 20) -> bytes:
        if path not in self.files:
            raise CollectError(f"fuzz:{path}: file not found",
                               error_class=ErrorClass.FILE_MISSING)
        return self.files[path]

    def run(self, argv: Sequence[str], *, sudo: bool = False,
            timeout: float = 30.0) -> CommandResult:
        key = tuple(argv)
        if key not in self.outputs:
            return CommandResult(key, 1, b"", b"Unable to access interface: No such device\n")
        return CommandResult(key, 0, self.outputs[key], b"")

    def close(self) -> None:
        return None


@dataclass(frozen=True)
class MemoryNode:
    """What one in-memory node serves."""

    files: Files
    outputs: dict[tuple[str, ...], bytes] = field(default_factory=dict)


def _audit(nodes: dict[str, MemoryNode], inv: Inventory, *, rules: RuleSet = RULES,
           runtime_view: bool = False) -> Outputs:
    """Audit ``inv`` with its nodes served from ``nodes`` (by name; a node
    not listed serves the partner conf), and render every format."""

    def factory(node: Node, options: audit.RunOptions) -> MemoryCollector:
        served = nodes.get(node.name) or MemoryNode({node.conf or CONF_PATH: PARTNER_CONF})
        return MemoryCollector(served.files, served.outputs)

    options = audit.RunOptions(concurrency=1, timeout=30.0, runtime=runtime_view)
    report = audit.audit(inv, rules, options=options, factory=factory)
    return render_all(report, rules)


def render_all(report: Report, rules: RuleSet) -> Outputs:
    """The report in every format, as ``check --format`` prints it."""
    described = with_rules(report, rules.rules)
    return {name: FORMATS.render(name, described) for name in FORMATS.names}


def _fleet(partner: Node, *, source_path: Path | None = None) -> Inventory:
    server = Node("server", host="server.fuzz")
    return Inventory(Path("/fuzz/fleet.yaml"), (server, partner),
                     source_node=None if source_path else "server", source_path=source_path)


# --- the readers ---------------------------------------------------------------


@dataclass
class Scratch:
    """A folder for readers that take a path (inventory, gate config,
    ssh_config, a params source): each input overwrites its file."""

    root: Path

    def write(self, name: str, data: bytes) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path


def read_conf(files: Files, scratch: Scratch) -> Outputs:
    data = files["awg0.conf"]
    awgconf.parse(data, "fuzz.conf", any_bytes=True)  # inspect conf: any bytes
    awgconf.parse(data, "fuzz.conf", template=True, any_bytes=True)  # gate templates
    partner = Node("partner", host="partner.fuzz")
    nodes = {"server": MemoryNode({CONF_PATH: SERVER_CONF}),
             "partner": MemoryNode({CONF_PATH: data})}
    if hashlib.sha256(data).digest()[0] & 1:  # half the time the mutated conf is the source
        nodes["server"], nodes["partner"] = nodes["partner"], MemoryNode({CONF_PATH: PARTNER_CONF})
    return _audit(nodes, _fleet(partner))


def read_params(files: Files, scratch: Scratch) -> Outputs:
    data = files["params"]
    paramsdoc.parse(data, "fuzz.json")
    source = scratch.write("source.json", data)
    partner = Node("partner", host="partner.fuzz")
    return _audit({"partner": MemoryNode({CONF_PATH: PARTNER_CONF})},
                  _fleet(partner, source_path=source))


def read_compose(files: Files, scratch: Scratch) -> Outputs:
    served = {posixpath.join(STACK, name): data for name, data in files.items()}
    main = [posixpath.join(STACK, n) for n in COMPOSE_MAIN if n in files]
    load_project(served.get, main, project_dir=STACK)
    load_project(served.get, (), project_dir=STACK)  # the default file lookup
    partner = Node("partner", host="partner.fuzz", compose=tuple(main))
    served[CONF_PATH] = PARTNER_CONF
    return _audit({"server": MemoryNode({CONF_PATH: SERVER_CONF}),
                   "partner": MemoryNode(served)}, _fleet(partner))


COMPOSE_MAIN = ("compose.yaml", "docker-compose.yml", "main.yaml", "compose.override.yaml",
                "docker-compose.override.yml")
"""The files a seed project's node lists as ``compose:``, in order."""


def read_runtime(files: Files, scratch: Scratch) -> Outputs:
    dump, showconf = files["dump"], files["showconf"]
    runtime.parse_dump(dump.decode("utf-8", "surrogateescape"), source="fuzz: dump")
    runtime.parse_showconf(showconf.decode("utf-8", "surrogateescape"), source="fuzz: showconf")
    partner = Node("partner", host="partner.fuzz")
    outputs = {("awg", "show", "awg0", "dump"): dump, ("awg", "showconf", "awg0"): showconf}
    nodes = {"server": MemoryNode({CONF_PATH: SERVER_CONF}),
             "partner": MemoryNode({CONF_PATH: PARTNER_CONF}, outputs)}
    return _audit(nodes, _fleet(partner), runtime_view=True)


def read_inventory(files: Files, scratch: Scratch) -> Outputs:
    inv = inventory.load(scratch.write("fleet.yaml", files["fleet.yaml"]))
    return _audit({}, inv)


def read_rules(files: Files, scratch: Scratch) -> Outputs:
    rules = RuleSet(load_text(files["rules.yaml"].decode("utf-8", "replace"), "fuzz-rules.yaml"))
    partner = Node("partner", host="partner.fuzz", compose=(f"{STACK}/compose.yaml",))
    served = {CONF_PATH: PARTNER_CONF,
              f"{STACK}/compose.yaml": _demo("partner-tbilisi", "opt/partner-edge/compose.yaml"),
              f"{STACK}/awg.env": _demo("partner-tbilisi", "opt/partner-edge/awg.env")}
    return _audit({"server": MemoryNode({CONF_PATH: SERVER_CONF}),
                   "partner": MemoryNode(served)}, _fleet(partner), rules=rules)


def read_gate_config(files: Files, scratch: Scratch) -> Outputs:
    repo = scratch.root / "repo"
    if not repo.exists():
        scratch.write("repo/server/awg0.conf", SERVER_CONF)
        scratch.write("repo/partners/berlin.conf", PARTNER_CONF)
        scratch.write("repo/edge/compose.yaml", b"services: {a: {image: x}}\n")
    path = scratch.write("repo/awgcheck.yaml", files["awgcheck.yaml"])
    gate_config.load_rules(repo, gate_config.load(path, repo))
    return {}


SSH_HOSTS = ("vpn1", "vpn2", "vpn3", "vpn4", "bastion", "elsewhere")


def read_ssh_config(files: Files, scratch: Scratch) -> Outputs:
    config = load_ssh_config(str(scratch.write("ssh_config", files["ssh_config"])))
    for host in SSH_HOSTS:
        resolve_route(SshTarget(host=host), config)
    return {}


# --- seeds -----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One reader: its seed inputs, which of their files are mutated, and
    how an input is read."""

    name: str
    what: str
    read: Callable[[Files, Scratch], Outputs]
    seeds: Callable[[], list[Files]]
    mutable: Callable[[Files], list[str]] = field(default=lambda files: list(files))


def _glob(folder: Path, pattern: str) -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if p.is_file())


def _conf_seeds() -> list[Files]:
    paths = _glob(ASSETS / "conf", "*") + _glob(ASSETS / "templates", "*.conf")
    paths += _glob(DEMO, "*/etc/amnezia/amneziawg/awg0.conf")
    return [{"awg0.conf": _read(p)} for p in paths]


def _params_seeds() -> list[Files]:
    return [{"params": _read(p)} for p in _glob(ASSETS / "params", "*")]


def _project(folder: Path) -> Files:
    return {str(p.relative_to(folder)): _read(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "case.yaml"}


def _compose_seeds() -> list[Files]:
    folders = sorted(p for p in (ASSETS / "compose").iterdir() if p.is_dir())
    folders += [DEMO / "partner-tbilisi" / "opt" / "partner-edge", SEEDS / "compose-secrets"]
    projects = [_project(f) for f in folders]
    return [p for p in projects if any(n in p for n in COMPOSE_MAIN)]


def _runtime_seeds() -> list[Files]:
    seeds = []
    for folder in sorted(p for p in (ASSETS / "runtime").iterdir() if p.is_dir()):
        dumps = _glob(folder, "dump*")
        shows = _glob(folder, "showconf*") or _glob(ASSETS / "runtime" / "2.0", "showconf*")
        for i, dump in enumerate(dumps or _glob(ASSETS / "runtime" / "2.0", "dump")):
            seeds.append({"dump": _read(dump), "showconf": _read(shows[i % len(shows)])})
    return seeds


def _inventory_seeds() -> list[Files]:
    fleet = _read(ROOT / "fixtures" / "demo" / "fleet.yaml")
    ssh = (b"source: server\ndefaults: {conf: /etc/amnezia/amneziawg/awg0.conf, sudo: true}\n"
           b"nodes:\n  server: {host: 192.0.2.1, user: audit, port: 2222}\n"
           b"  edge: {host: 'ops@[2001:db8::1]:22', jump: [bastion, 'j@b2:2022'],\n"
           b"         conf: none, compose: [/opt/edge/compose.yaml],\n"
           b"         compose_env_files: [/opt/edge/.env], compose_profiles: [metrics]}\n"
           b"  partner1: {host: 203.0.113.7, interface: awg1, ping: 10.77.0.1,\n"
           b"             description: 'Partner \"one\"', known_hosts: kh}\n")
    return [{"fleet.yaml": fleet}, {"fleet.yaml": ssh}]


def _rules_seeds() -> list[Files]:
    return [{"rules.yaml": _read(p)} for p in _glob(ROOT / "rules", "*.yaml")]


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("conf", "awgcheck.parse.awgconf.parse, then check", read_conf, _conf_seeds),
    Target("params", "awgcheck.parse.paramsdoc.parse, then check with it as the source",
           read_params, _params_seeds),
    Target("compose", "awgcheck.parse.compose.project.load_project (YAML, .env, env_file, "
           "include, extends), then check", read_compose, _compose_seeds),
    Target("runtime", "awgcheck.parse.runtime parse_dump / parse_showconf, then check --runtime",
           read_runtime, _runtime_seeds),
    Target("inventory", "awgcheck.inventory.load, then check", read_inventory,
           _inventory_seeds),
    Target("rules", "awgcheck.ruleset.load.load_text, then check with those rules",
           read_rules, _rules_seeds),
    Target("gate-config", "awgcheck.gate.config.load and load_rules", read_gate_config,
           lambda: [{"awgcheck.yaml": _read(SEEDS / "gate.yaml")}]),
    Target("ssh-config", "awgcheck.collect.ssh.config.load_ssh_config and resolve_route",
           read_ssh_config, lambda: [{"ssh_config": _read(SEEDS / "ssh_config")}]),
)}
