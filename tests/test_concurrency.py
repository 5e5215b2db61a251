"""How many nodes a run reads at once (awgcheck.concurrency), and the
open-file limit that bounds it, down to a real lowered ``ulimit -n``."""

from __future__ import annotations

import resource
import subprocess
import sys

import paths
import pytest

from awgcheck import concurrency, inventory
from awgcheck.errors import UsageError


@pytest.mark.parametrize(("fleet", "open_files", "expected"), [
    (3, 1024, 3),          # a small fleet: every node at once
    (200, 1024, 128),      # the cap, with the usual ulimit -n
    (1000, 1024, 128),
    (1000, 1 << 20, 128),  # a generous limit does not raise the cap
    (1000, 256, 48),       # (256 - 64) // 4
    (1000, 68, 1),         # room for one node
    (0, 1024, 1),          # an empty shard still gets a worker
], ids=["small-fleet", "200-nodes", "1000-nodes", "unlimited", "ulimit-256",
        "ulimit-68", "empty"])
def test_default_concurrency_from_fleet_and_open_files(fleet: int, open_files: int,
                                                       expected: int) -> None:
    assert concurrency.default_concurrency(fleet, open_files) == expected


def test_requested_concurrency_wins_when_the_limit_allows_it() -> None:
    assert concurrency.for_run(1000, 300, open_files=4096) == 300
    assert concurrency.for_run(1000, None, open_files=4096) == 128


def test_requested_concurrency_beyond_the_limit_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        concurrency.for_run(1000, 500, open_files=1024)
    assert str(info.value) == (
        "--concurrency 500 needs up to 2064 open files, but the open-file limit (ulimit -n) "
        "is 1024: lower --concurrency to 240 or raise the limit (ulimit -n 2064)")


def test_requested_concurrency_counts_only_the_nodes_there_are() -> None:
    # Five nodes never hold more than five nodes' files, whatever is asked.
    assert concurrency.for_run(5, 500, open_files=128) == 500


def test_a_limit_too_low_for_one_node_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        concurrency.for_run(10, None, open_files=50)
    assert str(info.value) == (
        "the open-file limit (ulimit -n) is 50, too low to read even one node (awgcheck "
        "needs at least 68): raise it, e.g. ulimit -n 1024")


def test_open_file_limit_is_the_soft_limit() -> None:
    assert concurrency.open_file_limit() == resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _check_under(limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    """``awgcheck check`` on the demo fleet with RLIMIT_NOFILE lowered to
    ``limit`` (soft and hard, as ``ulimit -n`` does) in the child."""

    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "awgcheck", "check", "-i", str(paths.DEMO / "fleet.yaml"),
         "--format", "json", *args],
        capture_output=True, text=True, timeout=120, preexec_fn=lower)


def test_cli_refuses_a_limit_too_low_before_reading_any_node() -> None:
    proc = _check_under(60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == (
        "awgcheck: error: the open-file limit (ulimit -n) is 60, too low to read even one "
        "node (awgcheck needs at least 68): raise it, e.g. ulimit -n 1024\n")


def test_cli_refuses_a_concurrency_the_limit_cannot_serve() -> None:
    nodes = len(inventory.load(paths.DEMO / "fleet.yaml").nodes)
    proc = _check_under(70, "--concurrency", str(nodes))
    assert proc.returncode == 2, proc.stderr
    assert "lower --concurrency to 1 or raise the limit" in proc.stderr


def test_cli_fits_its_default_into_a_low_limit() -> None:
    # 70 open files leave room for one node at a time: the run goes on.
    proc = _check_under(70)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
