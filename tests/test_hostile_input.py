"""Hostile input through the real CLI: bombs stay within time and memory,
crash classes become diagnostics, never a traceback or a lost run.

Each case builds a copy of the demo fleet with one bad file and runs
``python -m awgcheck`` in a subprocess under an address-space limit, so a
memory bomb fails the test instead of the machine. Limits:
awgcheck/limits.py, docs/reports.md ("Limits").
"""

from __future__ import annotations

import resource
import shutil
import string
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.paths import DEMO

BIG = "1" + "0" * 5000  # past Python's 4,300-digit str -> int limit
MEMORY = 1024 * 1024 * 1024  # address space for one run (baseline ~300 MB of mappings)
SECONDS = 15.0  # generous on a shared machine; each run takes ~2 s when bounded
CONF = "nodes/partner-berlin/etc/amnezia/amneziawg/awg0.conf"
SOURCE_CONF = "nodes/server/etc/amnezia/amneziawg/awg0.conf"
EDGE = "nodes/partner-berlin/opt/partner-edge"


def _sub(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _check(d: Path, *extra: str) -> list[str]:
    return ["check", "-i", str(d / "fleet.yaml"), "--timeout", "5", *extra]


def _alias_bomb(d: Path) -> list[str]:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join(["*" + prev] * 9) + "]")
    text = "\n".join(lines) + "\nservices:\n  x:\n    image: busybox\n    labels: *i\n"
    assert len(text) < 600
    (d / EDGE / "compose.yaml").write_text(text)
    return _check(d)


def _dotenv_doubling(d: Path) -> list[str]:
    names = [a + b for a in string.ascii_uppercase for b in string.ascii_uppercase][:40]
    lines, prev = ["A=xxxxxxxx"], "A"
    for name in names:
        lines.append(f"{name}=${prev}${prev}")
        prev = name
    (d / EDGE / ".env").write_text("\n".join(lines) + "\n")
    return _check(d)


def _long_line(d: Path) -> list[str]:
    _sub(d / CONF, "I1 = ", "I1 = <b 0x" + "ab" * 500_000 + "> ")
    return _check(d)


def _duplicates(d: Path) -> list[str]:
    _sub(d / CONF, "Jc = 4", "Jc = 4\n" + "Jc=5\n" * 170_000)
    # The outcome cap is tested here, not the deadline: reading and checking
    # 170,000 lines take about 5 s on a busy machine, and one deadline now
    # bounds both (tests/test_node_deadline.py).
    return _check(d, "--node", "partner-berlin", "--timeout", "30")


def _catastrophic_rule(pattern: str) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        _sub(d / CONF, "S1 = 52", "S1 = 52\nI2 = " + "a" * 40 + "!")
        (d / "rule.yaml").write_text(
            "rules:\n  - id: evil\n    title: t\n    severity: error\n    description: d\n"
            "    remediation: r\n    select: {artifact: conf, section: any, params: [I2]}\n"
            f"    check: {{type: regex, pattern: '{pattern}', mode: must-match}}\n")
        return ["check", "-i", str(d / "fleet.yaml"), "--timeout", "3",
                "--rules", str(d / "rule.yaml")]
    return build


def _conf_value(old: str, new: str, *, path: str = CONF,
                command: str = "check") -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        _sub(d / path, old, new)
        if command == "inspect":
            return ["inspect", "conf", str(d / path)]
        if command == "diff":
            return ["diff", str(d / path), str(d / SOURCE_CONF)]
        return _check(d)
    return build


def _compose_value(value: str, *, inspect: bool = False) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        _sub(d / EDGE / "compose.yaml", 'RELAY_PORT: "7000"', value)
        if inspect:
            return ["inspect", "compose", str(d / EDGE / "compose.yaml")]
        return _check(d)
    return build


def _include_loop(d: Path) -> list[str]:
    _sub(d / EDGE / "compose.yaml", "\nservices:", "\ninclude: [compose.yaml]\nservices:")
    return _check(d)


def _dotenv(text: str) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        (d / EDGE / ".env").write_text(text)
        return _check(d)
    return build


def _params_source(text: str) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        (d / "params.json").write_text(text)
        _sub(d / "fleet.yaml", "source: server", "source: params.json")
        return _check(d)
    return build


def _inventory_tail(text: str) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        (d / "fleet.yaml").write_text((d / "fleet.yaml").read_text() + text)
        return _check(d)
    return build


def _inventory_port(d: Path) -> list[str]:
    _sub(d / "fleet.yaml", "  partner-almaty:\n    local: nodes/partner-almaty",
         f"  partner-almaty:\n    host: 127.0.0.1\n    port: {BIG}")
    return _check(d)


def _rule_option(d: Path) -> list[str]:
    (d / "r.yaml").write_text(
        "rules:\n  - id: r\n    title: t\n    severity: error\n    description: d\n"
        "    remediation: r\n    select: {artifact: conf, section: any, params: [Jc]}\n"
        f"    check: {{type: range, min: {BIG}}}\n")
    return _check(d, "--rules", str(d / "r.yaml"))


@dataclass(frozen=True)
class Case:
    build: Callable[[Path], list[str]]
    exit_codes: tuple[int, ...]
    says: str  # in stdout+stderr: the diagnostic that names the problem
    never: str = ""  # in neither: a secret the input plants


