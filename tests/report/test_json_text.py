"""json_text.dumps writes exactly what json.dumps(indent=2, ensure_ascii=False) does."""

from __future__ import annotations

import json
import subprocess
import sys
from enum import IntEnum
from typing import Any

import pytest

from awgcheck.model import Status
from awgcheck.report import json_text
from tests.paths import DEMO


class _Level(IntEnum):
    LOW = 1


CASES: list[tuple[str, Any]] = [
    ("empty-dict", {}),
    ("empty-list", []),
    ("empty-containers-nested", {"a": [], "b": {}, "c": [[], [{}]]}),
    ("scalars", [0, -1, 10**40, 1.5, -0.0, 1e300, True, False, None, ""]),
    ("not-numbers", [float("nan"), float("inf"), float("-inf")]),
    ("text-escapes", ["é", "\n\t\x1b\x00", '"quoted" \\ back', "\u2028 \ud83d\ude00 😀",
                      "\udcff lone surrogate"]),
    ("str-enum-and-int-enum", {"status": Status.FAIL, "level": _Level.LOW}),
    ("non-text-keys", {1: "a", 2.5: "b", None: "d", "k": "e"}),
    ("bool-keys", {True: "t", False: "f"}),
    ("tuples-as-lists", {"t": (1, (2, ("x",)), ())}),
    ("deep", {"a": {"b": {"c": {"d": [1, {"e": None}]}}}}),
]


@pytest.mark.parametrize("value", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_json_text_matches_the_standard_library(value: Any) -> None:
    assert json_text.dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)
    assert "".join(json_text.chunks(value, "\n")) == json.dumps(
        value, indent=2, ensure_ascii=False) + "\n"


def test_json_text_makes_a_piece_per_item_of_a_top_level_list() -> None:
    """A report is written a finding at a time, never held whole."""
    findings = ({"rule": "r", "n": n} for n in range(1000))
    made = list(json_text.chunks({"summary": {"n": 1000}, "findings": findings}))
    assert len(made) > 1000
    assert max(len(piece) for piece in made) < 100


@pytest.mark.parametrize("value", [{"x": object()}, [b"bytes"], {(1, 2): "tuple key"}],
                         ids=["object", "bytes", "tuple-key"])
def test_json_text_refuses_what_json_refuses(value: Any) -> None:
    with pytest.raises(TypeError):
        json.dumps(value, indent=2, ensure_ascii=False)
    with pytest.raises(TypeError):
        json_text.dumps(value)


def test_json_text_writes_the_demo_report_as_json_would() -> None:
    done = subprocess.run([sys.executable, "-m", "awgcheck", "check", "-i",
                           str(DEMO / "fleet.yaml"), "--format", "json"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr  # the demo fleet's drift
    report = json.loads(done.stdout)
    assert len(report["findings"]) > 100
    assert done.stdout == json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def test_json_text_writes_an_iterator_as_its_list() -> None:
    items = [{"a": 1, "b": [None, {"c": "d"}]}, 2, [], {}]
    assert json_text.dumps({"x": iter(items), "y": iter([])}) == json.dumps(
        {"x": items, "y": []}, indent=2, ensure_ascii=False)
