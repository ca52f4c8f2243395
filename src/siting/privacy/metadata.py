"""What a shareable output may say about the run itself: parameters, manifest, period.

A run's parameters and manifest hold figures about the incidents too: how many rows the
incident file has, which ids were left out, its SHA-256 (with which a guess at the file can
be checked), the dates of the first and last incident, and the selection's exact
objective. Shareable outputs show:

* parameters on an allow-list (settings, never results); unknown numbers are left out;
* the manifest with an incident layer's SHA-256 withheld, its row counts left out and what
  was left out by each reason counted with the rule (:func:`release_intake`), no ids;
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
PUBLIC_SELECTION = (
    "model", "p", "quotas", "fixed", "status", "method", "target",
    # the capacity the choice was held to: settings the user gave, not answers
    "capacity_rule", "demand_per_day", "uses_per_booth_per_day",
)  # fmt: skip
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


def _month(text: Any) -> str:
    try:
        return f"{pd.Timestamp(str(text)):%B %Y}"
    except (TypeError, ValueError):
        return ""


def release_intake(
    intake: dict[str, Any], *, used_label: str | None, left_out: int, rule: Rule
) -> dict[str, Any]:
    """What was read from an incident layer, as a shareable report may say it.

    Each reason rows were left out (and the points far from every street) is a count with
    the rule, and the incidents used are the released total. The rows read, the rows used
    before snapping, the rows without a date and the status counts are left out: with the
    total they would make a table whose hidden parts a reader could subtract out. Dates are
    months; free-text notes (which may hold counts) are left out; no ids are listed.
    """
    out = {
        k: intake[k]
        for k in ("name", "role", "path", "format", "row_word", "geometry", "id_column", "date_column",
                  "date_format", "status_column")
        if k in intake
    }  # fmt: skip
    steps = []
    for step in intake.get("steps", []) or []:
        steps.append(
            {
                "text": step.get("text") or step.get("words", ""),
                "excluded_only": bool(step.get("excluded_only", False)),
                "removed": rule.label(step.get("removed", 0)),
                "who": [],
            }
        )
    if not any(step.get("reason") == "far_from_streets" for step in intake.get("steps", []) or []):
        steps.append({"text": "farther than the snapping limit from every street", "excluded_only": False,
                      "removed": rule.label(left_out), "who": []})  # fmt: skip
    out["steps"] = steps
    if used_label is not None:
        out["incidents_used"] = used_label
    if intake.get("date_first") and intake.get("date_last"):
        out["date_first"], out["date_last"] = _month(intake["date_first"]), _month(intake["date_last"])
    out["released"] = True
    return out


def release_manifest(
    manifest: dict[str, Any], *, sensitive: set[str], rule: Rule, used_label: str | None = None
) -> dict[str, Any]:
    """The manifest with the incident layers' figures released and their hashes withheld.

    ``sensitive`` names the inputs that hold incidents (the demand layer and any
    ``demand``-role layer), by their key in ``manifest['inputs']`` or their ``role``;
    ``used_label`` is the released number of incidents used (the base table's total).
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
            left = info.get("left_out_far_from_streets")
            n_left = len(left) if isinstance(left, list | tuple) else 0
            r: dict[str, Any] = {"path": info.get("path"), "role": info.get("role"), "sha256": WITHHELD_SHA}
            r["left_out_far_from_streets"] = rule.label(n_left)
            if isinstance(info.get("intake"), dict):
                r["intake"] = release_intake(
                    info["intake"],
                    used_label=used_label if name == "demand" else None,
                    left_out=n_left,
                    rule=rule,
                )
            rel[name] = r
        out["inputs"] = rel
    return out
