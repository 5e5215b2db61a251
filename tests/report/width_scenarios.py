"""Every command that prints a table, over inputs that make wide tables.

Used by ``test_widths.py`` and by ``benchmarks/widths.py`` (which measures
the widest line of each before and after a change). :func:`build` writes
the inputs into a folder:

* the demo fleet as shipped;
* a hostile fleet: a node with a 90-character name whose conf sits 14
  folders deep, and whose I1 is 2,000 characters that differ from the
  server's in one byte in the middle (and whose S4 differs);
* a gate repository whose head changes S4 in the server only;
* the docs/ssh.md ``inspect ssh`` example, with a long identity path.

:func:`scenarios` are ``(name, argv, cwd)``: run with the folder as cwd
where ``cwd`` is None.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import paths
import yaml

CONF = "etc/amnezia/amneziawg/awg0.conf"
DEMO = paths.ROOT / "fixtures" / "demo"
LONG_NODE = "partner-" + "very-long-node-name-" * 4 + "x"
DEEP = "/".join(f"folder-{n:02}" for n in range(14))
I1_LENGTH = 2000
DIFFERING_AT = 1003


def _i1(byte: str) -> str:
    """An I1 tag string of :data:`I1_LENGTH` characters; ``byte`` at
    :data:`DIFFERING_AT`."""
    head = "<b 0x" + "ab" * 600
    body = head + "c" * (I1_LENGTH - len(head) - 1) + ">"
    return body[:DIFFERING_AT] + byte + body[DIFFERING_AT + 1:]


SERVER_I1 = _i1("d")
NODE_I1 = _i1("e")


def build(folder: Path) -> None:
    """Write every scenario's input under ``folder``."""
    shutil.copytree(DEMO, folder / "demo")
    _hostile(folder / "hostile")
    _gate(folder / "gate")
    _ssh(folder / "ssh")


def _hostile(folder: Path) -> None:
    server = (DEMO / "nodes" / "server" / CONF).read_text()
    server = re.sub(r"(?m)^I1 = .*$", f"I1 = {SERVER_I1}", server)
    long_conf = re.sub(r"(?m)^I1 = .*$", f"I1 = {NODE_I1}", server).replace("S4 = 18", "S4 = 17")
    for name, text in (("server", server), (LONG_NODE, long_conf)):
        target = folder / "nodes" / name / DEEP / CONF
        target.parent.mkdir(parents=True)
        target.write_text(text)
    fleet = {"source": "server", "defaults": {"conf": f"/{DEEP}/{CONF}", "interface": "awg0"},
             "nodes": {"server": {"local": "nodes/server"},
                       LONG_NODE: {"local": f"nodes/{LONG_NODE}"}}}
    (folder / "fleet.yaml").write_text(yaml.safe_dump(fleet))


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo,
                   check=True, capture_output=True)


def _gate(repo: Path) -> None:
    server = (DEMO / "nodes" / "server" / CONF).read_text()
    berlin = (DEMO / "nodes" / "partner-berlin" / CONF).read_text()
    files = {"server/awg0.conf": server, "partners/berlin.conf": berlin,
             f"partners/{DEEP}/{LONG_NODE}.conf": berlin,
             "awgcheck.yaml": yaml.safe_dump({"source": "server/awg0.conf",
                                              "consumers": {"confs": ["partners/**/*.conf"]}})}
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    (repo / "server/awg0.conf").write_text(server.replace("S4 = 18", "S4 = 19"))
    _git(repo, "commit", "-q", "-am", "S4 in the server only")


def _ssh(folder: Path) -> None:
    folder.mkdir()
    text = (paths.ROOT / "docs" / "ssh.md").read_text()
    start = text.index("`awgcheck inspect ssh NODE")
    config = re.compile(r"^```sshconfig\n(.*?)^```", re.S | re.M).search(text, start)
    fleet = re.compile(r"^```yaml\n(.*?)^```", re.S | re.M).search(
        text, text.index("and this inventory"))
    assert config is not None and fleet is not None
    (folder / "ssh_config").write_text(
        config.group(1) + f"\nHost *\n    IdentityFile /{DEEP}/{LONG_NODE}/id_ed25519\n")
    (folder / "fleet.yaml").write_text(fleet.group(1))


def scenarios(folder: Path) -> list[tuple[str, list[str], Path]]:
    """``(name, argv, cwd)`` of every command that prints a table."""
    demo, hostile = folder / "demo", folder / "hostile"
    conf = demo / "nodes" / "server" / CONF
    long_conf = hostile / "nodes" / LONG_NODE / DEEP / CONF
    server_conf = hostile / "nodes" / "server" / DEEP / CONF
    return [
        ("check-demo", ["check", "-i", str(demo / "fleet.yaml")], folder),
        ("check-hostile", ["check", "-i", str(hostile / "fleet.yaml")], folder),
        ("triage-demo", ["triage", "partner-tbilisi", "-i", str(demo / "fleet.yaml")], folder),
        ("triage-hostile", ["triage", LONG_NODE, "-i", str(hostile / "fleet.yaml")], folder),
        ("diff-demo", ["diff", str(conf), str(demo / "nodes" / "partner-tbilisi" / CONF)],
         folder),
        ("diff-hostile", ["diff", str(server_conf), str(long_conf)], folder),
        ("gate", ["gate", "--base", "HEAD~1"], folder / "gate"),
        ("rules-list", ["rules", "list"], folder),
        ("rules-show", ["rules", "show", "must-match-drift"], folder),
        ("inspect-conf", ["inspect", "conf", str(long_conf)], folder),
        ("inspect-compose", ["inspect", "compose",
                             str(demo / "nodes" / "partner-tbilisi" / "opt" / "partner-edge")],
         folder),
        ("inspect-ssh", ["inspect", "ssh", "vpn-fra-1", "-i", "fleet.yaml", "--ssh-config",
                         "ssh_config"], folder / "ssh"),
        ("plan-table", ["plan", "--to", str(paths.ROOT / "tests" / "assets" / "rotation" /
                                            "drop-header-protection.yaml"),
                        "--inventory", str(demo / "fleet.yaml"), "--format", "table"], folder),
    ]
