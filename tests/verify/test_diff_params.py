"""``diff`` with a params document on either side, and ``-`` for stdin."""

from __future__ import annotations

import json
from pathlib import Path

import paths
from click.testing import CliRunner

from awgcheck.cli.main import main

PARAMS = paths.ASSETS / "params"
EPOCH = json.loads((PARAMS / "epoch.json").read_text())


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout + result.stderr


def conf_of(params: dict[str, object]) -> str:
    """The conf a template renders from an epoch document's params."""
    return "[Interface]\n" + "".join(f"{k} = {v}\n" for k, v in params.items())


def verdicts(out: str) -> dict[str, str]:
    return {p["param"]: p["verdict"] for p in json.loads(out)["params"]}


def test_a_conf_against_an_epoch_document_on_stdin(tmp_path: Path) -> None:
    conf = tmp_path / "awg0.conf"
    conf.write_text(conf_of({**EPOCH["params"], "S4": 17}))
    code, out = run("diff", str(conf), "-", "--format", "json",
                    stdin=json.dumps(EPOCH))
    assert code == 1
    assert json.loads(out)["right"] == "stdin"
    assert verdicts(out)["S4"] == "DRIFT"
    assert {v for k, v in verdicts(out).items() if k != "S4"} == {"same"}


def test_a_registration_reply_on_the_left_names_params_as_the_conf_does(
        tmp_path: Path) -> None:
    conf = tmp_path / "awg0.conf"
    conf.write_text(conf_of({**EPOCH["params"], "RandomTrailers": "off"}))
    code, out = run("diff", str(PARAMS / "registration-reply.json"), str(conf),
                    "--format", "json")
    assert code == 0, out
    assert set(verdicts(out).values()) == {"same"}


def test_the_table_shows_the_document_side_by_its_name(tmp_path: Path) -> None:
    conf = tmp_path / "awg0.conf"
    conf.write_text(conf_of({**EPOCH["params"], "S4": 17}))
    code, out = run("diff", "-", str(conf), "--only-differences", stdin=json.dumps(EPOCH))
    assert code == 1
    (row,) = [line for line in out.splitlines() if line.startswith("S4 ")]
    assert "18 (31 38)" in row and "17 (31 37)" in row and "DRIFT" in row
    assert out.splitlines()[0].split()[1] == "stdin"


def test_stdin_on_both_sides_is_a_usage_error() -> None:
    code, out = run("diff", "-", "-", stdin="{}")
    assert (code, out) == (2, "awgcheck: error: only one side can be - (stdin)\n")


def test_nothing_on_stdin_is_a_usage_error(tmp_path: Path) -> None:
    conf = tmp_path / "awg0.conf"
    conf.write_text(conf_of(EPOCH["params"]))
    code, out = run("diff", str(conf), "-", stdin="")
    assert (code, out) == (2, "awgcheck: error: stdin: empty: nothing was piped in\n")


def test_an_error_reply_is_a_usage_error_with_its_own_text(tmp_path: Path) -> None:
    conf = tmp_path / "awg0.conf"
    conf.write_text(conf_of(EPOCH["params"]))
    code, out = run("diff", str(PARAMS / "error-reply.json"), str(conf))
    assert code == 2
    assert "not a usable params document" in out and "partner not registered" in out
