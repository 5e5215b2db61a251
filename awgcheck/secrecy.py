"""What counts as a secret, and how text is cleaned of secrets: one place.

Every reader and formatter that shows text it cannot vouch for passes it
through :func:`scrub`; every value under a secret-looking name is replaced
whole by :func:`redact`. The rules, from the narrowest to the widest:

* a secret-named variable, key or flag (:func:`is_secret_name`) never has
  its value shown, in a finding, a diagnostic or an error message;
* a value shaped like a secret (:func:`is_secret_value`: a base64 key, a URL
  with a password) is hidden whatever its name;
* in any other text, :func:`scrub` digests every base64 run of key length
  or longer (so a key glued to other text, ``PrivateKey6Bq...``, goes whole,
  not all but its last characters), the password of a URL
  (``postgres://user:<digest>@db``, ``curl -u user:<digest>``), tokens of a
  known shape (GitHub, GitLab, Slack, AWS access keys) and the value of a
  secret-named flag, assignment or header (``--password=<digest>``,
  ``export API_TOKEN=<digest>``, ``{"password": <digest>}``,
  ``Authorization: <digest>``, ``Cookie: <digest>``).

Long hex runs (an I1 tag's ``<b 0x...>`` bytes) are not base64 keys and
stay as written.

Text from a program that was handed known values (``docker compose`` on a
node interpolating the project's ``.env``) can quote a secret in plain
words; :func:`redact_known` digests every value :func:`secrets_held` finds
among what it was handed before any of that text is shown.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable


def redact(value: str | bytes) -> str:
    """Digest shown in place of a secret: ``sha256:<first 12 hex>``.

    Two secrets are compared through this digest; 48 bits make an accidental
    match between two different keys negligible.
    """
    data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    return "sha256:" + hashlib.sha256(data).hexdigest()[:12]


# Substrings that make any name secret (API_KEY, AWG_HEADERPROTECTIONKEY,
# DB_PASSWORD, GITHUB_TOKEN, DB_PASS, ...), and whole words that do (SMTP_PW,
# AUTH, BASIC_AUTH, AUTH_HEADER, AuthKey; not AUTHOR or PASSTHROUGH).
_SECRET_PART = re.compile(
    r"key|passw|passphrase|token|secret|private|preshared|credential|cookie"
    r"|pass(?![a-z])|auth(?![a-z])",  # requirepass, DB_PASS, masterauth; not AUTHOR
    re.IGNORECASE)
_SECRET_WORDS = frozenset({"pass", "pw", "pwd", "auth", "authorization", "authkey", "dsn",
                           "apikey", "creds", "cred", "salt", "sig", "signature"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# "KEY" in a public key's name (SERVER_PUBLIC_KEY, PEER_PUBKEY, PublicKey)
# names what anyone may read. The phrase is removed before the secret words
# are looked for, so PUBLIC_KEY_PASSWORD still counts.
_PUBLIC_KEY_NAME = re.compile(r"pub(?:lic)?[_-]?key", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """True for a variable, key or flag name that looks like it holds a key,
    password or token; a public key's name (``*_PUBLIC_KEY``, ``*PUBKEY``)
    does not. A value shaped like a key is still hidden by
    :func:`is_secret_value`, whatever its name (public and private keys look
    alike)."""
    # A fleet asks about the same few names again and again.
    return _secret_name_short(name) if len(name) <= _REMEMBERED else _secret_name(name)


_REMEMBERED = 256
"""Texts up to this long are remembered (so the caches stay small)."""


@functools.lru_cache(maxsize=4096)
def _secret_name_short(name: str) -> bool:
    return _secret_name(name)


def _secret_name(name: str) -> bool:
    rest = _PUBLIC_KEY_NAME.sub(" ", name)
    if _SECRET_PART.search(rest):
        return True
    return any(word.lower() in _SECRET_WORDS for word in _WORD.findall(rest))


# A base64 WireGuard key (32 bytes: 43 characters and "="), standing alone
# or inside a word (``--peer=KEY``). The "=" and the boundaries keep an I1
# tag's long hex string from being mistaken for one.
_KEY_SHAPED = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]="
                         r"(?![A-Za-z0-9+/=])")
# userinfo with a password: scheme://user:PASSWORD@host
# The look-behinds make every pattern start only where a run starts: without
# them a long run of name characters is rescanned from each of its
# positions (quadratic: 2 s for 10 kB of "a-a-a-").
_URL_PASSWORD = re.compile(r"(?P<head>(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]*:)"
                           r"(?P<secret>[^\s/@]+)(?=@)")
# Tokens whose shape names them whatever they are assigned to (GitHub,
# GitLab, Slack, AWS access keys): a token used as a URL's user has no name.
_TOKEN_SHAPED = re.compile(r"(?<![A-Za-z0-9_-])(?:gh[pousr]_[A-Za-z0-9]{30,}"
                           r"|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}"
                           r"|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16})")


def is_secret_value(value: str | None) -> bool:
    """True for a value that is, or holds, a base64 WireGuard key, a URL
    with a password or a token of a known shape."""
    return value is not None and bool(_KEY_SHAPED.search(value)
                                      or _URL_PASSWORD.search(value)
                                      or _TOKEN_SHAPED.search(value))


# Any run of base64 characters as long as a key or longer; hex runs excepted.
_BASE64_RUN = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{43,}={0,2}")
_HEX_RUN = re.compile(r"(?:0[xX])?[0-9A-Fa-f]+")
# curl's and wget's USER:PASSWORD after -u, --user, --proxy-user: the name
# says nothing secret, the colon does. The whole word is taken and split
# after (a user part looked for up to a colon that never comes was a
# quadratic scan of "-u=-u=-u=...").
_USER_PASSWORD = re.compile(r"(?P<head>(?<![A-Za-z0-9_.-])(?:-u|-U|--(?:proxy-)?user)"
                            r"(?:=|\s+)[\"']?)(?P<word>[^\s\"',;&|)]+)")
# NAME=value, --name=value, --name value, -name value (a word after a flag):
# the name and what assigns to it, then the value (a quoted string, a word).
# Apart, so that the scan can step from name to name: a value that is not a
# secret's is looked in again.
# A quote may close the name (JSON's "password": "x", an argv list's
# "--password", "x"), and spaces may stand around "=" (password = x).
_ASSIGNS = re.compile(r"(?<![A-Za-z0-9_.-])(?P<name>-{0,2}[A-Za-z_][A-Za-z0-9_.-]*)"
                      r"(?P<close>[\"']?)(?P<op>[ \t]*=[ \t]*|:\s*|\s+(?=[^-\s])|,[ \t]*(?=[\"']))")
_VALUE = re.compile(r"\"[^\"]*\"|'[^']*'|[^\s\"',;&|)]+")
# A Cookie header's value: every cookie ("a=1; session=x"), each a plain
# NAME=VALUE after the first (a quoted value is an assignment's own).
_COOKIES = re.compile(r"[^\s;\"'|&),]+(?:;[ \t]*[^\s;\"'|&),=]+=[^\s;\"'|&),]+)*")
# An Authorization header's value: its scheme, then the credentials.
_CREDENTIALS = re.compile(r"(?i:bearer|basic|digest|negotiate|token)[ \t]+"
                          r"(?P<token>[^\s\"',;&|)]+)")


def scrub(text: str) -> str:
    """``text`` with anything that may be a secret digested (see the module
    docstring): long base64 runs, URL passwords, values of secret-named
    flags and assignments. Used on every non-secret text awgcheck shows and
    cannot vouch for (an unknown conf line, a PostUp command, a compose
    command, a tool's stderr)."""
    if not text:
        return text
    # The same lines and values come back from every node of a fleet (a conf
    # line is scrubbed four times as it is read): short ones are remembered.
    return _scrub_short(text) if len(text) <= _REMEMBERED else _scrub(text)


@functools.lru_cache(maxsize=8192)
def _scrub_short(text: str) -> str:
    return _scrub(text)


def _scrub(text: str) -> str:
    text = _BASE64_RUN.sub(_digest_run, text)
    text = _TOKEN_SHAPED.sub(lambda m: redact(m.group(0)), text)
    text = _URL_PASSWORD.sub(_digest_url_password, text)
    text = _USER_PASSWORD.sub(_digest_user_password, text)
    return _digest_assignments(text)


def _digest_run(match: re.Match[str]) -> str:
    run = match.group(0)
    return run if _HEX_RUN.fullmatch(run) else redact(run)


def _digest_assignments(text: str) -> str:
    """Every value assigned to a secret name digested. The scan goes from
    name to name, so a value that is not a secret's is looked in too: in
    ``export DB_PASSWORD=x``, ``mysql password=x`` or ``-H "Authorization:
    Bearer x"`` the word after the first name is itself an assignment.
    Linear in the text: each name is looked at once."""
    done: list[str] = []
    start = position = 0
    while (head := _ASSIGNS.search(text, position)) is not None:
        position = head.end()
        name = head.group("name")
        if not is_secret_name(name.lstrip("-")) or not _assigning(head):
            continue
        if (digested := _DIGESTED.match(text, position)) is not None:
            position = digested.end()  # scrubbed already (text scrubbed twice)
            continue
        if _assigns_a_secret(text, position):
            continue  # "--password key: x": the value is the next name's
        value = _value_of(name, head.group("op"), text, position)
        if value is None:
            continue
        done.append(text[start:position] + redact(value.group(0)))
        start = position = value.end()
    done.append(text[start:])
    return "".join(done)


def _value_of(name: str, op: str, text: str, position: int) -> re.Match[str] | None:
    """The value at ``position`` of ``name`` (assigned by ``op``): after an
    Authorization header its scheme and credentials, unless what follows the
    scheme is a secret's own assignment; after a Cookie header every cookie."""
    if name.lower().endswith("authorization"):
        credentials = _CREDENTIALS.match(text, position)
        if credentials is not None and not _assigns_a_secret(text, credentials.start("token")):
            return credentials
    header = op.strip().startswith(":")
    cookies = _COOKIES.match(text, position) if header and name.lower().endswith("cookie") else None
    return cookies or _VALUE.match(text, position)


def _assigning(head: re.Match[str]) -> bool:
    """Does ``head`` assign its name a value? ``NAME=``, ``NAME:``; ``NAME
    word`` and ``"NAME", "word"`` only when NAME is a flag (else a sentence,
    a list of words)."""
    kind = head.group("op").strip()[:1]
    if kind in ("=", ":"):
        return True
    flag = head.group("name").startswith("-")
    return flag and (kind == "" or bool(head.group("close")))


def _assigns_a_secret(text: str, position: int) -> bool:
    """Does a secret's assignment start at ``position`` (a secret name and
    ``=`` or ``:``, or a secret flag)? Then it is no value of the name before
    it: taken as one, it hid the secret after it."""
    head = _ASSIGNS.match(text, position)
    if head is None:
        return False
    # A glued "=" or ":" at the end of a word is no assignment: base64's
    # padding (a token "KjzPw52SGIHmOA==" would read as PASSWORD-ish "Pw"
    # assigned nothing, and be shown).
    return (is_secret_name(head.group("name").lstrip("-")) and _assigning(head)
            and (head.group("op")[-1].isspace() or _assigned(text, head.end())))


def _assigned(text: str, position: int) -> bool:
    """Is something assigned at ``position``, just after a glued ``=`` or
    ``:``: a word, or a quote that opens one (``auth="x"``), not the end of
    a token (``A==``, ``A="``, ``A=;``)?"""
    after = text[position:position + 1]
    if after in ("'", '"'):
        opened = text[position + 1:position + 2]
        return bool(opened) and not opened.isspace() and opened not in ("'", '"')
    return after not in _NO_VALUE


_NO_VALUE = ("", "=", ",", ";", "&", "|", ")")
"""What may follow a glued ``=`` or ``:`` when nothing is assigned."""
_DIGEST = re.compile(r"sha256:[0-9a-f]{12}")
"""What :func:`redact` writes."""
_DIGESTED = re.compile(_DIGEST.pattern + r"(?=[\s\"',;&|)\]}@]|$)")
"""A value that is exactly a digest (not one glued to more text, which a
long base64 run digested and left the rest of a token beside)."""


def _digest_url_password(match: re.Match[str]) -> str:
    head, secret = match.group("head"), match.group("secret")
    userinfo = head.partition("://")[2] + secret
    if _DIGEST.fullmatch(secret) or _DIGEST.fullmatch(userinfo):
        return match.group(0)  # a digest already: of the password, or of a token as the user
    return head + redact(secret)


def _digest_user_password(match: re.Match[str]) -> str:
    word = match.group("word")
    user, colon, password = word.partition(":")
    if not colon or not password or _DIGEST.fullmatch(word) or _DIGEST.fullmatch(password):
        return match.group(0)
    return f"{match.group('head')}{user}:{redact(password)}"


def conceal(text: str | None, secret: bool) -> str | None:
    """``text`` as it may appear in a report: digested whole when secret,
    else scrubbed."""
    if text is None:
        return None
    return redact(text) if secret else scrub(text)


def secrets_held(name: str, value: str | None) -> list[str]:
    """The secrets ``value`` (held under ``name``) carries, as another
    program may quote them: the whole value when its name or its shape says
    secret, and every URL password and key-shaped run inside it (a password
    is quoted alone, without its URL)."""
    if not value:
        return []
    held = [value] if is_secret_name(name) or is_secret_value(value) else []
    held += [m.group("secret") for m in _URL_PASSWORD.finditer(value)]
    held += [m.group(0) for m in _KEY_SHAPED.finditer(value)]
    return held


def redact_known(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each of ``secrets`` replaced by its
    digest: for text from a program that was handed those values (whose
    messages quote them in words no shape gives away). Longest first and in
    one pass, so a secret inside another, or inside a digest just written,
    is never rewritten."""
    wanted = sorted({s for s in secrets if s}, key=len, reverse=True)
    if not wanted or not text:
        return text
    pattern = re.compile("|".join(re.escape(s) for s in wanted))
    return pattern.sub(lambda m: redact(m.group(0)), text)
