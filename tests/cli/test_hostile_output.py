"""Hostile values reach every output escaped, and every output stays valid.

One node tree holds a byte that is not UTF-8, terminal escapes (CSI, OSC 52
with BEL), NUL, HTML, a Markdown link, an @mention, an issue reference, a
double backtick and a pipe, in its conf, its compose env file and its node
name. Every command and format is run as a real process, to stdout and
with --output, and each result must be UTF-8 with no control character but
newline and tab, must parse in its format's own parser, and must still
show the hostile value, escaped.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import paths
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from report.test_sarif_format import validate as validate_sarif

CONF = "etc/amnezia/amneziawg/awg0.conf"
EDGE = "opt/partner-edge"
HOSTILE = (b"\x1b[31mRED\x1b]52;c;aGk=\x07\x00 <img src=x onerror=alert(1)> "
           b"[click](http://evil) @org/team ``x`` |")
NODE = "evil <img src=x onerror=alert(1)> @org/team #123 [click](http://evil) |"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(paths.DEMO / "nodes" / "server", root / "nodes" / "server")
    node = root / "nodes" / "evil"
    shutil.copytree(paths.DEMO / "nodes" / "partner-berlin", node)
    conf = node / CONF
    conf.write_bytes(conf.read_bytes().replace(b"S4 = 18", b"S4 = 18\xff")
                     .replace(b"S3 = 36", b"S3 = 36" + HOSTILE))
    env = node / EDGE / "awg.env"  # compose-go refuses non-UTF-8 and NUL in env files
    env.write_bytes(env.read_bytes().replace(
        b"AWG_S3=36", b"AWG_S3=36" + HOSTILE.replace(b"\x00", b"")))
    inventory = root / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "server", "nodes": {
        "server": {"local": "nodes/server"},
        NODE: {"local": "nodes/evil", "compose": [f"/{EDGE}/compose.yaml"]}}}))
    return root


def _awgcheck(*args: str) -> bytes:
    done = subprocess.run([sys.executable, "-m", "awgcheck", *args], capture_output=True,
                          check=False, timeout=120)
    assert done.returncode in (0, 1, 4, 5), done.stderr.decode("utf-8", "replace")
    assert done.stderr == b"", done.stderr.decode("utf-8", "replace")
    return done.stdout


# --- what each format's own parser says --------------------------------------------


def _no_parser(text: str) -> None:
    pass


def _json(text: str) -> None:
    json.loads(text)


def _junit(text: str) -> None:
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    for suite in root.iter("testsuite"):
        assert suite.get("name")
        for count in ("tests", "failures", "errors"):
            assert (suite.get(count) or "").isdigit()
        for case in suite.iter("testcase"):
            assert case.get("name") and case.get("classname")


def _sarif(text: str) -> None:
    validate_sarif(json.loads(text))


def _outside_code(text: str) -> str:
    """Markdown with code spans and fenced blocks removed: what GitHub
    would interpret."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            out.append(text[i:i + 2])
            i += 2
            continue
        run = re.match(r"`+", text[i:])
        if run:
            fence = run.group(0)
            close = re.search(rf"(?<!`){fence}(?!`)", text[i + len(fence):])
            if close:
                i += len(fence) + close.end()
                continue
            out.append(fence)
            i += len(fence)
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _markdown(text: str) -> None:
    prose = _outside_code(text)
    assert not re.search(r"(?<!\\)<img", prose)
    assert not re.search(r"(?<!\\)\]\(http", prose)
    assert not re.search(r"(?<![\w\\])@org", prose), "an @mention would notify"
    assert not re.search(r"(?<![\w\\])#123", prose), "an issue reference would link"
    header = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = len(re.findall(r"(?<!\\)(?:\\\\)*\|", line))
        header = header or cells
        assert cells == header, f"a value broke the table: {line}"


def _github(text: str) -> None:
    for line in text.splitlines():
        assert re.match(r"::(error|warning|notice)( [^:]*)?::", line), line
        assert "::" not in line.split("::", 2)[2].replace("%3A", ""), line


def _prometheus(text: str) -> None:
    families = list(text_string_to_metric_families(text))
    nodes = {s.labels["node"] for f in families if f.name == "awgcheck_node_status"
             for s in f.samples}
    assert nodes == {"server", NODE}
    assert all(f.name.startswith("awgcheck_") for f in families)


CHECK = [(fmt, parse) for fmt, parse in (
    ("table", _no_parser), ("json", _json), ("junit", _junit), ("sarif", _sarif),
    ("github", _github), ("markdown", _markdown), ("prometheus", _prometheus))]


