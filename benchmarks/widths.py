"""Measure: the widest line of every command that prints a table, at a width.

Runs each scenario of ``tests/report/width_scenarios.py`` (the demo fleet,
a hostile fleet with long names, paths and I1 values, a gate repository,
the rule catalog, the three ``inspect`` commands) with the ``awgcheck``
executable given, ``COLUMNS`` set to each width, stdout a pipe, and prints
the widest line of each::

    python benchmarks/widths.py                          # this checkout's awgcheck
    python benchmarks/widths.py --awgcheck /other/.venv/bin/awgcheck --widths 80 120
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))  # width_scenarios imports the tests' own helper, paths
_SPEC = importlib.util.spec_from_file_location("width_scenarios",
                                               TESTS / "report" / "width_scenarios.py")
assert _SPEC is not None and _SPEC.loader is not None
width_scenarios = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(width_scenarios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--awgcheck", default=shutil.which("awgcheck") or "awgcheck")
    parser.add_argument("--widths", type=int, nargs="+", default=[80, 120])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        width_scenarios.build(folder)
        print(f"{'command':18}" + "".join(f"  COLUMNS={w:<5}" for w in args.widths))
        for name, argv, cwd in width_scenarios.scenarios(folder):
            widest = []
            for width in args.widths:
                env = {**os.environ, "COLUMNS": str(width)}
                env.pop("NO_COLOR", None)
                done = subprocess.run([args.awgcheck, *argv], cwd=cwd, env=env,
                                      capture_output=True, text=True, check=False)
                widest.append(max((len(line) for line in done.stdout.splitlines()), default=0))
            print(f"{name:18}" + "".join(f"  {w:<13}" for w in widest))


if __name__ == "__main__":
    main()
