"""The comparison core (awgcheck.compare): one table over every relation.

Each case states a param on two sides as conf text (None: the line is
absent) and the relation, effective values and shown texts the core must
give. The callers (checks, diff, triage, gate) only word these answers, so
their own tests cover the wording.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from awgcheck import compare as comparing
from awgcheck import params
from awgcheck.compare import Relation, compare
from awgcheck.model import ParamValue
from awgcheck.parse import awgconf
from awgcheck.parse.runtime import RuntimeState, parse_showconf

ASSETS = Path(__file__).parent / "assets"
HPK = "9jalV3EEBnVXXyPTLtq2rYJ0P2RtwlQw9i0pzyGUwHU="
OTHER_HPK = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="


def stated(name: str, text: str | None) -> ParamValue | None:
    """``name = text`` as a conf states it, or None when ``text`` is None."""
    if text is None:
        return None
    conf = awgconf.parse(f"[Interface]\n{name} = {text}\n".encode(), "side.conf")
    return conf.params()[params.canonical(name)]


CASES = [
    pytest.param("S4", "18", "18", Relation.SAME, "18", "18", id="same"),
    pytest.param("S4", "018", "18", Relation.SPELLING, "18", "18", id="spelling-leading-zero"),
    pytest.param("S4", "18", "17", Relation.DRIFT, "18", "17", id="drift"),
    pytest.param("S3", None, "0", Relation.ABSENT, "0", "0", id="absent-vs-explicit-default"),
    pytest.param("H1", "1", None, Relation.ABSENT, "1", "1", id="explicit-default-header"),
    pytest.param("S3", None, "36", Relation.DRIFT, "0", "36", id="absent-vs-value"),
    pytest.param("I1", None, None, Relation.ABSENT, None, None, id="both-absent-no-default"),
    pytest.param("I1", "<b 0x01>", None, Relation.DRIFT, "<b 0x01>", None,
                 id="set-vs-absent-no-default"),
    pytest.param("S4", "0x12", "18", Relation.UNREADABLE, None, "18", id="unreadable-hex"),
    pytest.param("S4", "18", "0x12", Relation.UNREADABLE, "18", None,
                 id="unreadable-on-the-other-side"),
    pytest.param("S4", "0x12", "0x12", Relation.UNREADABLE, None, None,
                 id="unreadable-even-when-identical"),
    pytest.param("RandomTrailers", "1", "on", Relation.SPELLING, "on", "on", id="bool-spelling"),
    pytest.param("HeaderProtectionKey", HPK, HPK, Relation.SAME, params.redact(HPK),
                 params.redact(HPK), id="secret-same-digest"),
    pytest.param("HeaderProtectionKey", HPK, OTHER_HPK, Relation.DRIFT, params.redact(HPK),
                 params.redact(OTHER_HPK), id="secret-differs-by-digest"),
]


@pytest.mark.parametrize(("name", "here", "there", "relation", "mine", "theirs"), CASES)
def test_compare_relation_table(name: str, here: str | None, there: str | None,
                                relation: Relation, mine: str | None,
                                theirs: str | None) -> None:
    found = compare(name, stated(name, here), stated(name, there))
    assert found.relation is relation
    assert (found.here_effective, found.there_effective) == (mine, theirs)
    assert found.differs is (relation in (Relation.DRIFT, Relation.UNREADABLE))


def test_compare_secret_never_shows_or_holds_the_key() -> None:
    found = compare("HeaderProtectionKey", stated("HeaderProtectionKey", HPK),
                    stated("HeaderProtectionKey", OTHER_HPK))
    assert HPK not in repr(found) and OTHER_HPK not in repr(found)
    assert found.shown_here == params.redact(HPK)


def test_compare_shows_absence_with_the_default_it_means() -> None:
    found = compare("S3", None, stated("S3", "36"))
    assert (found.shown_here, found.shown_there) == ("absent (means 0)", "36")
    assert found.default == "0" and found.must_match
    assert found.effect == "drift: the tunnels will disagree"
    unset = compare("I1", stated("I1", "<b 0x01>"), None)
    assert unset.shown_there == "absent (unset)" and unset.role is params.Role.SIDE_LOCAL
    assert unset.effect == "drift of a side-local param: no data-plane effect"


def test_compare_unreadable_says_which_side() -> None:
    found = compare("S4", stated("S4", "0x12"), stated("S4", "18"))
    assert found.here_unreadable and found.there is not None and found.there.effective
    assert found.here is not None and "Unable to parse S4" in (found.here.error or "")


# --- runtime quirks ------------------------------------------------------------

QUIRK_CONF = b"[Interface]\nJc = 4\nJmin = 50\nJmax = 50\nH1 = 3\nH2 = 4\nS1 = 52\n"


def _kmod_runtime() -> RuntimeState:
    text = (ASSETS / "runtime" / "2.0" / "showconf-kmod-quirks").read_text(encoding="utf-8")
    return parse_showconf(text, source="runtime")


@pytest.mark.parametrize(("name", "reason"), [
    pytest.param("Jmax", "Jmax + 1", id="jmax-plus-one"),
    pytest.param("H1", "replaces any header <= 4 with the default", id="header-le-4"),
])
def test_compare_runtime_quirk_is_not_drift(name: str, reason: str) -> None:
    conf = awgconf.parse(QUIRK_CONF, "node.conf")
    state = _kmod_runtime()
    found = compare(name, state.get(name), conf.params().get(name),
                    quirks=comparing.Quirks(state, conf))
    assert found.relation is Relation.QUIRK and not found.differs
    assert reason in (found.quirk or "")
    # Without the runtime context the same two values are plain drift.
    assert compare(name, state.get(name), conf.params().get(name)).relation is Relation.DRIFT


def test_compare_quirk_found_with_the_runtime_on_either_side() -> None:
    conf = awgconf.parse(QUIRK_CONF, "node.conf")
    state = _kmod_runtime()
    quirks = comparing.quirks_between(conf, state)
    assert quirks is not None and quirks.side is comparing.Side.THERE
    found = compare("Jmax", conf.params()["Jmax"], state.get("Jmax"), quirks=quirks)
    assert found.relation is Relation.QUIRK
    assert comparing.quirks_between(conf, conf) is None


# --- a value written into a conf line ---------------------------------------------

@pytest.mark.parametrize(("name", "text", "effective"), [
    pytest.param("S4", " 1 8 ", "18", id="blanks-deleted"),
    pytest.param("S4", "018", "18", id="decimal-not-octal"),
    pytest.param("S4", "0x12", None, id="hex-rejected"),
    pytest.param("I1", "  <b 0x01> <r 2>\t", "<b 0x01> <r 2>", id="tags-only-trimmed"),
    pytest.param("H1", "5 - 9", "5-9", id="range-blanks-deleted"),
])
def test_compare_read_written_reads_like_awg(name: str, text: str,
                                             effective: str | None) -> None:
    spec = params.spec(name)
    assert spec is not None
    assert comparing.read_written(spec, text).effective == effective


def test_compare_written_secret_keeps_only_its_digest() -> None:
    spec = params.spec("HeaderProtectionKey")
    assert spec is not None
    value = comparing.written_value(spec, HPK)
    assert HPK not in (value.raw, value.effective)
    found = compare("HeaderProtectionKey", value, stated("HeaderProtectionKey", HPK))
    assert found.relation is Relation.SAME
