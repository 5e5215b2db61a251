"""Safe YAML loading: a key repeated in one mapping is an error naming both
lines, in every settings file awgcheck reads (inventory, rules, waivers,
awgcheck.yaml), through the real CLI.

Compose files and params documents are read from the composed tree and
judge a repeated key as their own tools do: Compose refuses the file
(tests/assets/compose/yaml-duplicate-*, checked against the real Compose
binary), a params document keeps the last value with a warning
(tests/parse/test_paramsdoc.py).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from awgcheck import inventory, yamlfile
from awgcheck.cli.main import main
from awgcheck.errors import InventoryError
from tests.paths import DEMO


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert isinstance(result.exception, SystemExit | None), result.exception
    return result.exit_code, result.stderr


@pytest.mark.parametrize(("text", "message"), [
    ("a: 1\nb: 2\na: 3\n", "line 3: not valid YAML: duplicate key 'a' (first defined at line 1)"),
    ("x:\n  - {k: 1}\n  - k: 1\n    j: 2\n    k: 3\n",
     "line 5: not valid YAML: duplicate key 'k' (first defined at line 3)"),
    # The same key to the dict, though spelt apart.
    ("flags:\n  yes: 1\n  true: 2\n", "line 3: not valid YAML: duplicate key 'true' "
                                      "(first defined at line 2)"),
    ("{1: a, 0x1: b}\n", "line 1: not valid YAML: duplicate key '0x1' (first defined at line 1)"),
], ids=["top-level", "nested-in-list", "yes-is-true", "same-int"])
def test_yamlfile_duplicate_key_names_both_lines(text: str, message: str) -> None:
    with pytest.raises(InventoryError) as caught:
        yamlfile.load(text, "f.yaml", InventoryError)
    assert str(caught.value) == f"f.yaml: {message}"


@pytest.mark.parametrize("text", [
    "base: &b {a: 1, c: 1}\nuse:\n  <<: *b\n  a: 2\n",  # setting a merged key overrides it
    "x: {a: 1}\ny: {a: 1}\n",  # the same key in two mappings
    "a: 1\n'a ': 2\n",
], ids=["merge-override", "two-mappings", "different-text"])
def test_yamlfile_no_repeat_loads(text: str) -> None:
    assert isinstance(yamlfile.load(text, "f.yaml", InventoryError), dict)


def test_yamlfile_composed_tree_keeps_repeats_for_its_reader() -> None:
    # Compose and params documents judge repeats themselves (see the docstring).
    node = yamlfile.compose("a: 1\na: 2\n")
    assert node is not None and [k.value for k, _ in node.value] == ["a", "a"]


def _demo(tmp_path: Path) -> Path:
    shutil.copytree(DEMO, tmp_path / "demo")
    return tmp_path / "demo"


def test_cli_inventory_duplicate_node_is_a_usage_error(tmp_path: Path) -> None:
    demo = _demo(tmp_path)
    fleet = demo / "fleet.yaml"
    text = fleet.read_text()
    fleet.write_text(text + "  partner-berlin:\n    local: nodes/partner-almaty\n")
    first = text.splitlines().index("  partner-berlin:") + 1
    last = len(text.splitlines()) + 1
    code, err = _cli("check", "-i", str(fleet))
    assert code == 2
    shown = (f"fleet.yaml: line {last}: not valid YAML: duplicate key 'partner-berlin' "
             f"(first defined at line {first})")
    assert err == f"awgcheck: error: {fleet.parent}/{shown}\n"
    # docs/inventory.md shows such a run; tests/test_doc_examples.py runs it.


def test_cli_rule_file_duplicate_key_is_a_usage_error(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - id: s4-set\n    type: required\n    params: [S4]\n"
                     "    severity: error\n    severity: info\n")
    code, err = _cli("check", "-i", str(DEMO / "fleet.yaml"), "--rules", str(rules))
    assert code == 2
    assert ("rules.yaml: line 6: not valid YAML: duplicate key 'severity' "
            "(first defined at line 5)") in err


def test_cli_gate_config_duplicate_key_is_a_usage_error(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    (tmp_path / "awg0.conf").write_text("[Interface]\nS4 = 18\n")
    (tmp_path / "awgcheck.yaml").write_text("source: awg0.conf\nconsumers:\n  confs: [a]\n"
                                            "source: other.conf\n")
    monkeypatch.chdir(tmp_path)
    code, err = _cli("gate")
    assert code == 2
    assert ("awgcheck.yaml: line 4: not valid YAML: duplicate key 'source' "
            "(first defined at line 1)") in err


def test_cli_waivers_file_duplicate_key_is_a_usage_error(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n  - nodes: partner-almaty\n    rule: side-local-drift\n"
                       "    reason: moved\n    expires: 2099-01-01\n"
                       "    nodes: partner-berlin\n")
    code, err = _cli("check", "-i", str(DEMO / "fleet.yaml"), "--waivers", str(waivers))
    assert code == 2
    assert ("waivers.yaml: line 6: not valid YAML: duplicate key 'nodes' "
            "(first defined at line 2)") in err


def test_yamlfile_fleet_scale_inventory_is_no_alias_bomb(tmp_path: Path) -> None:
    # 10,000 nodes of 7 fields are 150,000 YAML nodes written out: the alias
    # budget (100,000 copied nodes) must not refuse them.
    lines = ["source: n0", "nodes:"]
    for i in range(10_000):
        lines += [f"  n{i}:", "    host: 192.0.2.1", f"    port: {1024 + i}", "    user: audit",
                  "    sudo: true", f"    conf: /etc/n{i}/awg0.conf", "    interface: awg0"]
    path = tmp_path / "fleet.yaml"
    path.write_text("\n".join(lines) + "\n")
    fleet = inventory.load(path)
    assert len(fleet.nodes) == 10_000 and fleet.node("n9999").port == 11023


@pytest.mark.parametrize("aliases", [1_000, 1_001])
def test_yamlfile_alias_copies_are_counted(aliases: int) -> None:
    # 100 nodes under an anchor, copied by each alias: 1,000 copies are the
    # budget, one more is refused; the nodes written out are not counted.
    text = "a: &a [" + ", ".join(["x"] * 99) + "]\nb: [" + ", ".join(["*a"] * aliases) + "]\n"
    if aliases * 100 <= 100_000:
        assert len(yamlfile.safe_load(text)["b"]) == aliases  # type: ignore[index]
    else:
        with pytest.raises(yaml.YAMLError, match="expands to more than 100,000 nodes"):
            yamlfile.safe_load(text)
