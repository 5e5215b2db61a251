"""The nightly set-up end to end, over real sshd nodes (docs/nightly.md).

A fleet of six SSH nodes in groups runs two nights in a row, as the nightly
job runs them: a dated JSON report compared with yesterday's
(``--baseline``), a Prometheus textfile written atomically into a
node_exporter folder, and the same night cut in two shards and merged.
On it:

- edge-waived   Jc drift under a waiver in force (both nights: waived);
- edge-expired  S1 drift under a waiver that had expired (both nights:
                failing, with a ``waiver-expired`` finding);
- edge-lapsing  Jmax drift under a waiver whose last day is night 1
                (waived on night 1, failing on night 2: updated);
- edge-fixed    S2 drift on night 1, fixed by night 2 (resolved);
- edge-new      in sync on night 1, S3 drift on night 2 (new).

Every report, the Prometheus file and the merged shards must say exactly
that; a third night with nothing changed passes ``--fail-on-new``. Then an
Ansible INI inventory with groups (``group_vars/``, read by the real
``ansible-inventory``) audits the same fleet and finds the same, and
``--group`` selects a group.

One module-scoped fleet, the runs made once in the fixture, in night
order; the tests read what they left.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import paths
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from scratch_fleet import Run, awgcheck, timeless
from sshd_fleet import CONF_REL, FleetNode, SshdFleet

NIGHT_1, NIGHT_2, NIGHT_3 = "2026-06-01", "2026-06-02", "2026-06-03"
DEMO_CONF = paths.DEMO / "nodes"

# name: (groups, the edit to partner-berlin's conf on night 1, on night 2)
PLAN: dict[str, tuple[list[str], tuple[str, str] | None, tuple[str, str] | None]] = {
    "server": (["core"], None, None),
    "edge-new": (["edge", "eu"], None, ("S3 = 36", "S3 = 35")),
    "edge-waived": (["edge", "eu"], ("Jc = 4", "Jc = 6"), None),
    "edge-expired": (["asia", "edge"], ("S1 = 52", "S1 = 50"), None),
    "edge-fixed": (["asia", "edge"], ("S2 = 140", "S2 = 141"), ("S2 = 141", "S2 = 140")),
    "edge-lapsing": (["asia", "edge"], ("Jmax = 70", "Jmax = 80"), None),
}
# By the hash of their names (docs/inventory.md, Shards).
SHARD_1 = ["edge-new", "edge-waived", "edge-expired", "edge-lapsing"]
SHARD_2 = ["server", "edge-fixed"]

WAIVERS = [
    {"nodes": "group:eu", "rule": "side-local-drift", "param": "Jc",
     "reason": "vendor build until the 2.1 upgrade", "owner": "alice",
     "expires": "2026-12-31"},
    {"nodes": "edge-expired", "rule": "must-match-drift", "param": "S1",
     "reason": "S1 rotation", "owner": "bob", "expires": "2026-05-15"},
    {"nodes": "edge-lapsing", "rule": "side-local-drift", "param": "Jmax",
     "reason": "old installer", "owner": "carol", "expires": NIGHT_1},  # its last day
]

Key = tuple[str, str, str | None]  # node, rule, param


@dataclass
class Night:
    """What one night's runs left: the JSON report and its run, the
    Prometheus file's text, the shards and their merges."""

    report_path: Path
    run: Run
    prometheus: str
    prometheus_run: Run
    shards: list[tuple[Path, Run]] = field(default_factory=list)
    merged_json: Run | None = None
    merged_prometheus: Run | None = None

    @property
    def report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads(self.report_path.read_text())
        return report


