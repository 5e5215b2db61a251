"""A location on an SSH node: host, port and path apart in JSON (schema
v2), named ``host:port:/path`` as before in messages and the human formats;
a v1 report (host and port inside ``path``) still reads, and its findings
are the same findings to a baseline. The real runs over sshd are in
tests/test_nightly.py and tests/collect/test_compose_ssh.py."""

from __future__ import annotations

import json

import pytest

from awgcheck import baseline
from awgcheck.collect.base import Remote
from awgcheck.model import Finding, Location, NodeResult, Report, Severity, Status
from awgcheck.report import FORMATS, load

CONF = "/etc/amnezia/amneziawg/awg0.conf"


def _report(location: Location) -> Report:
    finding = Finding("must-match-drift", "berlin", Status.FAIL, Severity.CRITICAL,
                      "S4 differs", "S4", "18", "17", location)
    return Report("server", "server.conf", (NodeResult("berlin", Status.FAIL),), (finding,))


@pytest.mark.parametrize(("remote", "named"), [
    (Remote("berlin", 2222), f"berlin:2222:{CONF}"),
    (Remote("berlin", 22), f"berlin:{CONF}"),  # ssh's default port, named as ssh names it
    (Remote("2001:db8::7", 2222), f"2001:db8::7:2222:{CONF}"),
], ids=["port", "default-port", "ipv6"])
def test_location_on_a_node_is_read_back_apart(remote: Remote, named: str) -> None:
    as_read = Location(remote.describe(CONF), 13)
    assert as_read.path == named  # what documents and messages name
    located = remote.locate(as_read)
    assert (located.host, located.port, located.path, located.line) == (
        remote.host, remote.port, CONF, 13)
    assert str(located) == f"{named}:13" and located.place == named
    assert remote.locate(located) == located  # once only
    other = Location("fleet.yaml", 3)  # a file of no node (a waiver's)
    assert remote.locate(other) == other


def test_location_json_has_host_port_path_and_line() -> None:
    located = Remote("berlin", 2222).locate(Location(f"berlin:2222:{CONF}", 13))
    text = FORMATS.render("json", _report(located))
    document = json.loads(text)
    assert document["schema"] == "awgcheck.report/v2"
    assert document["findings"][0]["location"] == {
        "host": "berlin", "port": 2222, "path": CONF, "line": 13}
    assert FORMATS.render("json", load.parse(text.encode(), "r.json")) == text
    local = json.loads(FORMATS.render("json", _report(Location("nodes/berlin.conf", 4))))
    assert local["findings"][0]["location"] == {"path": "nodes/berlin.conf", "line": 4}


@pytest.mark.parametrize("fmt", ["table", "markdown", "github", "sarif", "junit"])
def test_location_human_formats_name_the_file_as_before(fmt: str) -> None:
    located = Remote("berlin", 2222).locate(Location(f"berlin:2222:{CONF}", 13))
    v1_style = Location(f"berlin:2222:{CONF}", 13)
    assert FORMATS.render(fmt, _report(located)) == FORMATS.render(fmt, _report(v1_style))


def test_location_v1_report_reads_and_matches_for_a_baseline() -> None:
    v2 = json.loads(FORMATS.render("json", _report(
        Remote("berlin", 2222).locate(Location(f"berlin:2222:{CONF}", 13)))))
    v1 = dict(v2, schema="awgcheck.report/v1")
    v1["findings"] = [dict(v2["findings"][0], location={"path": f"berlin:2222:{CONF}",
                                                        "line": 13})]
    old = load.from_json(v1, "v1.json").findings[0]
    new = load.from_json(v2, "v2.json").findings[0]
    assert old.location is not None and old.location.host is None
    assert str(old.location) == str(new.location)
    assert baseline.identity(old) == baseline.identity(new)


def test_location_bad_port_names_the_place() -> None:
    document = json.loads(FORMATS.render("json", _report(Location(CONF, 1, "berlin", 22))))
    document["findings"][0]["location"]["port"] = 70000
    with pytest.raises(load.ReportFileError, match=r"r.json: findings\[0\].location.port: "
                                                   "70000 is not a port"):
        load.from_json(document, "r.json")
