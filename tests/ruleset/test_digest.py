"""The rules digest: the same definitions give the same digest whatever the
files, their order and formatting; any change to a rule changes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from awgcheck.ruleset import digest
from awgcheck.ruleset import load as ruleset

SHIPPED = ruleset.load_shipped()


def catalog() -> list[dict[str, Any]]:
    """Every shipped rule's mapping, as written."""
    folder = Path(__file__).resolve().parents[2] / "rules"
    return [rule for file in sorted(folder.glob("*.yaml"))
            for rule in yaml.safe_load(file.read_text())["rules"]]


def write(folder: Path, files: dict[str, list[dict[str, Any]]], **dump: Any) -> Path:
    folder.mkdir()
    for name, rules in files.items():
        (folder / name).write_text(yaml.safe_dump({"rules": rules}, **dump))
    return folder


def test_digest_is_stable_and_whole() -> None:
    again = ruleset.load_shipped().digest
    assert SHIPPED.digest == again
    assert SHIPPED.digest.startswith("sha256:") and len(SHIPPED.digest) == len("sha256:") + 64


def test_digest_ignores_files_order_and_formatting(tmp_path: Path) -> None:
    rules = catalog()
    # One file, rules reversed, keys sorted, flow style: the same definitions.
    folder = write(tmp_path / "one", {"all.yaml": rules[::-1]}, default_flow_style=True,
                   sort_keys=True, width=1000)
    assert ruleset.load_paths([folder]).digest == SHIPPED.digest
    # Two files in the other order, block style with the keys as written.
    split = len(rules) // 2
    folder = write(tmp_path / "two", {"b.yaml": rules[:split], "a.yaml": rules[split:]},
                   sort_keys=False)
    assert ruleset.load_paths([folder]).digest == SHIPPED.digest


@pytest.mark.parametrize(("key", "value"), [
    ("description", "Changed wording."),
    ("severity", "info"),
    ("tags", ["extra"]),
], ids=["description", "severity", "new-key"])
def test_digest_changes_with_any_key_of_any_rule(tmp_path: Path, key: str,
                                                 value: object) -> None:
    rules = catalog()
    rules[-1] = {**rules[-1], key: value}
    folder = write(tmp_path / "changed", {"all.yaml": rules})
    assert ruleset.load_paths([folder]).digest != SHIPPED.digest


def test_digest_covers_only_the_rules_loaded(tmp_path: Path) -> None:
    folder = write(tmp_path / "fewer", {"all.yaml": catalog()[:-1]})
    assert ruleset.load_paths([folder]).digest != SHIPPED.digest


def test_digest_canonical_form_keeps_key_types_apart() -> None:
    assert digest.canonical({"b": 1, "a": [True, None]}) == '{"a":[true,null],"b":1}'
    assert digest.of_rule({1: "x"}) != digest.of_rule({"1": "x"})
