"""``params generate``: draw a set, write it, read it back, judge it.

Nothing is printed that awgcheck's own reader does not read back as
exactly the drawn values and that any rule judging a param set fails. A
draw that fails is drawn again, :data:`ATTEMPTS` times at most: the draw is
built to pass, so a failure means the bounds the user gave (or a rule the
user added with ``--rules``) cannot be met, and the error names the rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from awgcheck.rotation import RotationError
from awgcheck.rotation.forms import FORM
from awgcheck.rotation.generate import H_BOUNDS, generate
from awgcheck.rotation.verify import describe, round_trip_problems, violations
from awgcheck.ruleset.load import Rule

ATTEMPTS = 5


def issue(generation: str, form: str, rules: Sequence[Rule], *, epoch: int = 1,
          h_bounds: tuple[int, int] = H_BOUNDS, header_protection: bool = True) -> str:
    """The text of a fresh param set in ``form`` that passes ``rules``;
    :class:`RotationError` naming the last failure after :data:`ATTEMPTS` draws."""
    written = FORM[form]
    problems: list[str] = []
    for _ in range(ATTEMPTS):
        try:
            drawn = generate(generation, h_bounds=h_bounds, header_protection=header_protection)
        except ValueError as exc:
            raise RotationError(f"params generate: {exc}") from None
        text = written.write(drawn, epoch)
        doc = written.read(text.encode("utf-8"), f"(generated {form})")
        problems = [describe(f) for f in violations(doc, written.kind, rules)]
        problems += round_trip_problems(drawn, doc)
        if not problems:
            return text
    raise RotationError(
        f"params generate: no param set passed the rules in {ATTEMPTS} draws; the last one "
        f"failed {'; '.join(problems)}")
