"""Params documents: both forms, conf spelling, malformed input, source of truth."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from awgcheck import engine, params
from awgcheck.cli.main import main
from awgcheck.errors import ParseError
from awgcheck.model import ArtifactKind, Status
from awgcheck.parse import awgconf, paramsdoc
from awgcheck.ruleset import load as ruleset

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "params"
DEMO = Path(__file__).resolve().parent.parent.parent / "fixtures" / "demo"
SERVER_CONF = DEMO / "nodes" / "server" / "etc" / "amnezia" / "amneziawg" / "awg0.conf"
HPK = "2gtwTVAuutW+pbxXRX0K6mlCFQItiKz8qeS7LVj8PD0="


def _load(name: str) -> paramsdoc.ParamsDoc:
    return paramsdoc.parse((ASSETS / name).read_bytes(), name)


def test_paramsdoc_epoch_form_reads_conf_spelling() -> None:
    doc = _load("epoch.json")
    assert doc.form is paramsdoc.Form.EPOCH and doc.epoch == 42
    assert doc.diagnostics == ()
    values = doc.params()
    assert (values["S4"].raw, values["S4"].effective) == ("18", "18")
    assert values["S4"].location is not None and values["S4"].location.line == 10
    assert values["H1"].effective == "1020325451-1020325461"
    assert values["I1"].effective is not None and " <r 16> " in values["I1"].effective


def test_paramsdoc_registration_form_snake_case_yaml() -> None:
    doc = _load("registration.yaml")
    assert doc.form is paramsdoc.Form.REGISTRATION and doc.epoch is None
    assert doc.diagnostics == ()
    values = doc.params()
    assert values["RandomTrailers"].raw == "off"
    assert values["H1"].raw == "1020325451-1020325461"
    assert values["Jmin"].location is not None and values["Jmin"].location.line == 4


def test_paramsdoc_bools_render_on_off() -> None:
    doc = paramsdoc.parse(b'{"awg": {"random_trailers": true, "disable_cookies": 0}}', "p")
    assert doc.params()["RandomTrailers"].raw == "on"
    assert doc.params()["DisableCookies"].effective == "off"


def test_paramsdoc_json_indented_with_tabs_keeps_lines() -> None:
    doc = _load("tabs.json")
    assert doc.diagnostics == ()
    location = doc.params()["S4"].location
    assert location is not None and location.line == 4


def test_paramsdoc_secret_is_digested_at_parse_time() -> None:
    doc = _load("epoch.json")
    value = doc.params()["HeaderProtectionKey"]
    assert value.raw == value.effective == params.redact(HPK)
    assert HPK not in repr(doc)


@pytest.mark.parametrize(("text", "code", "key"), [
    (b'{"epoch": 1, "params": {}}', "empty-params", "params"),
    (b'{"awg": {}}', "empty-params", "awg"),
    (b'{"epoch": -1, "params": {"S4": 18}}', "wrong-type", "epoch"),
    (b'{"epoch": 1, "params": {"S4": 1_8}}', "number-format", "S4"),
    (b'awg:\n  s4: 18\n  s4: 17\n', "duplicate-key", "s4"),
    (b'{"epoch": 2, "params": {"S4": 18}, "error": "stale epoch"}', "error-reply", "error"),
    (b'{"awg": {"s4": 18}, "error": "quota"}', "error-reply", "error"),
    (b'{"status": "ok"}', "missing-key", None),
], ids=["empty-epoch-params", "empty-awg", "negative-epoch", "underscore-number",
        "yaml-duplicate", "params-beside-error", "awg-beside-error", "no-known-key"])
def test_paramsdoc_small_documents(text: bytes, code: str, key: str | None) -> None:
    doc = paramsdoc.parse(text, "p")
    assert (code, key) in {(p.code, p.subject) for p in doc.diagnostics}


def test_paramsdoc_yaml_error_never_quotes_the_line() -> None:
    text = f'awg:\n  header_protection_key: "{HPK}\n  s4: [\n'.encode()
    doc = paramsdoc.parse(text, "p")
    assert [p.code for p in doc.diagnostics] == ["not-json-or-yaml"]
    assert HPK[:16] not in repr(doc)


def test_paramsdoc_error_reply_is_a_problem_not_a_crash() -> None:
    doc = _load("error-reply.json")
    assert not doc.usable and doc.params() == {}
    [problem] = doc.diagnostics
    assert (problem.code, problem.subject, problem.location.line) == ("error-reply", "error", 1)
    assert "partner not registered" in problem.message


# (code, key as written, line) for every problem planted in malformed.json.
MALFORMED = [
    ("wrong-type", "epoch", 2),
    ("numeric-string", "S1", 4),
    ("wrong-type", "S2", 5),
    ("unreadable", "H1", 8),
    ("injection", "I1", 9),
    ("unreadable", "RandomTrailers", 11),
    ("wrong-type", "Jc", 12),
    ("duplicate-key", "S4", 13),
    ("unknown-key", "s5", 14),
]


@pytest.mark.parametrize(("code", "key", "line"), MALFORMED, ids=[f"{c}-{k}" for c, k, _ in
                                                                  MALFORMED])
def test_paramsdoc_malformed_names_key_and_line(code: str, key: str, line: int) -> None:
    doc = _load("malformed.json")
    found = {(p.code, p.subject, p.location.line) for p in doc.diagnostics}
    assert (code, key, line) in found
    message = next(p.message for p in doc.diagnostics if (p.code, p.subject) == (code, key))
    assert message.startswith(f"line {line}: ")


def test_paramsdoc_null_and_empty_string_mean_absent() -> None:
    # malformed.json's "S3": null and "I2": "" are the control plane's "unset"
    doc = _load("malformed.json")
    assert {"S3", "I2"}.isdisjoint(doc.params())
    assert {"S3", "I2"}.isdisjoint({p.subject for p in doc.diagnostics})
    reply = _load("registration-reply.json")
    assert {"I2", "I3"}.isdisjoint(reply.params())


@pytest.mark.parametrize(("text", "code"), [
    (b'{"epoch": 1, "params": {"S4": ""}}', "empty-value"),
    (b'{"epoch": 1, "params": {"RandomTrailers": ""}}', "empty-value"),
    (b'{"epoch": 1, "params": {"I2": " "}}', None),
    (b'{"epoch": 1, "params": {"HeaderProtectionKey": ""}}', None),
    (b'{"epoch": 1, "params": {"S4": 18, "S4": null}}', "duplicate-key"),
], ids=["empty-number-is-an-error", "empty-bool-is-an-error", "blank-tag-is-unset",
        "empty-key-is-unset", "null-after-a-value-unsets-it"])
def test_paramsdoc_empty_values(text: bytes, code: str | None) -> None:
    doc = paramsdoc.parse(text, "p.json")
    assert [p.code for p in doc.diagnostics] == ([code] if code else [])
    if code in (None, "duplicate-key"):
        assert doc.params() == {}


def test_paramsdoc_registration_reply_identity_fields_are_the_documented_form() -> None:
    doc = _load("registration-reply.json")
    assert doc.form is paramsdoc.Form.REGISTRATION
    assert doc.diagnostics == ()
    # identity differs per node by design: read, never compared as params
    assert {"allocated_ip", "motherly_pubkey", "endpoint"}.isdisjoint(doc.params())
    assert doc.params()["S3"].effective == "36"
    assert doc.params()["HeaderProtectionKey"].raw.startswith("sha256:")


@pytest.mark.parametrize(("field", "value", "code"), [
    ("allocated_ip", '"10.77.0.2/32\n[Peer]"', "injection"),
    ("motherly_pubkey", '["a", "b"]', "wrong-type"),
    ("endpoint", "null", "wrong-type"),
])
def test_paramsdoc_registration_identity_field_problems(field: str, value: str,
                                                        code: str) -> None:
    text = f'{{"awg": {{"s4": 18, "{field}": {value}}}}}'.encode()
    [problem] = paramsdoc.parse(text, "reply.json").diagnostics
    assert (problem.code, problem.subject, problem.level.value) == (code, field, "error")


def test_paramsdoc_identity_fields_are_unknown_in_the_epoch_form() -> None:
    doc = paramsdoc.parse(b'{"epoch": 1, "params": {"S4": 18, "allocated_ip": "x"}}', "p")
    assert [p.code for p in doc.diagnostics] == ["unknown-key"]


def test_paramsdoc_zero_hpk_reads_as_unset() -> None:
    doc = _load("epoch-zero-hpk.json")
    assert doc.diagnostics == ()
    hpk = doc.params()["HeaderProtectionKey"]
    assert hpk.effective == params.ZERO_KEY_DIGEST and params.ZERO_KEY not in hpk.raw
    spec = params.spec("HeaderProtectionKey")
    assert spec is not None and spec.reads_as_absent(hpk.effective)


def test_paramsdoc_registration_reply_matches_the_demo_server_conf() -> None:
    server = awgconf.parse(SERVER_CONF.read_bytes(), "server.conf")
    assert _run(_load("registration-reply.json"), engine.Source("server", server)) == []


def test_paramsdoc_typed_defaults_are_not_spelling_against_a_conf() -> None:
    # "S3": 0 and "RandomTrailers": false against a source that leaves them
    # out, or spells them otherwise: a JSON number/bool is canonical there
    source = awgconf.parse(b"[Interface]\nS1 = 52\nS4 = 018\nDisableCookies = 0\n", "s")
    doc = paramsdoc.parse(b'{"epoch": 1, "params": {"S1": 52, "S3": 0, "S4": 18, '
                          b'"RandomTrailers": false, "DisableCookies": false}}', "p.json")
    # only the info word that neither side obfuscates headers
    assert _run(doc, engine.Source("server", source)) == [("h-defaults", None)]


def test_paramsdoc_error_reply_is_not_compared_param_by_param() -> None:
    server = awgconf.parse(SERVER_CONF.read_bytes(), "server.conf")
    doc = _load("error-reply.json")
    node = engine.NodeDocuments("control-plane", {ArtifactKind.PARAMS: doc})
    findings = engine.evaluate(ruleset.load_shipped().rules, [node],
                               engine.Source("server", server))
    [failure] = [f for f in findings if f.status is Status.FAIL]
    assert failure.rule == "params-document-valid"
    assert "'partner not registered'" in failure.message
    assert "none of them was compared" in failure.message
    drift = [f for f in findings if f.rule == "must-match-drift"]
    assert [f.status for f in drift] == [Status.SKIP]
    assert "partner not registered" in drift[0].message


def test_paramsdoc_malformed_values_are_not_comparable() -> None:
    values = _load("malformed.json").params()
    assert values["S2"].effective is None and values["S2"].error == "wrong type"
    assert values["I1"].effective is None  # injection: never compared as equal
    assert values["S4"].effective == "18"  # the last duplicate wins
    assert values["S1"].effective == "52"  # a numeric string still reads, but is flagged


@pytest.mark.parametrize("name", ["truncated.json", "conf-not-params.json"])
def test_paramsdoc_not_json_or_yaml(name: str) -> None:
    doc = _load(name)
    assert not doc.usable
    assert [p.code for p in doc.diagnostics] == ["not-json-or-yaml"]
    assert doc.diagnostics[0].location.line is not None


@pytest.mark.parametrize(("name", "expected"), [
    ("epoch.json", True), ("registration.yaml", True), ("tabs.json", True),
    ("error-reply.json", True), ("conf-not-params.json", False),
])
def test_paramsdoc_sniffing_tells_documents_from_confs(name: str, expected: bool) -> None:
    assert paramsdoc.looks_like_params((ASSETS / name).read_bytes()) is expected
    assert not paramsdoc.looks_like_params(SERVER_CONF.read_bytes())


def test_paramsdoc_unusable_source_raises_parse_error() -> None:
    with pytest.raises(ParseError, match=r"error-reply\.json: not a usable params document"):
        paramsdoc.parse_source((ASSETS / "error-reply.json").read_bytes(), "error-reply.json")
    with pytest.raises(ParseError, match="error reply, not params: 'stale'"):
        paramsdoc.parse_source(b'{"awg": {"s4": 18}, "error": "stale"}', "p.json")


def _run(doc: paramsdoc.ParamsDoc, source: engine.Source) -> list[tuple[str, str | None]]:
    rules = ruleset.load_shipped().rules
    node = engine.NodeDocuments("control-plane", {ArtifactKind.PARAMS: doc})
    findings = engine.evaluate(rules, [node], source)
    return [(f.rule, f.param) for f in findings if f.status is Status.FAIL]


def test_paramsdoc_matches_the_demo_server_conf() -> None:
    server = awgconf.parse(SERVER_CONF.read_bytes(), "server.conf")
    assert _run(_load("epoch.json"), engine.Source("server", server)) == []


def test_paramsdoc_drift_against_a_conf_source() -> None:
    server = awgconf.parse(SERVER_CONF.read_bytes(), "server.conf")
    text = (ASSETS / "epoch.json").read_text().replace('"S4": 18', '"S4": 17')
    doc = paramsdoc.parse(text.encode(), "params.json")
    assert _run(doc, engine.Source("server", server)) == [("must-match-drift", "S4")]


def test_paramsdoc_constraints_apply_to_documents() -> None:
    doc = paramsdoc.parse(b'{"awg": {"s1": 52, "s2": 108, "h1": 3}}', "params.json")
    failing = _run(doc, engine.Source("none", None))
    assert ("s1-s2-offset", "S1") in failing and ("h-min", "H1") in failing


def test_paramsdoc_as_inventory_source(tmp_path: Path) -> None:
    shutil.copytree(DEMO / "nodes", tmp_path / "nodes")
    shutil.copy(ASSETS / "epoch.json", tmp_path / "params.json")
    inventory = tmp_path / "fleet.yaml"
    nodes = {name: {"local": f"nodes/{name}"} for name in
             ("server", "partner-berlin", "partner-tbilisi")}
    inventory.write_text(yaml.safe_dump({"source": "params.json", "nodes": nodes}))
    result = CliRunner().invoke(main, ["check", "-i", str(inventory), "--format", "json"])
    assert result.exit_code == 1, result.output
    report = yaml.safe_load(result.stdout)
    assert report["source"]["path"].endswith("params.json")
    failing = {(f["node"], f["param"]) for f in report["findings"]
               if f["status"] == "fail" and f["rule"] == "must-match-drift"}
    assert failing == {("partner-tbilisi", "S4")}


def test_paramsdoc_error_reply_as_inventory_source_names_the_error(tmp_path: Path) -> None:
    shutil.copytree(DEMO / "nodes", tmp_path / "nodes")
    shutil.copy(ASSETS / "error-reply.json", tmp_path / "params.json")
    inventory = tmp_path / "fleet.yaml"
    nodes = {name: {"local": f"nodes/{name}"} for name in ("partner-berlin",)}
    inventory.write_text(yaml.safe_dump({"source": "params.json", "nodes": nodes}))
    result = CliRunner().invoke(main, ["check", "-i", str(inventory), "--format", "json"])
    assert result.exit_code == 4, result.output
    report = yaml.safe_load(result.stdout)
    # said once for the run, naming the reply; no drift finding per rule or param
    assert "'partner not registered'" in report["source"]["error"]
    assert {"must-match-drift", "side-local-drift"} <= set(report["source"]["not_evaluated"])
    assert not [f for f in report["findings"]
                if f["rule"] in ("must-match-drift", "side-local-drift")]
