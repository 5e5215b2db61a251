"""RunScope: what a run's nodes share, made once and closed with the run."""

from __future__ import annotations

import pytest

from awgcheck.collect.scope import RunScope
from awgcheck.errors import CollectError


class Part:
    made = 0

    def __init__(self) -> None:
        Part.made += 1
        self.closed = False

    def close(self) -> None:
        self.closed = True


class Broken:
    def close(self) -> None:
        raise OSError("already gone")


def test_a_part_is_made_once_and_closed_with_the_run() -> None:
    Part.made = 0
    with RunScope() as scope:
        first = scope.part(Part, Part)
        assert scope.part(Part, Part) is first
        assert Part.made == 1
    assert first.closed


def test_one_part_failing_to_close_does_not_keep_the_others_open() -> None:
    scope = RunScope()
    scope.part(Broken, Broken)
    part = scope.part(Part, Part)
    scope.close()
    assert part.closed


def test_a_node_still_running_after_the_run_gets_nothing_new() -> None:
    scope = RunScope()
    scope.close()
    with pytest.raises(CollectError) as info:
        scope.part(Part, Part)
    assert info.value.error_class == "deadline_exceeded"
