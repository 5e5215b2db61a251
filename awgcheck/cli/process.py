"""The awgcheck process: what ``awgcheck`` and ``python -m awgcheck`` run.

A command runs once and exits, and what it builds (a fleet's parsed
documents, its findings) lives until the report is written. With the
interpreter's default collector thresholds, every 700 new objects start a
collection, and the older generations are walked again and again over
everything the run keeps: 0.4 s of a 6 s check of 1,001 local nodes
(docs/performance.md). Collecting less often costs a few megabytes of
garbage held a little longer. Only the process entry does this: a test
that calls :func:`awgcheck.cli.main.main` keeps its interpreter's
defaults.
"""

from __future__ import annotations

import gc

from awgcheck.cli.main import main

# Young objects per collection, and collections of each generation before
# the next one up: about 5 collections instead of 400 on the benchmark fleet.
GC_THRESHOLDS = (50_000, 20, 100)


def run() -> None:
    """The command line, in a process tuned for one run."""
    gc.set_threshold(*GC_THRESHOLDS)
    main(prog_name="awgcheck")
