"""Authentication of the SSH transport: which keys, and the userauth exchange.

Keys come from the identity files the inventory and ssh_config name, then
from ssh-agent (unless IdentitiesOnly). Each is offered in turn until the
server accepts one; the first offer saves a round trip by sending the
service request and the signed userauth request in one flight
(:class:`_PipelinedAuth`).
"""

from __future__ import annotations

import logging
import os
import threading

import paramiko
from paramiko.auth_handler import AuthHandler

from awgcheck.collect.ssh.config import Endpoint, candidate_identity_files
from awgcheck.collect.ssh.watchdog import Watchdog, deadline_exceeded, fail, not_utf8
from awgcheck.errors import ErrorClass

log = logging.getLogger(__name__)


_key_cache: dict[tuple[str, int], paramiko.PKey | None] = {}
_key_lock = threading.Lock()


def _load_key(path: str) -> tuple[paramiko.PKey | None, str | None]:
    """Load a private key file once per process; (key, why-not)."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError as exc:
        return None, f"{path}: {exc.strerror}"
    with _key_lock:
        if (path, mtime) in _key_cache:
            cached = _key_cache[(path, mtime)]
            return cached, None if cached else f"{path}: not usable"
    why: str | None = None
    key: paramiko.PKey | None = None
    try:
        key = paramiko.PKey.from_path(path)
    except (paramiko.PasswordRequiredException, TypeError):
        # paramiko's PKey.from_path lets cryptography's TypeError ("Key is
        # password-protected") through for new-format OpenSSH keys.
        why = f"{path}: encrypted (load it into ssh-agent instead)"
    except Exception as exc:  # any unusable key file: skip it, never crash the node
        # Only the exception type is reported: the message of a parser
        # error could quote key material.
        why = f"{path}: unreadable key ({type(exc).__name__})"
    with _key_lock:
        _key_cache[(path, mtime)] = key
    return key, why


def _candidate_keys(hop: Endpoint, agent: paramiko.Agent | None
                    ) -> tuple[list[tuple[str, paramiko.PKey]], list[str]]:
    keys: list[tuple[str, paramiko.PKey]] = []
    notes: list[str] = []
    for path in candidate_identity_files(hop):
        key, why = _load_key(path)
        if key is not None:
            keys.append((path, key))
        elif why:
            notes.append(why)
    if agent is not None and not hop.identities_only:
        keys += [(f"agent key {k.fingerprint}", k) for k in agent.get_keys()]
    return keys, notes


class _PipelinedAuth(AuthHandler):
    """paramiko's public-key authentication, one round trip shorter.

    paramiko sends SERVICE_REQUEST "ssh-userauth" and builds the signed
    USERAUTH_REQUEST only when SERVICE_ACCEPT comes back. Both requests only
    depend on the session id, so this handler sends them in one flight. The
    server reads packets in order and accepts the service before it reads
    the request (sshd switches to its userauth handler on the accept), so
    both replies come back in the next flight. The host key has been
    verified before this runs, as before.

    The request is still built and signed by paramiko's own code (key types,
    certificates, rsa-sha2 choice), only earlier. That code lives in two
    long-standing private methods, ``_request_auth`` and
    ``_parse_service_accept``; a paramiko without them, or whose methods no
    longer fit, gets its public path instead (:func:`can_pipeline`,
    :func:`_auth_publickey`), and tests/collect/test_ssh_rtt.py fails
    if an upgrade brings the wait back or breaks the request.
    """

    def _request_auth(self) -> None:
        super()._request_auth()  # type: ignore[misc]
        accepted = paramiko.Message()
        accepted.add_string("ssh-userauth")
        accepted.rewind()
        super()._parse_service_accept(accepted)  # type: ignore[misc]

    def _parse_service_accept(self, message: paramiko.Message) -> None:
        """The request went out with the service request: nothing to send.
        A server refusing the service disconnects, which ends the wait."""


_PRIVATE_HOOKS = ("_request_auth", "_parse_service_accept")
"""The paramiko ``AuthHandler`` methods :class:`_PipelinedAuth` overrides."""


def can_pipeline() -> bool:
    """Whether this paramiko still has the private methods the pipelined
    request overrides.

    Asked of paramiko's own class (the subclass defines both names itself)
    at each use rather than once at import, so it answers for the paramiko
    actually loaded. Without them, overriding would either raise or, worse,
    silently never run; paramiko's public path only costs a round trip.
    """
    return all(callable(getattr(AuthHandler, name, None)) for name in _PRIVATE_HOOKS)


def _auth_publickey(transport: paramiko.Transport, user: str, key: paramiko.PKey) -> None:
    """``transport.auth_publickey(user, key)`` with the service request and
    the signed request in one flight (see :class:`_PipelinedAuth`).

    Two kinds of key take paramiko's plain path, one round trip longer:
    agent keys, because here the signature would be made in this thread,
    and an agent that never answers (a confirmation nobody gives) must not
    hold it past the node deadline (paramiko signs in its own thread and
    this one keeps watching the transport the watchdog closes); and an RSA
    key before the server's server-sig-algs (EXT_INFO, sent right after
    NEWKEYS) are parsed, since they pick its signature algorithm. Every key
    does when this paramiko lacks the private methods (:func:`can_pipeline`),
    and a key whose pipelined request fails because they changed shape
    (TypeError, AttributeError) is offered again on the plain path.
    """
    if not can_pipeline():
        log.debug("paramiko %s lacks AuthHandler.%s; using its public auth path",
                  paramiko.__version__, " / ".join(_PRIVATE_HOOKS))
        transport.auth_publickey(user, key)
        return
    if isinstance(key, paramiko.AgentKey) or (
            "rsa" in key.get_name() and not getattr(transport, "server_extensions", None)):
        transport.auth_publickey(user, key)
        return
    if not transport.is_active() or not transport.initial_kex_done:
        raise paramiko.SSHException("No existing session")
    try:
        event = threading.Event()
        handler = _PipelinedAuth(transport)
        transport.auth_handler = handler
        handler.auth_publickey(user, key, event)
        handler.wait_for_response(event)
    except (TypeError, AttributeError) as exc:
        # The private methods are there but no longer fit the override (a
        # changed signature or what they expect of the handler): paramiko's
        # public path installs a fresh handler and needs neither.
        log.debug("paramiko %s: the pipelined auth request failed (%s); using its "
                  "public auth path", paramiko.__version__, type(exc).__name__)
        transport.auth_publickey(user, key)


def authenticate(transport: paramiko.Transport, hop: Endpoint, where: str,
                 dog: Watchdog, agent: paramiko.Agent | None) -> None:
    """Offer each candidate key for ``hop.user`` until one is accepted;
    raise ``auth_failed`` (listing the keys tried and skipped) otherwise."""
    keys, notes = _candidate_keys(hop, agent)
    transport.auth_timeout = max(0.1, dog.remaining())
    tried: list[str] = []
    for label, key in keys:
        tried.append(label)
        try:
            _auth_publickey(transport, hop.user, key)
        except paramiko.BadAuthenticationType as exc:
            fail(where, f"server does not accept public keys for {hop.user} "
                  f"(allowed: {', '.join(exc.allowed_types) or 'none'})", ErrorClass.AUTH_FAILED)
        except paramiko.AuthenticationException:
            if not transport.is_active():
                break  # server gave up on us (MaxAuthTries)
            continue
        except (paramiko.SSHException, EOFError, OSError) as exc:
            if dog.fired:
                deadline_exceeded(where, dog)
            fail(where, f"connection lost during authentication: {exc}",
                  ErrorClass.CONNECTION_DROPPED)
        except UnicodeDecodeError:
            not_utf8(where, "authentication")
        if transport.is_authenticated():
            return
    if dog.fired:
        deadline_exceeded(where, dog)
    detail = f"tried {', '.join(tried)}" if tried else "no usable key found"
    if notes:
        detail += f"; skipped {'; '.join(notes)}"
    fail(where, f"authentication as {hop.user} failed ({detail})", ErrorClass.AUTH_FAILED)


def open_agent() -> paramiko.Agent | None:
    """The ssh-agent named by SSH_AUTH_SOCK, or None (no agent, or gone)."""
    if not os.environ.get("SSH_AUTH_SOCK"):
        return None
    try:
        return paramiko.Agent()
    except paramiko.SSHException:
        log.warning("SSH_AUTH_SOCK is set but the agent is unreachable; using key files only")
        return None
