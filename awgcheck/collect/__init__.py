"""Transports that fetch a node's artifacts: one module per transport
(:mod:`~awgcheck.collect.local`, :mod:`~awgcheck.collect.ssh`), and
:data:`awgcheck.collect.transports.TRANSPORTS`, the registry that picks one
for a node. Empty on purpose: importing one transport loads no other.
"""
