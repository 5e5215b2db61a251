"""The fast slice of the fuzz run, in the normal suite.

Every reader gets a fixed number of inputs from a fixed seed (so a failure
reproduces: ``python -m tests.fuzz --reader R --seed 11 --only INDEX``);
the long run is ``python -m tests.fuzz --count 50000`` (docs/security.md).

:data:`KNOWN` lists failure classes known and not yet fixed (none today);
an input failing only in those classes does not fail this slice. Each class
the harness ever found also has a small pinned input below, a regression
test that must hold no failure at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from .harness import DEADLINE, Result, generate, judge, run_one
from .mutate import Mutated
from .targets import ASSETS, SERVER_CONF, TARGETS, Files, Scratch, Target

SEED = 11
INPUTS = {"conf": 60, "params": 50, "compose": 60, "runtime": 50, "inventory": 40,
          "rules": 30, "gate-config": 60, "ssh-config": 80}


@dataclass(frozen=True)
class Known:
    """A failure class owned by another item of issue 11."""

    item: str
    why: str
    failure: str  # regex over the failure class
    detail: str = ""  # regex the result's detail must match too

    def covers(self, failure: str, result: Result) -> bool:
        return bool(re.fullmatch(self.failure, failure) and re.search(self.detail,
                                                                       result.detail))


KNOWN: tuple[Known, ...] = ()


def unexplained(result: Result) -> list[str]:
    return [f for f in result.failures if not any(k.covers(f, result) for k in KNOWN)]


@pytest.mark.parametrize("reader", sorted(INPUTS))
def test_fuzz_reader_holds_invariants(reader: str, tmp_path: Path) -> None:
    target = TARGETS[reader]
    scratch = Scratch(tmp_path)
    bad = []
    for index in range(INPUTS[reader]):
        result = run_one(target, generate(target, SEED, index), index, scratch)
        if unexplained(result):
            bad.append(f"input {index} ({', '.join(result.ops)}): "
                       f"{', '.join(unexplained(result))}: {result.detail}")
    assert not bad, "\n".join(bad)


def test_fuzz_covers_every_reader() -> None:
    assert set(INPUTS) == set(TARGETS)


# --- the known classes, one pinned input each ------------------------------------


def _conf(line: bytes) -> dict[str, bytes]:
    return {"awg0.conf": SERVER_CONF.replace(b"S4 = 18\n", line + b"\n")}


SHOWCONF = (ASSETS / "runtime" / "2.0" / "showconf-go").read_bytes()


def _ssh(line: bytes) -> dict[str, bytes]:
    return {"ssh_config": b"Host vpn1\n  HostName 192.0.2.10\n" + line + b"\n"}


PINNED = {
    "bombs-huge-int": ("conf", _conf(b"S4 = " + b"9" * 5000)),
    # Each misplaced line is a finding: 36 KB of conf, 2.4 MB of table.
    "bombs-volume": ("conf", {"awg0.conf": SERVER_CONF.replace(
        b"AllowedIPs = 10.77.0.2/32\n", b"AllowedIPs = 10.77.0.2/32\n" + b"Jc = 4\n" * 5000)}),
    "bombs-deep-yaml": ("inventory", {"fleet.yaml": b"nodes: " + b"[" * 3000}),
    "secrets-joined-line": ("runtime", {
        "dump": (ASSETS / "runtime" / "2.0" / "dump").read_bytes(),
        "showconf": SHOWCONF.replace(b"51820\nPrivateKey", b"51820\x08PrivateKey")}),
    "escaping-control": ("conf", _conf(b"S4 = 17\x1b[2J")),
    "escaping-surrogate": ("conf", _conf(b"S4 = 17\xff")),
    "escaping-junit": ("conf", _conf(b"S4 = 17\x08")),
    # 5,000 duplicate keys: the compose reader's diagnostics were deduplicated
    # by a list scan, quadratic (seed 7, compose inputs 359, 570, 677).
    "bombs-duplicate-keys": ("compose", {"compose.yaml": (
        b"services:\n  app:\n    image: busybox\n    environment:\n"
        + b"      Q4: ${Q4-<unset>}\n" * 5000)}),
    # paramiko's "Unparsable line" message quotes the line raw.
    "escaping-error-message": ("ssh-config", _ssh(b"\x08Host *")),
    # The ssh_config reader (seed 5): a Unicode digit and a NUL in a port,
    # bytes that are not UTF-8 in the host name hashed for %C.
    "ssh-config-port-unicode": ("ssh-config", _ssh(b"  Port 2\xc2\xb2201")),
    "ssh-config-port-nul": ("ssh-config", _ssh(b"  Port x\x00y")),
    "ssh-config-hostname-bytes": ("ssh-config", _ssh(b"Host vpn2\n  HostName h\xff")),
}


@pytest.mark.parametrize("case", sorted(PINNED))
def test_fuzz_known_class_fixed(case: str, tmp_path: Path) -> None:
    reader, files = PINNED[case]
    # Unchanged seeds (seed=None): every secret the files hold is looked for.
    result = run_one(TARGETS[reader], Mutated(files, next(iter(files)), ()), 0,
                     Scratch(tmp_path), DEADLINE)
    assert not result.failures, result.detail


# --- the harness judges what it should -------------------------------------------


def test_fuzz_judge_flags_a_shown_secret_and_bad_formats() -> None:
    files = {"awg0.conf": SERVER_CONF}
    secret = "cjjYCtF/znRjGiPd8Hb0wA3bOu3OkbGfI4F+wF21Lrw="
    assert secret.encode() in SERVER_CONF
    failures, details = judge({"table": f"key {secret}", "json": "{", "junit": "<a>",
                               "markdown": "a\x1b[31m", "github": "\udcff"}, files)
    assert set(failures) == {"secret:table", "parse:json", "parse:junit", "control:markdown",
                             "encode:github"}
    assert not any(secret in d for d in details)


def test_fuzz_secret_renamed_by_the_input_is_no_longer_one() -> None:
    renamed = SERVER_CONF.replace(b"PrivateKey =", b"Comment =")
    secret = "cjjYCtF/znRjGiPd8Hb0wA3bOu3OkbGfI4F+wF21Lrw="
    assert judge({"table": secret}, {"awg0.conf": renamed}) == ([], [])


def test_fuzz_foreign_exception_is_a_failure(tmp_path: Path) -> None:
    def broken(files: Files, scratch: Scratch) -> dict[str, str]:
        raise KeyError("boom")

    target = Target("broken", "a reader with a bug", broken, lambda: [{"x": b""}])
    result = run_one(target, Mutated({"x": b""}, "x", ()), 0, Scratch(tmp_path))
    assert result.failures == ("uncaught:KeyError",)


def test_fuzz_hang_is_cut_at_the_deadline(tmp_path: Path) -> None:
    def slow(files: Files, scratch: Scratch) -> dict[str, str]:
        while True:
            pass

    target = Target("slow", "a reader that never returns", slow, lambda: [{"x": b""}])
    result = run_one(target, Mutated({"x": b""}, "x", ()), 0, Scratch(tmp_path), 0.2)
    assert result.failures == ("hang",)
    assert result.seconds < 2
