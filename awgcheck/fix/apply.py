"""``fix --apply``: write a planned conf under the node's merge lock.

The whole locked section is one POSIX shell script (:data:`LOCKED_WRITE`),
run the same way on both transports: over SSH as one command (under
``sudo -n`` when the node says ``sudo: true``), and for a local node tree
with this machine's ``sh``. The node needs ``sh``, util-linux ``flock``
and GNU coreutils (``sha256sum``, ``base64``, ``mktemp``, ``chmod
--reference``, ``sync FILE``); never Python. Every path and value is one
argument of the script (``"$1"``...), so nothing from the inventory is
ever parsed by a shell, and the command line itself is quoted word by word
(``shlex``) by the transport.

The script:

1. takes ``flock`` on ``<conf>.lock`` (the lock the merge agent takes),
   waiting up to ``--lock-timeout`` seconds, else gives up (exit 75);
2. re-reads the conf under the lock and gives up (exit 76) if its SHA-256
   is not the one the diff was computed from;
3. keeps a copy as ``<conf>.awgcheck-<UTC time>.bak`` (never over an
   existing one) (``cp -p``: same
   mode, owner and times; the conf holds the private key);
4. writes the new bytes to a temporary file in the same directory, gives it
   the conf's owner and mode, fsyncs it, renames it over the conf and
   fsyncs the directory;
5. prints the conf as it now reads, still under the lock, so awgcheck can
   compare it with what it meant to write and check it again.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from awgcheck.collect.base import Collector, CommandResult
from awgcheck.collect.local import LocalTreeCollector, outside_tree
from awgcheck.errors import CollectError
from awgcheck.fix.run import Fix, FixRefused, NodeConf
from awgcheck.model import Finding
from awgcheck.secrecy import scrub

LOCK_BUSY = 75  # the script's `exit 75`
CHANGED = 76  # its `exit 76`
MAX_APPLY_BYTES = 64 * 1024
"""The new conf travels base64-encoded as one argument of one command; Linux
caps one argument at 128 KiB. A conf is a few KiB."""
COMMAND_SLACK = 30.0
"""Seconds the locked write may take beyond waiting for the lock."""

LOCKED_WRITE = r"""set -eu
umask 077
conf=$1 want=$2 wait=$3 backup=$4 payload=$5
exec 9>>"$conf.lock"
if ! flock -w "$wait" 9; then
  echo "awgcheck: $conf.lock is held by another process" >&2; exit 75
fi
have=$(sha256sum < "$conf"); have=${have%% *}
if [ "$have" != "$want" ]; then
  echo "awgcheck: $conf changed since the diff was computed" >&2; exit 76
