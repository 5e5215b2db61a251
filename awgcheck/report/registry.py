"""One way to register and pick an output format, for every command.

A :class:`Formats` maps a format name to a renderer ``render(value) -> str``
for one kind of value (a check or gate :class:`~awgcheck.model.Report`, a
triage report, a diff, an inspected file). Renderers only build text; the
CLI owns I/O and builds its ``--format`` option from the registry
(:func:`awgcheck.cli.options.format_option`), so adding a format is one
entry here and one module.

:meth:`Formats.render` is the boundary where untrusted text leaves: it hands
every renderer the value with its strings made printable
(:func:`awgcheck.text.printable_fields`), so no format can print a control
character or a byte that is not UTF-8, whatever the nodes hold.

A renderer for people (the ``table`` formats) is registered as
:class:`ForPeople`: it is also given the :class:`~awgcheck.report.layout.Layout`
to draw to (the terminal's width, colour or not); the others only the value.
A renderer registered as :class:`InPieces` makes its text in pieces that
:meth:`Formats.pieces` hands on as they come, so a fleet's report is
written without ever being held whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from awgcheck.report.layout import PLAIN, Layout
from awgcheck.text import printable_fields

T = TypeVar("T")


@dataclass(frozen=True)
class ForPeople(Generic[T]):
    """A renderer that draws to a width, maybe in colour: ``draw(value, layout)``."""

    draw: Callable[[T, Layout], str]


@dataclass(frozen=True)
class InPieces(Generic[T]):
    """A renderer that makes its text in pieces: ``make(value)``."""

    make: Callable[[T], Iterable[str]]


@dataclass(frozen=True)
class Formats(Generic[T]):
    """Format name -> renderer, in the order ``--format`` lists them."""

    renderers: Mapping[str, Callable[[T], str] | ForPeople[T] | InPieces[T]]
    default: str = "table"
    keep: tuple[type, ...] = ()
    """Types the renderers escape themselves (they need the raw bytes, for hex)."""

    def __post_init__(self) -> None:
        if self.default not in self.renderers:
            raise ValueError(f"default format {self.default!r} is not registered "
                             f"(known: {', '.join(self.renderers)})")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.renderers)

    def render(self, name: str, value: T, view: Layout = PLAIN) -> str:
        """``value`` in format ``name`` (one of :attr:`names`), its text
        escaped; a format for people drawn to ``view``."""
        return "".join(self.pieces(name, value, view))

    def pieces(self, name: str, value: T, view: Layout = PLAIN) -> Iterable[str]:
        """The text of :meth:`render` in the pieces its renderer makes it
        in (one, unless it is registered :class:`InPieces`)."""
        renderer = self.renderers[name]
        escaped = printable_fields(value, self.keep)
        if isinstance(renderer, InPieces):
            return renderer.make(escaped)
        if isinstance(renderer, ForPeople):
            return (renderer.draw(escaped, view),)
        return (renderer(escaped),)
