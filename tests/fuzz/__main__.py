"""The long fuzz run: ``python -m tests.fuzz --count 50000 --seed 1``.

Each reader runs in its own child process under ``RLIMIT_AS``
(``--memory-mb``), so an input that needs more memory than the budget is
a ``memory`` failure (or a dead child, ``crash``) rather than a swapping
machine; a dead child is restarted after the input that killed it. Every
failing input is written under ``--keep`` (its files and a result.json)
and reproduces alone with ``--reader R --seed S --only INDEX``. Exit
status 1 when any input failed. See docs/security.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from .harness import DEADLINE, Result, generate, run_one
from .targets import TARGETS, Scratch

MEMORY_MB = 1024
"""Address-space budget of one fuzz process (the interpreter, awgcheck and
jsonschema take about 300 MiB of it before the first input)."""


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=50_000,
                        help="inputs in all, shared evenly by the readers (default 50000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reader", action="append", choices=sorted(TARGETS),
                        help="fuzz only this reader (repeatable; default: every reader)")
    parser.add_argument("--deadline", type=float, default=DEADLINE,
                        help=f"seconds per input (default {DEADLINE:g})")
    parser.add_argument("--memory-mb", type=int, default=MEMORY_MB,
                        help=f"address-space budget per process (default {MEMORY_MB})")
    parser.add_argument("--keep", type=Path, default=None,
                        help="folder for failing inputs (default: a new folder in /tmp)")
    parser.add_argument("--only", type=int, default=None,
                        help="run input INDEX alone (with --reader) and print its result")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _limit_memory(megabytes: int) -> None:
    size = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size, size))


def _keep(folder: Path, result: Result, files: dict[str, bytes]) -> None:
    where = folder / f"{result.reader}-{result.index:06d}"
    for name, data in files.items():
        path = where / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (where / "result.json").write_text(json.dumps(result.__dict__, indent=2) + "\n")


def worker(args: argparse.Namespace) -> int:
    """Child: inputs ``start..count`` of one reader, one JSON line each
    that failed, and a progress line every 100 inputs."""
    _limit_memory(args.memory_mb)
    target = TARGETS[args.worker]
    with tempfile.TemporaryDirectory(prefix="awgcheck-fuzz-") as tmp:
        scratch = Scratch(Path(tmp))
        for index in range(args.start, args.count):
            mutated = generate(target, args.seed, index)
            result = run_one(target, mutated, index, scratch, args.deadline)
            if result.failures:
                _keep(args.keep, result, mutated.files)
                print(json.dumps({"failed": result.__dict__}), flush=True)
            if index % 100 == 99 or index == args.count - 1:
                print(json.dumps({"done": index, "slowest": result.seconds}), flush=True)
    return 0


def _run_reader(args: argparse.Namespace, reader: str, count: int) -> tuple[Counter[str], int]:
    """Parent: run one reader's children until ``count`` inputs are done."""
    failures: Counter[str] = Counter()
    start = 0
    while start < count:
        command = [sys.executable, "-m", "tests.fuzz", "--worker", reader,
                   "--seed", str(args.seed), "--start", str(start), "--count", str(count),
                   "--deadline", str(args.deadline), "--memory-mb", str(args.memory_mb),
                   "--keep", str(args.keep)]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                                 cwd=Path(__file__).resolve().parents[2])
        assert child.stdout is not None
        done = start - 1
        failed_at: set[int] = set()
        for line in child.stdout:
            event = json.loads(line)
            if "failed" in event:
                failures.update(set(event["failed"]["failures"]))
                failed_at.add(event["failed"]["index"])
                done = max(done, event["failed"]["index"])
            else:
                done = event["done"]
        status = child.wait()
        if status != 0:
            # The input after the last one reported killed the child.
            crashed = done + 1
            failures["crash"] += 1
            print(f"  {reader}: input {crashed} killed its process (status {status})",
                  flush=True)
            start = crashed + 1
        else:
            start = count
    return failures, count


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.keep is None:
        args.keep = Path(tempfile.mkdtemp(prefix=f"awgcheck-fuzz-{args.seed}-"))
    if args.worker:
        return worker(args)
    readers = args.reader or sorted(TARGETS)
    if args.only is not None:
        target = TARGETS[readers[0]]
        _limit_memory(args.memory_mb)
        mutated = generate(target, args.seed, args.only)
        with tempfile.TemporaryDirectory() as tmp:
            result = run_one(target, mutated, args.only, Scratch(Path(tmp)), args.deadline)
        _keep(args.keep, result, mutated.files)
        print(json.dumps(result.__dict__, indent=2))
        print(f"input written to {args.keep}")
        return 1 if result.failures else 0
    per_reader = -(-args.count // len(readers))
    print(f"fuzz: seed {args.seed}, {per_reader} inputs per reader, deadline "
          f"{args.deadline:g} s, memory {args.memory_mb} MiB; failing inputs in {args.keep}",
          flush=True)
    total = Counter[str]()
    for reader in readers:
        started = time.monotonic()
        failures, inputs = _run_reader(args, reader, per_reader)
        total.update(failures)
        shown = ", ".join(f"{k} {v}" for k, v in sorted(failures.items())) or "none"
        print(f"{reader}: {inputs} inputs in {time.monotonic() - started:.0f} s; "
              f"inputs failing, by class: {shown}", flush=True)
    print(f"fuzz: {per_reader * len(readers)} inputs, "
          f"{'no failures' if not total else 'FAILURES: ' + str(dict(total))}")
    return 1 if total else 0


if __name__ == "__main__":

    sys.exit(main())
