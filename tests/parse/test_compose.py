"""The compose reader's API: locations, diagnostics, profiles, JSON view.

Projects live in memory behind the ``read`` callback, exactly as they do
when files come over SSH. What Compose resolves is covered by the
differential suite; this file covers what awgcheck adds around it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from awgcheck.model import Level, Location
from awgcheck.parse.compose.project import (
    CONTAINER_VARIABLE,
    ENV_FILE,
    ENVIRONMENT,
    FILE_MISSING,
    TYPED_VALUE,
    YAML11_VALUE,
    ComposeProject,
    load_project,
)

STACK = """\
services:
  relay:
    image: example/relay
    env_file: relay.env
    environment:
      BIND: ${MESH_IP:?set MESH_IP}:9586
      JC: 4
      DEBUG: yes
  debug:
    image: busybox
    profiles: [debug]
    environment:
      - MODE=debug
"""


def _project(files: Mapping[str, str], **kwargs: object) -> ComposeProject:
    store = {path: text.encode() for path, text in files.items()}
    return load_project(store.get, project_dir="/srv/edge", **kwargs)  # type: ignore[arg-type]


def _stack(dotenv: str = "MESH_IP=10.8.0.3\n", **kwargs: object) -> ComposeProject:
    return _project(
        {
            "/srv/edge/compose.yaml": STACK,
            "/srv/edge/.env": dotenv,
            "/srv/edge/relay.env": "WG_PRIVATE_KEY=c2VjcmV0\nLOG=info\n",
        },
        **kwargs,
    )


def test_compose_env_var_keeps_raw_value_and_location() -> None:
    bind = _stack().services["relay"].environment["BIND"]
    assert (bind.raw, bind.value) == ("${MESH_IP:?set MESH_IP}:9586", "10.8.0.3:9586")
    assert bind.location == Location("/srv/edge/compose.yaml", 6)
    assert (bind.origin, bind.source) == (ENVIRONMENT, "/srv/edge/compose.yaml")
    assert bind.variables == ("MESH_IP",)


def test_compose_same_file_on_two_nodes_reads_each_nodes_env() -> None:
    # The file's YAML is composed once for both (parse/compose/tree.py); the
    # values must still come from each project's own .env.
    first = _stack("MESH_IP=10.8.0.3\n").services["relay"].environment["BIND"]
    second = _stack("MESH_IP=10.8.0.4\n").services["relay"].environment["BIND"]
    assert (first.value, second.value) == ("10.8.0.3:9586", "10.8.0.4:9586")
    assert first.location == second.location


def test_compose_env_file_var_points_into_env_file() -> None:
    log = _stack().services["relay"].environment["LOG"]
    assert (log.value, log.origin) == ("info", ENV_FILE)
    assert log.location == Location("/srv/edge/relay.env", 2)


def test_compose_missing_required_variable_is_a_located_diagnostic() -> None:
    project = _stack(dotenv="")
    [error] = [d for d in project.diagnostics if d.level is Level.ERROR]
    assert error.code == "interpolation-required"
    assert error.location == Location("/srv/edge/compose.yaml", 6)
    assert "MESH_IP" in error.message
    assert project.failed
    assert project.services["relay"].environment["BIND"].value is None


def test_compose_inactive_profile_service_is_kept_inactive() -> None:
    project = _stack()
    assert project.services["debug"].active is False
    assert project.services["debug"].profiles == ("debug",)
    assert _stack(profiles=["debug"]).services["debug"].active is True


def test_compose_ignores_checker_shell_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESH_IP", "192.0.2.1")
    assert _stack(dotenv="").services["relay"].environment["BIND"].value is None


def test_compose_extra_env_wins_over_dotenv() -> None:
    project = _stack(extra_env={"MESH_IP": "10.8.0.9"})
    assert project.services["relay"].environment["BIND"].value == "10.8.0.9:9586"


def test_compose_reports_yaml_typing_traps_with_lines() -> None:
    codes = {(d.code, d.location.line) for d in _stack().diagnostics}
    assert (TYPED_VALUE, 7) in codes
    assert (YAML11_VALUE, 8) in codes


def test_compose_no_compose_file_is_a_diagnostic() -> None:
    project = _project({"/srv/edge/.env": "A=1\n"})
    assert [d.code for d in project.diagnostics] == [FILE_MISSING]
    assert project.services == {}


def test_compose_container_variable_in_healthcheck_flagged() -> None:
    compose = """\
services:
  exporter:
    image: x
    environment:
      BIND_ADDR: 10.8.0.3
    healthcheck:
      test: ["CMD-SHELL", "wget -qO- http://$BIND_ADDR:9586/"]
"""
    project = _project({"/srv/edge/compose.yaml": compose})
    test = project.services["exporter"].healthcheck
    assert test is not None and test.test[1] == "wget -qO- http://:9586/"
    flagged = [d for d in project.diagnostics if d.code == CONTAINER_VARIABLE]
    assert [d.location.line for d in flagged] == [7]


def test_compose_to_json_is_serialisable_and_redacts_keys() -> None:
    view = _stack().to_json()
    text = json.dumps(view)
    assert "c2VjcmV0" not in text
    relay = view["services"]["relay"]  # type: ignore[index]
    assert relay["environment"]["BIND"] == {
        "raw": "${MESH_IP:?set MESH_IP}:9586",
        "value": "10.8.0.3:9586",
        "origin": "environment",
        "source": "/srv/edge/compose.yaml",
        "variables": ["MESH_IP"],
        "path": "/srv/edge/compose.yaml",
        "line": 6,
    }
    assert relay["environment"]["WG_PRIVATE_KEY"]["value"].startswith("sha256:")
    assert view["active_profiles"] == []
