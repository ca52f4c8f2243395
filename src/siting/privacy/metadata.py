"""What a shareable output may say about the run itself: parameters, manifest, period.

A run's parameters and manifest hold figures about the incidents too: how many rows the
incident file has, which ids were left out, its SHA-256 (with which a guess at the file can
be checked), the dates of the first and last incident, and the selection's exact
objective. Shareable outputs show:

* parameters on an allow-list (settings, never results); unknown numbers are left out;
* the manifest with every number about an incident layer passed through the rule, its
  left-out ids replaced by their count (with the rule) and its SHA-256 withheld;
* the period the incidents cover to the month.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from .rule import percent_label

if TYPE_CHECKING:
    from .rule import Rule

#: Parameters that are settings (never results), shown as they are.
PUBLIC_PARAMETERS = (
    "cutoff_min",
    "cutoff_m",
    "walking_speed_m_per_min",
    "max_snap_m",
    "suppression_threshold",
    "rounding_base",
    "allow_weaker_privacy",
    "include_incident_points",
    "seed",
    "n_sites",
    "weights",
    "layers",
    "services_label",
    "timezone",
)
#: Keys of ``parameters['selection']`` that describe the problem, not its exact answer.
PUBLIC_SELECTION = ("model", "p", "quotas", "fixed", "status", "method", "target")
WITHHELD_SHA = "withheld in shareable outputs (it could confirm a guess at the file)"


def release_period(params: dict[str, Any]) -> str | None:
    """``"January 2024 to December 2025"`` from the run's first and last incident dates."""
    a, b = params.get("incidents_from"), params.get("incidents_to")
    if not a or not b:
        return None
    try:
        ta, tb = pd.Timestamp(a), pd.Timestamp(b)
    except (TypeError, ValueError):
        return None
    return f"{ta:%B %Y} to {tb:%B %Y}"


def release_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """The run's parameters a shareable output may show (see the module docstring)."""
    out: dict[str, Any] = {}
    for key in PUBLIC_PARAMETERS:
        if key in params:
            out[key] = params[key]
    sel = params.get("selection")
    if isinstance(sel, dict):
        kept = {k: sel[k] for k in PUBLIC_SELECTION if k in sel}
        if "gap" in sel:
            kept["gap"] = percent_label(sel["gap"])
        out["selection"] = kept
    for key, value in params.items():
        if key in out or key in ("selection", "sensitivity", "incidents_from", "incidents_to"):
            continue
        if isinstance(value, str):
            out[key] = value
    period = release_period(params)
    if period:
        out["incidents_period"] = period
    return out


def _release_leaf(value: Any, rule: Rule) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return rule.label(value)
    if isinstance(value, list | tuple):
        return f"{rule.label(len(value))} item(s)"
    if isinstance(value, dict):
        return {k: _release_leaf(v, rule) for k, v in value.items()}
    return value


def release_manifest(manifest: dict[str, Any], *, sensitive: set[str], rule: Rule) -> dict[str, Any]:
    """The manifest with the incident layers' figures released and their hashes withheld.

    ``sensitive`` names the inputs that hold incidents (the demand layer and any
    ``demand``-role layer), by their key in ``manifest['inputs']`` or their ``role``.
    """
    out = dict(manifest)
    inputs = manifest.get("inputs")
    if isinstance(inputs, dict):
        rel = {}
        for name, info in inputs.items():
            is_sensitive = name in sensitive or (isinstance(info, dict) and info.get("role") in sensitive)
            if not is_sensitive or not isinstance(info, dict):
                rel[name] = info
                continue
            r = {}
            for k, v in info.items():
                if k == "sha256":
                    r[k] = WITHHELD_SHA
                elif k in ("path", "role"):
                    r[k] = v
                elif k == "left_out_far_from_streets":
                    r[k] = rule.label(len(v) if isinstance(v, list | tuple) else 0)
                else:
                    r[k] = _release_leaf(v, rule)
            rel[name] = r
        out["inputs"] = rel
    return out
