"""Check types: plain functions in one explicit table.

A rule names a check ``type``; :data:`CHECKS` maps it to a function, the
options it accepts and the artifact kinds it reads. To add a check type,
write its function in the family module it belongs to (``params``,
``conf``, ``document``, ``compose``, ``mesh``) and add one entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from awgcheck.checks import base, compose, conf, document, implies, itags, mesh
from awgcheck.checks import params as param_checks
from awgcheck.checks.base import CheckType, OptionSchema
from awgcheck.model import ArtifactKind

_PARAM_KINDS = frozenset({ArtifactKind.CONF, ArtifactKind.RUNTIME, ArtifactKind.PARAMS})
_COMPOSE = frozenset({ArtifactKind.COMPOSE})
_CONF = frozenset({ArtifactKind.CONF})
_PARAMS_DOC = frozenset({ArtifactKind.PARAMS})
_ABSENT: OptionSchema = {"absent": (str, False)}
_absent = base.absent_mode
# Checks that judge a document's params say once that an error reply
# states none, instead of judging every param as absent.
_params = base.on_stated_params


def _against_a_statement(options: Mapping[str, Any]) -> bool:
    """compose-equals is drift when it compares with the source or the
    node's conf, not with a literal value."""
    return options.get("against") in ("source", "conf")


def _against_the_source(options: Mapping[str, Any]) -> bool:
    """equals-source reads the source unless it compares with the node's
    own file (``against: file``)."""
    return bool(options.get("against", "source") == "source")


def _compose_against_the_source(options: Mapping[str, Any]) -> bool:
    return bool(options.get("against") == "source")


def _cross_node(fn: base.CheckFn, options: OptionSchema | None = None) -> CheckType:
    """A mesh check: it reads the node's conf and, through the run's mesh,
    every other node's."""
    return CheckType(fn, options or {}, _CONF, cross_node=True)


CHECKS: dict[str, CheckType] = {
    # params: any document that states interface params
    "equals-source": CheckType(_params(param_checks.check_equals_source),
                               {"compare": (str, False), "against": (str, False)},
                               _PARAM_KINDS, param_checks.prepare_compare,
                               compares_with_source=True, drifts=base.always,
                               needs_source=_against_the_source),
    "present": CheckType(_params(param_checks.check_present), {}, _PARAM_KINDS),
    "not-all-default": CheckType(_params(param_checks.check_not_all_default),
                                 {"message": (str, False)}, _PARAM_KINDS),
    "range": CheckType(_params(param_checks.check_range),
                       {"min": (int, False), "max": (int, False), **_ABSENT},
                       _PARAM_KINDS, _absent),
    "regex": CheckType(_params(param_checks.check_regex),
                       {"pattern": (str, True), "target": (str, False), "mode": (str, False),
                        "message": (str, False)},
                       _PARAM_KINDS, param_checks.prepare_pattern),
    "unique": CheckType(_params(param_checks.check_unique), dict(_ABSENT), _PARAM_KINDS, _absent),
    "non-overlapping": CheckType(_params(param_checks.check_non_overlapping), dict(_ABSENT),
                                 _PARAM_KINDS, _absent),
    "relation": CheckType(_params(param_checks.check_relation), {"expr": (str, True), **_ABSENT},
                          _PARAM_KINDS, param_checks.prepare_relation),
    "i-tags": CheckType(itags.check_itags, {"generations": (list, False)}, _PARAM_KINDS,
                        itags.prepare_itags),
    # conf lines
    "absent": CheckType(conf.check_absent, {}, _CONF),
    "section-placement": CheckType(conf.check_section_placement, {"allowed": (str, True)},
                                   _CONF, conf.prepare_placement),
    "duplicate-keys": CheckType(conf.check_duplicate_keys, {}, _CONF),
    "canonical-spelling": CheckType(conf.check_canonical_spelling, {}, _CONF),
    "loads": CheckType(conf.check_loads, {"exclude": (list, False)}, _CONF),
    "file-fact": CheckType(conf.check_file_fact,
                           {"fact": (str, True), "message": (str, False)},
                           _CONF, conf.prepare_file_fact),
    # params documents
    "document-valid": CheckType(document.check_document_valid, {}, _PARAMS_DOC),
    # compose projects
    "compose-equals": CheckType(compose.check_equals, compose.EQUALS_OPTIONS, _COMPOSE,
                                compose.prepare_equals, drifts=_against_a_statement,
                                needs_source=_compose_against_the_source),
    "compose-present": CheckType(compose.check_present, {}, _COMPOSE),
    "compose-absent": CheckType(compose.check_absent, {}, _COMPOSE),
    "compose-origin": CheckType(compose.check_origin, compose.ORIGIN_OPTIONS, _COMPOSE,
                                compose.prepare_origin),
    "compose-diagnostics": CheckType(compose.check_diagnostics, compose.DIAGNOSTICS_OPTIONS,
                                     _COMPOSE, compose.prepare_diagnostics),
    # the fleet as a mesh: a node's side of its edges (inventory ``mesh:``)
    "mesh-peer-known": _cross_node(mesh.check_peer_known),
    "mesh-edges-symmetric": _cross_node(mesh.check_symmetric),
    "mesh-allowed-ips-cover": _cross_node(mesh.check_allowed_ips_cover),
    "mesh-allowed-ips-disjoint": _cross_node(mesh.check_allowed_ips_disjoint,
                                             {"allow_nested": (bool, False)}),
    "mesh-address-unique": _cross_node(mesh.check_address_unique),
    "mesh-endpoint": _cross_node(mesh.check_endpoint),
    "mesh-preshared-key": _cross_node(mesh.check_preshared_key),
    "mesh-mtu": _cross_node(mesh.check_mtu),
    "mesh-keepalive-nat": _cross_node(mesh.check_keepalive_nat),
}
# implies wraps any other check type, so it is built over this very table.
CHECKS["implies"] = implies.implies_type(CHECKS, _PARAM_KINDS)
