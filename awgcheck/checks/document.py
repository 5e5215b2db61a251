"""Check types for params documents (epoch and registration JSON)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from awgcheck import params
from awgcheck.checks.base import Context, Outcome
from awgcheck.model import Level, Severity, Status
from awgcheck.parse import paramsdoc

# --- params documents ----------------------------------------------------------

def check_document_valid(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Every diagnostic met while reading a params document (an error reply,
    a missing or mistyped key, a number sent as a string, an injection
    character) is a failing outcome at its key and line."""
    doc = ctx.doc
    assert isinstance(doc, paramsdoc.ParamsDoc)
    for diagnostic in doc.diagnostics:
        spec = params.spec((diagnostic.subject or "").replace("_", ""))
        downgrade = Severity.WARNING if diagnostic.level is Level.WARNING else None
        message = diagnostic.message
        if diagnostic.code == "error-reply":
            # Said here once; every rule that reads params skips the document.
            message += ": it states no params, so none of them was compared"
        yield Outcome(Status.FAIL, message,
                      spec.name if spec else diagnostic.subject,
                      location=diagnostic.location, severity=downgrade)
    if not doc.diagnostics:
        yield Outcome(Status.PASS, "the params document is well formed")
