"""Local node trees are data, not a view of this machine: nothing outside a
node's tree is read, whatever a hostile tree links to, and nothing that is
not a regular file (a FIFO would block, a device never ends).

Every test plants real symlinks, FIFOs and device nodes in tmp_path; the
bytes they lead to carry a marker that must not appear in any output.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import paths
import pytest
import yaml

from awgcheck.collect.local import LocalTreeCollector, read_beneath, read_local_file
from awgcheck.errors import CollectError, ErrorClass

CONF = "etc/amnezia/amneziawg/awg0.conf"
STACK = "opt/partner-edge"
MARKER = "LEAKPROBE-3f9c1d"
"""In every file outside the trees: seen in an output, it leaked."""
FORMATS = ("table", "json", "junit", "sarif", "github", "markdown")


def _copy_node(tmp_path: Path, demo_node: str, name: str) -> Path:
    root = tmp_path / "nodes" / name
    shutil.copytree(paths.DEMO / "nodes" / demo_node, root)
    return root


def _secret_file(tmp_path: Path, name: str) -> Path:
    """A file outside every node tree, shaped like what a link would steal."""
    target = tmp_path / "home" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"[default]\naws_access_key_id = {MARKER}\n"
                      f"aws_secret_access_key = {MARKER}-secret\nS4 = {MARKER}\n")
    return target


def _relink(path: Path, target: Path | str) -> None:
    path.unlink()
    path.symlink_to(target)


def hostile_fleet(tmp_path: Path) -> Path:
    """The demo server and one node per way out of a tree."""
    _copy_node(tmp_path, "server", "server")
    nodes: dict[str, object] = {"server": {"local": "nodes/server"}}

    environ = _copy_node(tmp_path, "partner-berlin", "environ")
    _relink(environ / CONF, "/proc/self/environ")
    nodes["environ"] = {"local": "nodes/environ"}

    creds = _copy_node(tmp_path, "partner-berlin", "credentials")
    _relink(creds / CONF, _secret_file(tmp_path, "credentials"))
    nodes["credentials"] = {"local": "nodes/credentials"}

    # A folder on the way, not the file, leads out (relative link).
    folder = _copy_node(tmp_path, "partner-berlin", "folder")
    outside = tmp_path / "home" / "amneziawg"
    outside.mkdir(parents=True)
    shutil.copy(_secret_file(tmp_path, "credentials"), outside / "awg0.conf")
    shutil.rmtree(folder / "etc/amnezia/amneziawg")
    (folder / "etc/amnezia/amneziawg").symlink_to(os.path.relpath(outside,
                                                                  folder / "etc/amnezia"))
    nodes["folder"] = {"local": "nodes/folder"}

    # The conf is fine; the compose stack's env files lead out, one by a
    # symlink, one by a path that climbs (re-rooted: it stays in the tree).
    stack = _copy_node(tmp_path, "partner-berlin", "stack")
    _relink(stack / STACK / "awg.env", _secret_file(tmp_path, "awg.env"))
    # A compose file of this machine, named by its absolute path (extends)
    # and linked in (include): a node's absolute path is in its tree.
    evil = tmp_path / "home" / "evil.yaml"
    evil.write_text(f"services:\n  relay:\n    image: x\n    environment:\n"
                    f"      STOLEN: {MARKER}\n  extra:\n    image: {MARKER}\n")
    (stack / STACK / "inc.yaml").symlink_to(evil)
    compose = stack / STACK / "compose.yaml"
    compose.write_text("include:\n  - inc.yaml\n" + compose.read_text().replace(
        "      - awg.env\n", "      - awg.env\n      - ../../../../../../../etc/passwd\n")
        + f"  stolen:\n    extends:\n      file: {evil}\n      service: relay\n")
    nodes["stack"] = {"local": "nodes/stack", "compose": [f"/{STACK}/compose.yaml"],
                      "compose_profiles": ["metrics"]}

    climb = _copy_node(tmp_path, "partner-berlin", "climb")
    nodes["climb"] = {"local": "nodes/climb",
                      "conf": "/../../../home/credentials"}
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "server", "nodes": nodes}))
    assert climb.is_dir()
    return inventory


@pytest.fixture(scope="module")
def fleet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile_fleet(tmp_path_factory.mktemp("hostile"))


def _check(inventory: Path, fmt: str) -> subprocess.CompletedProcess[str]:
    # A real process, so /proc/self/environ is the checker's own
    # environment, and it carries the marker.
    env = {**os.environ, "AWGCHECK_LEAK_PROBE": MARKER}
    return subprocess.run(
        [sys.executable, "-m", "awgcheck", "check", "-i", str(inventory), "--format", fmt],
        capture_output=True, text=True, timeout=120, env=env, cwd=inventory.parent)


@pytest.mark.parametrize("fmt", FORMATS)
def test_local_tree_links_out_of_the_tree_leak_nothing(fleet_file: Path, fmt: str) -> None:
    proc = _check(fleet_file, fmt)
    assert proc.returncode in (4, 5), proc.stderr
    leaked = MARKER in proc.stdout + proc.stderr
    assert not leaked, f"{fmt}: bytes from outside a node tree reached the output"
    assert "root:x:0:0" not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_local_tree_links_out_are_outside_tree_errors(fleet_file: Path) -> None:
    report = json.loads(_check(fleet_file, "json").stdout)
    nodes = {n["name"]: (n["status"], n["error_class"]) for n in report["nodes"]}
    for name in ("environ", "credentials", "folder", "climb"):
        assert nodes[name] == ("error", "outside_tree"), name
    errors = {n["name"]: n["error"] for n in report["nodes"]}
    assert errors["environ"].endswith(f"nodes/environ/{CONF}: leads out of the node tree; "
                                      "not read")
    assert "proc" not in errors["environ"]  # where the link points is not said
    # The stack's conf is read and checked; only its env file is refused.
    assert nodes["stack"][1] is None
    refused = {f["location"]["path"].rsplit("/", 1)[-1] for f in report["findings"]
               if f["node"] == "stack" and f["rule"] == "compose-file-errors"
               and f["status"] == "fail" and "leads out of the node tree" in f["message"]}
    assert refused == {"awg.env", "inc.yaml"}


def test_local_tree_symlink_inside_the_tree_is_followed(tmp_path: Path) -> None:
    root = _copy_node(tmp_path, "partner-berlin", "linked")
    real = root / "srv" / "awg0.conf.real"
    real.parent.mkdir()
    (root / CONF).rename(real)
    (root / CONF).symlink_to(os.path.relpath(real, (root / CONF).parent))
    collector = LocalTreeCollector(root)
    assert _is_the_conf(collector.read_file(f"/{CONF}"), real)
    # Absolute links are this machine's paths: inside the tree, still fine.
    _relink(root / CONF, real)
    assert _is_the_conf(collector.read_file(f"/{CONF}"), real)
    # A symlinked tree root is the tree itself.
    alias = tmp_path / "alias"
    alias.symlink_to(root)
    assert _is_the_conf(LocalTreeCollector(alias).read_file(f"/{CONF}"), real)


def _is_the_conf(data: bytes, real: Path) -> bool:
    # Compared, never shown: the conf holds a PrivateKey.
    return data == real.read_bytes()


@pytest.mark.parametrize("target", ["/proc/self/environ", "/etc/passwd", "../../../../.."],
                         ids=["proc", "absolute", "relative-climb"])
def test_local_tree_read_refuses_link_out(tmp_path: Path, target: str) -> None:
    root = tmp_path / "tree"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "link").symlink_to(target)
    with pytest.raises(CollectError) as caught:
        LocalTreeCollector(root).read_file("/etc/link")
    assert caught.value.error_class is ErrorClass.OUTSIDE_TREE
    assert str(caught.value) == f"{root}/etc/link: leads out of the node tree; not read"


def test_local_tree_dotdot_is_outside_tree(tmp_path: Path) -> None:
    with pytest.raises(CollectError) as caught:
        LocalTreeCollector(tmp_path).read_file("/etc/../../x")
    assert caught.value.error_class is ErrorClass.OUTSIDE_TREE


def _char_device(path: Path) -> None:
    """A character device node like /dev/zero (1, 5), made here (root)."""
    os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))


@pytest.mark.parametrize("kind", ["fifo", "device", "socket", "folder"])
def test_local_tree_reads_only_regular_files(tmp_path: Path, kind: str) -> None:
    import socket

    path = tmp_path / "etc" / "awg0.conf"
    path.parent.mkdir()
    held = None
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        _char_device(path)
    elif kind == "socket":
        held = socket.socket(socket.AF_UNIX)
        held.bind(str(path))
    else:
        path.mkdir()
    try:
        with pytest.raises(CollectError) as caught:
            LocalTreeCollector(tmp_path).read_file("/etc/awg0.conf")
    finally:
        if held is not None:
            held.close()
    assert caught.value.error_class is ErrorClass.NOT_A_FILE
    assert str(caught.value).startswith(f"{path}: is a ")


def test_local_tree_read_is_capped(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * 101)
    assert read_beneath(tmp_path, ["big"], "big", limit=101) == b"x" * 101
    with pytest.raises(CollectError) as caught:
        read_beneath(tmp_path, ["big"], "big", limit=100)
    assert caught.value.error_class is ErrorClass.FILE_TOO_LARGE


def test_read_local_file_follows_links_but_refuses_a_fifo(tmp_path: Path) -> None:
    # A file named on the command line: the machine is its tree.
    real = _secret_file(tmp_path, "real.conf")
    link = tmp_path / "link.conf"
    link.symlink_to(real)
    assert MARKER.encode() in read_local_file(link)
    fifo = tmp_path / "fifo.conf"
    os.mkfifo(fifo)
    with pytest.raises(CollectError) as caught:
        read_local_file(fifo)
    assert caught.value.error_class is ErrorClass.NOT_A_FILE


def test_inspect_conf_on_a_fifo_is_refused_not_blocked(tmp_path: Path) -> None:
    fifo = tmp_path / "awg0.conf"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "awgcheck", "inspect", "conf", str(fifo)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert f"{fifo}: is a FIFO, not a regular file; not read" in proc.stderr
