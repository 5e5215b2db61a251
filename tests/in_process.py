"""awgcheck's command line run in the test's own process, returned as a
finished process (exit code, stdout, stderr).

Starting a new interpreter per call cost a third of a second of imports
each time and was most of the time of the tests that call the command
again and again. Tests that need a process of their own (signals, memory
limits, the console entry point, a second holder of a lock) still start
one.
"""

from __future__ import annotations

import subprocess

from click.testing import CliRunner, Result

from awgcheck.cli.main import main


def _invoke(args: tuple[str, ...]) -> Result:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is a bug: let the test show it
    return result


def awgcheck(*args: str) -> subprocess.CompletedProcess[str]:
    """``awgcheck ARGS``: exit code, stdout and stderr as text."""
    result = _invoke(args)
    return subprocess.CompletedProcess(["awgcheck", *args], result.exit_code, result.stdout,
                                       result.stderr)


def awgcheck_bytes(*args: str) -> subprocess.CompletedProcess[bytes]:
    """``awgcheck ARGS``: exit code, stdout and stderr as bytes."""
    result = _invoke(args)
    return subprocess.CompletedProcess(["awgcheck", *args], result.exit_code,
                                       result.stdout_bytes, result.stderr_bytes)