DEEP = "[" * 1000 + "]" * 1000
NESTED = "${A:-" * 400 + "x" + "}" * 400
CASES = {
    # item 3: memory and time bombs
    "compose-alias-bomb": Case(_alias_bomb, (1,), "expands to more than 100,000 nodes"),
    "dotenv-doubling": Case(_dotenv_doubling, (1,), "exceeds 65,536 characters"),
    "table-1mb-line": Case(_long_line, (1,), "chars after)"),
    # Secrets are looked for after every name of a command: 100,000 of them
    # must not be a quadratic scan (a PostUp is scrubbed before it is shown).
    "postup-100k-assignments": Case(_conf_value(
        "Jc = 4", "Jc = 4\nPostUp = " + "a=" * 100_000 + " password=planted99",
        command="inspect"), (0,), "PostUp", never="planted99"),
    "postup-6k-digest-like-values": Case(_conf_value(
        "Jc = 4", "Jc = 4\nPostUp = " + "password=sha256:" * 6_000 + " token=planted97",
        command="inspect"), (0,), "PostUp", never="planted97"),
    "postup-33k-user-flags": Case(_conf_value(
        "Jc = 4", "Jc = 4\nPostUp = " + "-u=" * 33_333 + " curl -u a:planted98",
        command="inspect"), (0,), "PostUp", never="planted98"),
    "170k-duplicate-lines": Case(_duplicates, (1,), "more like these"),
    "nested-quantifier-rule": Case(_catastrophic_rule("^(<t>)?(a+)+$"), (2,),
                                   "repeats a group that itself repeats"),
    "catastrophic-rule-deadline": Case(_catastrophic_rule("^(a|aa)+$"), (4, 5),
                                       "did not finish within the node's 3 s deadline"),
    # item 7: crash classes
    "conf-int-5000-digits": Case(_conf_value("Jc = 4", f"Jc = {BIG}"), (1,), "Unable to parse Jc"),
    "conf-range-5000-digits": Case(_conf_value("H1 = 1020325451-1020325461", f"H1 = 1-{BIG}"),
                                   (1,), "line 13"),
    "source-conf-5000-digits": Case(_conf_value("Jc = 4", f"Jc = {BIG}", path=SOURCE_CONF),
                                    (1,), "Unable to parse Jc"),
    "conf-unicode-digit": Case(_conf_value("Jc = 4", "Jc = \u00b2"), (1,), "Unable to parse Jc"),
    "diff-5000-digits": Case(_conf_value("Jc = 4", f"Jc = {BIG}", command="diff"), (1,), "Jc"),
    "inspect-escape-in-number": Case(_conf_value("Jc = 4", "Jc = 4\x1b[31m", command="inspect"),
                                     (0, 1), "Jc"),
    "inspect-escape-in-float": Case(_conf_value("Jc = 4", "Jc = 1e5\x1b[0m", command="inspect"),
                                    (0, 1), "Jc"),
    "params-json-5000-digits": Case(_params_source('{"epoch": 1, "params": {"Jc": ' + BIG + "}}"),
                                    (1,), "params.json"),
    "params-nested-1000": Case(_params_source(DEEP), (1, 2, 4, 5), "params.json"),
    "compose-int-5000-digits": Case(_compose_value(f"RELAY_PORT: {BIG}"), (1,), "partner-tbilisi"),
    "compose-nested-1000": Case(_compose_value(f"RELAY_PORT: {DEEP}"), (1,),
                                "nested deeper than 64 levels"),
    "compose-self-anchor": Case(_compose_value("RELAY_X: &a [*a]"), (1,),
                                "refers to the node that contains it"),
    "compose-include-loop": Case(_include_loop, (1,), "include cycle"),
    "compose-interpolation-400-deep": Case(_compose_value(f"RELAY_PORT: {NESTED}"), (1,),
                                           "nested deeper than 32 levels"),
    "dotenv-interpolation-400-deep": Case(_dotenv(f"MESH_IP={NESTED}\n"), (1,),
                                          "nested deeper than 32 levels"),
    "inspect-compose-nested-1000": Case(_compose_value(f"RELAY_PORT: {DEEP}", inspect=True),
                                        (0, 1, 2), "nested deeper than 64 levels"),
    "inspect-compose-5000-digits": Case(_compose_value(f"RELAY_PORT: {BIG}", inspect=True),
                                        (0, 1), "RELAY_PORT"),
    "inventory-port-5000-digits": Case(_inventory_port, (2,), "integer longer than 64 digits"),
    "inventory-nested-1000": Case(_inventory_tail(f"description: {DEEP}\n"), (2,),
                                  "fleet.yaml: line 26: not valid YAML: nested deeper"),
    "inventory-self-anchor": Case(_inventory_tail("x: &a [*a]\n"), (2,),
                                  "refers to the node that contains it"),
    # PyYAML raised a bare ValueError for a date-shaped value that is no date.
    "inventory-impossible-date": Case(_inventory_tail("    description: 2025-02-30\n"), (1,),
                                      "partner-tbilisi: FAIL"),
    "waiver-impossible-date": Case(
        _inventory_tail("waivers:\n  - {nodes: x, rule: r, reason: y, expires: 2025-02-30}\n"),
        (2,), "fleet.yaml:27: waiver 1: key 'expires' must be a date YYYY-MM-DD"),
    "rule-option-5000-digits": Case(_rule_option, (2,), "r.yaml: line 8"),
}


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_hostile_input_bounded_and_reported(case: Case, tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    shutil.copytree(DEMO, fleet)
    args = case.build(fleet)
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "awgcheck", *args], capture_output=True,
                         text=True, errors="replace", timeout=120, preexec_fn=_limit_memory,
                         check=False)
    elapsed = time.monotonic() - started
    output = run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    assert "internal_error" not in output
    assert run.returncode in case.exit_codes, output[-2000:]
    assert case.says in output, output[-3000:]
    assert not case.never or case.never not in output
    assert elapsed < SECONDS
    assert len(run.stdout) < 200_000  # a bounded report