@dataclass
class Nights:
    root: Path
    fleet: SshdFleet
    nodes: dict[str, FleetNode]
    inventory: Path
    waivers: Path
    ssh_config: Path
    textfile_dir: Path
    first: Night | None = None
    second: Night | None = None
    # The textfile as a scrape that opened it before night 2 replaced it.
    scrape_of_night_1: str = ""

    def check(self, *args: str | Path, ssh_config: Path | str | None = None) -> Run:
        """``awgcheck check`` with the fleet's waivers file and ssh_config."""
        return awgcheck("check", "--waivers", self.waivers,
                        "--ssh-config", ssh_config or self.ssh_config, *args)

    def night(self, today: str, *baseline: str | Path) -> Night:
        """One night as the nightly job runs it (docs/nightly.md): the dated
        JSON report, the Prometheus textfile, and the shards merged."""
        report = self.root / "reports" / f"awgcheck-{today}.json"
        run = self.check("-i", self.inventory, "--today", today, *baseline,
                         "--format", "json", "--output", report)
        prom = self.textfile_dir / "awgcheck.prom"
        prom_run = self.check("-i", self.inventory, "--today", today, *baseline,
                              "--format", "prometheus", "--output", prom)
        night = Night(report, run, prom.read_text(), prom_run)
        for index in (1, 2):  # two runners of a CI matrix
            path = self.root / "shards" / today / f"shard-{index}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            night.shards.append((path, self.check(
                "-i", self.inventory, "--today", today, *baseline, "--shard", f"{index}/2",
                "--format", "json", "--output", path)))
        shard_files = [path for path, _ in night.shards]
        night.merged_json = awgcheck("merge", *shard_files, "--format", "json")
        night.merged_prometheus = awgcheck("merge", *shard_files, "--format", "prometheus")
        return night

    def edit(self, name: str, change: tuple[str, str]) -> None:
        node = self.nodes[name]
        text = Path(node.conf_path).read_text()
        assert change[0] in text, f"{change[0]!r} not in {name}'s conf"
        node.write(CONF_REL, text.replace(*change, 1), 0o600)


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nights]:
    root = tmp_path_factory.mktemp("nightly")
    with pytest.MonkeyPatch.context() as env, SshdFleet(nodes_wanted=len(PLAN)) as fleet:
        env.delenv("SSH_AUTH_SOCK", raising=False)  # only the fleet's key is offered
        nodes = dict(zip(PLAN, fleet.nodes, strict=True))
        entries = {}
        for name, (groups, _, _) in PLAN.items():
            node = nodes[name]
            demo = "server" if name == "server" else "partner-berlin"
            node.write(CONF_REL, (DEMO_CONF / demo / CONF_REL).read_text(), 0o600)
            entries[name] = {"host": node.host, "port": node.port, "conf": node.conf_path,
                             "groups": groups}
        inventory = root / "fleet.yaml"
        inventory.write_text(yaml.safe_dump({"source": "server", "nodes": entries},
                                            sort_keys=False))
        waivers = root / "waivers.yaml"
        waivers.write_text(yaml.safe_dump({"waivers": WAIVERS}, sort_keys=False))
        # Who to log in as, with which key, trusting which host keys: from
        # ssh_config, as a nightly job's own ~/.ssh/config would say it.
        ssh_config = root / "ssh_config"
        ssh_config.write_text(f"Host 127.0.0.*\n    User root\n"
                              f"    IdentityFile {fleet.client_key}\n"
                              "    IdentitiesOnly yes\n"
                              f"    UserKnownHostsFile {fleet.known_hosts}\n"
                              "    GlobalKnownHostsFile none\n")
        textfile_dir = root / "node_exporter"
        textfile_dir.mkdir()
        (root / "reports").mkdir()
        state = Nights(root, fleet, nodes, inventory, waivers, ssh_config, textfile_dir)
        for name, (_, first_edit, _) in PLAN.items():
            if first_edit:
                state.edit(name, first_edit)
        state.first = state.night(NIGHT_1)
        with (textfile_dir / "awgcheck.prom").open() as scrape:
            for name, (_, _, second_edit) in PLAN.items():
                if second_edit:
                    state.edit(name, second_edit)
            state.second = state.night(NIGHT_2, "--baseline", state.first.report_path)
            state.scrape_of_night_1 = scrape.read()
        yield state


