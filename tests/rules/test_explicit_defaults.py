"""Writing a default out changes no verdict, in any shipped rule.

For every param the catalog gives a default (and for the all-zero
HeaderProtectionKey, which amneziawg-go treats as no key), a conf or params
document that states it is judged exactly like one that leaves it out: the
same rules pass, fail or skip, at the same severity, against a source that
states it, leaves it out, or sets another value.
"""

from __future__ import annotations

import json

import paths
import pytest

from awgcheck import engine, params
from awgcheck.documents.base import ParamDocument
from awgcheck.model import ArtifactKind, Status
from awgcheck.parse import awgconf, paramsdoc
from awgcheck.ruleset import load as ruleset

SHIPPED = ruleset.load_shipped().rules
CONF_ASSETS = paths.ASSETS / "conf"
PARAMS_ASSETS = paths.ASSETS / "params"

BASE = """\
[Interface]
PrivateKey = cjjYCtF/znRjGiPd8Hb0wA3bOu3OkbGfI4F+wF21Lrw=
Jc = 4
Jmin = 40
Jmax = 70
S1 = 52
S2 = 140
"""
SERVER = BASE + "S3 = 36\nS4 = 18\nH1 = 1020325451\nH2 = 1288052141\n"
DEFAULTS = {s.name: s.default for s in params.INTERFACE_SETCONF_KEYS
            if s.default is not None and s.name not in ("Jc", "Jmin", "Jmax", "S1", "S2")}
DEFAULTS["HeaderProtectionKey"] = params.ZERO_KEY

Verdicts = set[tuple[str, str | None, Status, str]]


def verdicts(doc: ParamDocument, kind: ArtifactKind, source: str) -> Verdicts:
    truth = engine.Source("server", awgconf.parse(source.encode(), "server.conf"))
    node = engine.NodeDocuments("node", {kind: doc})
    return {(f.rule, f.param, f.status, f.severity.value)
            for f in engine.evaluate(SHIPPED, [node], truth)
            if f.status is not Status.PASS or f.param is not None}


def judged(text: str, source: str) -> Verdicts:
    found = verdicts(awgconf.parse(text.encode(), "node.conf"), ArtifactKind.CONF, source)
    # The line itself may be spelled or placed differently; what it means is
    # the question here, not how it is written.
    return {v for v in found if v[0] not in ("canonical-spelling", "duplicate-keys")}


@pytest.mark.parametrize("source", [BASE, SERVER, SERVER + "H1 = 1\nH3 = 3\nS3 = 0\n"],
                         ids=["source-without", "source-with-values", "source-explicit"])
@pytest.mark.parametrize(("name", "default"), sorted(DEFAULTS.items()), ids=sorted(DEFAULTS))
def test_explicit_default_conf_is_judged_like_absent(name: str, default: str,
                                                     source: str) -> None:
    written = judged(BASE + f"{name} = {default}\n", source)
    left_out = judged(BASE, source)
    # The param's own drift row says "is the default"/"is absent": same verdict.
    assert written == left_out


def test_all_h_defaults_written_out_match_no_h_lines() -> None:
    text = (CONF_ASSETS / "warp-explicit-defaults.conf").read_text()
    without = "".join(line for line in text.splitlines(keepends=True)
                      if not line.startswith("H"))
    assert judged(text, SERVER) == judged(without, SERVER)
    failing = {v for v in judged(text, SERVER) if v[2] is Status.FAIL}
    assert not {v for v in failing if v[0] == "h-min"}
    # header obfuscation being off is said once, at info, for both spellings
    assert [v for v in failing if v[0] == "h-defaults"] == [
        ("h-defaults", None, Status.FAIL, "info")]


def test_zero_hpk_conf_is_judged_like_no_key() -> None:
    text = (CONF_ASSETS / "hpk-zero.conf").read_text()
    without = text.replace("HeaderProtectionKey = " + params.ZERO_KEY + "\n", "")
    source = SERVER.replace("S3 = 36\n", "")  # a source without header protection
    assert judged(text, source) == judged(without, source)
    failing = {(v[0], v[1]) for v in judged(text, source) if v[2] is Status.FAIL}
    assert not any(rule == "hpk-needs-padding" for rule, _ in failing)
    assert ("must-match-drift", "HeaderProtectionKey") not in failing


def test_zero_hpk_against_a_source_with_a_key_is_still_drift() -> None:
    text = (CONF_ASSETS / "hpk-zero.conf").read_text()
    source = SERVER + "HeaderProtectionKey = 2gtwTVAuutW+pbxXRX0K6mlCFQItiKz8qeS7LVj8PD0=\n"
    truth = engine.Source("server", awgconf.parse(source.encode(), "server.conf"))
    node = engine.NodeDocuments("node", {ArtifactKind.CONF: awgconf.parse(text.encode(), "n")})
    [drift] = [f for f in engine.evaluate(SHIPPED, [node], truth)
               if f.param == "HeaderProtectionKey" and f.status is Status.FAIL]
    assert drift.severity.value == "critical" and drift.symptom is not None
    assert "the all-zero key: unset" in drift.message
    assert params.ZERO_KEY not in drift.message  # compared by digest, never shown


def test_params_document_explicit_defaults_are_judged_like_absent() -> None:
    data = json.loads((PARAMS_ASSETS / "epoch-zero-hpk.json").read_text())
    stated = data["params"]
    bare = {k: v for k, v in stated.items()
            if k in ("Jc", "Jmin", "Jmax", "S1", "S2")}

    def doc(values: dict[str, object]) -> paramsdoc.ParamsDoc:
        text = json.dumps({"epoch": 43, "params": values})
        return paramsdoc.parse(text.encode(), "params.json")

    source = BASE
    written = verdicts(doc(stated), ArtifactKind.PARAMS, source)
    left_out = verdicts(doc(bare), ArtifactKind.PARAMS, source)
    assert {v for v in written if v[2] is not Status.PASS} == \
        {v for v in left_out if v[2] is not Status.PASS}
    assert not [v for v in written if v[2] is Status.FAIL and v[3] != "info"]
