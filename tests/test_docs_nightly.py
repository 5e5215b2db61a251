"""docs/nightly.md is true: its scripts and CI steps run against the demo
fleet, every ``awgcheck`` command line in it parses with the real command
line, and every file it shows reads as its tool reads it.

The page's files are its fenced blocks whose first comment line (after a
shebang) names them (``# /etc/awgcheck/fleet.yaml``); the others are
commands (``sh``) or pictures (``text``). What runs here: the nightly
script (three nights: a failure, a same-day re-run under --fail-on-new, an
inventory error), the GitHub Actions shard and merge steps (two nights,
the second against the cached baseline), the Kubernetes pod script (each
index in turn), ``inspect ssh`` over the page's inventory and ssh_config,
and the jq command that lists waivers about to expire. What is read: the
YAML blocks (yaml.safe_load, and awgcheck's own inventory and waivers
readers), the systemd units (and ``systemd-analyze verify`` where it is
installed), the crontab line and the Prometheus rules (their metrics and
labels are the ones docs/reports.md lists, and its alerts are reused).
"""

from __future__ import annotations

import configparser
import datetime as dt
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import paths
import pytest
import yaml
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from scratch_fleet import awgcheck, timeless

from awgcheck import inventory, waivers
from awgcheck.cli.main import COMMANDS, main

DOC = paths.ROOT / "docs" / "nightly.md"
BIN = Path(sys.executable).parent  # the awgcheck this test runs, on the scripts' PATH

FILES = {
    "/etc/awgcheck/fleet.yaml", "/etc/awgcheck/waivers.yaml", "/etc/awgcheck/ssh_config",
    "/usr/local/bin/awgcheck-nightly", "/etc/cron.d/awgcheck",
    "/etc/systemd/system/awgcheck-nightly.service",
    "/etc/systemd/system/awgcheck-nightly.timer",
    ".github/workflows/awgcheck-nightly.yml", "awgcheck-nightly.yaml",
    "/etc/prometheus/rules/awgcheck.yml",
}
LANGUAGES = {"text", "yaml", "sshconfig", "sh", "crontab", "ini"}


@dataclass(frozen=True)
class Block:
    lang: str
    text: str
    line: int  # of the opening fence, for messages

    @property
    def name(self) -> str | None:
        """The file the block shows, from its first comment line."""
        lines = self.text.splitlines()
        if lines and lines[0].startswith("#!"):
            lines = lines[1:]
        match = re.match(r"# (\S+)(?::|$)", lines[0]) if lines else None
        return match.group(1) if match else None


def _blocks() -> list[Block]:
    found, lines = [], DOC.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = re.match(r"^```(\w*)$", lines[index])
        if opening:
            end = lines.index("```", index + 1)
            found.append(Block(opening.group(1), "\n".join(lines[index + 1:end]) + "\n",
                               index + 1))
            index = end
        index += 1
    return found


def block(name: str) -> str:
    """The text of the one block that shows ``name``."""
    (text,) = [b.text for b in _blocks() if b.name == name]
    return text


def _yaml(name: str) -> Any:
    return yaml.safe_load(block(name))


# --- the blocks ------------------------------------------------------------------------


def test_docs_nightly_blocks_are_the_files_it_promises() -> None:
    blocks = _blocks()
    assert {b.lang for b in blocks} <= LANGUAGES, [(b.line, b.lang) for b in blocks]
    assert sorted(b.name for b in blocks if b.name) == sorted(FILES)
    for b in blocks:
        if b.lang == "yaml":
            assert yaml.safe_load(b.text) is not None, f"nightly.md:{b.line}"


def test_docs_nightly_inventory_and_waivers_load_and_agree(tmp_path: Path) -> None:
    conf = tmp_path / "etc" / "awgcheck"
    conf.mkdir(parents=True)
    for name in ("fleet.yaml", "waivers.yaml"):
        (conf / name).write_text(block(f"/etc/awgcheck/{name}"))
    fleet = inventory.load(conf / "fleet.yaml")
    assert fleet.source_node == "hub"
    groups = {node.name: set(node.groups) for node in fleet.nodes}
    assert groups["edge-ala-1"] == {"partners"}  # from defaults, as its comment says
    assert all(node.sudo for node in fleet.nodes)
    for waiver in waivers.load_file(conf / "waivers.yaml"):
        assert any(waivers.names(waiver, name, in_groups)
                   for name, in_groups in groups.items()), waiver  # none would be unused


