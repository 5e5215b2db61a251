"""Benchmark: audit a fleet of real sshd nodes behind an injected RTT.

Starts N nodes (real ``sshd`` processes, 16 listen ports each), puts a
userspace delay proxy in front of every node (50 ms each way, so 100 ms
RTT), then reads one conf file per node through ``awgcheck.collect.ssh``
with a bounded thread pool, and prints wall time, CPU seconds and peak RSS
of this process. For comparison it times the naive approach, a sequential
``ssh host cat file`` loop, over a sample of nodes and extrapolates.

The proxy runs in a child process so its CPU and GIL time are not charged
to the checker; sshd runs on the same machine though, and competes with the
checker for the cores (on a real fleet each node brings its own CPU).

    python benchmarks/ssh_fleet.py                 # 200 nodes, concurrency 32
    python benchmarks/ssh_fleet.py --nodes 1000
    python benchmarks/ssh_fleet.py --pipeline      # the whole `awgcheck check` CLI

``--pipeline`` runs the real command (inventory, SSH reads, parsing, every
shipped rule, the JSON report) as a child process and reports its wall
time, CPU seconds and peak RSS, so the number is what an operator gets.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sshd_fleet import DelayProxy, SshdFleet  # noqa: E402

from awgcheck.collect.ssh.config import SshTarget  # noqa: E402
from awgcheck.collect.ssh.connect import open_ssh  # noqa: E402
from awgcheck.errors import CollectError  # noqa: E402


def _proxy_main(upstreams: list[tuple[str, int]], delay: float, connect_delay: float,
                conn: Connection) -> None:
    with DelayProxy(upstreams, delay=delay, connect_delay=connect_delay) as proxy:
        conn.send(proxy.ports)
        conn.recv()  # block until the parent says stop


def _audit_one(target: SshTarget, path: str) -> tuple[float, str | None]:
    started = time.perf_counter()
    try:
        with open_ssh(target) as collector:
            collector.read_file(path)
    except CollectError as exc:
        return time.perf_counter() - started, f"{exc.error_class}: {exc}"
    return time.perf_counter() - started, None


def _ssh_cat(fleet: SshdFleet, known_hosts: Path, port: int, path: str) -> None:
    subprocess.run(
        ["ssh", "-p", str(port), "-i", str(fleet.client_key), "-F", "none",
         "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={known_hosts}",
         "-o", "StrictHostKeyChecking=yes", "root@127.0.0.1", "cat", "--", path],
        check=True, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a markdown table; 1 if any node failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rtt-ms", type=float, default=100.0)
    parser.add_argument("--tcp-handshake", action="store_true",
                        help="also charge one RTT for each TCP connect (the proxy accepts "
                        "locally, so by default connecting is free)")
    parser.add_argument("--sshd-rexec", action="store_true",
                        help="let sshd re-exec itself per connection (its default; costs "
                        "the shared CPU more than a real fleet, where each node has its own)")
    parser.add_argument("--pipeline", action="store_true",
                        help="time the whole `awgcheck check` command instead of the reads")
    parser.add_argument("--sample", type=int, default=20,
                        help="nodes timed with the sequential ssh loop (0 to skip)")
    args = parser.parse_args(argv)

    flags = () if args.sshd_rexec else ("-r",)
    with SshdFleet(nodes_wanted=args.nodes, sshd_flags=flags) as fleet:
        parent, child = multiprocessing.Pipe()
        upstreams = [(n.host, n.port) for n in fleet.nodes]
        proxy = multiprocessing.Process(target=_proxy_main,
                                        args=(upstreams, args.rtt_ms / 2000,
                                              args.rtt_ms / 1000 if args.tcp_handshake else 0.0,
                                              child), daemon=True)
        proxy.start()
        ports: list[int] = parent.recv()
        known = fleet.dir / "known_hosts.proxied"
        known.write_text("".join(
            f"[127.0.0.1]:{port} {' '.join(n.sshd.host_pub.split()[:2])}\n"
            for port, n in zip(ports, fleet.nodes, strict=True)))
        jobs = [
            (SshTarget(host="127.0.0.1", port=port, user="root", identity=str(fleet.client_key),
                       known_hosts=str(known), ssh_config="none", connect_timeout=20,
                       deadline=60), node.conf_path)
            for port, node in zip(ports, fleet.nodes, strict=True)
        ]
        try:
            if args.pipeline:
                report = _measure_cli(jobs, args.concurrency, fleet.dir)
            else:
                report = _measure(jobs, args.concurrency)
            sample = min(args.sample, args.nodes)
            ssh_loop = None
            if sample:
                started = time.perf_counter()
                for port, node in list(zip(ports, fleet.nodes, strict=True))[:sample]:
                    _ssh_cat(fleet, known, port, node.conf_path)
                ssh_loop = (time.perf_counter() - started) / sample * args.nodes
        finally:
            parent.send("stop")
            proxy.join(timeout=10)
            if proxy.is_alive():
                proxy.kill()

    wall, cpu, rss_mb, latencies, errors = report
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p95 = latencies[int(len(latencies) * 0.95)]
    rtt = f"{args.rtt_ms:g} ms" + (" +TCP" if args.tcp_handshake else "")
    print("| nodes | RTT | concurrency | wall s | CPU s | peak RSS MB | node p50/p95 s | errors |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.nodes} | {rtt} | {args.concurrency} | {wall:.2f} | {cpu:.2f} "
          f"| {rss_mb:.0f} | {p50:.2f}/{p95:.2f} | {len(errors)} |")
    if not args.pipeline:
        print(f"\nper node p50 {p50:.2f} s = {p50 / (args.rtt_ms / 1000):.1f} round trips of "
              f"{args.rtt_ms:g} ms (the floor is 7, 8 with --tcp-handshake)")
    if ssh_loop is not None:
        print(f"\nsequential `ssh host cat file` loop: {ssh_loop:.1f} s for {args.nodes} nodes "
              f"(extrapolated from {sample}); speed-up x{ssh_loop / wall:.1f}")
    for error in errors[:5]:
        print("error:", error)
    return 1 if errors else 0


def _measure_cli(jobs: list[tuple[SshTarget, str]], concurrency: int, workdir: Path
                 ) -> tuple[float, float, float, list[float], list[str]]:
    """Run `awgcheck check` on an inventory of the proxied nodes; the child's
    wall time, CPU seconds and peak RSS (per-node latencies are not visible
    from outside, so the wall time stands in for them)."""
    import json

    import yaml

    nodes = {
        f"node{i}": {"host": t.host, "port": t.port, "user": t.user, "identity": t.identity,
                     "known_hosts": t.known_hosts, "conf": path}
        for i, (t, path) in enumerate(jobs)
    }
    inventory = workdir / "bench-fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "node0", "nodes": nodes}))
    out = workdir / "bench-report.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "awgcheck", "check", "-i", str(inventory),
                    "--format", "json", "-o", str(out), "--ssh-config", "none",
                    "--concurrency", str(concurrency), "--timeout", "60"], check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    report = json.loads(out.read_text())
    errors = [f"{n['name']}: {n['error_class']}: {n['error']}" for n in report["nodes"]
              if n["status"] == "error"]
    return wall, cpu, after.ru_maxrss / 1024, [wall], errors


def _measure(jobs: list[tuple[SshTarget, str]], concurrency: int
             ) -> tuple[float, float, float, list[float], list[str]]:
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        outcomes = list(pool.map(lambda job: _audit_one(*job), jobs))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss is in KiB on Linux and covers the whole run incl. the fleet setup.
    return (wall, cpu, after.ru_maxrss / 1024, [t for t, _ in outcomes],
            [e for _, e in outcomes if e])


if __name__ == "__main__":
    os.environ.pop("SSH_AUTH_SOCK", None)
    sys.exit(main())
