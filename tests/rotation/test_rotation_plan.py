"""``awgcheck plan``: steps whose predicted effects are the symptom table's
rows, whose check commands pass once the step is done, and errors that
name the rule or the node."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import paths
import pytest
import yaml
from click.testing import CliRunner

from awgcheck import params, symptoms
from awgcheck.cli.main import main

ASSETS = paths.ASSETS / "rotation"
DEMO = paths.DEMO / "fleet.yaml"
CONF = "etc/amnezia/amneziawg/awg0.conf"
OTHERS = ["partner-berlin", "partner-tbilisi", "partner-almaty"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def plan_json(new: Path, inventory: Path = DEMO) -> dict[str, Any]:
    code, out, err = run("plan", "--to", str(new), "-i", str(inventory), "--format", "json")
    assert (code, err) == (0, ""), err
    return json.loads(out)  # type: ignore[no-any-return]


def test_plan_demo_step_effects_are_the_symptom_table_rows() -> None:
    """Each step predicts exactly the rows of symptoms.py for the params it
    changes: the same id, text and expectation, nothing else."""
    plan = plan_json(ASSETS / "swap-h1-h2.json")
    assert plan["steps"]
    for step in plan["steps"]:
        rows = {symptoms.class_of(c["param"]) for c in step["changes"]}
        assert None not in rows
        expected = [{"mismatch": row.id, "symptom": row.symptom, "expects": row.expects.value}
                    for row in (*symptoms.CLASSES, symptoms.SIDE_LOCAL) if row in rows]
        assert [{k: e[k] for k in ("mismatch", "symptom", "expects")}
                for e in step["effects"]] == expected
        for effect in step["effects"]:
            assert sorted(effect["params"]) == sorted(
                c["param"] for c in step["changes"]
                if symptoms.class_of(c["param"]).id == effect["mismatch"])  # type: ignore[union-attr]


def test_plan_demo_order_nodes_and_bundling() -> None:
    """Side-local first (the source alone, then the others), then one
    must-match row per step, mildest first, every node at once. Swapping
    H1 and H2 cannot be done one at a time (either alone overlaps the
    other): the two rows are one step."""
    steps = plan_json(ASSETS / "swap-h1-h2.json")["steps"]
    assert [(s["kind"], s["nodes"], [c["param"] for c in s["changes"]]) for s in steps] == [
        ("side-local-source", ["server"], ["Jc"]),
        ("side-local-nodes", OTHERS, ["Jc"]),
        ("must-match", ["server", *OTHERS], ["S4"]),
        ("must-match", ["server", *OTHERS], ["S1", "H1", "H2"]),
    ]
    assert [s["together"] for s in steps] == [False, False, True, True]
    assert steps[2]["tunnels"] == [["server", n] for n in OTHERS]
    assert steps[0]["tunnels"] == [] and not steps[0]["effects"][0]["dark"]
    assert steps[2]["effects"][0]["dark"]
    assert steps[0]["check"] == f"awgcheck check --inventory {DEMO} --profile protocol"
    assert steps[3]["check"] == f"awgcheck check --inventory {DEMO}"


def test_plan_drops_header_protection_before_lowering_s3() -> None:
    """The mildest row (S3) first would leave a HeaderProtectionKey with
    S3 < 12, which hpk-needs-padding refuses: the key goes first."""
    steps = plan_json(ASSETS / "drop-header-protection.yaml")["steps"]
    assert [[c["param"] for c in s["changes"]] for s in steps] == [
        ["HeaderProtectionKey"], ["S3"]]
    assert steps[0]["changes"][0]["to"] is None
    assert steps[0]["changes"][0]["from"].startswith("sha256:")  # never the key itself


def test_plan_to_the_same_params_has_no_step() -> None:
    plan = plan_json(paths.DEMO / "nodes" / "server" / CONF)
    assert plan["steps"] == []
    assert plan["preflight"] == f"awgcheck check --inventory {DEMO}"


@pytest.mark.parametrize("fmt", ["markdown", "table"])
def test_plan_text_formats_show_every_step_and_check(fmt: str) -> None:
    code, out, _ = run("plan", "--to", str(ASSETS / "swap-h1-h2.json"), "-i", str(DEMO),
                       "--format", fmt)
    assert code == 0
    assert out.count(f"awgcheck check --inventory {DEMO}") == 5  # preflight + 4 steps
    assert symptoms.class_of("S4").symptom in out.replace("\n", " ")  # type: ignore[union-attr]
    assert "2gtwTVAuutW" not in out


# --- the checks the plan names pass once each step is done ---------------------------


def _fleet(tmp_path: Path) -> Path:
    """The demo's server and three partners without compose stacks, in sync
    (tbilisi's S4 put right): a fleet the preflight passes."""
    nodes = {}
    for name in ["server", *OTHERS]:
        shutil.copytree(paths.DEMO / "nodes" / name / "etc", tmp_path / name / "etc")
        nodes[name] = {"local": name}
    conf = tmp_path / "partner-tbilisi" / CONF
    conf.write_text(conf.read_text().replace("S4 = 17", "S4 = 18"))
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "server", "defaults": {"conf": f"/{CONF}"},
                                         "nodes": nodes}))
    return inventory


