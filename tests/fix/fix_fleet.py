"""Shared helpers of the fix tests: a fleet of the demo server and one
node with planted drift, and the oracles every fix must satisfy (the real
``patch`` and ``git apply`` apply the diff, ``check`` then passes, no
other byte changed, no secret printed)."""

from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import paths
import yaml
from in_process import awgcheck_bytes as awgcheck

CONF = "etc/amnezia/amneziawg/awg0.conf"
BERLIN = (paths.DEMO / "nodes" / "partner-berlin" / CONF).read_bytes()
"""A node in sync with the demo server: every drift is planted into it."""

_KEY_LINE = re.compile(rb"^\s*(PrivateKey|PresharedKey|HeaderProtectionKey)\s*=\s*(\S+)",
                       re.M | re.I)


def secrets_of(*confs: bytes) -> set[bytes]:
    """Every secret value written in ``confs``."""
    return {m.group(2) for conf in confs for m in _KEY_LINE.finditer(conf)}


SECRETS = secrets_of(BERLIN, (paths.DEMO / "nodes" / "server" / CONF).read_bytes())


def make_fleet(tmp_path: Path, conf: bytes, *, source: bytes | None = None) -> Path:
    """An inventory: the demo server (or ``source``) and node ``edge``
    holding ``conf``, both local trees."""
    server = tmp_path / "nodes" / "server"
    shutil.copytree(paths.DEMO / "nodes" / "server", server)
    if source is not None:
        (server / CONF).write_bytes(source)
    edge = tmp_path / "nodes" / "edge" / CONF
    edge.parent.mkdir(parents=True)
    edge.write_bytes(conf)
    edge.chmod(0o600)
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "server", "nodes": {
        "server": {"local": "nodes/server"}, "edge": {"local": "nodes/edge"}}}))
    return inventory


def fix_json(inventory: Path, *extra: str) -> dict[str, Any]:
    done = awgcheck("fix", "edge", "-i", str(inventory), "--format", "json", *extra)
    assert done.returncode in (0, 1), done.stderr
    assert_no_secret(done.stdout + done.stderr)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def assert_no_secret(output: bytes) -> None:
    for secret in SECRETS:
        assert secret not in output


def apply_with(tool: str, tree: Path, diff: bytes) -> bytes:
    """``diff`` applied to a copy of ``tree`` by the real ``patch`` (no
    fuzz) or ``git apply``; the conf it leaves."""
    copy = tree.parent / f"{tree.name}-{tool}"
    shutil.copytree(tree, copy)
    argv = (["patch", "-p1", "--fuzz=0", "--no-backup-if-mismatch", "--batch"]
            if tool == "patch" else ["git", "apply", "--unidiff-zero", "-p1", "-"])
    done = subprocess.run(argv, cwd=copy, input=diff, capture_output=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return (copy / CONF).read_bytes()


def assert_only_edited(before: bytes, after: bytes, edits: list[dict[str, Any]]) -> None:
    """Every line that differs is a line an edit names, with the edit's new
    text: the other lines (terminators included) are the same bytes."""
    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    touched = {e["line"] for e in edits if e["action"] != "add"}
    written = [e["new"] for e in edits if e["new"] is not None]
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        assert set(range(i1 + 1, i2 + 1)) <= touched, (tag, old[i1:i2], new[j1:j2])
        for line in new[j1:j2]:
            assert line.rstrip(b"\r\n").decode() in written, line


def check_passes(inventory: Path, *extra: str) -> None:
    done = awgcheck("check", "-i", str(inventory), "--node", "edge", "--format", "json",
                    *extra)
    report = json.loads(done.stdout)
    failing = [f for f in report["findings"] if f["status"] == "fail"
               and f["severity"] in ("error", "critical")]
    assert done.returncode == 0, failing
