"""A node held in memory, for tests of what is done with a node's answers;
and compose projects built from files held in memory (rule cases).

It stands in for a transport only where the transport itself is not under
test (triage verdicts, runtime rules); the transports have their own tests
against real sshd.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence

from awgcheck.collect.base import CommandResult
from awgcheck.documents.compose import ComposeDocument
from awgcheck.errors import CollectError, ErrorClass
from awgcheck.parse.compose.project import load_project


class FakeCollector:
    """A node in memory: files by path, command output by argv."""

    def __init__(self, files: dict[str, bytes], outputs: dict[tuple[str, ...], list[bytes]],
                 failures: dict[tuple[str, ...], CommandResult] | None = None) -> None:
        self.files = files
        self.outputs = outputs
        self.failures = failures or {}
        self.ran: list[tuple[tuple[str, ...], bool]] = []

    remote = None  # local files, as far as reports go

    def describe(self, path: str) -> str:
        return f"fake:{path}"

    def read_file(self, path: str, *, sudo: bool = False, limit: int = 1 << 20) -> bytes:
        if path not in self.files:
            raise CollectError(f"fake:{path}: file not found", error_class=ErrorClass.FILE_MISSING)
        return self.files[path]

    def run(self, argv: Sequence[str], *, sudo: bool = False,
            timeout: float = 30.0) -> CommandResult:
        key = tuple(argv)
        self.ran.append((key, sudo))
        if key in self.failures:
            return self.failures[key]
        queue = self.outputs.get(key) or self.outputs.get(key[:1], [])
        if not queue:
            return CommandResult(key, 1, b"", b"Unable to access interface: No such device\n")
        data = queue[0] if len(queue) == 1 else queue.pop(0)
        return CommandResult(key, 0, data, b"")

    def close(self) -> None:
        return None


def project_from_files(files: Mapping[str, str], *, project_dir: str = "/srv/stack",
                       compose_files: Sequence[str] = (), env_files: Sequence[str] | None = None,
                       profiles: Sequence[str] = (),
                       extra_env: Mapping[str, str] | None = None) -> ComposeDocument:
    """A compose document from in-memory files (rule test cases): ``files``
    maps paths relative to ``project_dir`` to their text."""
    contents = {posixpath.join(project_dir, name): text.encode("utf-8")
                for name, text in files.items()}
    project = load_project(contents.get, compose_files, project_dir=project_dir,
                           env_files=env_files, extra_env=extra_env, profiles=profiles)
    first = project.files[0] if project.files else project_dir
    return ComposeDocument(first, project)
