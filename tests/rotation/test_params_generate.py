"""``awgcheck params generate``: fresh sets that the real rules pass, read
back by awgcheck's own readers, the key printed only where asked."""

from __future__ import annotations

import itertools
import json
import os
import stat
from pathlib import Path

import paths
import pytest
from click.testing import CliRunner

from awgcheck.cli.main import main
from awgcheck.model import ArtifactKind
from awgcheck.parse import awgconf, paramsdoc
from awgcheck.rotation import forms, generate, verify
from awgcheck.ruleset.load import load_paths, load_shipped

RULES = verify.constraint_rules(load_shipped())
HPK = "HeaderProtectionKey"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_generate_judges_with_every_shipped_constraint_rule() -> None:
    """The filter keeps every rule of rules/constraints.yaml (and the params
    document's own validity), so no constraint is left out unnoticed."""
    shipped = {r.id for r in load_paths([paths.ROOT / "rules" / "constraints.yaml"]).rules}
    assert shipped <= {r.id for r in RULES}
    assert "params-document-valid" in {r.id for r in RULES}
    assert not any(r.needs_source for r in RULES)


def _within_documented_ranges(values: dict[str, str]) -> None:
    """The ranges docs/rotation.md says are drawn from."""
    number = {k: int(v) for k, v in values.items() if v.isdigit()}
    assert 3 <= number["Jc"] <= 10 and 40 <= number["Jmin"] <= 100
    assert number["Jmin"] + 20 <= number["Jmax"] <= number["Jmin"] + 200
    assert all(15 <= number[s] <= 150 for s in ("S1", "S2"))
    assert 15 <= number["S3"] <= 64 and 15 <= number["S4"] <= 32
    assert number["S1"] + 56 != number["S2"]


@pytest.mark.parametrize("generation", generate.GENERATIONS)
def test_generate_1000_sets_pass_every_constraint_rule_and_are_distinct(generation: str) -> None:
    seen = set()
    for i in range(1000):
        drawn = generate.generate(generation)
        form = forms.FORM[forms.FORMS[i % len(forms.FORMS)]]
        doc = form.read(form.write(drawn, i).encode(), f"set {i}")
        assert verify.violations(doc, form.kind, RULES) == [], drawn
        assert verify.round_trip_problems(drawn, doc) == [], drawn
        _within_documented_ranges(dict(drawn.values))
        seen.add(drawn.values)
    assert len(seen) == 1000


@pytest.mark.parametrize(("generation", "present", "absent", "ranges"), [
    ("1.5", ["Jc", "Jmin", "Jmax", "S1", "S2", "S3", "S4", "H1", "H4"],
     [HPK, "RandomTrailers", "I1"], False),
    ("2.0", ["S3", "S4", "H1", "H4"], [HPK, "RandomTrailers", "I1"], True),
    ("3.1", ["S3", "S4", "H1", HPK, "RandomTrailers"], ["I1", "DisableCookies"], True),
])
def test_generate_generation_sets_which_params_exist(generation: str, present: list[str],
                                                     absent: list[str], ranges: bool) -> None:
    stated = dict(generate.generate(generation).values)
    assert set(present) <= set(stated)
    assert not set(absent) & set(stated)
    assert all(("-" in stated[h]) is ranges for h in ("H1", "H2", "H3", "H4"))


def test_generate_h_ranges_are_disjoint_and_within_bounds() -> None:
    for _ in range(200):
        stated = dict(generate.generate("2.0", h_bounds=(1000, 5000)).values)
        spans = sorted(tuple(int(n) for n in stated[h].split("-"))
                       for h in ("H1", "H2", "H3", "H4"))
        assert all(1000 <= lo <= hi <= 5000 for lo, hi in spans)
        assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))


