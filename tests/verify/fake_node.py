"""A node's kernel side, faked for ``verify`` and local triage: a conf on
disk, the ``awg`` and ``ping`` of tests/assets/bin replaying a state
folder (first on PATH), and each ``awg show <iface> dump`` answering the
next of ``dump.1``, ``dump.2``... so rx can grow between two dumps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import paths
from awg_dump import dump_text, key

AWGCHECK = Path(sys.executable).parent / "awgcheck"  # the installed entry point
SERVER = "10.77.0.1"



HPK = key("hpk-fleet")
SECRETS = [key("node-private"), HPK]
SOURCE: dict[str, str] = {
    "Jc": "4", "Jmin": "40", "Jmax": "70", "S1": "52", "S2": "140", "S3": "36", "S4": "18",
    "H1": "1020325451-1020325461", "H2": "1288052141-1288052151",
    "H3": "1766607858-1766607868", "H4": "2114195744-2114195754",
    "HeaderProtectionKey": HPK,
}
_ORDER = list(SOURCE)

WRAPPER = """#!/bin/sh
# Test wrapper: numbered dumps first, then the replaying fake.
if [ "$(basename "$0")" = awg ] && [ "$1" = show ] && [ "${{3:-}}" = dump ]; then
    count="$AWGCHECK_FAKE_AWG_DIR/dump.count"
    n=$(( $(cat "$count" 2>/dev/null || echo 0) + 1 ))
    echo "$n" >"$count"
    next="$AWGCHECK_FAKE_AWG_DIR/dump.$n"
    if [ -f "$next" ]; then cat "$next"; exit 0; fi
fi
exec {assets}/"$(basename "$0")" "$@"
"""


def with_(**changes: str) -> dict[str, str]:
    return {**SOURCE, **changes}


def epoch_json(values: dict[str, str], epoch: int = 42) -> str:
    """``values`` as the control plane's epoch document: numbers bare, as
    ``params-document-valid`` wants them (a number sent as a string is a
    broken source, which verify names instead of checking against)."""
    params = {k: int(v) if v.isdigit() else v for k, v in values.items()}
    return json.dumps({"epoch": epoch, "params": params})


def conf_text(values: dict[str, str]) -> str:
    lines = ["[Interface]", f"PrivateKey = {key('node-private')}", "Address = 10.77.0.3/24"]
    lines += [f"{k} = {values[k]}" for k in _ORDER if k in values]
    lines += ["", "[Peer]", f"PublicKey = {key('server-public')}",
              "Endpoint = 198.51.100.10:51820", "AllowedIPs = 10.77.0.0/24",
              "PersistentKeepalive = 25"]
    return "\n".join(lines) + "\n"


def showconf_text(values: dict[str, str]) -> str:
    lines = ["[Interface]", "ListenPort = 51820", f"PrivateKey = {key('node-private')}"]
    lines += [f"{k} = {values[k]}" for k in _ORDER if k in values]
    lines += ["", "[Peer]", f"PublicKey = {key('server-public')}",
              "AllowedIPs = 10.77.0.0/24", "Endpoint = 198.51.100.10:51820",
              "PersistentKeepalive = 25"]
    return "\n".join(lines) + "\n"



def ping_text(received: int) -> str:
    loss = round(100 * (3 - received) / 3)
    return (f"PING {SERVER} ({SERVER}) from 10.77.0.3 awg0: 56(84) bytes of data.\n\n"
            f"--- {SERVER} ping statistics ---\n"
            f"3 packets transmitted, {received} received, {loss}% packet loss, time 2003ms\n")


@dataclass
class FakeNode:
    """One machine: ``conf`` on disk, what ``awg`` reports, what ``ping`` says."""

    root: Path

    @property
    def conf(self) -> Path:
        return self.root / "awg0.conf"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def plant(self, file: dict[str, str] | None, running: dict[str, str] | None = None, *,
              received: int | None = 3, rx_growth: int = 296) -> None:
        """The file, what runs (None: no interface), and the ping's replies
        (None: no ping output, as when the network is unreachable)."""
        self.state.mkdir(parents=True, exist_ok=True)
        self.bin.mkdir(exist_ok=True)
        for tool in ("awg", "ping"):
            wrapper = self.bin / tool
            wrapper.write_text(WRAPPER.format(assets=paths.ASSETS / "bin"))
            wrapper.chmod(0o755)
        for old in self.state.iterdir():
            old.unlink()
        if file is not None:
            self.conf.write_text(conf_text(file))
            self.conf.chmod(0o600)
        if running is not None:
            now = int(__import__("time").time())
            (self.state / "showconf").write_text(showconf_text(running))
            (self.state / "dump").write_text(dump_text(running, handshake=now - 3, rx=9000))
            (self.state / "dump.1").write_text(dump_text(running, handshake=now - 3, rx=9000))
            (self.state / "dump.2").write_text(
                dump_text(running, handshake=now - 2, rx=9000 + rx_growth))
        if received is not None:
            (self.state / "ping").write_text(ping_text(received))
            (self.state / "ping.rc").write_text("0" if received else "1")

    def env(self) -> dict[str, str]:
        return {**os.environ, "PATH": f"{self.bin}:{os.environ.get('PATH', '')}",
                "AWGCHECK_FAKE_AWG_DIR": str(self.state)}

    def awgcheck(self, *args: str, stdin: str | None = None,
                 cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(AWGCHECK), *args], input=stdin, capture_output=True,
                              text=True, env=self.env(), timeout=60, check=False, cwd=cwd)
