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
time, CPU seconds and peak RSS, so the number is what an operator gets;
``--python`` runs it with another interpreter (another build's venv), for
before/after comparisons on the same fleet.

``--scale`` runs the whole command at 200, 1,000 and 10,000 nodes with its
default settings and prints each against its goal. Beyond 1,024 nodes the
proxied nodes share the sshd listen ports (``--upstreams``, 64 sshd
processes of 16 ports): the checker still sees one address, host key entry
and conf file per node, while the machine is spared 625 sshd processes.

    python benchmarks/ssh_fleet.py --scale
    python benchmarks/ssh_fleet.py --pipeline --nodes 10000 --upstreams 1024
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sshd_fleet import CONF_REL, SAMPLE_CONF, DelayProxy, SshdFleet  # noqa: E402

from awgcheck.collect.ssh.config import SshTarget  # noqa: E402
from awgcheck.collect.ssh.connect import open_ssh  # noqa: E402
from awgcheck.errors import CollectError  # noqa: E402


def _proxy_main(upstreams: list[tuple[str, int]], delay: float, connect_delay: float,
                conn: Connection) -> None:
    with DelayProxy(upstreams, delay=delay, connect_delay=connect_delay) as proxy:
        conn.send(proxy.ports)
        conn.recv()  # block until the parent says stop
        usage = resource.getrusage(resource.RUSAGE_SELF)
        conn.send(usage.ru_utime + usage.ru_stime)  # the proxy's CPU, for the floor


def _sshd_cpu(fleet: SshdFleet) -> float:
    """CPU seconds of the fleet's sshd processes and the connections they
    forked and reaped (utime, stime, cutime, cstime of /proc/PID/stat)."""
    total = 0
    for daemon in fleet.daemons:
        if daemon.process is None:
            continue
        with open(f"/proc/{daemon.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += sum(int(f) for f in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


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


SCALE_GOALS = ((200, 3.0), (1000, 10.0), (10000, 120.0))
"""Nodes and the wall-time goal (seconds) of each --scale run."""
SCALE_RSS_GOAL_MB = 1024


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a markdown table; 1 if any node failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=None,
                        help="nodes in flight (default: 32 for the reads alone, the "
                        "command's own default with --pipeline and --scale)")
    parser.add_argument("--rtt-ms", type=float, default=100.0)
    parser.add_argument("--tcp-handshake", action="store_true",
                        help="also charge one RTT for each TCP connect (the proxy accepts "
                        "locally, so by default connecting is free)")
    parser.add_argument("--sshd-rexec", action="store_true",
                        help="let sshd re-exec itself per connection (its default; costs "
                        "the shared CPU more than a real fleet, where each node has its own)")
    parser.add_argument("--pipeline", action="store_true",
                        help="time the whole `awgcheck check` command instead of the reads")
    parser.add_argument("--scale", action="store_true",
                        help="the whole command at 200, 1,000 and 10,000 nodes, default "
                        "settings, against the goals")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter (and so awgcheck build) for --pipeline/--scale")
    parser.add_argument("--upstreams", type=int, default=None,
                        help="sshd listen ports the nodes are spread over (default: one per "
                        "node up to 1,024)")
    parser.add_argument("--sample", type=int, default=20,
                        help="nodes timed with the sequential ssh loop (0 to skip)")
    args = parser.parse_args(argv)
    if args.scale:
        return _scale(args)
    return _run(args, args.nodes)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _scale(args: argparse.Namespace) -> int:
    """--scale: one fleet per size (the largest would serve the smaller
    too, but a fresh one keeps each run's TIME_WAIT sockets apart)."""
    rows, failed = [], 0
    for nodes, goal in SCALE_GOALS:
        load = _load()
        report = _fleet_run(args, nodes, pipeline=True)
        wall, cpu, rss_mb, _, errors = report
        failed += bool(errors)
        met = wall < goal and rss_mb < SCALE_RSS_GOAL_MB and not errors
        rows.append(f"| {nodes} | {args.rtt_ms:g} ms | {wall:.2f} | {cpu:.2f} "
                    f"| {cpu / nodes * 1000:.1f} | {rss_mb:.0f} | < {goal:g} s, "
                    f"< {SCALE_RSS_GOAL_MB} MB | {'yes' if met else 'no'} | {len(errors)} "
                    f"| {load} |")
        for error in errors[:3]:
            print("error:", error)
    print(f"{args.python}, whole `awgcheck check`, default settings\n")
    print("| nodes | RTT | wall s | CPU s | CPU ms/node | peak RSS MB | goal | met | errors "
          "| load 1/5/15 before |")
    print("|---:|---:|---:|---:|---:|---:|---|---|---:|---|")
    print("\n".join(rows))
    return 1 if failed else 0


def _run(args: argparse.Namespace, nodes: int) -> int:
    load = _load()
    wall, cpu, rss_mb, latencies, errors = _fleet_run(args, nodes, args.pipeline)
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p95 = latencies[int(len(latencies) * 0.95)]
    rtt = f"{args.rtt_ms:g} ms" + (" +TCP" if args.tcp_handshake else "")
    concurrency = args.concurrency or ("default" if args.pipeline else 32)
    print("| nodes | RTT | concurrency | wall s | CPU s | peak RSS MB | node p50/p95 s | errors "
          "| load 1/5/15 before |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print(f"| {nodes} | {rtt} | {concurrency} | {wall:.2f} | {cpu:.2f} "
          f"| {rss_mb:.0f} | {p50:.2f}/{p95:.2f} | {len(errors)} | {load} |")
    if not args.pipeline:
        print(f"\nper node p50 {p50:.2f} s = {p50 / (args.rtt_ms / 1000):.1f} round trips of "
              f"{args.rtt_ms:g} ms (the floor is 7, 8 with --tcp-handshake); "
              f"CPU {cpu / nodes * 1000:.1f} ms per node")
    for error in errors[:5]:
        print("error:", error)
    return 1 if errors else 0


def _fleet_run(args: argparse.Namespace, nodes: int, pipeline: bool
               ) -> tuple[float, float, float, list[float], list[str]]:
    """Start the fleet and the proxy, measure, stop them."""
    upstreams = args.upstreams or min(nodes, 1024)
    flags = () if args.sshd_rexec else ("-r",)
    with SshdFleet(nodes_wanted=upstreams, sshd_flags=flags) as fleet:
        served = [fleet.nodes[i % upstreams] for i in range(nodes)]
        confs = [node.conf_path if i < upstreams else _own_conf(fleet.dir, i)
                 for i, node in enumerate(served)]
        parent, child = multiprocessing.Pipe()
        proxy = multiprocessing.Process(target=_proxy_main,
                                        args=([(n.host, n.port) for n in served],
                                              args.rtt_ms / 2000,
                                              args.rtt_ms / 1000 if args.tcp_handshake else 0.0,
                                              child), daemon=True)
        proxy.start()
        ports: list[int] = parent.recv()
        sshd_before = _sshd_cpu(fleet)
        known = fleet.dir / "known_hosts.proxied"
        known.write_text("".join(
            f"[127.0.0.1]:{port} {' '.join(n.sshd.host_pub.split()[:2])}\n"
            for port, n in zip(ports, served, strict=True)))
        jobs = [
            (SshTarget(host="127.0.0.1", port=port, user="root", identity=str(fleet.client_key),
                       known_hosts=str(known), ssh_config="none", connect_timeout=20,
                       deadline=60), conf)
            for port, conf in zip(ports, confs, strict=True)
        ]
        try:
            if pipeline:
                report = _measure_cli(jobs, args.concurrency, fleet.dir, args.python)
            else:
                report = _measure(jobs, args.concurrency or 32)
            sample = min(args.sample, nodes) if not args.scale else 0
            if sample:
                started = time.perf_counter()
                for (target, conf) in jobs[:sample]:
                    _ssh_cat(fleet, known, target.port or 22, conf)
                ssh_loop = (time.perf_counter() - started) / sample * nodes
                print(f"sequential `ssh host cat file` loop: {ssh_loop:.1f} s for {nodes} "
                      f"nodes (extrapolated from {sample}); speed-up x{ssh_loop / report[0]:.1f}")
            time.sleep(0.5)  # sshd reaps its last connections
            sshd = _sshd_cpu(fleet) - sshd_before
        finally:
            parent.send("stop")
            proxy_cpu = parent.recv() if parent.poll(30) else float("nan")
            proxy.join(timeout=30)
            if proxy.is_alive():
                proxy.kill()
    # Every process of the benchmark shares this machine's cores: the
    # checker's CPU is what a real fleet costs, the rest is the harness's.
    print(f"CPU per node: checker {report[1] / nodes * 1000:.1f} ms, sshd "
          f"{sshd / nodes * 1000:.1f} ms, delay proxy {proxy_cpu / nodes * 1000:.1f} ms "
          f"(all processes {(report[1] + sshd + proxy_cpu):.1f} s on {os.cpu_count()} cores)")
    return report


def _own_conf(folder: Path, index: int) -> str:
    """A conf file of node ``index`` of its own (nodes beyond the sshd ports
    share a port, not a file)."""
    path = folder / "nodes" / f"shared{index}" / CONF_REL
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SAMPLE_CONF.format(private=f"node{index}-secret"))
    return str(path)


