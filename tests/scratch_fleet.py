"""A copy of the demo fleet in a scratch folder, edited between runs of the
real CLI: the nights of a nightly ``check``, parts of one fleet, a node
that cannot be read.

The inventory is named by its absolute path, so findings point at the same
files whatever folder the tests run from (a baseline matches findings by
the file they point at).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paths
import yaml
from click.testing import CliRunner

from awgcheck.cli.main import main

CONF = "etc/amnezia/amneziawg/awg0.conf"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def awgcheck(*args: str | Path) -> Run:
    """The real CLI in this process; an exception that is not an exit is a bug."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


@dataclass(frozen=True)
class Fleet:
    root: Path

    @property
    def inventory(self) -> Path:
        return self.root / "fleet.yaml"

    def conf(self, node: str) -> Path:
        return self.root / "nodes" / node / CONF

    def edit(self, node: str, old: str, new: str) -> None:
        """Replace ``old`` (which must be there) in the node's conf."""
        text = self.conf(node).read_text()
        assert old in text, f"{old!r} not in {node}'s conf"
        self.conf(node).write_text(text.replace(old, new, 1))

    def add_node(self, name: str, *, conf: str | None = None) -> None:
        """A node at the end of the inventory; without ``conf`` its tree
        holds no conf, so it cannot be checked (``file_missing``)."""
        folder = self.root / "nodes" / name
        folder.mkdir(parents=True)
        if conf is not None:
            self.conf(name).parent.mkdir(parents=True)
            self.conf(name).write_text(conf)
        self.edit_inventory(lambda data: data["nodes"].update({name: {"local": f"nodes/{name}"}}))

    def edit_inventory(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Apply ``change`` to the inventory's YAML data."""
        data = yaml.safe_load(self.inventory.read_text())
        change(data)
        self.inventory.write_text(yaml.safe_dump(data, sort_keys=False))

    def check(self, *args: str | Path) -> Run:
        return awgcheck("check", "-i", self.inventory, *args)

    def night(self, report: Path, *args: str | Path) -> Run:
        """``check --format json -o report``, the way a nightly job keeps it."""
        run = self.check("--format", "json", "-o", report, *args)
        assert run.code in (0, 1, 4, 5), run.err
        return run


_TIMES = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?"), "TIME"),
    (re.compile(r'("duration_s"|"durationSeconds"): [0-9.]+'), r"\1: SECONDS"),
    (re.compile(r"\([0-9.]+ s\)"), "(SECONDS s)"),
    (re.compile(r' time="[0-9.]+"'), ' time="SECONDS"'),
    (re.compile(r"^(awgcheck_last_run_timestamp_seconds|awgcheck_run_duration_seconds) .*$",
                re.M), r"\1 SECONDS"),
]


def timeless(text: str) -> str:
    """A report without the times of its run (when it started and ended,
    how long it took, in every format that says it; the first_seen of new
    findings, which is when the run started): what two runs of the same
    checks, or a run and the merge of its parts, differ in."""
    for pattern, stand_in in _TIMES:
        text = pattern.sub(stand_in, text)
    return text


def demo_copy(tmp_path: Path) -> Fleet:
    """The demo fleet (server, partner-berlin, partner-tbilisi with S4
    drift and a relay bound to 0.0.0.0, partner-almaty with spelling
    warnings), copied under ``tmp_path``."""
    root = tmp_path / "demo"
    shutil.copytree(paths.DEMO, root)
    return Fleet(root)
