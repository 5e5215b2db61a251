"""Benchmark: the floors under issue 13's goals, measured beside awgcheck.

Each part times the least that any Python program doing the same job
would spend here, side by side with awgcheck doing it, in the same run
and taking turns round by round (so a change of the machine's load falls
on both alike):

``ssh``
    N sequential reads of one conf from local sshd nodes (no delay: the
    CPU is what is measured). **bare paramiko**: the fewest calls the
    library allows (connect, key exchange with awgcheck's preferences,
    host key compared, ed25519 authentication, SFTP open and read, close);
    **awgcheck**: ``collect.ssh.open_ssh`` and ``read_file`` (known_hosts,
    ssh_config, the deadline clock, the FIFO check, scrubbing);
    **handshake only**: bare paramiko up to the key exchange, then close.
    Client CPU per node is this process's (every thread); sshd CPU per
    node is the sshd processes' own and their reaped children's.

``local``
    The report of ``awgcheck check`` on N local node trees (generated as
    ``local_fleet.py`` does): the whole command; what a program that only
    read every file of the fleet (``open`` + ``read``, no checks) spends;
    the report's JSON text written by ``json.dumps`` indented (CPython's
    Python encoder), unindented (its C encoder) and by awgcheck's own
    indented writer; and one object per finding (awgcheck's ``Finding``,
    and a tuple).

    python benchmarks/floors.py ssh --nodes 300 --rounds 3
    python benchmarks/floors.py local --nodes 1000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from ssh_fleet import _sshd_cpu  # noqa: E402
from sshd_fleet import FleetNode, SshdFleet  # noqa: E402


def _bare_paramiko(node: FleetNode, key: object, host_key: bytes, handshake_only: bool) -> None:
    import paramiko

    from awgcheck.collect.ssh.hop import choose_algorithms

    sock = socket.create_connection((node.host, node.port), timeout=10)
    transport = paramiko.Transport(sock)
    try:
        choose_algorithms(transport)
        transport.start_client(timeout=10)
        if transport.get_remote_server_key().asbytes() != host_key:
            raise SystemExit(f"{node.name}: host key differs")
        if handshake_only:
            return
        transport.auth_publickey("root", key)  # type: ignore[arg-type]
        sftp = paramiko.SFTPClient.from_transport(transport)
        assert sftp is not None
        with sftp.open(node.conf_path, "rb") as handle:
            handle.read()
    finally:
        transport.close()


def _awgcheck(fleet: SshdFleet, node: FleetNode) -> None:
    from awgcheck.collect.ssh.connect import open_ssh

    with open_ssh(fleet.target(node)) as collector:
        collector.read_file(node.conf_path)


def _ssh(args: argparse.Namespace) -> int:
    import base64

    import paramiko

    with SshdFleet(nodes_wanted=min(args.nodes, 16), sshd_flags=("-r",)) as fleet:
        key = paramiko.Ed25519Key.from_private_key_file(str(fleet.client_key))
        host_keys = {n.name: base64.b64decode(n.sshd.host_pub.split()[1]) for n in fleet.nodes}
        ways: dict[str, Callable[[FleetNode], None]] = {
            "handshake only (bare paramiko)": lambda n: _bare_paramiko(
                n, key, host_keys[n.name], True),
            "bare paramiko": lambda n: _bare_paramiko(n, key, host_keys[n.name], False),
            "awgcheck": lambda n: _awgcheck(fleet, n),
        }
        for way in ways.values():  # warm up: imports, first connections
            for node in fleet.nodes[:4]:
                way(node)
        client: dict[str, list[float]] = {name: [] for name in ways}
        server: dict[str, list[float]] = {name: [] for name in ways}
        walls: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, way in ways.items():
                sshd0, cpu0, wall0 = _sshd_cpu(fleet), time.process_time(), time.perf_counter()
                for index in range(args.nodes):
                    way(fleet.nodes[index % len(fleet.nodes)])
                walls[name].append((time.perf_counter() - wall0) / args.nodes * 1000)
                client[name].append((time.process_time() - cpu0) / args.nodes * 1000)
                server[name].append((_sshd_cpu(fleet) - sshd0) / args.nodes * 1000)
    print(f"{args.nodes} sequential nodes x {args.rounds} rounds, {_load()}\n")
    print("| way | client CPU ms per node (rounds) | sshd CPU ms per node | wall ms per node |")
    print("|---|---:|---:|---:|")
    for name in ways:
        print(f"| {name} | **{statistics.median(client[name]):.2f}** "
              f"({', '.join(f'{v:.2f}' for v in client[name])}) "
              f"| {statistics.median(server[name]):.2f} | {statistics.median(walls[name]):.1f} |")
    return 0


def _local(args: argparse.Namespace) -> int:
    import local_fleet

    from awgcheck.model import Finding, Location, Severity, Status
    from awgcheck.report import json_text

    folder = Path(tempfile.mkdtemp(prefix="awgcheck-floors-"))
    inventory = local_fleet.generate(folder, args.nodes)
    report = folder / "report.json"
    files = [p for p in (folder / "nodes").rglob("*") if p.is_file()]
    rows: dict[str, list[float]] = {}

    def note(name: str, seconds: float) -> None:
        rows.setdefault(name, []).append(seconds)

    command = [sys.executable, "-m", "awgcheck", "check", "-i", str(inventory),
               "--format", "json", "--output", str(report)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for _ in range(args.rounds):
        for name, argv in (("python -c pass", [sys.executable, "-c", "pass"]),
                           ("awgcheck check (whole command)", command),
                           ("awgcheck check --omit-passes", [*command, "--omit-passes"])):
            child = subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.DEVNULL)
            _, _, usage = os.wait4(child.pid, 0)
            note(name, usage.ru_utime + usage.ru_stime)
        subprocess.run(command, cwd=folder, env=env, stdout=subprocess.DEVNULL, check=False)
        document = json.loads(report.read_text())
        findings = document["findings"]
        cpu0 = time.process_time()
        for path in files:
            with open(path, "rb") as handle:
                handle.read().split(b"\n")
        note(f"read every file of the fleet ({len(files):,} files), split lines",
             time.process_time() - cpu0)
        cpu0 = time.process_time()
        json.dumps(document, indent=2)
        note(f"json.dumps(report, indent=2) ({len(findings):,} findings)",
             time.process_time() - cpu0)
        cpu0 = time.process_time()
        json.dumps(document)
        note("json.dumps(report) (C encoder, no indent)", time.process_time() - cpu0)
        cpu0 = time.process_time()
        json_text.dumps(document)
        note("json_text.dumps(report) (awgcheck's writer, indented)", time.process_time() - cpu0)
        cpu0 = time.process_time()
        [Finding(rule=f["rule"], node=f["node"], status=Status(f["status"]),
                 severity=Severity(f["severity"]), message=f.get("message", ""),
                 location=Location(f["location"]["path"], f["location"].get("line"))
                 if f.get("location") else None) for f in findings]
        note("one awgcheck Finding per finding", time.process_time() - cpu0)
        cpu0 = time.process_time()
        [(f["rule"], f["node"], f["status"], f["severity"], f.get("message", ""),
          f.get("location")) for f in findings]
        note("one tuple per finding", time.process_time() - cpu0)
    print(f"{args.nodes + 1} local nodes x {args.rounds} rounds (CPU seconds), {_load()}\n")
    print("| measurement | CPU s median (rounds) |")
    print("|---|---:|")
    for name, values in rows.items():
        print(f"| {name} | **{statistics.median(values):.3f}** "
              f"({', '.join(f'{v:.3f}' for v in values)}) |")
    return 0


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=("ssh", "local"))
    parser.add_argument("--nodes", type=int, default=None,
                        help="nodes (default: 300 for ssh, 1,000 for local)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.part == "ssh":
        args.nodes = args.nodes or 300
        return _ssh(args)
    args.nodes = args.nodes or 1000
    return _local(args)


if __name__ == "__main__":
    sys.exit(main())