def _measure_cli(jobs: list[tuple[SshTarget, str]], concurrency: int | None, workdir: Path,
                 python: str) -> tuple[float, float, float, list[float], list[str]]:
    """Run `awgcheck check` on an inventory of the proxied nodes; the child's
    wall time, CPU seconds and peak RSS (per-node latencies are not visible
    from outside, so the wall time stands in for them). The child runs in
    ``workdir``: ``-m`` puts the working folder first on sys.path."""
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
    argv = [python, "-m", "awgcheck", "check", "-i", str(inventory), "--format", "json",
            "-o", str(out), "--ssh-config", "none"]
    if concurrency is not None:
        argv += ["--concurrency", str(concurrency)]
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached
    out.unlink(missing_ok=True)
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=workdir, env=env, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own CPU and peak RSS
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        said = err.read().decode(errors="replace").strip().splitlines()
    cpu = usage.ru_utime + usage.ru_stime
    if not out.exists():  # the command refused the run (exit 2): say why
        return wall, cpu, usage.ru_maxrss / 1024, [wall], [
            f"exit {child.returncode}: {said[-1] if said else '(nothing on stderr)'}"]
    report = json.loads(out.read_text())
    errors = [f"{n['name']}: {n['error_class']}: {n['error']}" for n in report["nodes"]
              if n["status"] == "error"]
    return wall, cpu, usage.ru_maxrss / 1024, [wall], errors


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
