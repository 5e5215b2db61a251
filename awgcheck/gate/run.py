"""The pre-merge CI gate: the fleet rules over a repository's own files.

Each file the config names (the source of truth, confs, templates, params
documents, compose projects) is a "node" named by its repository path, so
findings point at the exact file and line. The same rules as ``check`` run
over them; the change summary (:mod:`awgcheck.gate.change`) says what the
change to the source of truth does to the fleet during rollout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from awgcheck import engine
from awgcheck.errors import CollectError, ErrorClass, ParseError
from awgcheck.gate import change, compose, git, unmatched
from awgcheck.gate.config import COMPOSE_KINDS, CONSUMER_KINDS, GateConfig
from awgcheck.gate.fleet import FleetReport
from awgcheck.model import (
    ArtifactKind,
    BaseCommit,
    Finding,
    GateSummary,
    NodeResult,
    ParamChange,
    ParamDocument,
    Report,
    Severity,
    SourceFailure,
    Status,
)
from awgcheck.parse import awgconf, heredoc, paramsdoc
from awgcheck.ruleset.load import RuleSet


@dataclass(frozen=True)
class Consumer:
    kind: str  # "source" or one of config.CONSUMER_KINDS
    path: str  # repo-relative, posix
    files: tuple[str, ...] = ()  # compose: the project's -f files, path first
    conf: str | None = None  # compose: the conf of the node that runs it


@dataclass(frozen=True)
class Read:
    consumer: Consumer
    kind: ArtifactKind | None = None
    doc: ParamDocument | None = None
    error: str | None = None
    conf: ParamDocument | None = None  # compose: the paired conf, compared with
    part: str | None = None  # one of several conf heredocs of a script: which
    error_class: ErrorClass = ErrorClass.PARSE_ERROR

    @property
    def name(self) -> str:
        """The node's name: the file's path (and which heredoc, for a script
        that writes several confs)."""
        path = self.consumer.path
        return path if self.part is None else f"{path} ({self.part})"


def find_consumers(repo: Path,
                   config: GateConfig) -> tuple[list[Consumer], list[unmatched.Unmatched]]:
    """The source first, then each consumer glob's files (once each, sorted),
    and the globs that match nothing (a typo or a renamed folder would check
    nothing)."""
    excluded = {p.relative_to(repo).as_posix() for g in config.exclude for p in repo.glob(g)}
    found = [Consumer("source", config.source)]
    seen = {config.source}
    empty: list[unmatched.Unmatched] = []
    for kind in CONSUMER_KINDS:
        for pattern in config.consumers.get(kind, ()):
            paths = sorted(p.relative_to(repo).as_posix() for p in repo.glob(pattern)
                           if _inside(repo, p))
            if not paths:
                empty.append(unmatched.Unmatched(kind, pattern))
            for path in paths:
                if path in seen or path in excluded:
                    continue
                seen.add(path)
                if kind not in COMPOSE_KINDS:
                    found.append(Consumer(kind, path))
                elif (files := compose.project_files(repo, path)) is not None:
                    found.append(Consumer(kind, path, files,
                                          config.compose_confs.get(pattern)))
    return found, empty


def _inside(repo: Path, path: Path) -> bool:
    """A regular file of the work tree: not under .git, and not a symlink
    that leads out of the repository (a PR could point one at any file)."""
    if not path.is_file() or ".git" in path.relative_to(repo).parts:
        return False
    return path.resolve().is_relative_to(repo.resolve())


def parse_document(data: bytes, consumer: Consumer) -> tuple[ArtifactKind, ParamDocument]:
    """Parse by kind; the source of truth is told apart by name or content. A
    template is parsed as one: its placeholders are marked, and every check
    skips them ("not compared: S4 is a template placeholder")."""
    if consumer.kind == "params" or (consumer.kind == "source"
                                     and paramsdoc.looks_like_params(data, consumer.path)):
        doc = (paramsdoc.parse_source(data, consumer.path) if consumer.kind == "source"
               else paramsdoc.parse(data, consumer.path))
        return ArtifactKind.PARAMS, doc
    return ArtifactKind.CONF, awgconf.parse(data, consumer.path,
                                            template=consumer.kind == "templates")


def read(repo: Path, consumer: Consumer) -> Read:
    try:
        # Read as compose files are: inside the work tree, capped, regular
        # files only (discovery checked the path, but not against a swap).
        data = compose.RepoFiles(repo).read_file(consumer.path)
        kind, doc = parse_document(data, consumer)
    except CollectError as exc:
        return Read(consumer, error=str(exc), error_class=exc.error_class)
    except ParseError as exc:
        return Read(consumer, error=str(exc))
    return Read(consumer, kind, doc)


def read_template(repo: Path, consumer: Consumer) -> list[Read]:
    """A conf template; a shell script (docs/ci-gate.md, "Templates in
    install scripts") is one node per conf heredoc, or one that could not
    be checked when it writes no conf."""
    try:
        data = (repo / consumer.path).read_bytes()
    except OSError:
        return [read(repo, consumer)]
    if not heredoc.looks_like_script(data):
        return [read(repo, consumer)]
    try:
        found = heredoc.parse_templates(data, consumer.path)
    except ParseError as exc:
        return [Read(consumer, error=str(exc))]
    return [Read(consumer, ArtifactKind.CONF, conf,
                 part=None if len(found) == 1 else f"heredoc at line {doc.line}")
            for doc, conf in found]


def read_consumer(repo: Path, consumer: Consumer, config: GateConfig) -> list[Read]:
    """What one consumer file (or compose project) gives: its node(s)."""
    if consumer.kind in COMPOSE_KINDS:
        return [read_compose(repo, consumer, config)]
    if consumer.kind == "templates":
        return read_template(repo, consumer)
    return [read(repo, consumer)]


# --- the run --------------------------------------------------------------------


def _node_result(read: Read, findings: Sequence[Finding], fail_on: Severity) -> NodeResult:
    name = read.name
    if read.error is not None:
        return NodeResult(name, Status.ERROR, read.error, read.error_class)
    return NodeResult.judged(name, [f for f in findings if f.node == name], fail_on)


def read_compose(repo: Path, consumer: Consumer, config: GateConfig) -> Read:
    """A compose project as a node: its document, and the paired conf (a
    conf that cannot be read makes the node unchecked, as in ``check``)."""
    conf = None
    if consumer.conf is not None:
        paired = read(repo, Consumer("confs", consumer.conf))
        if paired.error is not None:
            return Read(consumer, error=f"{consumer.path}: its paired conf could not be "
                                        f"read ({paired.error})",
                        error_class=paired.error_class)
        conf = paired.doc
    doc = compose.read(repo, consumer.files, env=config.compose_env,
                       profiles=config.compose_profiles,
                       template=consumer.kind == "compose_templates")
    return Read(consumer, ArtifactKind.COMPOSE, doc, conf=conf)


def _evaluate(reads: Sequence[Read], rules: RuleSet, source: Read,
              profile: str) -> tuple[list[Finding], SourceFailure | None]:
    """Every rule on every file; on a compose node only the compose rules,
    its paired conf (checked as its own node, if listed) only compared with.
    And, when the source could not be read, what the report says once."""
    truth = engine.Source(source.consumer.path, source.doc, source.error, source.error_class)
    files = [engine.NodeDocuments(r.name, {r.kind: r.doc},
                                  is_source=r.consumer.kind == "source")
             for r in reads if r.doc is not None and r.kind is not None
             and r.kind is not ArtifactKind.COMPOSE]
    compose_nodes = [engine.NodeDocuments(r.name, _compose_docs(r))
               for r in reads if r.doc is not None and r.kind is ArtifactKind.COMPOSE]
    compose_rules = [r for r in rules.rules if ArtifactKind.COMPOSE in r.select.artifacts]
    findings = (engine.evaluate(rules.rules, files, truth, profile)
                + engine.evaluate(compose_rules, compose_nodes, truth, profile))
    return findings, engine.source_failure(rules.rules, [*files, *compose_nodes], truth)


def _compose_docs(read: Read) -> dict[ArtifactKind, ParamDocument]:
    assert read.doc is not None
    docs: dict[ArtifactKind, ParamDocument] = {ArtifactKind.COMPOSE: read.doc}
    if read.conf is not None:
        docs[ArtifactKind.CONF] = read.conf
    return docs


def _base_document(repo: Path, base: BaseCommit, source: Consumer) -> ParamDocument | None:
    data = git.show(repo, base, source.path)
    if data is None:
        return None
    try:
        return parse_document(data, source)[1]
    except ParseError:
        return None


def _change_summary(repo: Path, base: BaseCommit | None, source: Read, rules: RuleSet,
                    fleet_report: FleetReport | None,
                    notes: list[str]) -> GateSummary:
    changes: list[ParamChange] = []
    if source.doc is None:
        notes.append("the source of truth could not be read: no change summary")
    elif base is None:
        why = f"; {git.FETCH_HISTORY}" if git.is_shallow(repo) else ""
        notes.append(f"no base commit found (pass --base){why}: no change summary")
    else:
        before = _base_document(repo, base, source.consumer)
        if before is None:
            notes.append(f"{source.consumer.path} is new or unreadable at {base.ref}: "
                         "every param it sets counts as changed")
        changes = change.diff_params(before, source.doc)
    impact = (change.predict_impact(fleet_report, changes, rules.rules)
              if fleet_report is not None else None)
    if fleet_report is not None and impact is None:
        notes.append("no must-match param changed: the fleet report predicts no drift")
    return change.summary(changes, source.consumer.path, base, impact, notes)


def run(repo: Path, config: GateConfig, rules: RuleSet, base: BaseCommit | None, *,
        fail_on: Severity, profile: str,
        fleet_report: FleetReport | None = None) -> Report:
    """Check every file the config names; summarise the source's change."""
    consumers, empty = find_consumers(repo, config)
    reads = [r for c in consumers for r in read_consumer(repo, c, config)]
    source = reads[0]
    findings, source_failure = _evaluate(reads, rules, source, profile)
    nodes = tuple(_node_result(r, findings, fail_on) for r in reads)
    # About the config, which is then a node of its own (failed, so the
    # counts agree with the verdict): after the files.
    if about_config := unmatched.findings(empty, config, repo):
        findings += about_config
        nodes += (NodeResult.judged(about_config[0].node, about_config, fail_on),)
    gate = _change_summary(repo, base, source, rules, fleet_report,
                           unmatched.notes(empty, config))
    return Report(None, config.source, nodes, tuple(findings), fail_on, profile, gate=gate,
                  source_failure=source_failure)
