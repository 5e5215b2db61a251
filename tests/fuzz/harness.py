"""One fuzz input: generate it, read it, judge what came out.

The invariants (docs/security.md, "Fuzzing"):

* the reader returns, or raises awgcheck's own error
  (:class:`awgcheck.errors.AwgcheckError`); any other exception is a bug
  (``uncaught:<type>``);
* it finishes within the per-input deadline (``hang``) and the process's
  memory budget (``memory``: the long run sets ``RLIMIT_AS``);
* every text it makes awgcheck print (the error message, each report
  format) encodes as UTF-8 (``encode:<format>``), parses with the real
  parser where it is a machine format (``parse:<format>``: JSON, JUnit XML,
  SARIF against its 2.1.0 schema), holds no raw control character where a
  terminal or a markdown renderer would act on it (``control:<format>``),
  and holds none of the secrets the input carries (``secret:<format>``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import re
import signal
import time
import traceback
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema
from prometheus_client.parser import text_string_to_metric_families

from awgcheck.errors import AwgcheckError
from awgcheck.text import printable

from .mutate import Mutated, mutate
from .targets import ASSETS, Files, Outputs, Scratch, Target, planted

DEADLINE = 5.0
"""Seconds one input may take (parse, audit, every format): generous, so a
slow machine does not fail it; a hang is orders of magnitude beyond."""

# C0 controls but tab and newline, DEL, C1 controls, bidi overrides and
# isolates: bytes a terminal, a log viewer or a markdown renderer acts on.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_CHECKED = ("table", "markdown", "github", "error")


class Hang(BaseException):
    """The per-input deadline passed. A BaseException, so that no
    ``except Exception`` on the way (the engine keeps a broken check from
    sinking the run) mistakes it for the reader's own failure."""


@dataclass(frozen=True)
class Result:
    """What became of one input."""

    reader: str
    index: int
    failures: tuple[str, ...]
    seconds: float
    ops: tuple[str, ...]
    detail: str = ""


def rng(seed: int, reader: str, index: int) -> random.Random:
    """The generator of input ``index`` of ``reader`` in run ``seed``."""
    digest = hashlib.sha256(f"{seed}:{reader}:{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@cache
def seeds_of(target: Target) -> tuple[Files, ...]:
    return tuple(target.seeds())


def generate(target: Target, seed: int, index: int) -> Mutated:
    """Input ``index``: a seed of ``target``, one of its files mutated.
    Every 50th input is a seed unchanged, so the seeds keep being read."""
    rnd = rng(seed, target.name, index)
    seeds = seeds_of(target)
    files = dict(rnd.choice(seeds))
    names = target.mutable(files)
    name = rnd.choice(names)
    if index % 50 == 0:
        return Mutated(files, name, ())
    pool = [s[n] for s in seeds for n in s if n == name or len(s) == 1]
    return mutate(rnd, files, name, pool)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in the main thread after ``seconds``."""

    def expire(signum: int, frame: Any) -> None:
        raise Hang()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@cache
def _sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads((ASSETS / "sarif" / "sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft7Validator(schema)


def _parses(name: str, text: str) -> str | None:
    """Why ``text`` does not parse as format ``name``, or None."""
    try:
        if name == "json":
            json.loads(text)
        elif name == "sarif":
            error = jsonschema.exceptions.best_match(_sarif_validator().iter_errors(
                json.loads(text)))
            if error is not None:
                return f"schema: {error.message[:200]}"
        elif name == "junit":
            ElementTree.fromstring(text)
        elif name == "prometheus":
            list(text_string_to_metric_families(text))
    except (ValueError, ElementTree.ParseError) as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def judge(outputs: Outputs, files: Files, seed: Files | None = None,
          ) -> tuple[list[str], list[str]]:
    """The failure classes of what an input made awgcheck print, and a
    line of detail for each. The secrets looked for are the seed's that
    the input still holds under a secret name (a typo in the name keeps a
    private key private; a public key renamed ``PublicKez`` is not one)."""
    failures, details = [], []
    planted_values = {s.value for s in planted(seed if seed is not None else files)}
    secrets = [s for s in planted(files) if s.value in planted_values]
    for name, text in outputs.items():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            failures.append(f"encode:{name}")
            details.append(f"{name}: {exc}"[:300])
            continue
        why = _parses(name, text)
        if why is not None:
            failures.append(f"parse:{name}")
            details.append(f"{name}: {why}")
        if name in _CONTROL_CHECKED:
            found = _CONTROL.search(text)
            if found:
                failures.append(f"control:{name}")
                details.append(f"{name}: {found.group(0)!r} at {found.start()}")
        for secret in secrets:
            if secret.value in text:
                failures.append(f"secret:{name}")
                details.append(f"{name}: the {secret.file} secret {secret.fragment[:12]!r}... "
                               "is shown")
                break
    return failures, details


def run_one(target: Target, mutated: Mutated, index: int, scratch: Scratch,
            limit: float = DEADLINE) -> Result:
    """Read one input and judge it."""
    started = time.monotonic()
    failures: list[str] = []
    detail: list[str] = []
    outputs: Outputs = {}
    try:
        with deadline(limit):
            try:
                outputs = target.read(mutated.files, scratch)
            except AwgcheckError as exc:
                # Judged as the CLI prints it: escaped at that one boundary
                # (awgcheck.cli.options.user_errors), like every output.
                outputs = {"error": printable(str(exc))}
    except Hang:
        failures.append("hang")
        detail.append(f"over {limit:g} s")
    except MemoryError:
        failures.append("memory")
    except Exception as exc:
        failures.append(f"uncaught:{type(exc).__name__}")
        frames = traceback.extract_tb(exc.__traceback__)
        where = next((f"{f.filename.split('/awgcheck/')[-1]}:{f.lineno}"
                      for f in reversed(frames) if "/awgcheck/" in f.filename), "?")
        detail.append(f"{where}: {exc}"[:300])
    found, why = judge(outputs, mutated.files, mutated.seed)
    text = "; ".join(detail + why)
    for secret in planted(mutated.files):  # a failure message must not show one either
        text = text.replace(secret.value, "<planted secret>")
    return Result(target.name, index, (*failures, *found), time.monotonic() - started,
                  mutated.ops, text)
