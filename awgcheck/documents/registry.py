"""The registry nodes are read by: every document kind, in reading order.

``DOCUMENTS`` lists, in reading order, every kind read for a node. The conf
comes first: it is the one a node cannot be checked without, so a node
whose conf fails is given up before any command runs on it. A new kind is
an ``ArtifactKind`` member, a module here, and a line below; the engine,
the audit and the rule loader do not change.

The params kind is not listed: a params document is only ever the source
of truth, read from a local file (:func:`awgcheck.documents.params.read_source`).
"""

from __future__ import annotations

from awgcheck.documents import compose_read, conf, runtime
from awgcheck.documents.base import DocumentKind
from awgcheck.model import ArtifactKind

DOCUMENTS: dict[ArtifactKind, DocumentKind] = {
    ArtifactKind.CONF: conf.KIND,
    ArtifactKind.RUNTIME: runtime.KIND,
    ArtifactKind.COMPOSE: compose_read.KIND,
}