def _assert_clean(raw: bytes, shown: tuple[str, ...]) -> str:
    text = raw.decode("utf-8")  # strict: a stray byte fails here
    bad = sorted({hex(b) for b in raw if b < 0x20 and b not in (0x0A, 0x09)})
    assert not bad, f"raw control bytes in the output: {bad}"
    for marker in shown:
        assert marker in text, f"{marker!r} is missing: the value was dropped"
    return text


# Escaped as printable() shows them (Markdown also escapes [ and \ in prose).
SHOWN = ("x1b", "31mRED", "]52;c;aGk=", "x07", "onerror=alert(1)", "org/team")


@pytest.mark.parametrize(("fmt", "parse"), CHECK, ids=[f for f, _ in CHECK])
@pytest.mark.parametrize("where", ["stdout", "output"])
def test_check_output_is_valid_and_escaped(fleet: Path, tmp_path: Path, fmt: str,
                                           parse: Callable[[str], None], where: str) -> None:
    args = ["check", "-i", str(fleet / "fleet.yaml"), "--format", fmt]
    if where == "output":
        target = tmp_path / f"report.{fmt}"
        assert _awgcheck(*args, "--output", str(target)) == b""
        raw = target.read_bytes()
    else:
        raw = _awgcheck(*args)
    # Prometheus labels hold names, never values: only the node name shows.
    shown = ("onerror=alert(1)", "org/team") if fmt == "prometheus" else (*SHOWN, "xff")
    parse(_assert_clean(raw, shown))


def test_check_json_round_trips_the_escaped_values(fleet: Path) -> None:
    report = json.loads(_awgcheck("check", "-i", str(fleet / "fleet.yaml"), "--format", "json"))
    s4 = [f for f in report["findings"] if f["param"] == "S4" and f["node"] == NODE
          and f["actual"] and f["location"]["path"].endswith("awg0.conf")]
    assert s4 and {f["actual"] for f in s4} == {"18\\xff"}
    assert any(f["actual"].startswith("36\\x1b[31mRED\\x1b]52;c;aGk=\\x07")
               for f in report["findings"] if f["param"] == "S3" and f["actual"])


COMMANDS = [
    ("inspect-conf-table", ["inspect", "conf", f"nodes/evil/{CONF}"], _no_parser, True),
    ("inspect-conf-json", ["inspect", "conf", f"nodes/evil/{CONF}", "--format", "json"],
     _json, True),
    ("inspect-compose-table", ["inspect", "compose", f"nodes/evil/{EDGE}/compose.yaml"],
     _no_parser, False),
    ("inspect-compose-json", ["inspect", "compose", f"nodes/evil/{EDGE}/compose.yaml",
                              "--format", "json"], _json, False),
    ("diff-table", ["diff", f"nodes/evil/{CONF}", f"nodes/server/{CONF}"], _no_parser, True),
    ("diff-json", ["diff", f"nodes/evil/{CONF}", f"nodes/server/{CONF}", "--format", "json"],
     _json, True),
    ("triage-table", ["triage", NODE, "-i", "fleet.yaml"], _no_parser, True),
    ("triage-json", ["triage", NODE, "-i", "fleet.yaml", "--format", "json"], _json, True),
    ("triage-markdown", ["triage", NODE, "-i", "fleet.yaml", "--format", "markdown"],
     _markdown, True),
]


@pytest.mark.parametrize(("args", "parse", "conf"), [c[1:] for c in COMMANDS],
                         ids=[c[0] for c in COMMANDS])
def test_command_output_is_valid_and_escaped(fleet: Path, monkeypatch: pytest.MonkeyPatch,
                                             args: list[str], parse: Callable[[str], None],
                                             conf: bool) -> None:
    monkeypatch.chdir(fleet)
    # Wide enough that no value is wrapped across lines: each marker is whole.
    wide = ["--width", "10000"] if "--format" not in args else []
    # The compose env file cannot hold a stray byte; the conf shows it.
    parse(_assert_clean(_awgcheck(*args, *wide), (*SHOWN, "xff") if conf else SHOWN))


def test_error_messages_are_escaped(tmp_path: Path) -> None:
    """A usage error quoting hostile text (here: a node name) is escaped too."""
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "s", "nodes": {"s": {"local": "s"}}}))
    done = subprocess.run([sys.executable, "-m", "awgcheck", "triage", "\x1b]52;c;aGk=\x07",
                           "-i", str(inventory)], capture_output=True, check=False)
    assert done.returncode == 2
    _assert_clean(done.stderr, ("\\x1b]52;c;aGk=\\x07",))