def _clear_values(new: Path) -> dict[str, str | None]:
    """NEW's values in conf spelling, secrets in clear (the plan shows digests)."""
    data = yaml.safe_load(new.read_text())
    block = data.get("params") or data.get("awg")
    values: dict[str, str | None] = {}
    for key, value in block.items():
        spec = params.spec(key.replace("_", ""))
        assert spec is not None
        values[spec.name] = None if value is None else (
            ("on" if value else "off") if isinstance(value, bool) else str(value))
    return values


def _apply(conf: Path, names: list[str], values: dict[str, str | None]) -> None:
    """Set ``names`` in the conf's [Interface] as an operator would: every
    line of the key (any spelling) removed, the new one after the header."""
    lines = [ln for ln in conf.read_text().splitlines()
             if re.sub(r"\s", "", ln.split("=")[0]).lower() not in {n.lower() for n in names}
             or "=" not in ln]
    at = lines.index("[Interface]") + 1
    lines[at:at] = [f"{n} = {values[n]}" for n in names if values[n] is not None]
    conf.write_text("\n".join(lines) + "\n")


def _check(command: str, *extra: str) -> tuple[int, dict[str, Any]]:
    words = shlex.split(command)
    assert words[:2] == ["awgcheck", "check"]
    code, out, _err = run(*words[1:], "--format", "json", *extra)
    return code, json.loads(out)


@pytest.mark.parametrize("new", ["swap-h1-h2.json", "drop-header-protection.yaml"])
def test_plan_checks_pass_after_each_step_and_name_the_predicted_symptom_during_it(
        tmp_path: Path, new: str) -> None:
    """Walk the plan on a copy of the fleet: its preflight passes; half-way
    through a must-match step (the source done, the others not) `check`
    reports the lagging nodes with the very symptoms the step predicted;
    once the step is done, the step's own check command passes."""
    inventory = _fleet(tmp_path)
    plan = plan_json(ASSETS / new, inventory)
    values = _clear_values(ASSETS / new)
    assert _check(plan["preflight"])[0] == 0
    for step in plan["steps"]:
        names = [c["param"] for c in step["changes"]]
        first, *rest = step["nodes"]
        _apply(tmp_path / first / CONF, names, values)
        if step["kind"] == "must-match":
            code, report = _check(step["check"])
            assert code == 1
            seen = {(f["node"], f["symptom"]) for f in report["findings"]
                    if f["rule"] == "must-match-drift" and f["status"] == "fail"}
            assert seen == {(node, e["symptom"]) for node in rest for e in step["effects"]}
        for node in rest:
            _apply(tmp_path / node / CONF, names, values)
        code, report = _check(step["check"])
        assert code == 0, [f for f in report["findings"] if f["status"] == "fail"]


# --- errors ----------------------------------------------------------------------------


def test_plan_refuses_new_params_that_fail_a_rule_naming_it() -> None:
    code, out, err = run("plan", "--to", str(ASSETS / "s1-plus-56.json"), "-i", str(DEMO))
    assert code == 2 and out == ""
    assert "s1-plus-56.json" in err and "s1-s2-offset" in err and "Traceback" not in err


