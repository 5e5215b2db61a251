"""Exception hierarchy: one base class per pipeline stage.

Every message leads with the file, node or rule it concerns, so the CLI can
print it as is: these are user-facing errors, never tracebacks.
"""

from __future__ import annotations


class AwgcheckError(Exception):
    """Base class for every error awgcheck reports to the user."""


class UsageError(AwgcheckError):
    """A command-line mistake found before any node is read."""


class InventoryError(AwgcheckError):
    """The fleet inventory file is unreadable or malformed."""


class RuleError(AwgcheckError):
    """A rule file is unreadable or a rule does not match the schema."""


class ParseError(AwgcheckError):
    """An artifact (conf, compose, runtime dump) is not of the expected kind."""


class CollectError(AwgcheckError):
    """A node's artifact could not be read.

    ``error_class`` is a stable machine-readable name (for example
    ``host_key_changed`` or ``file_missing``) that reports carry beside the
    message; scripts may match on it, so never rename an existing class.
    """

    error_class = "collect_failed"

    def __init__(self, message: str, *, error_class: str | None = None) -> None:
        super().__init__(message)
        if error_class is not None:
            self.error_class = error_class
