"""The pre-merge CI gate: the rules over a repository's confs, templates and
params documents, and what a change to the source of truth does in rollout."""