def test_plan_unreadable_source_node_is_a_clear_error(tmp_path: Path) -> None:
    inventory = _fleet(tmp_path)
    (tmp_path / "server" / CONF).unlink()
    code, out, err = run("plan", "--to", str(ASSETS / "swap-h1-h2.json"), "-i", str(inventory))
    assert code == 2 and out == ""
    assert "source of truth, node server, could not be read" in err
    assert "file_missing" in err and "Traceback" not in err


@pytest.mark.parametrize("content", [None, b'{"error": "rate limited"}', b"\x00\xff"],
                         ids=["missing", "error-reply", "binary"])
def test_plan_unreadable_new_params_is_a_clear_error(tmp_path: Path,
                                                      content: bytes | None) -> None:
    new = tmp_path / "new.json"
    if content is not None:
        new.write_bytes(content)
    code, out, err = run("plan", "--to", str(new), "-i", str(DEMO))
    assert code == 2 and out == ""
    assert f"--to {new}" in err and "Traceback" not in err


@pytest.mark.parametrize("fmt", ["conf", "epoch", "registration"])
def test_plan_takes_what_params_generate_writes(tmp_path: Path, fmt: str) -> None:
    new = tmp_path / f"new.{fmt}"
    assert run("params", "generate", "--generation", "3.1", "--format", fmt,
               "-o", str(new))[0] == 0
    steps = plan_json(new)["steps"]
    changed = {c["param"] for s in steps for c in s["changes"]}
    assert {"H1", "HeaderProtectionKey", "RandomTrailers"} <= changed
    # One S may be drawn equal to the fleet's (about one in fifty), not all four.
    assert changed & {"S1", "S2", "S3", "S4"}


def test_plan_with_a_source_file_names_no_tunnel_it_cannot_know(tmp_path: Path) -> None:
    """A source document is no end of a tunnel: the must-match step names
    every tunnel between nodes on either side of it instead."""
    inventory = _fleet(tmp_path)
    shutil.copy(tmp_path / "server" / CONF, tmp_path / "source.conf")
    fleet = yaml.safe_load(inventory.read_text())
    fleet["source"] = "source.conf"
    inventory.write_text(yaml.safe_dump(fleet))
    steps = plan_json(ASSETS / "drop-header-protection.yaml", inventory)["steps"]
    assert steps[0]["nodes"][0].endswith("source.conf")
    assert steps[0]["tunnels"] == []
    code, out, _ = run("plan", "--to", str(ASSETS / "drop-header-protection.yaml"),
                       "-i", str(inventory))
    assert code == 0
    assert "every tunnel between a node that has applied this step and one that has not" in out


def test_plan_fail_on_sets_which_rule_failures_refuse_new() -> None:
    """NEW that turns header obfuscation off fails only h-defaults (info):
    by default a warning line and a plan; with --fail-on info, refused."""
    new = str(paths.ASSETS / "params" / "epoch-zero-hpk.json")
    code, out, err = run("plan", "--to", new, "-i", str(DEMO))
    assert code == 0 and "# Rotation plan" in out
    assert err.startswith(f"awgcheck: warning: --to {new}: rule h-defaults")
    assert "(the all-zero key: unset)" in out
    code, out, err = run("plan", "--to", new, "-i", str(DEMO), "--fail-on", "info")
    assert code == 2 and out == "" and "h-defaults" in err


@pytest.mark.parametrize("fmt", ["markdown", "json", "table"])
def test_plan_escapes_control_characters_from_new(tmp_path: Path, fmt: str) -> None:
    """An I1 carrying a terminal escape reaches the plan as text, never as
    a control character (a params document: a conf with it does not pass
    i-tag-format, see below)."""
    doc = json.loads((ASSETS / "swap-h1-h2.json").read_text())
    doc["params"]["I1"] = "<b 0x01\x1bc\x07> <r 2>"
    new = tmp_path / "new.json"
    new.write_text(json.dumps(doc))
    code, out, _ = run("plan", "--to", str(new), "-i", str(DEMO), "--format", fmt)
    assert code == 0 and "I1" in out
    assert "\x1b" not in out and "\x07" not in out


def _generated_conf(tmp_path: Path) -> str:
    good = tmp_path / "good.conf"
    assert run("params", "generate", "--generation", "3.1", "-o", str(good))[0] == 0
    return good.read_text()


