"""Benchmark: ``awgcheck check`` on N local node trees, every shipped rule.

Generates N node trees from the demo fleet (``fixtures/demo/nodes``), each
a partner with its own keys, mesh address and ListenPort, about half with
the partner-edge compose stack, and some drift: every 10th node carries
Tbilisi's S4 = 17 (and its relay on 0.0.0.0), every 7th Almaty's spelling
(``s4=18``). Then it times, each ``--repeat`` times (the median is shown):

- ``python -c pass``: the interpreter's own start-up;
- ``python -c 'import awgcheck.cli.main, awgcheck.cli.check'``: start-up
  plus the imports of the ``check`` command;
- the whole command, ``python -m awgcheck check -i INV --format json
  --output F``, as a child process: what an operator waits for;
- the same command in-process, after the imports (a child that imports
  awgcheck, then starts the clock and calls the command): the work alone.

Wall seconds, CPU seconds (user + system) and peak RSS are each child's
own (``os.wait4``), so the benchmark's own memory is not counted.

    python benchmarks/local_fleet.py                    # 1,000 nodes, 3 runs each
    python benchmarks/local_fleet.py --profile tottime  # + cProfile of the in-process run
    python benchmarks/local_fleet.py --python /tmp/before/.venv/bin/python   # another build
    python benchmarks/local_fleet.py --baseline /tmp/before/.venv/bin/python # both, in turns

``--python`` runs another interpreter (for instance the venv of a worktree
of an older commit), so "before" and "after" are measured on the same
generated fleet in the same session; ``--baseline`` measures both in one
run, taking turns run by run, so a change of the machine's load falls on
both alike.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo" / "nodes"
CONF = "etc/amnezia/amneziawg/awg0.conf"
COMPOSE = "opt/partner-edge/compose.yaml"
TEMPLATES = ("partner-berlin", "partner-tbilisi", "partner-almaty")


@dataclass(frozen=True)
class Sample:
    """One child process: its wall time, CPU seconds and peak RSS."""

    wall: float
    cpu: float
    rss_mb: float


def _key(index: int, salt: str) -> str:
    """A distinct, well-formed 32-byte base64 key per node (not a real one)."""
    import base64
    import hashlib
    return base64.b64encode(hashlib.sha256(f"{salt}{index}".encode()).digest()).decode()


def generate(folder: Path, count: int, compose_every: int = 2) -> Path:
    """``count`` partner trees plus the demo server under ``folder``, every
    ``compose_every``-th with the compose stack (0: none); the inventory's
    path."""
    shutil.copytree(DEMO / "server", folder / "nodes" / "server")
    lines = ["source: server", "defaults:", f"  conf: /{CONF}", "  interface: awg0", "nodes:",
             "  server:", "    local: nodes/server"]
    for index in range(count):
        template = ("partner-tbilisi" if index % 10 == 3 else
                    "partner-almaty" if index % 7 == 5 else "partner-berlin")
        name = f"partner-{index:05d}"
        tree = folder / "nodes" / name
        shutil.copytree(DEMO / template, tree)
        # 10.77.0.0/24 is the demo mesh; spread the partners over 10.x.y.z.
        address = f"10.{77 + index // 65000}.{index // 250 % 256}.{index % 250 + 2}"
        conf = (tree / CONF).read_text()
        old_address = conf.split("Address = ", 1)[1].split("/", 1)[0]
        conf = (conf.replace(old_address, address)
                .replace(conf.split("PrivateKey = ", 1)[1].split("\n", 1)[0], _key(index, "k"))
                .replace(conf.split("PresharedKey = ", 1)[1].split("\n", 1)[0],
                         _key(index, "p"))
                .replace("MTU = 1380", f"MTU = {1380 - index % 3 * 20}"))
        (tree / CONF).write_text(conf)
        compose = (compose_every > 0 and index % compose_every == 0
                   and (tree / COMPOSE).exists())
        if (tree / "opt").exists():
            if compose:
                env = tree / "opt/partner-edge/.env"
                env.write_text(env.read_text().replace(old_address, address))
            else:
                shutil.rmtree(tree / "opt")
        lines += [f"  {name}:", f"    local: nodes/{name}"]
        if compose:
            lines += [f"    compose: [/{COMPOSE}]", "    compose_profiles: [metrics]"]
    inventory = folder / "fleet.yaml"
    inventory.write_text("\n".join(lines) + "\n")
    return inventory


def _child_env() -> dict[str, str]:
    """The environment of every measured child: bytecode may be cached (a
    pip install compiles it; without it, every run compiles awgcheck)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _timed(argv: Sequence[str], cwd: Path) -> Sample:
    """Run ``argv`` in ``cwd`` (not the checkout: ``-c`` and ``-m`` put the
    working folder first on sys.path, which would measure the wrong code);
    its wall time, CPU and peak RSS (KiB on Linux)."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, cwd=cwd,
                                 env=_child_env())
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode not in (0, 1):  # 1: the planted drift fails the run, as it should
            err.seek(0)
            raise SystemExit(f"{argv[:4]}... exited {child.returncode}:\n"
                             f"{err.read().decode()[-2000:]}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def _in_process(inventory: str, output: str, profile: str | None) -> None:
    """The child of the in-process measurement: import, then time the command."""
    import resource

    from awgcheck.cli.main import main
    argv = ["check", "-i", inventory, "--format", "json", "--output", output]
    profiler = None
    if profile:
        import cProfile
        profiler = cProfile.Profile()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    with contextlib.suppress(SystemExit):  # the exit code is not what is timed
        main(argv, prog_name="awgcheck", standalone_mode=False)
    if profiler is not None:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if profiler is not None:
        import pstats
        pstats.Stats(profiler, stream=sys.stderr).sort_stats(profile).print_stats(40)
    print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": rss}))


def _median(samples: list[Sample]) -> Sample:
    return Sample(statistics.median(s.wall for s in samples),
                  statistics.median(s.cpu for s in samples),
                  statistics.median(s.rss_mb for s in samples))


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def main(argv: list[str] | None = None) -> int:
    """Generate the fleet, time each measurement, print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compose-every", type=int, default=2, metavar="K",
                        help="every K-th partner runs the compose stack (0: none)")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter (and so the awgcheck build) to measure")
    parser.add_argument("--baseline", metavar="PYTHON",
                        help="also measure this interpreter's build (say, a venv of main), "
                             "taking turns with --python run by run, on the same fleet")
    parser.add_argument("--profile", choices=("cumtime", "tottime"),
                        help="also print a cProfile of the in-process run, sorted so")
    parser.add_argument("--keep", type=Path, help="generate the fleet here and keep it")
    parser.add_argument("--in-process", nargs=2, metavar=("INVENTORY", "OUTPUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.in_process:
        _in_process(*args.in_process, args.profile)
        return 0

    folder = args.keep or Path(tempfile.mkdtemp(prefix="awgcheck-local-fleet-"))
    builds = [args.python] if args.baseline is None else [args.baseline, args.python]
    try:
        inventory = generate(folder, args.nodes, args.compose_every)
        report = folder / "report.json"
        rows: list[tuple[str, list[Sample], str]] = []

        def check(python: str) -> list[str]:
            return [python, "-m", "awgcheck", "check", "-i", str(inventory), "--format", "json",
                    "--output", str(report)]

        def in_process(python: str) -> Sample:
            done = subprocess.run([python, __file__, "--in-process", str(inventory),
                                   str(report)], capture_output=True, text=True, check=True,
                                  cwd=folder, env=_child_env())
            return Sample(**json.loads(done.stdout.splitlines()[-1]))

        def measure(label: str, run: Callable[[str], Sample]) -> None:
            # Builds take turns, run by run, so a change in the machine's
            # load falls on both alike.
            load = _load()
            samples: list[list[Sample]] = [[] for _ in builds]
            for _ in range(args.repeat):
                for index, python in enumerate(builds):
                    samples[index].append(run(python))
            rows.append((label, [_median(s) for s in samples], f"{load} .. {_load()}"))

        for python in builds:
            _timed(check(python), folder)  # warm-up: the bytecode cache, the page cache
        measure("python -c pass", lambda python: _timed([python, "-c", "pass"], folder))
        imports = "import awgcheck.cli.main, awgcheck.cli.check"  # what `check` loads first
        measure(f"python -c '{imports}'",
                lambda python: _timed([python, "-c", imports], folder))
        measure(f"check, {args.nodes + 1} nodes, whole command",
                lambda python: _timed(check(python), folder))
        findings = json.loads(report.read_text())
        measure(f"check, {args.nodes + 1} nodes, in-process after imports", in_process)
        if args.profile:
            done = subprocess.run([args.python, __file__, "--in-process", str(inventory),
                                   str(report), "--profile", args.profile],
                                  capture_output=True, text=True, check=True, cwd=folder,
                                  env=_child_env())
            print(done.stderr)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)

    print(f"{' vs '.join(builds)} ({args.repeat} runs each, median; "
          f"{len(findings['findings'])} findings, summary {findings['summary']})\n")
    names = ["baseline", "this build"] if len(builds) == 2 else ["this build"]
    print("| measurement | " + " | ".join(f"{n} wall s / CPU s / RSS MB" for n in names)
          + " | machine |")
    print("|---|" + "---:|" * len(names) + "---|")
    for label, samples, load in rows:
        cells = " | ".join(f"{s.wall:.3f} / {s.cpu:.3f} / {s.rss_mb:.0f}" for s in samples)
        print(f"| {label} | {cells} | {load} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
