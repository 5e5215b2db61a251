"""Document kinds: one module each, and the registry nodes are read by
(:data:`awgcheck.documents.registry.DOCUMENTS`).

Empty on purpose: the pure layers import a document type
(:mod:`~awgcheck.documents.compose`) without the transports that read it.
"""