def _line_of(text: str, marker: str) -> int:
    """The last line holding ``marker``: the edit's (a generated S4 may be
    180, which holds the appended ``S4 = 18`` too)."""
    return max(n for n, line in enumerate(text.splitlines(), start=1) if marker in line)


# (edit of a generated conf, the rule that refuses it, the param, the line's marker)
UNLOADABLE = {
    "s4-over-u16": (lambda t: re.sub(r"(?m)^S4 = .*$", "S4 = 70000", t),
                    "conf-loads", "S4", "S4 = 70000"),
    "hex-number": (lambda t: re.sub(r"(?m)^S2 = .*$", "S2 = 0x10", t),
                   "conf-loads", "S2", "S2 = 0x10"),
    "bom": (lambda t: "\ufeff" + t, "bom", "", "\ufeff"),
    "legacy-j1": (lambda t: re.sub(r"(?m)^Jc = .*$", r"\g<0>\nJ1 = 5", t),
                  "legacy-keys", "J1", "J1 = 5"),
    "empty-value": (lambda t: re.sub(r"(?m)^S4 = .*$", "S4 =", t),
                    "empty-value", "S4", "S4 ="),
    "param-in-peer": (lambda t: t + "[Peer]\nS4 = 18\n", "obfuscation-in-peer", "S4",
                      "S4 = 18"),
    "control-character": (lambda t: re.sub(r"(?m)^Jc = .*$",
                                           "\\g<0>\nI2 = <b 0x01\x1bc> <r 4>", t),
                          "i-tag-format", "I2", "I2 = "),
}


@pytest.mark.parametrize("case", UNLOADABLE, ids=list(UNLOADABLE))
def test_plan_refuses_a_new_conf_the_rules_refuse_naming_file_line_param_and_rule(
        tmp_path: Path, case: str) -> None:
    """A NEW conf is judged by the rules ``check`` gives a conf (conf-loads
    and the hazard rules as well as the constraints), as a params document
    is by params-document-valid: one that does not load is not planned."""
    edit, rule, param, marker = UNLOADABLE[case]
    text = edit(_generated_conf(tmp_path))
    new = tmp_path / "new.conf"
    new.write_text(text, encoding="utf-8")
    code, out, err = run("plan", "--to", str(new), "-i", str(DEMO))
    assert code == 2 and out == "", err
    assert err.startswith(f"awgcheck: error: --to {new}: the new params fail ")
    assert f"rule {rule} (" in err and f"line {_line_of(text, marker)})" in err
    assert param in err and "Traceback" not in err and "\x1b" not in err


BAD_YAML = b"awg:\n  s1: 52\n  s2: [1\n"


@pytest.mark.parametrize(("name", "content", "said"), [
    ("new.yaml", BAD_YAML, "new.yaml: not a usable params document: line 4: not valid JSON "
                           "or YAML: expected ',' or ']'"),
    ("new.yml", b"[Interface]\nS1 = 52\n", "new.yml: not a usable params document: line 2: "
                                           "not valid JSON or YAML"),
    ("new.json", b"", "new.json: empty (blanks and comments only): no source of truth in it"),
    ("new.txt", BAD_YAML, "new.txt: neither an AmneziaWG conf (no [Interface]/[Peer] header "
                          "or Key = value lines) nor a params document (line 4: not valid "
                          "JSON or YAML: expected ',' or ']'"),
    ("new", b"hello\n", "new: neither an AmneziaWG conf (no [Interface]/[Peer] header or "
                        "Key = value lines) nor a params document (line 1: a params document "
                        "must be a mapping"),
], ids=["yaml-syntax-error", "conf-named-yml", "empty-json", "yaml-named-txt", "neither"])
def test_plan_names_why_new_is_no_document_by_its_name_or_content(
        tmp_path: Path, name: str, content: bytes, said: str) -> None:
    """A file named .json/.yaml/.yml is a params document: its syntax
    error is reported with its line, not as "not an AmneziaWG conf". Any
    other name is told apart by content; one that is neither says why as
    each."""
    new = tmp_path / name
    new.write_bytes(content)
    code, out, err = run("plan", "--to", str(new), "-i", str(DEMO))
    assert code == 2 and out == ""
    assert err.startswith(f"awgcheck: error: --to {new}: {tmp_path / said}"), err
