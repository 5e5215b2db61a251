"""What a fake ``awg`` prints: stand-in keys and ``awg show IFACE dump``
text, shared by the fakes that stand in for a kernel interface (triage over
sshd, verify on this machine)."""

from __future__ import annotations

import base64
import hashlib


def key(label: str) -> str:
    """A fake WireGuard key: base64 of sha256(label)."""
    return base64.b64encode(hashlib.sha256(label.encode()).digest()).decode()


def dump_text(values: dict[str, str], *, handshake: int, rx: int, tx: int = 4000) -> str:
    """A v3.1 dump (29 interface columns) and one peer line: the hub."""
    v = {"Jc": "0", "Jmin": "0", "Jmax": "0", "S1": "0", "S2": "0", "S3": "0", "S4": "0",
         "H1": "1", "H2": "2", "H3": "3", "H4": "4", "HeaderProtectionKey": "(null)",
         "RandomTrailers": "off", **values}
    columns = [key("node-private"), key("node-public"), "51820",
               *(v[k] for k in ("Jc", "Jmin", "Jmax", "S1", "S2", "S3", "S4",
                                "H1", "H2", "H3", "H4")),
               "(null)", "(null)", "(null)", "(null)", "(null)", v["HeaderProtectionKey"],
               "0", "0", "0", "0", "0", "0", v["RandomTrailers"], "off", "off"]
    peer = [key("server-public"), "(none)", "198.51.100.10:51820", "10.77.0.0/24",
            str(handshake), str(rx), str(tx), "25"]
    return "\t".join(columns) + "\n" + "\t".join(peer) + "\n"