def test_docs_nightly_inspect_ssh_shows_the_bastion(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "etc" / "awgcheck"
    conf.mkdir(parents=True)
    for name in ("fleet.yaml", "ssh_config"):
        (conf / name).write_text(block(f"/etc/awgcheck/{name}"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (command,) = [c for c in _commands() if c.words[:2] == ["inspect", "ssh"]]
    words = [w.replace("/etc/awgcheck", str(conf)) for w in command.words]
    result = CliRunner().invoke(main, words)
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    assert result.stdout.splitlines()[0] == (
        "edge-fra-1: reached over SSH as audit@bastion.example.net:22 -> "
        "audit@fra-1.vpn.example.net:22 (nothing was connected to)")
    assert f"{tmp_path}/home/.ssh/known_hosts.d/fleet" in result.stdout


# --- every awgcheck command line -------------------------------------------------------


@dataclass(frozen=True)
class Command:
    where: str
    words: list[str]  # after "awgcheck"


# What the scripts' variables hold, for parsing their command lines.
VALUES = {"report": "/r/awgcheck-2026-06-01.json", "REPORTS": "/r", "TEXTFILE_DIR": "/t",
          "CONF_DIR": "/etc/awgcheck", "run": "/r/runs/j", "shard": "1", "SHARDS": "3",
          "previous": "/r/awgcheck-2026-05-31.json"}
OPERATORS = {"||", "&&", ";", "|", ">", ">>", ";;", ")"}


def _shell_texts() -> Iterator[tuple[str, str]]:
    """Every piece of shell in the page: sh blocks, the workflow's run
    steps, the pod's script."""
    for b in _blocks():
        if b.lang == "sh":
            yield f"nightly.md:{b.line}", b.text
    for job_name, job in _yaml(".github/workflows/awgcheck-nightly.yml")["jobs"].items():
        for step in job["steps"]:
            if "run" in step:
                yield f"workflow job {job_name}", step["run"]
    yield "the Kubernetes pod", _pod(_yaml("awgcheck-nightly.yaml"))["command"][2]


def _words(line: str) -> list[str]:
    """A shell line's words, operators apart, comments dropped; none for a
    line the shell would read otherwise (a jq program's quotes)."""
    line = re.sub(r"\$\{\{\s*matrix\.shard\s*\}\}", "1", line)
    line = re.sub(r"\$\(date [^)]*\)", "2026-06-01", line)
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:
        return []


def _commands() -> Iterator[Command]:
    """Each ``awgcheck`` command line of the page, its variables filled in;
    ``"$@"`` is what the ``set --`` lines before it gave (every branch
    taken, so the longest command line is the one parsed)."""
    for where, text in _shell_texts():
        arguments: list[str] = []
        for line in text.replace("\\\n", " ").splitlines():
            words = _words(line)
            for start, word in enumerate(words[:-1]):
                rest = _until_operator(words[start + 1:])
                if word == "set" and rest[:1] == ["--"]:
                    arguments = _expanded(rest[1:], arguments)  # "$@" in it: added to
                elif word == "awgcheck" and rest[:1] and rest[0] in COMMANDS:
                    yield Command(where, _expanded(rest, arguments))


def _until_operator(words: list[str]) -> list[str]:
    return words[:next((i for i, w in enumerate(words) if w in OPERATORS), len(words))]


def _expanded(words: list[str], arguments: list[str]) -> list[str]:
    command: list[str] = []
    for word in words:
        if word == "$@":
            command += arguments
        else:
            command.append(re.sub(r"\$\{?(\w+)\}?", lambda m: VALUES[m.group(1)], word))
    return command


def test_docs_nightly_every_awgcheck_command_line_parses(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # --ssh-config is read as it is parsed: the page's files, where its
    # commands name them (/etc/awgcheck/, and fleet/ in the CI checkout).
    conf = tmp_path / "etc-awgcheck"
    for folder in (conf, tmp_path / "fleet"):
        folder.mkdir()
        for name in ("fleet.yaml", "waivers.yaml", "ssh_config"):
            (folder / name).write_text(block(f"/etc/awgcheck/{name}"))
    monkeypatch.chdir(tmp_path)
    seen = set()
    for command in _commands():
        group: click.Command = main
        words = [w.replace("/etc/awgcheck", str(conf)) for w in command.words]
        name = "awgcheck"
        while isinstance(group, click.Group):
            name, *words = words
            found = group.get_command(click.Context(group), name)
            assert found is not None, f"{command.where}: no command {name}"
            group = found
        try:
            group.make_context(name, words)
        except click.ClickException as exc:
            pytest.fail(f"{command.where}: awgcheck {shlex.join(command.words)}: "
                        f"{exc.format_message()}")
        seen.add((command.where.split(":")[0], command.words[0]))
    assert seen == {
        ("nightly.md", "check"), ("nightly.md", "merge"), ("nightly.md", "inspect"),
        ("workflow job shard", "check"), ("workflow job merge", "merge"),
        ("the Kubernetes pod", "check"), ("the Kubernetes pod", "merge")}


# --- running the scripts against the demo fleet ----------------------------------------


def _conf_dir(tmp_path: Path, expires_soon: str = "2099-12-31") -> Path:
    """/etc/awgcheck for the demo fleet: its inventory and node trees, a
    waivers file (Tbilisi's relay until ``expires_soon``, Almaty's
    spellings for good), and the page's ssh_config."""
    conf = tmp_path / "etc-awgcheck"
    shutil.copytree(paths.DEMO, conf)
    (conf / "waivers.yaml").write_text(yaml.safe_dump({"waivers": [
        {"nodes": "partner-tbilisi", "rule": "compose-listener-mesh-bound",
         "reason": "the relay moves with the upgrade", "owner": "alice",
         "expires": expires_soon},
        {"nodes": "partner-almaty", "rule": "canonical-spelling", "reason": "installer",
         "expires": "2099-12-31"},
    ]}, sort_keys=False))
    (conf / "ssh_config").write_text(block("/etc/awgcheck/ssh_config"))
    return conf


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return {**env, "PATH": f"{BIN}:{env['PATH']}", "HOME": str(tmp_path / "home"), **extra}


def _metrics(text: str) -> dict[str, float]:
    """Samples without labels, by name."""
    return {s.name: s.value for f in text_string_to_metric_families(text)
            for s in f.samples if not s.labels}


def _single_run(*args: str | Path) -> str:
    """The JSON report of one run over the whole fleet, in this process."""
    run = awgcheck("check", *args, "--format", "json")
    assert run.code in (0, 1, 4, 5), run.err
    return run.out


def test_docs_nightly_script_night_after_night(tmp_path: Path) -> None:
    script = tmp_path / "awgcheck-nightly"
    script.write_text(block("/usr/local/bin/awgcheck-nightly"))
    script.chmod(0o755)
    conf, reports, textfile = _conf_dir(tmp_path), tmp_path / "reports", tmp_path / "textfile"
    textfile.mkdir()
    env = _env(tmp_path, AWGCHECK_CONF_DIR=str(conf), AWGCHECK_REPORTS=str(reports),
               AWGCHECK_TEXTFILE_DIR=str(textfile))

    def night() -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(script)], env=env, capture_output=True, text=True,
                              timeout=120, check=False)

    first = night()  # no report yet: no baseline; Tbilisi's S4 drift fails
    assert (first.returncode, first.stderr) == (1, "")
    assert "== partner-tbilisi: FAIL ==" in first.stdout  # the table, for cron's mail
    (today,) = reports.glob("awgcheck-*.json")
    assert "baseline" not in json.loads(today.read_text())
    prom = textfile / "awgcheck.prom"
    assert _metrics(prom.read_text())["awgcheck_exit_code"] == 1

    stale = reports / "awgcheck-2020-01-01.json"  # older than KEEP_DAYS
    stale.write_text(today.read_text())
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=200)).timestamp()
    os.utime(stale, (long_ago, long_ago))
    second = night()  # a same-day re-run: against the first, nothing new
    assert (second.returncode, second.stdout, second.stderr) == (0, "", "")
    assert not stale.exists()
    report = json.loads(today.read_text())
    assert report["baseline"]["path"] == str(today) and report["baseline"]["fail_on_new"]
    assert (report["summary"]["new"], report["summary"]["exit_code"]) == (0, 0)
    assert report["summary"]["failed"] == 1  # Tbilisi still fails, known
    assert _metrics(prom.read_text())["awgcheck_exit_code"] == 0

    kept = (today.read_text(), prom.read_text())
    with (conf / "fleet.yaml").open("a") as fleet:
        fleet.write("colour: red\n")
    broken = night()  # nothing checked: the report and the textfile stay
    assert (broken.returncode, broken.stdout) == (2, "")
    assert broken.stderr.startswith("awgcheck: error: ") and "colour" in broken.stderr
    assert (today.read_text(), prom.read_text()) == kept