fi
if [ -e "$backup" ]; then echo "awgcheck: $backup exists already" >&2; exit 1; fi
cp -p -- "$conf" "$backup"
tmp=$(mktemp "$conf.awgcheck-XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
printf '%s' "$payload" | base64 -d > "$tmp"
chown --reference="$conf" -- "$tmp"
chmod --reference="$conf" -- "$tmp"
sync -- "$tmp"
mv -f -- "$tmp" "$conf"
trap - EXIT
sync -- "$(dirname -- "$conf")"
cat -- "$conf"
"""

RELOAD = 'awg-quick down "$1" && awg-quick up "$1"'
"""Obfuscation params change only when the interface is recreated:
``awg syncconf`` leaves a param removed from the file active."""


@dataclass(frozen=True)
class Applied:
    """What ``--apply`` did, and what ``check`` says of the conf the node
    now holds."""

    backup: str
    remaining: tuple[Finding, ...]
    reloaded: bool = False
    reload_error: str | None = None  # the conf is written, but the reload failed


Recheck = Callable[[bytes], tuple[Finding, ...]]
"""What ``check`` would fail on the node were its conf these bytes."""


def apply(collector: Collector, fix: Fix, recheck: Recheck, lock_timeout: float,
          reload_after: bool) -> Applied:
    """Write ``fix``'s conf under the lock, check what the node now holds
    and, when asked and the values changed, recreate the interface. A
    failed write is a refusal that says what was (not) done; a failed
    reload is told with the written conf (it is not undone)."""
    try:
        backup, now = write(collector, fix.read, fix.plan.data, lock_timeout)
    except CollectError as exc:
        raise FixRefused(str(exc)) from None
    done = Applied(backup, recheck(now))
    if reload_after and fix.plan.changes_values:
        try:
            reload(collector, fix.read)
        except CollectError as exc:
            return replace(done, reload_error=str(exc))
        done = replace(done, reloaded=True)
    return done


def backup_path(path: str, now: dt.datetime | None = None) -> str:
    # Microseconds: two applies within one second keep both backups (the
    # script refuses to overwrite one, rather than lose the original).
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{path}.awgcheck-{stamp}.bak"


def write(collector: Collector, read: NodeConf, data: bytes,
          lock_timeout: float) -> tuple[str, bytes]:
    """Run :data:`LOCKED_WRITE` for ``read`` with ``data``; returns the
    backup's path and the conf as read back (``data``). Raises
    :class:`FixRefused` when the lock stays held or the conf changed
    (nothing written), CollectError else."""
    if len(data) > MAX_APPLY_BYTES:
        raise FixRefused(f"{read.node.name}: the fixed conf is {len(data)} bytes; --apply "
                         f"writes at most {MAX_APPLY_BYTES}: apply the diff by hand")
    path = _file(collector, read)
    backup = backup_path(path)
    payload = base64.b64encode(data).decode("ascii")
    args = [path, read.sha256, f"{lock_timeout:g}", backup, payload]
    result = _run_script(collector, read, LOCKED_WRITE, args, lock_timeout + COMMAND_SLACK)
    said = scrub(result.stderr.decode("utf-8", "replace").strip())
    if result.exit_status == LOCK_BUSY:
        raise FixRefused(f"{read.node.name}: {read.where}.lock is still held by another "
                         f"process after {lock_timeout:g} s (--lock-timeout); nothing written")
    if result.exit_status == CHANGED:
        raise FixRefused(f"{read.node.name}: {read.where} changed since the diff was "
                         "computed; nothing written: run fix again")
    if result.exit_status != 0:
        raise CollectError(f"{read.node.name}: writing {read.where} failed "
                           f"(exit {result.exit_status}): {said[:300]}")
    if result.stdout != data:
        raise CollectError(f"{read.node.name}: {read.where} does not read back as written "
                           f"(the backup is {backup})")
    return backup, result.stdout


def reload(collector: Collector, read: NodeConf) -> None:
    """Recreate the node's interface so the new params take effect."""
    result = _run_script(collector, read, RELOAD, [read.node.interface], COMMAND_SLACK)
    if result.exit_status != 0:
        said = scrub((result.stderr or result.stdout).decode("utf-8", "replace").strip())
        raise CollectError(f"{read.node.name}: `{reload_command(read)}` failed "
                           f"(exit {result.exit_status}): {said[:300]}")


def reload_command(read: NodeConf) -> str:
    iface = read.node.interface
    return f"awg-quick down {iface} && awg-quick up {iface}"


def _file(collector: Collector, read: NodeConf) -> str:
    """The conf's path where the script runs: the node path, or for a node
    tree the tree's own file, refused if it leads out of the tree."""
    if not isinstance(collector, LocalTreeCollector):
        return read.path
    root = os.path.realpath(collector.root)
    local = os.path.realpath(collector.root.joinpath(
        *[p for p in Path(read.path).parts if p not in ("/", "", ".")]))
    if not local.startswith(root.rstrip(os.sep) + os.sep):
        raise outside_tree(read.where, collector.tree)
    return local


def _run_script(collector: Collector, read: NodeConf, script: str, args: list[str],
                timeout: float) -> CommandResult:
    """``sh -c script sh args...`` on the node (a node tree: here)."""
    argv = ["sh", "-c", script, "sh", *args]
    if not isinstance(collector, LocalTreeCollector):
        return collector.run(argv, sudo=read.node.sudo, timeout=timeout)
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise CollectError(f"{read.node.name}: writing {read.where} did not finish within "
                           f"{timeout:g} s") from None
    return CommandResult(tuple(argv), done.returncode, done.stdout, done.stderr)
