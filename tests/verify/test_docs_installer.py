"""docs/installer.md as written: its install-script snippet run by ``sh``
with the installed awgcheck and the fake kernel side on PATH, its sample
lines compared with what verify prints, its systemd drop-in checked by
``systemd-analyze verify`` beside the awg-quick@ unit and its command run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
from pathlib import Path

import paths
from awg_dump import key
from fake_node import AWGCHECK, SOURCE, FakeNode, epoch_json, with_

DOC = paths.ROOT / "docs" / "installer.md"
EPOCH = epoch_json(SOURCE)
DOC_CONF = "/etc/amnezia/amneziawg/awg0.conf"

# amneziawg-tools' awg-quick@.service, as installers write it.
AWG_QUICK_UNIT = """\
[Unit]
Description=AmneziaWG via awg-quick(8) for %I
After=network-online.target nss-lookup.target
Wants=network-online.target nss-lookup.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart={up} up %i
ExecStop={up} down %i

[Install]
WantedBy=multi-user.target
"""


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", DOC.read_text(), re.S | re.M)


def snippet(node: FakeNode, params: str) -> subprocess.CompletedProcess[str]:
    (script,) = blocks("sh")
    env = {**node.env(), "PARAMS_JSON": params, "AWG_CONF": str(node.conf)}
    env["PATH"] = f"{env['PATH']}:{AWGCHECK.parent}"
    return subprocess.run(["sh", "-eu", "-c", script], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


def shape(text: str, conf: Path) -> str:
    """Output with what differs between runs (times, the conf path) blanked."""
    text = text.replace(str(conf), DOC_CONF)
    text = re.sub(r"\d+ s ago", "N s ago", text)
    return re.sub(r"in [\d.]+ s", "in T s", text)


def sample(prefix: str) -> str:
    (line,) = [x for x in DOC.read_text().splitlines() if x.startswith(prefix)]
    return line


def test_the_snippet_passes_a_node_in_sync(tmp_path: Path) -> None:
    node = FakeNode(tmp_path)
    node.plant(SOURCE, SOURCE, received=3)
    done = snippet(node, EPOCH)
    assert done.returncode == 0, done.stdout + done.stderr
    ok, last = done.stdout.splitlines()
    assert shape(ok, node.conf) == shape(sample("mesh: OK ("), node.conf)
    assert last == "install: done, the tunnel carries traffic"
    saved = node.conf.with_name("awg0.params.json")
    assert json.loads(saved.read_text()) == json.loads(EPOCH)
    assert saved.stat().st_mode & 0o777 == 0o600


def test_the_snippet_fails_the_install_on_the_field_incident(tmp_path: Path) -> None:
    node = FakeNode(tmp_path)
    node.plant(with_(S4="17"), with_(S4="17"), received=0, rx_growth=0)
    done = snippet(node, EPOCH)
    assert done.returncode == 10
    lines = done.stdout.splitlines()
    documented = DOC.read_text().split("mesh: DRIFT: ", 1)[1].split("```", 1)[0]
    assert [shape(x, node.conf) for x in lines[:-1]] == \
        shape("mesh: DRIFT: " + documented, node.conf).rstrip("\n").splitlines()
    assert lines[-1] == (f"install FAILED: {node.conf} is not what the server issued "
                         "(fix above)")


def test_the_snippet_says_when_the_interface_runs_old_params(tmp_path: Path) -> None:
    node = FakeNode(tmp_path)
    node.plant(SOURCE, with_(S4="17"))
    done = snippet(node, EPOCH)
    assert done.returncode == 11
    assert done.stdout.splitlines()[-1].startswith("install FAILED: awg0 runs old params")


def test_the_broken_source_sample_is_what_verify_prints(tmp_path: Path) -> None:
    """The hub's conf says S4 = 70000 (awg setconf rejects it): the sample
    lines, with this machine's name for the doc's partner-berlin."""
    node = FakeNode(tmp_path)
    node.plant(SOURCE, SOURCE)
    hub = tmp_path / "hub.conf"
    # The S4 line where the doc's hub.conf has it: line 13.
    hub.write_text("[Interface]\n" + "".join(f"# {n}\n" for n in range(11)) + "S4 = 70000\n"
                   + "".join(f"{k} = {v}\n" for k, v in SOURCE.items() if k != "S4")
                   + f"PrivateKey = {key('hub-private')}\n")
    done = node.awgcheck("verify", "--conf", str(node.conf), "--against", "hub.conf",
                         cwd=tmp_path)
    assert done.returncode == 4, done.stdout
    documented = DOC.read_text().split("\nmesh: COULD NOT CHECK: ", 1)[1].split("```", 1)[0]
    assert shape(done.stdout, node.conf) == shape(("mesh: COULD NOT CHECK: " + documented)
                                                 .replace("partner-berlin",
                                                          socket.gethostname() or "this node"),
                                                 node.conf)


def test_the_systemd_drop_in(tmp_path: Path) -> None:
    (unit,) = blocks("ini")
    name, _, body = unit.partition("\n")
    assert name == "# /etc/systemd/system/awg-quick@awg0.service.d/awgcheck-verify.conf"
    command = re.search(r"^ExecStartPost=(.*)$", body, re.M)
    assert command is not None
    argv = shlex.split(command.group(1).replace("%i", "awg0"))
    assert argv[0] == "/usr/local/bin/awgcheck"
    # Its command, on a node in sync and on one that drifted.
    node = FakeNode(tmp_path)
    node.plant(SOURCE, SOURCE)
    paths_used = {DOC_CONF: str(node.conf),
                  "/etc/amnezia/amneziawg/awg0.params.json": str(tmp_path / "p.json")}
    (tmp_path / "p.json").write_text(EPOCH)
    run = [str(AWGCHECK), *(paths_used.get(a, a) for a in argv[1:])]
    ok = subprocess.run(run, capture_output=True, text=True, env=node.env(), check=False)
    assert ok.returncode == 0 and ok.stdout.startswith("mesh: OK ("), ok.stdout + ok.stderr
    node.plant(with_(S4="17"), with_(S4="17"))
    bad = subprocess.run(run, capture_output=True, text=True, env=node.env(), check=False)
    assert bad.returncode == 10, bad.stdout
    # systemd reads it as a drop-in of the awg-quick@ unit.
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze is part of systemd (tests/run.sh installs it)"
    units = tmp_path / "units"
    dropins = units / "awg-quick@awg0.service.d"
    dropins.mkdir(parents=True)
    (units / "awg-quick@.service").write_text(AWG_QUICK_UNIT.format(up=shutil.which("true")))
    (dropins / "awgcheck-verify.conf").write_text(
        body.replace("/usr/local/bin/awgcheck", str(AWGCHECK)))
    done = subprocess.run([analyze, "verify", str(units / "awg-quick@awg0.service")],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "SYSTEMD_UNIT_PATH": f"{units}:"})
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