def _first(nights: Nights) -> Night:
    assert nights.first is not None
    return nights.first


def _second(nights: Nights) -> Night:
    assert nights.second is not None
    return nights.second


def _attention(report: dict[str, Any]) -> dict[Key, tuple[str, str | None, str | None]]:
    """Findings that ask for attention (fail, error, waived), by node, rule
    and param: (status, baseline_state, the waiver's last day)."""
    found: dict[Key, tuple[str, str | None, str | None]] = {}
    for f in report["findings"]:
        if f["status"] in ("fail", "error", "waived"):
            key = (f["node"], f["rule"], f["param"])
            assert key not in found, key
            found[key] = (f["status"], f["baseline_state"],
                          f["waiver"]["expires"] if f["waiver"] else None)
    return found


def _node_status(report: dict[str, Any]) -> dict[str, str]:
    return {n["name"]: n["status"] for n in report["nodes"]}


def _by_key(report: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    return {(f["node"], f["rule"], f["param"]): f for f in report["findings"]
            if f["status"] in ("fail", "error", "waived")}


# --- night 1 ---------------------------------------------------------------------------


def test_night_1_reports_waived_expired_and_failing_drift(nights: Nights) -> None:
    night = _first(nights)
    assert (night.run.code, night.run.out, night.run.err) == (1, "", "")  # out: to the file
    report = night.report
    assert _attention(report) == {
        ("edge-waived", "side-local-drift", "Jc"): ("waived", None, "2026-12-31"),
        ("edge-expired", "must-match-drift", "S1"): ("fail", None, None),
        ("edge-expired", "waiver-expired", "S1"): ("fail", None, "2026-05-15"),
        ("edge-fixed", "must-match-drift", "S2"): ("fail", None, None),
        ("edge-lapsing", "side-local-drift", "Jmax"): ("waived", None, NIGHT_1),
    }
    assert _node_status(report) == {
        "server": "pass", "edge-new": "pass", "edge-waived": "pass", "edge-expired": "fail",
        "edge-fixed": "fail", "edge-lapsing": "pass"}
    assert report["summary"].items() >= {"nodes": 6, "checked": 6, "failed": 2, "errors": 0,
                                         "exit_code": 1}.items()
    assert {n["name"]: n["groups"] for n in report["nodes"]} == {
        name: groups for name, (groups, _, _) in PLAN.items()}
    drift = _by_key(report)["edge-fixed", "must-match-drift", "S2"]
    assert (drift["expected"], drift["actual"], drift["severity"]) == ("140", "141", "critical")
    node = nights.nodes["edge-fixed"]
    # host, port and path apart (v1 wrote "host:port:path" as the path)
    assert drift["location"] == {"host": node.host, "port": node.port,
                                 "path": node.conf_path, "line": 10}
    assert "baseline" not in report and "resolved" not in report


def test_night_1_prometheus_file(nights: Nights) -> None:
    night = _first(nights)
    assert (night.prometheus_run.code, night.prometheus_run.out) == (1, "")
    metrics = _samples(night.prometheus)
    assert _failed_findings(metrics) == {
        ("must-match-drift", "critical"): 2, ("waiver-expired", "error"): 1}
    assert metrics["awgcheck_param_drift_nodes", (("param", "Jc"), ("severity", "error"))] == 0
    assert metrics["awgcheck_param_drift_nodes", (("param", "S2"),
                                                  ("severity", "critical"))] == 1
    assert metrics["awgcheck_exit_code", ()] == 1
    assert _statuses(metrics) == _node_status(night.report)  # the waived nodes pass
    # Jc on edge-waived and Jmax on edge-lapsing: accepted, counted apart
    assert metrics["awgcheck_waived_findings", (("rule", "side-local-drift"),)] == 2
    assert metrics["awgcheck_waived_findings", (("rule", "must-match-drift"),)] == 0


# --- night 2 ---------------------------------------------------------------------------


def test_night_2_against_night_1_new_resolved_unchanged_updated(nights: Nights) -> None:
    night = _second(nights)
    assert night.run.code == 1, night.run.err
    assert night.run.err == ""
    report = night.report
    assert _attention(report) == {
        ("edge-new", "must-match-drift", "S3"): ("fail", "new", None),
        ("edge-waived", "side-local-drift", "Jc"): ("waived", "unchanged", "2026-12-31"),
        ("edge-expired", "must-match-drift", "S1"): ("fail", "unchanged", None),
        ("edge-expired", "waiver-expired", "S1"): ("fail", "unchanged", "2026-05-15"),
        # Its waiver's last day was night 1: waived then, failing now.
        ("edge-lapsing", "side-local-drift", "Jmax"): ("fail", "updated", None),
        ("edge-lapsing", "waiver-expired", "Jmax"): ("fail", "new", NIGHT_1),
    }
    assert _node_status(report) == {
        "server": "pass", "edge-new": "fail", "edge-waived": "pass", "edge-expired": "fail",
        "edge-fixed": "pass", "edge-lapsing": "fail"}
    assert [(f["node"], f["rule"], f["param"], f["baseline_state"], f["actual"])
            for f in report["resolved"]] == [
        ("edge-fixed", "must-match-drift", "S2", "absent", "141")]
    assert report["summary"].items() >= {
        "nodes": 6, "checked": 6, "failed": 3, "errors": 0, "exit_code": 1,
        "new": 2, "updated": 1, "unchanged": 3, "resolved": 1}.items()
    first = _first(nights).report
    assert report["baseline"] == {"path": str(_first(nights).report_path),
                                  "previous_run": first["run"]["started_at"],
                                  "fail_on_new": False}


def test_night_2_first_seen_is_the_night_a_finding_appeared(nights: Nights) -> None:
    first, second = _first(nights).report, _second(nights).report
    night_1, night_2 = first["run"]["started_at"], second["run"]["started_at"]
    assert night_1 < night_2
    seen = {key: f["first_seen"] for key, f in _by_key(second).items()}
    assert seen == {
        ("edge-new", "must-match-drift", "S3"): night_2,
        ("edge-waived", "side-local-drift", "Jc"): night_1,
        ("edge-expired", "must-match-drift", "S1"): night_1,
        ("edge-expired", "waiver-expired", "S1"): night_1,
        ("edge-lapsing", "side-local-drift", "Jmax"): night_1,
        ("edge-lapsing", "waiver-expired", "Jmax"): night_2,
    }
    assert second["resolved"][0]["first_seen"] == night_1


def test_night_2_prometheus_file_replaced_with_the_new_run(nights: Nights) -> None:
    night = _second(nights)
    assert (night.prometheus_run.code, night.prometheus_run.out) == (1, "")
    assert [p.name for p in nights.textfile_dir.iterdir()] == ["awgcheck.prom"]  # no temp left
    # Replaced, not rewritten in place: a scrape under way still reads night 1 whole.
    assert nights.scrape_of_night_1 == _first(nights).prometheus != night.prometheus
    metrics = _samples(night.prometheus)
    assert _failed_findings(metrics) == {
        ("must-match-drift", "critical"): 2,  # S3 on edge-new, S1 on edge-expired
        ("side-local-drift", "error"): 1,     # Jmax on edge-lapsing; Jc is waived
        ("waiver-expired", "error"): 2,
    }
    drifting = {dict(labels)["param"]: value for (name, labels), value in metrics.items()
                if name == "awgcheck_param_drift_nodes" and value}
    assert drifting == {"S1": 1, "S3": 1, "Jmax": 1}
    assert metrics["awgcheck_waived_findings", (("rule", "side-local-drift"),)] == 1  # Jc
    for param in ("S2", "Jc"):  # fixed, waived: a zero series, not a gap
        assert any(name == "awgcheck_param_drift_nodes" and dict(labels)["param"] == param
                   and value == 0 for (name, labels), value in metrics.items())
    assert _statuses(metrics) == _node_status(night.report)
    assert {dict(labels)["status"]: value for (name, labels), value in metrics.items()
            if name == "awgcheck_nodes"} == {"pass": 3, "fail": 3, "error": 0}
    assert metrics["awgcheck_exit_code", ()] == 1
    assert metrics["awgcheck_source_readable", ()] == 1
    assert not any(name == "awgcheck_node_unchecked" for name, _ in metrics)
    # The file describes the run made right after this night's JSON run: it
    # started after that one ended (to the millisecond the JSON keeps).
    finished = metrics["awgcheck_last_run_timestamp_seconds", ()]
    duration = metrics["awgcheck_run_duration_seconds", ()]
    json_end = _unix(night.report["run"]["finished_at"])
    assert duration > 0 and json_end - 0.001 <= finished - duration


def test_night_2_fail_on_new_fails_on_the_new_drift_and_the_lapsed_waiver(
        nights: Nights) -> None:
    night_1 = _first(nights).report_path
    run = nights.check("-i", nights.inventory, "--today", NIGHT_2, "--baseline", night_1,
                       "--fail-on-new")
    assert run.code == 1, run.err
    assert run.out.rstrip().splitlines()[-2:] == [
        "3 passed, 3 failed, 0 could not be checked (--fail-on error; since the baseline: "
        "2 new, 1 updated, 3 unchanged, 1 resolved, --fail-on-new)",
        "FAIL: 3 of 6 nodes failed; 2 critical, 3 errors, 1 waived; 2 new, 1 updated since "
        "the baseline; exit code 1"]


def test_night_3_unchanged_fleet_passes_fail_on_new_but_not_without(nights: Nights) -> None:
    night_2 = _second(nights).report_path
    args = ("-i", nights.inventory, "--today", NIGHT_3, "--baseline", night_2,
            "--format", "json")
    quiet = nights.check(*args, "--fail-on-new")
    assert quiet.code == 0, quiet.err
    report = quiet.json()
    assert set(state for _, state, _ in _attention(report).values()) == {"unchanged"}
    assert report["resolved"] == []
    assert (report["summary"]["failed"], report["summary"]["exit_code"]) == (3, 0)
    assert nights.check(*args).code == 1  # the known failures still fail without the flag


@pytest.mark.parametrize("which", ["night-1", "night-2"])
def test_the_json_report_rendered_again_is_the_prometheus_file(nights: Nights,
                                                                which: str) -> None:
    # docs/nightly.md reads the fleet once a night and renders the JSON report
    # as the textfile with `merge`: the metrics a --format prometheus run gives.
    night = _first(nights) if which == "night-1" else _second(nights)
    rendered = awgcheck("merge", night.report_path, "--format", "prometheus")
    assert (rendered.code, rendered.err) == (1, "")
    assert timeless(rendered.out) == timeless(night.prometheus)


# --- shards ----------------------------------------------------------------------------


@pytest.mark.parametrize(("which", "shard_codes"), [
    ("night-1", [1, 1]),
    ("night-2", [1, 0]),  # edge-fixed was the one failure of shard 2
])
def test_merged_shards_are_the_single_run(nights: Nights, which: str,
                                          shard_codes: list[int]) -> None:
    night = _first(nights) if which == "night-1" else _second(nights)
    assert [run.code for _, run in night.shards] == shard_codes, [
        r.err for _, r in night.shards]
    assert [[n["name"] for n in json.loads(path.read_text())["nodes"]]
            for path, _ in night.shards] == [SHARD_1, SHARD_2]
    assert night.merged_json is not None and night.merged_prometheus is not None
    assert (night.merged_json.code, night.merged_json.err) == (1, "")
    assert timeless(night.merged_json.out) == timeless(night.report_path.read_text())
    assert night.merged_prometheus.code == 1
    assert timeless(night.merged_prometheus.out) == timeless(night.prometheus)


# --- the same fleet from an Ansible inventory ------------------------------------------


ANSIBLE_INI = """\
[core]
server

[eu]
edge-new
edge-waived

[asia]
edge-expired
edge-fixed
edge-lapsing

[edge:children]
eu
asia
"""


def _ansible_inventory(nights: Nights) -> Path:
    """The fleet as an Ansible INI inventory with groups: how to log in in
    group_vars/all.yml, each host's address and conf in host_vars (this test
    fleet's confs are at a different path on each node; on a real fleet,
    where the path is the same, awg_conf goes in group_vars too)."""
    folder = nights.root / "ansible"
    (folder / "group_vars").mkdir(parents=True, exist_ok=True)
    (folder / "host_vars").mkdir(exist_ok=True)
    (folder / "hosts.ini").write_text(ANSIBLE_INI)
    (folder / "group_vars" / "all.yml").write_text(yaml.safe_dump({
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(nights.fleet.client_key),
        "ansible_ssh_common_args": f"-o UserKnownHostsFile={nights.fleet.known_hosts}",
        "awgcheck_source": "server",
    }))
    for name, node in nights.nodes.items():
        (folder / "host_vars" / f"{name}.yml").write_text(yaml.safe_dump({
            "ansible_host": node.host, "ansible_port": node.port,
            "awg_conf": node.conf_path}))
    return folder / "hosts.ini"


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    """What an inventory cannot change about a run: its nodes by name (an
    Ansible inventory lists hosts by name, so their index differs), every
    finding, the resolved ones, the summary; without the run's times."""
    findings = sorted(report["findings"], key=lambda f: f["node"])  # stable within a node
    comparable: dict[str, Any] = json.loads(timeless(json.dumps({
        "nodes": sorted(({k: v for k, v in n.items() if k != "index"} for n in report["nodes"]),
                        key=lambda n: n["name"]),
        "findings": findings, "resolved": report.get("resolved"), "summary": report["summary"],
        "source": report["source"]})))
    return comparable


def test_ansible_inventory_audits_the_same_fleet(nights: Nights) -> None:
    hosts = _ansible_inventory(nights)
    night_1 = _first(nights).report_path
    run = nights.check("--ansible-inventory", hosts, "--today", NIGHT_2,
                       "--baseline", night_1, "--format", "json", ssh_config="none")
    assert run.code == 1, run.err
    assert run.err == ""
    report = run.json()
    assert report["run"]["inventory"] == str(hosts)
    assert _comparable(report) == _comparable(_second(nights).report)


def test_ansible_inventory_group_selects_the_group(nights: Nights) -> None:
    hosts = _ansible_inventory(nights)
    ansible = nights.check("--ansible-inventory", hosts, "--today", NIGHT_2, "--group", "eu",
                           "--format", "json", ssh_config="none")
    own = nights.check("-i", nights.inventory, "--today", NIGHT_2, "--group", "eu",
                       "--format", "json")
    assert ansible.code == own.code == 1, ansible.err
    report = ansible.json()
    assert [n["name"] for n in report["nodes"]] == ["edge-new", "edge-waived"]
    assert _attention(report) == {
        ("edge-new", "must-match-drift", "S3"): ("fail", None, None),
        ("edge-waived", "side-local-drift", "Jc"): ("waived", None, "2026-12-31"),
    }
    assert _comparable(report) == _comparable(own.json())


# --- helpers ---------------------------------------------------------------------------


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(text: str) -> Samples:
    """Every sample of a textfile, read by the Prometheus client's parser."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _failed_findings(metrics: Samples) -> dict[tuple[str, str], float]:
    """awgcheck_failed_findings above 0, by (rule, severity)."""
    return {(dict(labels)["rule"], dict(labels)["severity"]): value
            for (name, labels), value in metrics.items()
            if name == "awgcheck_failed_findings" and value}


def _statuses(metrics: Samples) -> dict[str, str]:
    """Each node's status, from its awgcheck_node_status series at 1."""
    return {dict(labels)["node"]: dict(labels)["status"]
            for (name, labels), value in metrics.items()
            if name == "awgcheck_node_status" and value == 1}


def _unix(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()

