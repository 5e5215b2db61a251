"""libyaml and PyYAML's pure-Python parser give awgcheck the same YAML.

:mod:`awgcheck.yamlfile` parses with libyaml where it reads the text as
PyYAML would, and falls back to the pure-Python parser on any error. For
that to change nothing, every text libyaml accepts must compose to the
same nodes (tags, values, styles, and the marks that name lines and cut
raw values out of compose files) and load to the same data, and must not
be one the pure-Python parser refuses. Checked on every YAML file the
repository holds and on seeded mutations of the fuzz seeds (the same
generator as ``tests/fuzz``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from awgcheck import yamlfile
from tests.fuzz.harness import generate
from tests.fuzz.targets import TARGETS
from tests.paths import ROOT

FAST_BOUNDED, FAST_UNIQUE = yamlfile._C_BOUNDED, yamlfile._C_UNIQUE
# The repository's own YAML: not what tools leave in the checkout (a venv,
# a setuptools build folder, npm packages), so every run collects the same.
_NOT_OURS = {".venv", ".git", "build", "node_modules"}
YAML_FILES = sorted(
    p for pattern in ("*.yaml", "*.yml") for p in ROOT.rglob(pattern)
    if not _NOT_OURS & set(p.relative_to(ROOT).parts))


def _mark(mark: Any) -> tuple[int, int, int]:
    return mark.line, mark.column, mark.index


def _tree(node: yaml.Node | None) -> Any:
    """Everything of a composed node the readers use."""
    if node is None:
        return None
    if isinstance(node, yaml.ScalarNode):
        body: Any = (node.value, node.style)
    elif isinstance(node, yaml.SequenceNode):
        # PyYAML says None for a block sequence written without indent,
        # libyaml False: both mean block (and no reader looks).
        body = ([_tree(n) for n in node.value], bool(node.flow_style))
    else:
        assert isinstance(node, yaml.MappingNode)
        body = ([(_tree(k), _tree(v)) for k, v in node.value], bool(node.flow_style))
    return type(node).__name__, node.tag, body, _mark(node.start_mark), _mark(node.end_mark)


def _outcome(run: Any, loader: Any) -> tuple[str, Any]:
    try:
        return "ok", run(loader)
    except yaml.YAMLError as exc:
        return "error", type(exc).__name__


def _compare(text: str) -> None:
    """libyaml, where yamlfile would use it, agrees with PyYAML or refuses."""
    if not yamlfile._C_READS_ALIKE.fullmatch(text):
        return
    for fast, python, run in (
        (FAST_BOUNDED, yamlfile.BoundedLoader,
         lambda loader: [_tree(n) for n in yaml.compose_all(text, Loader=loader)]),
        (FAST_UNIQUE, yamlfile.UniqueKeyLoader,
         lambda loader: _tree(yaml.compose(text, Loader=loader))),
        (FAST_UNIQUE, yamlfile.UniqueKeyLoader,
         lambda loader: yaml.load(text, Loader=loader)),
    ):
        got = _outcome(run, fast)
        if got[0] == "ok":  # a libyaml error goes to PyYAML, which has the last word
            assert got == _outcome(run, python), text[:200]


def test_yamlfile_libyaml_is_present() -> None:
    # Without it every test here would pass by comparing nothing.
    assert FAST_BOUNDED is not None and FAST_UNIQUE is not None
    assert len(YAML_FILES) > 100


@pytest.mark.parametrize("path", YAML_FILES, ids=[str(p.relative_to(ROOT)) for p in YAML_FILES])
def test_yamlfile_libyaml_reads_repository_yaml_alike(path: Path) -> None:
    _compare(path.read_bytes().decode("utf-8", "surrogateescape"))


@pytest.mark.parametrize("reader", ["compose", "inventory", "rules", "gate-config", "params"])
def test_yamlfile_libyaml_reads_mutated_yaml_alike(reader: str) -> None:
    compared = 0
    for index in range(100):
        mutated = generate(TARGETS[reader], 13, index)
        for name, data in mutated.files.items():
            if name.endswith((".yaml", ".yml", ".json")) or name == "params":
                text = data.decode("utf-8", "surrogateescape")
                _compare(text)
                compared += bool(yamlfile._C_READS_ALIKE.fullmatch(text))
    assert compared > 20  # many mutations stay printable ASCII


@pytest.mark.parametrize("text", [
    "a: 1\r\nb: [x, y]\r\nc: |\r\n  l1\r\n  l2\r\n",
    "a: &x {k: v}\nb: *x\nc: !!str 1\nd: '1'\ne: \"2\"\n",
    "- ? complex\n  : key\n- >\n  folded\n  text\n",
    "--- 1\n--- 2\n...\n",
    "k:\tv\n",
])
def test_yamlfile_libyaml_reads_edge_cases_alike(text: str) -> None:
    _compare(text)


@pytest.mark.parametrize("text", ["a: [1\n", "a: b: c\n", "{{ x }}: 1\n", "a: *nope\n"],
                         ids=["unclosed", "nested-plain", "template", "unknown-alias"])
def test_yamlfile_error_is_pyyamls_own(text: str) -> None:
    """A text libyaml refuses is parsed again by PyYAML, so the message
    (and its line) is the one awgcheck always gave."""
    with pytest.raises(yaml.YAMLError) as python:
        yaml.load(text, Loader=yamlfile.UniqueKeyLoader)
    with pytest.raises(yaml.YAMLError) as through:
        yamlfile.safe_load(text)
    assert str(through.value) == str(python.value)
