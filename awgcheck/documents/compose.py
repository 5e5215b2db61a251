"""A node's compose project as a rule document, and what counts as secret
in it (:mod:`awgcheck.documents.compose_read` reads it from a node, and
says when it is read). Apart from the reading so that the checks that
judge it load no transport.

The compose reader (:mod:`awgcheck.parse.compose`) works on node paths
(``/opt/partner-edge/compose.yaml``); reports must name the file the way
the node's collector does (a local tree path, or ``host:/opt/...``).
:class:`ComposeDocument` carries the project plus that translation, so
checks locate findings without knowing the transport.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from awgcheck.model import Diagnostic, Level, Location, ParamValue, Placeholder
from awgcheck.parse.compose.project import ComposeProject, Service
from awgcheck.parse.placeholders import holds_tag
from awgcheck.secrecy import conceal as conceal
from awgcheck.secrecy import is_secret_name as is_secret_name
from awgcheck.secrecy import is_secret_value as is_secret_value

FILE = "file"
NODE = "node"
MODES = (FILE, NODE)
"""``--compose-mode``: read the files (default), or ask ``docker compose
config`` on the node."""

def conceal_json(value: object) -> object:
    """A JSON-ready structure with every key-shaped string digested (a key
    under an innocent variable name)."""
    if isinstance(value, str):
        return conceal(value, False)
    if isinstance(value, list):
        return [conceal_json(v) for v in value]
    if isinstance(value, dict):
        return {k: conceal_json(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class ComposeDocument:
    """What awgcheck read of one node's compose project.

    ``path`` names the first compose file as reports show it. ``problems``
    are diagnostics about reading the project that the reader itself could
    not know (a file that exists but cannot be read, ``docker compose
    config`` failing on the node). ``mode`` is ``file`` or ``node``.
    ``template`` says the files are a template (a gate
    ``compose_templates:`` consumer): a value holding an engine tag
    (``{{AWG_HOST_IP}}``) is a placeholder, which checks skip.
    """

    path: str
    project: ComposeProject
    mode: str = FILE
    problems: tuple[Diagnostic, ...] = ()
    describe: Callable[[str], str] = field(default=str, compare=False, repr=False)
    template: bool = False

    def placeholder(self, raw: str | None) -> bool:
        """Is a value written as ``raw`` a template placeholder here?"""
        return self.template and holds_tag(raw)

    def placeholders(self) -> tuple[Placeholder, ...]:
        """Every value of the project's services that holds an engine tag,
        named as compose findings name it (``relay RELAY_BIND``)."""
        if not self.template:
            return ()
        found = {what: Placeholder(what, self.locate(where))
                 for service in self.project.services.values()
                 for what, raw, where in _written(service) if holds_tag(raw)}
        return tuple(found.values())  # a port range is one value as written

    def params(self) -> dict[str, ParamValue]:
        """A compose project states no interface params of its own; only the
        compose check types read it (through :attr:`project`)."""
        return {}

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """The reader's diagnostics, then the reading problems."""
        return (*self.project.diagnostics, *self.problems)

    @property
    def failed(self) -> bool:
        return any(d.level is Level.ERROR for d in self.diagnostics)

    def locate(self, location: Location) -> Location:
        """``location`` (a node path) as reports name it."""
        return Location(self.describe(location.path), location.line)


def _written(service: Service) -> list[tuple[str, str, Location]]:
    """(name as findings use it, text as written, where) of every value of
    ``service`` a compose rule can judge."""
    found = [(f"{service.name} {name}", var.raw, var.location)
             for name, var in service.environment.items()]
    found += [(f"{service.name} port {port.published or '(any)'}:{port.target}/"
               f"{port.protocol}", port.raw, port.location) for port in service.ports]
    for kind, value in (("command", service.command), ("healthcheck", service.healthcheck)):
        if value is not None:
            found.append((f"{service.name} {kind}", value.raw, value.location))
    return found
