"""One check and one wording of an unknown key, whichever file has it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from awgcheck import inventory
from awgcheck.errors import InventoryError, RuleError
from awgcheck.known_keys import mapping_fields, refuse_unknown

KEY = "6Bq3c0L7oY2d4PVs8kFJk0Pw6Qz3bR1mN9aT5xY7uE0="


def test_an_unknown_key_is_named_with_what_is_allowed() -> None:
    with pytest.raises(RuleError, match=r"^r\.yaml:3: unknown key 'sevrity' "
                                        r"\(allowed: id, severity\)$"):
        refuse_unknown({"id": 1, "sevrity": 2}, ("id", "severity"), "r.yaml:3", RuleError)


def test_a_key_yaml_read_as_a_boolean_is_explained_in_an_inventory_too(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text("source: a\nnodes:\n  a:\n    local: .\n    on: x\n")
    with pytest.raises(InventoryError, match=r"unknown key 'True' .*quote the key"):
        inventory.load(path)


def test_a_secret_pasted_as_a_key_is_not_shown() -> None:
    with pytest.raises(InventoryError) as raised:
        refuse_unknown([f"PrivateKey={KEY}"], ("name",), "fleet.yaml", InventoryError)
    assert KEY not in str(raised.value)
    assert "PrivateKey=sha256:" in str(raised.value)


def test_a_yaml_mapping_s_unknown_key_is_placed_on_its_own_line() -> None:
    node = yaml.compose("name: a\npublic_key: b\n[1, 2]: c\n")
    assert isinstance(node, yaml.MappingNode)
    with pytest.raises(InventoryError, match=r"^f:3: unknown key '\(not text\)' "
                                             r"\(allowed: name, public_key\)$"):
        mapping_fields(node, ("name", "public_key"),
                    lambda part: f"f:{part.start_mark.line + 1}", InventoryError)
    fine = yaml.compose("name: a\npublic_key: b\n")
    assert isinstance(fine, yaml.MappingNode)
    fields = mapping_fields(fine, ("name", "public_key"), str, InventoryError)
    assert {key: value.value for key, value in fields.items()} == {"name": "a", "public_key": "b"}
