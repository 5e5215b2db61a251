"""The public key of an interface, from its private key: X25519, as
``awg pubkey`` computes it (curve25519 scalar multiplication of the base
point; the private key is clamped the same way).

The conf parser calls this once, at the door, and keeps only the public
key (and the private key's digest): no later stage holds a private key.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def public_key(private_b64: str) -> str | None:
    """The base64 public key of a base64 private key as the tool reads it
    (44 characters, 32 bytes), or None when it is no key or the all-zero
    key (``awg`` reads that as "no private key")."""
    try:
        raw = base64.b64decode(private_b64, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 32 or not any(raw):
        return None
    public = X25519PrivateKey.from_private_bytes(raw).public_key()
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")
