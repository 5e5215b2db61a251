"""Comparing one param between two documents, the way the tools read it."""

from __future__ import annotations

from awgcheck.documents.base import ParamDocument
from awgcheck.parse.runtime import RuntimeState, explain_header_quirk, explain_quirk


def runtime_quirk(state: RuntimeState, name: str, running: str | None,
                  conf: ParamDocument | None) -> str | None:
    """Why a running value that differs from ``conf`` is a known runtime
    quirk rather than drift (Jmax + 1, H <= 4 replaced), or None."""
    if conf is None:
        return None
    stated = conf.params()

    def effective(key: str) -> str | None:
        found = stated.get(key)
        return found.effective if found is not None else None

    if name == "Jmax":
        return explain_quirk(effective("Jmin"), effective("Jmax"), running,
                                     jc=effective("Jc"))
    return explain_header_quirk(name, effective(name), running,
                                        generation=state.generation)

