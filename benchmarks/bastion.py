"""Benchmark: a fleet behind one stock bastion against the same fleet direct.

Starts N real sshd nodes and one bastion whose sshd keeps the stock limits
(``MaxStartups 10:30:100``, ``MaxSessions 10``). The far link is modelled
by a userspace delay proxy (in a child process, so its CPU is not charged
to the checker): RTT/2 each way, and one RTT for each TCP connect. Direct,
the checker reaches every node over that link; behind the bastion, it
reaches the bastion over that link and the bastion reaches the nodes
locally, as a jump host in the fleet's own network does.

Each mode reads one conf file per node through ``awgcheck.collect.ssh``
with awgcheck's bounded workers, at the concurrency a run picks by
default (:func:`awgcheck.concurrency.for_run`):

* ``direct``: every node straight over the far link;
* ``shared``: behind the bastion, one shared connection to it for the run
  (:class:`~awgcheck.collect.ssh.jumps.BastionPool`, what every command does);
* ``per-node``: behind the bastion, each node with its own connection to
  it (what ``ssh -J`` does, and awgcheck did before the pool).

    python benchmarks/bastion.py                   # 200 nodes, 200 ms RTT, 3 rounds
    python benchmarks/bastion.py --nodes 50 --rtt-ms 100 --rounds 1

The modes alternate within each round, so a noisy machine hits them alike;
the table gives the median wall time of each, the shared/direct ratio,
nodes not read, and the bastion connections its sshd logged.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sshd_fleet import DelayProxy, SshdFleet, stock_bastion  # noqa: E402

from awgcheck import concurrency, workers  # noqa: E402
from awgcheck.collect.ssh.config import SshTarget  # noqa: E402
from awgcheck.collect.ssh.connect import open_ssh  # noqa: E402
from awgcheck.collect.ssh.jumps import BastionPool  # noqa: E402
from awgcheck.errors import CollectError  # noqa: E402

MODES = ("direct", "shared", "per-node")


def _proxy_main(upstreams: list[tuple[str, int]], delay: float, conn: Connection) -> None:
    with DelayProxy(upstreams, delay=delay, connect_delay=2 * delay) as proxy:
        conn.send(proxy.ports)
        conn.recv()  # block until the parent says stop


def _read(target: SshTarget, path: str, pool: BastionPool | None) -> str | None:
    try:
        with open_ssh(target, pool) as collector:
            collector.read_file(path)
    except CollectError as exc:
        return f"{exc.error_class}: {exc}"
    return None


def _run(jobs: list[tuple[SshTarget, str]], in_flight: int, shared: bool
         ) -> tuple[float, list[str]]:
    pool = BastionPool() if shared else None
    started = time.perf_counter()
    try:
        outcomes = workers.run_bounded(
            jobs, lambda job: _read(job[0], job[1], pool), concurrency=in_flight,
            deadline=90, on_overrun=lambda job: "overrun",
            on_error=lambda job, exc: f"internal: {exc!r}")
    finally:
        if pool is not None:
            pool.close()
    return time.perf_counter() - started, [e for e in outcomes if e]


def _targets(fleet: SshdFleet, ports: list[int], known: Path
             ) -> dict[str, list[tuple[SshTarget, str]]]:
    """Each mode's (target, conf path) pairs; ``ports`` are the proxied
    ports of the nodes, then of the bastion."""

    def target(host: str, port: int, jump: tuple[str, ...] = ()) -> SshTarget:
        return SshTarget(host=host, port=port, user="root", identity=str(fleet.client_key),
                         known_hosts=str(known), jump=jump, ssh_config="none",
                         connect_timeout=20.0, deadline=60.0)

    far_bastion = (f"root@127.0.0.1:{ports[-1]}",)
    direct = [(target("127.0.0.1", port), node.conf_path)
              for port, node in zip(ports, fleet.nodes, strict=False)]
    behind = [(target(node.host, node.port, far_bastion), node.conf_path)
              for node in fleet.nodes]
    return {"direct": direct, "shared": behind, "per-node": behind}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a markdown table; 1 if any node was not read."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--rtt-ms", type=float, default=200.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    in_flight = concurrency.for_run(args.nodes, None)

    with SshdFleet(nodes_wanted=args.nodes, sshd_flags=("-r",)) as fleet, \
            stock_bastion(fleet) as bastion:
        parent, child = multiprocessing.Pipe()
        upstreams = [(n.host, n.port) for n in fleet.nodes] + [(bastion.host, bastion.port)]
        proxy = multiprocessing.Process(target=_proxy_main,
                                        args=(upstreams, args.rtt_ms / 2000, child), daemon=True)
        proxy.start()
        ports: list[int] = parent.recv()
        known = fleet.dir / "known_hosts.bench"
        hosts = [*fleet.nodes, bastion]
        known.write_text(fleet.known_hosts.read_text() + "".join(
            f"[127.0.0.1]:{port} {' '.join(n.sshd.host_pub.split()[:2])}\n"
            for port, n in zip(ports, hosts, strict=True)))
        jobs = _targets(fleet, ports, known)
        walls: dict[str, list[float]] = {mode: [] for mode in MODES}
        errors: dict[str, list[str]] = {mode: [] for mode in MODES}
        connections: dict[str, list[int]] = {mode: [] for mode in MODES}
        try:
            for _ in range(args.rounds):
                for mode in MODES:
                    mark = bastion.sshd.log_mark()
                    wall, failed = _run(jobs[mode], in_flight, shared=mode == "shared")
                    walls[mode].append(wall)
                    errors[mode] += failed
                    connections[mode].append(bastion.sshd.logged("Connection from", mark))
        finally:
            parent.send("stop")
            proxy.join(timeout=10)
            if proxy.is_alive():
                proxy.kill()

    direct = statistics.median(walls["direct"])
    print(f"{args.nodes} nodes, {args.rtt_ms:g} ms RTT (+1 RTT per TCP connect), "
          f"{in_flight} in flight, {args.rounds} rounds; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| mode | wall s (median) | runs | vs direct | not read | bastion connections |")
    print("|---|---:|---|---:|---:|---:|")
    for mode in MODES:
        median = statistics.median(walls[mode])
        runs = ", ".join(f"{w:.2f}" for w in walls[mode])
        per_round = "/".join(str(c) for c in connections[mode]) if mode != "direct" else "-"
        print(f"| {mode} | {median:.2f} | {runs} | {median / direct:.2f}x "
              f"| {len(errors[mode])} | {per_round} |")
    for mode in MODES:
        for error in errors[mode][:3]:
            print(f"{mode}: {error}")
    return 1 if errors["direct"] or errors["shared"] else 0


if __name__ == "__main__":
    os.environ.pop("SSH_AUTH_SOCK", None)
    sys.exit(main())