@pytest.mark.parametrize(("values", "rule"), [
    ({"S1": "40", "S2": "96"}, "s1-s2-offset"),
    ({"S3": "11"}, "hpk-needs-padding"),
    ({"H2": "5-1000"}, "h-ranges-disjoint"),
    ({"H3": "4"}, "h-min"),
], ids=["s1-plus-56", "hpk-padding", "overlap", "h-min"])
def test_verify_catches_a_set_that_breaks_a_rule(values: dict[str, str], rule: str) -> None:
    """The verification is the rule engine, not a rubber stamp."""
    base = dict(generate.generate("3.1", h_bounds=(5, 1000)).values)
    base.update(values)
    broken = generate.ParamSet("3.1", tuple(base.items()))
    form = forms.FORM["epoch"]
    doc = form.read(form.write(broken, 1).encode(), "broken")
    assert rule in {f.rule for f in verify.violations(doc, form.kind, RULES)}


@pytest.mark.parametrize("generation", generate.GENERATIONS)
@pytest.mark.parametrize("fmt", forms.FORMS)
def test_cli_generate_output_reads_back_through_the_readers(generation: str, fmt: str) -> None:
    code, out, err = run("params", "generate", "--generation", generation, "--format", fmt,
                         "--epoch", "9")
    assert (code, err) == (0, "")
    if fmt == "conf":
        doc: awgconf.AwgConf | paramsdoc.ParamsDoc = awgconf.parse(out.encode(), "out.conf")
        assert doc.loads and doc.diagnostics == ()
        kind = ArtifactKind.CONF
    else:
        doc = paramsdoc.parse(out.encode(), "out.json")
        assert doc.diagnostics == ()
        assert doc.form is paramsdoc.Form(fmt)
        assert doc.epoch == (9 if fmt == "epoch" else None)
        kind = ArtifactKind.PARAMS
    assert verify.violations(doc, kind, RULES) == []
    assert ("HeaderProtectionKey" in doc.params()) is (generation == "3.1")


def test_cli_generate_registration_uses_snake_case_keys() -> None:
    code, out, _ = run("params", "generate", "--generation", "3.1", "--format", "registration")
    body = json.loads(out)["awg"]
    assert code == 0
    assert {"s1", "h4", "header_protection_key", "random_trailers"} <= set(body)
    assert body["random_trailers"] is True and isinstance(body["s1"], int)


def test_cli_generate_refuses_bounds_no_set_can_meet_naming_the_rule() -> None:
    """H values from 0..7: 1-4 are never drawn, so four distinct ones (1.5)
    always include 0, every draw fails h-min and the command gives up."""
    code, out, err = run("params", "generate", "--generation", "1.5", "--h-bounds", "0-7")
    assert code == 2 and out == ""
    assert "h-min" in err and "5 draws" in err and "Traceback" not in err


@pytest.mark.parametrize("bounds", ["7-5", "abc", "5-4294967296"])
def test_cli_generate_bad_bounds_is_a_usage_error(bounds: str) -> None:
    code, _, err = run("params", "generate", "--generation", "2.0", "--h-bounds", bounds)
    assert code == 2 and "--h-bounds" in err


def test_cli_generate_output_file_is_0600_and_the_key_goes_nowhere_else(
        tmp_path: Path) -> None:
    target = tmp_path / "new.conf"
    target.write_text("old\n")
    target.chmod(0o644)
    old_umask = os.umask(0)
    try:
        code, out, err = run("params", "generate", "--generation", "3.1", "-o", str(target))
    finally:
        os.umask(old_umask)
    assert (code, out, err) == (0, "", "")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    doc = awgconf.parse(target.read_bytes(), str(target))
    assert doc.params()[HPK].effective.startswith("sha256:")
    assert [p.name for p in tmp_path.iterdir()] == ["new.conf"]  # no temporary left


def test_param_set_repr_hides_the_key() -> None:
    drawn = generate.generate("3.1")
    key = drawn.get(HPK)
    assert key is not None and key not in repr(drawn) and key not in str(drawn)
    assert "sha256:" in repr(drawn)


def test_a_param_set_is_judged_by_no_mesh_rule() -> None:
    """The mesh checks are about a node among the others, not a param set:
    none judges a source or a NEW on its own, whatever mesh a caller has."""
    ids = {rule.id for rule in RULES}
    shipped = {rule.id for rule in load_shipped().rules}
    assert {"conf-loads", "h-ranges-disjoint"} <= ids
    assert not {i for i in ids if i.startswith("mesh-")}
    assert {i for i in shipped if i.startswith("mesh-")}  # there are some to leave out
    assert "private-key-present" not in ids
