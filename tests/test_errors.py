"""ErrorClass: the stable ``error_class`` values and their documentation.

Scripts match on these values, and docs/reports.md is where they learn
them; a class added to the enum but not documented (as ``rule_error`` once
was), or documented but not in the enum, fails here. Code can only emit
enum members (``CollectError.error_class`` is an ``ErrorClass``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from awgcheck.errors import CollectError, ErrorClass
from awgcheck.model import BaselineState, Status

REPORTS_MD = Path(__file__).resolve().parents[1] / "docs" / "reports.md"


def _documented_classes() -> list[str]:
    """The first cell of every row of the table under "## Error classes"."""
    text = REPORTS_MD.read_text(encoding="utf-8")
    section = text.split("\n## Error classes\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", section, re.M)


def test_error_classes_documented_set_equals_enum() -> None:
    documented = _documented_classes()
    assert len(documented) == len(set(documented)), "a class is documented twice"
    assert set(documented) == {member.value for member in ErrorClass}


def test_error_class_serialises_as_its_value() -> None:
    error = CollectError("edge: file not found", error_class=ErrorClass.FILE_MISSING)
    assert json.dumps({"error_class": error.error_class}) == '{"error_class": "file_missing"}'
    assert f"({error.error_class})" == "(file_missing)"
    assert error.error_class == "file_missing"


def test_collect_error_defaults_to_collect_failed() -> None:
    assert CollectError("edge: broken").error_class is ErrorClass.COLLECT_FAILED


def test_every_status_and_baseline_state_is_documented() -> None:
    """Statuses and baseline states are matched on by scripts as error
    classes are: each one a report can hold is named in docs/reports.md."""
    text = REPORTS_MD.read_text(encoding="utf-8")
    undocumented = [member.value for member in (*Status, *BaselineState)
                    if f"`{member.value}`" not in text and f'"{member.value}"' not in text]
    assert not undocumented