def test_docs_nightly_jq_lists_the_waivers_about_to_expire(tmp_path: Path) -> None:
    soon = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=10)).isoformat()
    conf = _conf_dir(tmp_path, expires_soon=soon)
    report = tmp_path / "report.json"
    report.write_text(_single_run("-i", conf / "fleet.yaml", "--waivers", conf / "waivers.yaml"))
    (jq,) = [b.text.strip() for b in _blocks() if b.lang == "sh" and b.text.startswith("jq ")]
    path = "/var/lib/awgcheck/reports/awgcheck-$(date -u +%F).json"
    assert jq.endswith(f" {path}")
    done = subprocess.run(["bash", "-c", jq.replace(path, shlex.quote(str(report)))],
                          capture_output=True, text=True, timeout=60, check=True)
    line = next(i for i, text in enumerate((conf / "waivers.yaml").read_text().splitlines(), 1)
                if text == "- nodes: partner-tbilisi")
    assert done.stdout == (f"{soon} partner-tbilisi compose-listener-mesh-bound relay "
                           f"RELAY_BIND owner alice {conf}/waivers.yaml:{line}\n")


def _step(job: dict[str, Any], name_start: str) -> str:
    (run,) = [s["run"] for s in job["steps"] if s.get("name", "").startswith(name_start)]
    return str(run)


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A workflow step as the runner runs it (bash -e -o pipefail)."""
    assert "${{" not in script, script
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_docs_nightly_github_workflow_shards_and_merge(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    workflow = _yaml(".github/workflows/awgcheck-nightly.yml")
    assert workflow[True]["schedule"][0]["cron"] == "30 3 * * *"  # YAML 1.1 reads `on` as true
    shard_job, merge_job = workflow["jobs"]["shard"], workflow["jobs"]["merge"]
    shards = shard_job["strategy"]["matrix"]["shard"]
    check = _step(shard_job, "Check shard")
    assert f"--shard ${{{{ matrix.shard }}}}/{len(shards)} " in check
    assert shards == list(range(1, len(shards) + 1)) and merge_job["needs"] == "shard"
    uses = {s["uses"].split("@")[0]: s.get("with", {}) for job in (shard_job, merge_job)
            for s in job["steps"] if "uses" in s}
    upload = next(s["with"] for s in shard_job["steps"]
                  if s.get("uses", "").startswith("actions/upload-artifact"))
    assert re.fullmatch(uses["actions/download-artifact"]["pattern"].replace("*", ".*"),
                        upload["name"].replace("${{ matrix.shard }}", "1"))
    restore, save = uses["actions/cache/restore"], uses["actions/cache/save"]
    assert restore["path"] == save["path"] == "baseline/awgcheck.json"
    assert save["key"].startswith(restore["restore-keys"])

    work = tmp_path / "checkout"
    shutil.copytree(_conf_dir(tmp_path), work / "fleet")
    summary = tmp_path / "step-summary.md"
    env = _env(tmp_path, GITHUB_STEP_SUMMARY=str(summary))
    merge_step, verdict = _step(merge_job, "Merge the shards"), _step(merge_job, "Verdict")

    def night() -> subprocess.CompletedProcess[str]:
        for path in work.glob("shard-*.json"):
            path.unlink()
        for shard in shards:  # each matrix job in turn, in one folder
            done = _bash(check.replace("${{ matrix.shard }}", str(shard)), work, env)
            assert done.returncode == 0, done.stderr
        done = _bash(merge_step, work, env)
        assert done.returncode == 0, done.stderr
        return _bash(verdict, work, env)

    first = night()
    assert first.returncode == 1  # Tbilisi's S4 drift: the workflow fails
    assert "::error " in first.stdout and "title=must-match-drift" in first.stdout
    assert summary.read_text().startswith("#")  # the markdown report
    monkeypatch.chdir(work)
    single = _single_run("--inventory", "fleet/fleet.yaml", "--waivers", "fleet/waivers.yaml",
                         "--ssh-config", "fleet/ssh_config")
    assert timeless((work / "awgcheck-report.json").read_text()) == timeless(single)

    second = night()  # against the cached report: nothing new
    assert (second.returncode, second.stderr) == (0, ""), second.stdout
    merged = json.loads((work / "awgcheck-report.json").read_text())
    assert merged["baseline"]["path"] == "baseline/awgcheck.json"
    assert merged["summary"]["unchanged"] > 0 and merged["summary"]["new"] == 0


def _pod(cronjob: dict[str, Any]) -> dict[str, Any]:
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return dict(container)


def test_docs_nightly_kubernetes_indexed_job_shards_then_merges(tmp_path: Path) -> None:
    cronjob = _yaml("awgcheck-nightly.yaml")
    assert (cronjob["apiVersion"], cronjob["kind"]) == ("batch/v1", "CronJob")
    job = cronjob["spec"]["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"
    count = job["completions"]
    assert job["parallelism"] == count
    pod = _pod(cronjob)
    env = {e["name"]: e for e in pod["env"]}
    assert env["SHARDS"]["value"] == str(count)
    assert env["JOB_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == \
        "metadata.labels['batch.kubernetes.io/job-name']"
    mounts = {m["name"]: m["mountPath"] for m in pod["volumeMounts"]}
    assert mounts["conf"] == env["CONF_DIR"]["value"]
    assert mounts["reports"] == env["REPORTS"]["value"]
    assert mounts["ssh"] == f"{env['HOME']['value']}/.ssh"
    command = pod["command"]
    assert command[:2] == ["/bin/sh", "-c"]
    assert "shard=$((JOB_COMPLETION_INDEX + 1))" in command[2]

    conf, reports = _conf_dir(tmp_path), tmp_path / "reports"
    args = ("--inventory", conf / "fleet.yaml", "--waivers", conf / "waivers.yaml",
            "--ssh-config", conf / "ssh_config")
    # A report from long ago: every pod's baseline, deleted once merged;
    # and the shard reports of a run a month ago.
    stale, old_run = reports / "awgcheck-2020-01-01.json", reports / "runs" / "old-job"
    old_run.mkdir(parents=True)
    stale.write_text(_single_run(*args))
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=200)).timestamp()
    for path in (stale, old_run):
        os.utime(path, (long_ago, long_ago))
    values = {"SHARDS": str(count), "CONF_DIR": str(conf), "REPORTS": str(reports),
              "HOME": str(tmp_path / "home"), "JOB_NAME": "awgcheck-nightly-29170290"}
    for index in range(count):  # the pods, one after the other
        assert [p.name for p in reports.glob("awgcheck-*.json")] == [stale.name]  # no merge yet
        done = subprocess.run(command, env=_env(tmp_path, **values,
                                                JOB_COMPLETION_INDEX=str(index)),
                              capture_output=True, text=True, timeout=120, check=False)
        assert (done.returncode, done.stderr) == (0, ""), done.stdout  # whatever it found
    (merged,) = reports.glob("awgcheck-*.json")
    assert not stale.exists() and not old_run.exists()
    assert [p.name for p in (reports / "runs").iterdir()] == [values["JOB_NAME"]]
    report = json.loads(merged.read_text())
    assert report["baseline"] == {"path": str(stale), "fail_on_new": True,
                                  "previous_run": report["baseline"]["previous_run"]}
    assert (report["summary"]["new"], report["summary"]["exit_code"]) == (0, 0)
    assert _metrics((reports / "metrics" / "awgcheck.prom").read_text())[
        "awgcheck_exit_code"] == 0
    # The shards merged are the run one pod would have made over the fleet,
    # against a baseline at the same path (the pods deleted the stale one).
    stale.write_text(_single_run(*args))
    single = _single_run(*args, "--baseline", stale, "--fail-on-new")
    assert timeless(merged.read_text()) == timeless(single)


# --- cron, systemd ---------------------------------------------------------------------


def test_docs_nightly_crontab_runs_the_script_as_its_user() -> None:
    lines = [line for line in block("/etc/cron.d/awgcheck").splitlines()
             if line and not line.startswith("#")]
    assert lines[0].startswith("MAILTO=")
    minute, hour, day, month, weekday, user, *command = lines[1].split()
    assert (minute, hour, day, month, weekday, user) == ("30", "3", "*", "*", "*", "awgcheck")
    assert command == ["/usr/local/bin/awgcheck-nightly"]


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string(block(name))
    return parser


def test_docs_nightly_systemd_units(tmp_path: Path) -> None:
    service = _unit("/etc/systemd/system/awgcheck-nightly.service")
    timer = _unit("/etc/systemd/system/awgcheck-nightly.timer")
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["User"] == "awgcheck"
    assert service["Service"]["ExecStart"] == "/usr/local/bin/awgcheck-nightly"
    assert "Install" not in service  # started by its timer, not at boot
    assert timer["Timer"]["OnCalendar"] == "*-*-* 03:30:00 UTC"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert "Unit" not in timer["Timer"]  # the service of the same name
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return  # the keys above are what the page promises; verify is a bonus
    script = tmp_path / "awgcheck-nightly"
    script.write_text(block("/usr/local/bin/awgcheck-nightly"))
    script.chmod(0o755)
    for name in ("awgcheck-nightly.service", "awgcheck-nightly.timer"):
        text = block(f"/etc/systemd/system/{name}")
        (tmp_path / name).write_text(text.replace("/usr/local/bin/awgcheck-nightly",
                                                  str(script)))
    done = subprocess.run([analyze, "verify", str(tmp_path / "awgcheck-nightly.service"),
                           str(tmp_path / "awgcheck-nightly.timer")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr


# --- alerts ----------------------------------------------------------------------------


def _documented_metrics() -> dict[str, set[str]]:
    """Each metric of docs/reports.md's Prometheus table, with its labels."""
    section = (paths.ROOT / "docs" / "reports.md").read_text().split("## Prometheus", 1)[1]
    section = section.split("\n## ", 1)[0]
    return {name: set(re.findall(r"`(\w+)`", labels.split("(")[0]))
            for name, labels in re.findall(r"^\| `(awgcheck_\w+)` \|([^|]*)\|", section,
                                           re.MULTILINE)}


