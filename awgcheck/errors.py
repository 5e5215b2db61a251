"""Exception hierarchy: one base class per pipeline stage.

Every message leads with the file, node or rule it concerns, so the CLI can
print it as is: these are user-facing errors, never tracebacks.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorClass(StrEnum):
    """Why a node (or a file of a gate run) could not be checked.

    Reports carry the value as ``error_class`` beside the message; scripts
    and dashboards match on it, so a value is never renamed or removed.
    Every member is documented in docs/reports.md (tests/test_errors.py
    keeps the two in step). Being a ``str``, a member prints and serialises
    as its value.
    """

    # Any transport: the file or command itself.
    COLLECT_FAILED = "collect_failed"
    FILE_MISSING = "file_missing"
    PERMISSION_DENIED = "permission_denied"
    NOT_A_FILE = "not_a_file"
    BAD_PATH = "bad_path"
    OUTSIDE_TREE = "outside_tree"
    FILE_TOO_LARGE = "file_too_large"
    OUTPUT_TOO_LARGE = "output_too_large"
    NOT_SUPPORTED = "not_supported"
    COMMAND_TIMEOUT = "command_timeout"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    # What awgcheck made of what it read.
    PARSE_ERROR = "parse_error"
    RULE_ERROR = "rule_error"
    INTERNAL_ERROR = "internal_error"
    # SSH: addressing, connecting, host keys, authentication, sudo.
    BAD_TARGET = "bad_target"
    DNS_FAILURE = "dns_failure"
    CONNECTION_REFUSED = "connection_refused"
    HOST_UNREACHABLE = "host_unreachable"
    CONNECT_TIMEOUT = "connect_timeout"
    CONNECT_FAILED = "connect_failed"
    PROXY_FAILED = "proxy_failed"
    BANNER_TIMEOUT = "banner_timeout"
    HANDSHAKE_FAILED = "handshake_failed"
    CONNECTION_DROPPED = "connection_dropped"
    KNOWN_HOSTS_UNREADABLE = "known_hosts_unreadable"
    HOST_KEY_UNKNOWN = "host_key_unknown"
    HOST_KEY_CHANGED = "host_key_changed"
    HOST_KEY_REVOKED = "host_key_revoked"
    AUTH_FAILED = "auth_failed"
    SUDO_PASSWORD_REQUIRED = "sudo_password_required"
    SUDO_FAILED = "sudo_failed"


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

    ``error_class`` says why in a stable machine-readable form (see
    :class:`ErrorClass`) that reports carry beside the message.
    """

    error_class: ErrorClass = ErrorClass.COLLECT_FAILED

    def __init__(self, message: str, *, error_class: ErrorClass | None = None) -> None:
        super().__init__(message)
        if error_class is not None:
            self.error_class = error_class


def internal_error(where: str, doing: str, exc: Exception) -> CollectError:
    """An unexpected exception met while ``doing`` something for ``where``
    (a bug, or a library failing in a way nobody classified), as that node's
    error rather than a traceback: the type and message say what to report,
    and the other nodes go on."""
    return CollectError(f"{where}: internal error while {doing}: {type(exc).__name__}: {exc}",
                        error_class=ErrorClass.INTERNAL_ERROR)

