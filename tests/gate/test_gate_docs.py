"""docs/ci-gate.md and docs/nightly.md install awgcheck the way it is
distributed (from its repository at a release tag; it is not on PyPI) and
pin pre-commit to the tag of the current version, whose hook exists."""

from __future__ import annotations

import re

import paths
import pytest
import yaml

from awgcheck import __version__

DOCS = paths.ROOT / "docs"
TAG = f"v{__version__}"  # how releases are tagged: docs/ci-gate.md, "pre-commit"
INSTALLING = ("ci-gate.md", "nightly.md")


def _yaml_blocks(text: str) -> list[object]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def test_pre_commit_example_pins_the_current_version_tag_and_hook() -> None:
    text = (DOCS / "ci-gate.md").read_text(encoding="utf-8")
    configs = [b for b in _yaml_blocks(text) if isinstance(b, dict) and "repos" in b]
    [config] = configs
    [entry] = config["repos"]
    assert entry["rev"] == TAG
    hooks = yaml.safe_load((paths.ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {h["id"] for h in entry["hooks"]} <= {h["id"] for h in hooks}


@pytest.mark.parametrize("name", INSTALLING)
def test_docs_install_from_the_repository_at_the_version_tag(name: str) -> None:
    text = (DOCS / name).read_text(encoding="utf-8")
    installs = re.findall(r"pip install (\S+)", text)
    assert installs, f"{name} shows no install"
    for target in installs:
        if target == "awgcheck`":  # the sentence that says not to
            continue
        pinned = re.fullmatch(r'"git\+https://\S+/awgcheck@(v[^"]+)"'
                              r"|dist/awgcheck-([^-]+)-py3-none-any\.whl", target)
        # never a bare name: not on PyPI, it would install someone else's package
        assert pinned is not None, f"{name}: pip install {target}"
        assert TAG in (pinned.group(1), f"v{pinned.group(2)}"), f"{name}: {target}"
