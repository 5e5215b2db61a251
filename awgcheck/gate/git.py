"""The few git operations the CI gate needs, through the ``git`` command.

The gate reads the working tree for the files it checks and git only for
the base: where the repository root is, which commit to compare with, and
the source of truth as it was there.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from awgcheck.errors import UsageError
from awgcheck.model import BaseCommit

# Tried in order when --base is not given: the remote's default branch,
# then the usual names, remote first (a CI checkout has no local main).
GIT_TIMEOUT = 60  # seconds; a hung git (a lock, a network remote) must not hang CI
DEFAULT_BRANCHES = ("origin/HEAD", "origin/main", "origin/master", "main", "master")


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True,
                              check=False, timeout=GIT_TIMEOUT)
    except FileNotFoundError:
        raise UsageError("the gate needs git, and no 'git' command was found") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"{repo}: git {args[0]} did not answer within {GIT_TIMEOUT} s") \
            from None


def repo_root(folder: Path) -> Path:
    """The top of the work tree that holds ``folder``."""
    done = _git(folder, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        raise UsageError(f"{folder}: not inside a git repository (the gate compares with "
                         "a base commit)")
    return Path(done.stdout.decode().strip())


def _commit(repo: Path, ref: str) -> str | None:
    done = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return done.stdout.decode().strip() if done.returncode == 0 else None


FETCH_HISTORY = ("this is a shallow clone, which lacks the base's history: fetch it "
                 "(actions/checkout: fetch-depth: 0; GitLab CI: GIT_DEPTH: \"0\"; by hand: "
                 "git fetch --unshallow, then git fetch origin BRANCH)")
"""What a shallow clone is told: the base commit is simply not there."""


def is_shallow(repo: Path) -> bool:
    """Whether the clone was made with ``--depth`` (CI's default checkout)."""
    done = _git(repo, "rev-parse", "--is-shallow-repository")
    return done.returncode == 0 and done.stdout.strip() == b"true"


def resolve_base(repo: Path, ref: str | None) -> BaseCommit | None:
    """``--base REF`` as a commit (an unknown REF is a usage error, which
    says to fetch history in a shallow clone); without REF, the merge base
    of HEAD with the default branch, or None when there is none (a fresh
    repository, a detached checkout without remotes) or it cannot be told
    (a shallow clone)."""
    if ref is not None:
        commit = _commit(repo, ref)
        if commit is None:
            hint = f": {FETCH_HISTORY}" if is_shallow(repo) else ""
            raise UsageError(f"--base {ref}: not a commit in {repo}{hint}")
        return BaseCommit(ref, commit)
    if is_shallow(repo):
        # The history is cut: a merge base found in it may be the cut itself,
        # or HEAD (a clone of one branch has origin/HEAD pointing at it), and
        # the gate would say "no param changed" about a change it never saw.
        return None
    for branch in DEFAULT_BRANCHES:
        if _commit(repo, branch) is None:
            continue
        done = _git(repo, "merge-base", "HEAD", branch)
        if done.returncode == 0:
            return BaseCommit(branch, done.stdout.decode().strip())
    return None


def show(repo: Path, base: BaseCommit, path: str) -> bytes | None:
    """The bytes of ``path`` (repo-relative) at ``base``; None when absent."""
    done = _git(repo, "show", f"{base.commit}:{path}")
    return done.stdout if done.returncode == 0 else None
