"""Every output example in the README and docs/ is what its command prints
(see tests/doc_examples.py for the markers and how to update them)."""

from __future__ import annotations

import doc_examples
import pytest
from doc_examples import Example

EXAMPLES = doc_examples.every_example()


def test_the_docs_have_examples_to_check() -> None:
    """The markers are found: a broken marker syntax would make every
    example silently unchecked."""
    documents = {e.document.name for e in EXAMPLES}
    assert {"README.md", "compose.md", "inventory.md", "reports.md", "rules.md"} <= documents


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_example_is_what_the_command_prints(example: Example) -> None:
    output = doc_examples.run(example)
    assert doc_examples.matches(example, output), (
        f"{example}: the example drifted from `{example.shown}`; run "
        f"`python tests/doc_examples.py --update` and review the diff. It prints:\n{output}")


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.body and e.body[0].startswith("$ ")],
                         ids=str)
def test_a_prompt_line_shows_the_command_run(example: Example) -> None:
    assert example.body[0] == f"$ {example.shown}"


def test_an_excerpt_must_match_in_order() -> None:
    """The excerpt matcher is strict enough to catch a drift."""
    example = Example(doc_examples.ROOT / "README.md", 1, "awgcheck x", True,
                      ("a ... c", "...", "e"), 0)
    assert doc_examples.matches(example, "a b c\nd\ne f")
    assert not doc_examples.matches(example, "e\na b c")
    assert not doc_examples.matches(example, "a b d\ne")