def test_docs_nightly_alert_rules_use_what_the_textfile_has() -> None:
    rules = _yaml("/etc/prometheus/rules/awgcheck.yml")
    (group,) = rules["groups"]
    alerts = {r["alert"]: r for r in group["rules"]}
    metrics = _documented_metrics()
    for rule in group["rules"]:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        for name, selector in re.findall(r"(awgcheck_\w+)(?:\{([^}]*)\})?", rule["expr"]):
            assert name in metrics, rule["alert"]
            used = set(re.findall(r"(\w+)=", selector))
            assert used <= metrics[name], (rule["alert"], used)
    # The alerts docs/reports.md shows, as shown there.
    section = (paths.ROOT / "docs" / "reports.md").read_text().split("Alerts (PromQL):", 1)[1]
    shown = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    for alert in shown:
        assert alerts[alert["alert"]]["expr"] == alert["expr"], alert["alert"]
        assert alerts[alert["alert"]].get("for") == alert.get("for"), alert["alert"]
    assert alerts["AwgWaiverExpired"]["expr"] == \
        'awgcheck_failed_findings{rule="waiver-expired"} > 0'


def test_readme_links_the_nightly_page() -> None:
    readme = (paths.ROOT / "README.md").read_text()
    assert "[docs/nightly.md](docs/nightly.md)" in readme
