"""Popups a planner can read: human labels, units, formatted numbers, no internal fields.

Each popup is ``(title, rows, note)``: ``rows`` are ``(label, value)`` pairs or a single
``(subheading,)``. Everything returned is already escaped HTML. Incident-derived numbers
come from :class:`~siting.maps.release.Figures` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .text import esc, fmt

if TYPE_CHECKING:
    from .release import Figures

Row = tuple[str, ...]
Popup = tuple[str, list[Row], str]

#: Score components: their part column, what the part measures, and how it is normalised.
PARTS: tuple[tuple[str, str, str], ...] = (
    ("demand", "Incidents reached", "relative to the candidate reaching the most"),
    ("walk", "Short walks", "1 - average walk / cutoff"),
    ("services", "Services within reach", "relative to the candidate reaching the most"),
    ("service_access", "Nearest service", "1 - walk to it / cutoff"),
    ("hotspot", "Reach into hotspots", "relative to the candidate reaching the most"),
)

#: Columns never shown as "other details" (internal ids, provenance, computed fields).
_INTERNAL = re.compile(
    r"^(_|geometry$|candidate_id$|name$|rank$|score$|excluded|region$|source$|osm|osmid|"
    r"fid$|objectid$|id$|.*_id$|.*_label$|part_|layer_|covered_|mean_walk|services_within|"
    r"nearest_|hotspot_|exclusion_|reason$|fixed$|covers_|alone_|assigned_|access_|kind$|"
    r"expected_|deaths_|attendance)",
    re.IGNORECASE,
)


@dataclass
class Context:
    """What candidate popups need beyond the row: the run, the choice and the figures."""

    fig: Figures
    cutoff_min: float
    n_ranked: int
    weights: dict[str, float]
    layer_roles: dict[str, str] = field(default_factory=dict)
    chosen: dict[str, int] = field(default_factory=dict)  # candidate id -> site number
    names: dict[str, str] = field(default_factory=dict)  # candidate id -> name
    not_chosen: dict[str, dict[str, Any]] = field(default_factory=dict)
    services_label: str = "Homeless services"


def present(v: Any) -> bool:
    if v is None:
        return False
    try:
        return not bool(pd.isna(v))
    except (TypeError, ValueError):
        return True


def site_name(cid: str, name: Any) -> str:
    """``C001 · Luckan`` (escaped)."""
    n = str(name) if present(name) and str(name) else ""
    return esc(cid) + (f" &middot; {esc(n)}" if n else "")


def _label(row: dict[str, Any], col: str, fallback: str = "") -> str:
    lab = row.get(f"{col}_label")
    return esc(lab) if present(lab) and str(lab) else fallback


def margin_text(row: dict[str, Any]) -> str:
    """``204 m from Ressun lukio; rule 200 m`` (or inside the zone), escaped; '' if no rule."""
    d, rule_m = row.get("nearest_exclusion_m"), row.get("exclusion_rule_m")
    if not present(d) or not present(rule_m):
        return ""
    name = esc(row.get("nearest_exclusion") or "the nearest excluded feature")
    if float(rule_m) == 0:
        return f"{fmt(round(float(d)))} m from {name}"
    margin = float(d) - float(rule_m)
    text = f"{fmt(round(float(d)))} m from {name}; rule {fmt(round(float(rule_m)))} m"
    if margin < 0:
        return text + " (inside the zone)"
    if margin < 25:
        return text + f" (only {fmt(round(margin))} m to spare)"
    return text


def why_not_text(rec: dict[str, Any], ctx: Context) -> str:
    """Why a higher-ranked candidate was not chosen, in one escaped sentence."""
    why = rec.get("why")
    if why == "exclusion":
        return "Excluded: " + esc(rec.get("excluded_reason") or "an exclusion rule")
    if why == "quota":
        rule = esc(rec.get("rule") or "of the regional quotas")
        return f"The rule {rule} kept it out: without it, it would be chosen"
    if why == "overlap":
        other = str(rec.get("overlap_with") or "")
        who = site_name(other, ctx.names.get(other)) if other else "a chosen site"
        return (
            f"Overlap: {ctx.fig.overlap(rec, ctx.cutoff_min)} of the incidents it reaches "
            f"are already reached by {who}"
        )
    return "With the chosen sites it would reach fewer incidents than the chosen set"


def candidate_popup(row: dict[str, Any], ctx: Context) -> Popup:
    """Rank, score explained, what it reaches, rules, status and the planner's own columns."""
    fig = ctx.fig
    cid = str(row.get("candidate_id", ""))
    cut = fmt(round(ctx.cutoff_min, 1))
    rows: list[Row] = []
    is_ex = bool(row.get("excluded")) if present(row.get("excluded")) else False
    if cid in ctx.chosen:
        rows.append(("Status", f"<b>Chosen site {ctx.chosen[cid]}</b>"))
    elif is_ex:
        rows.append(("Status", "Excluded: " + esc(row.get("excluded_reason") or "an exclusion rule")))
    elif cid in ctx.not_chosen:
        rows.append(("Status", "Not chosen. " + why_not_text(ctx.not_chosen[cid], ctx)))
    rank = row.get("rank")
    rows.append(("Rank", f"{fmt(int(rank))} of {fmt(ctx.n_ranked)}" if present(rank) else "not ranked"))
    score = row.get("score")
    if present(score):
        rows.append(("Score", f"{fmt(round(float(score) * 100))} of 100"))
    rows.append((f"Within a {cut}-minute walk",))
    if "covered_incidents" in row:
        rows.append(("Incidents", _label(row, "covered_incidents", fig.count(row.get("covered_incidents")))))
    if "covered_demand_weight" in row:
        v = row.get("covered_demand_weight")
        rows.append(("Demand weight", _label(row, "covered_demand_weight", fig.count(v))))
    if "mean_walk_min" in row:
        rows.append(
            ("Average walk to it", _label(row, "mean_walk_min", fig.minutes(row.get("mean_walk_min"))))
        )
    if "hotspot_share" in row:
        v = row.get("hotspot_share")
        shown = _label(row, "hotspot_share", fig.percent(v))
        rows.append(("Incidents in hotspots", shown))
    if "services_within" in row:
        rows.append((esc(ctx.services_label), fmt(row.get("services_within"))))
    if "nearest_service_min" in row:
        v = row.get("nearest_service_min")
        rows.append(("Nearest service", f"{fig.minutes(v)} walk" if present(v) else "none within the walk"))
    for col in row:
        if str(col).startswith("layer_") and not str(col).endswith("_label"):
            name = str(col).removeprefix("layer_")
            v = row[col]
            shown = fig.count(v) if ctx.layer_roles.get(name) == "demand" else fmt(v)
            rows.append((esc(name), shown))
    parts = [(c, lab, how) for c, lab, how in PARTS if f"part_{c}" in row and present(row.get(f"part_{c}"))]
    if parts and present(score):
        rows.append(("Score = weighted sum of parts (points)",))
        for c, lab, _how in parts:
            got = round(float(row[f"part_{c}"]) * 100)
            top = round(float(ctx.weights.get(c, np.nan)) * 100) if c in ctx.weights else None
            points = f"{fmt(got)} of {fmt(top)} points" if top is not None else f"{fmt(got)} points"
            rows.append((lab, points))
    margin = margin_text(row)
    region = row.get("region")
    if margin or present(region):
        rows.append(("Rules",))
        if margin:
            rows.append(("Nearest exclusion", margin))
        if present(region) and str(region):
            rows.append(("Region", esc(region)))
    other = [(k, v) for k, v in row.items() if not _INTERNAL.match(str(k)) and present(v) and str(v) != ""]
    kind = row.get("kind")
    if other or present(kind):
        rows.append(("Details",))
        if present(kind):
            rows.append(("Type", esc(str(kind).replace("_", " "))))
        rows.extend((esc(str(k).replace("_", " ").capitalize()), fmt(v)) for k, v in other)
    note = (
        "The score ranks candidates within this run only: each part compares this candidate "
        "with the best one here (or with the walking cutoff), weighted and summed."
    )
    return "Candidate " + site_name(cid, row.get("name")), rows, note


def site_popup(row: dict[str, Any], number: int, ctx: Context, extra: list[Row]) -> Popup:
    """A chosen site: why it was chosen, what it reaches alone and assigned, its rules."""
    fig = ctx.fig
    cid = str(row.get("candidate_id", ""))
    cut = fmt(round(ctx.cutoff_min, 1))
    rows: list[Row] = []
    rank = row.get("rank")
    if present(rank):
        rows.append(("Rank", f"{fmt(int(rank))} of {fmt(ctx.n_ranked)}"))
    if present(row.get("region")) and str(row.get("region")):
        rows.append(("Region", esc(row["region"])))
    rows.append((f"Within a {cut}-minute walk",))
    for what, inc, wt in (
        ("Reaches", "covers_incidents", "covers_demand_weight"),
        ("Reaches alone", "alone_incidents", "alone_demand_weight"),
        ("Nearest site for", None, "assigned_demand_weight"),
    ):
        parts = []
        if inc and inc in row:
            parts.append(f"{_label(row, inc, fig.count(row.get(inc)))} incidents")
        if wt in row:
            parts.append(f"demand weight {_label(row, wt, fig.count(row.get(wt)))}")
        if parts:
            rows.append((what, "; ".join(parts)))
    rows.extend(extra)
    margin = margin_text(row)
    if margin:
        rows.append(("Nearest exclusion", margin))
    note = (
        "Reaches: demand within the walk of this site. Alone: demand no other chosen site "
        "reaches. Nearest site for: demand for which this is the closest chosen site (these "
        "add up across the chosen sites)."
    )
    return f"Chosen site {number}: " + site_name(cid, row.get("name")), rows, note


def point_popup(row: dict[str, Any], title: str) -> Popup:
    """A service or extra-layer point: its name and type, no ids or provenance."""
    rows: list[Row] = []
    kind = row.get("kind")
    if present(kind):
        rows.append(("Type", esc(str(kind).replace("_", " "))))
    for k, v in row.items():
        if _INTERNAL.match(str(k)) or not present(v) or str(v) == "" or k == "weight":
            continue
        rows.append((esc(str(k).replace("_", " ").capitalize()), fmt(v)))
    src = str(row.get("source") or "")
    note = "Synthetic (demo data)" if src.startswith("synthetic") else ""
    return title, rows, note


def zone_popup(row: dict[str, Any]) -> Popup:
    """An exclusion zone: the rule, the feature it is drawn around."""
    rows: list[Row] = []
    if present(row.get("rule")):
        rows.append(("Rule", esc(row["rule"])))
    if present(row.get("buffer_m")) and float(row["buffer_m"]) > 0:
        rows.append(("Distance", f"{fmt(round(float(row['buffer_m'])))} m from the feature's edge"))
    name = row.get("name")
    title = "Exclusion zone" + (
        f": {esc(name)}" if present(name) and str(name) not in ("", "(unnamed)") else ""
    )
    return title, rows, "Candidates inside are not ranked or chosen."


def hex_popup(label: str, ctx_statement: str, size_m: float) -> Popup:
    return (
        "Incidents in this hexagon",
        [("Incidents", esc(label)), ("Hexagon", f"{fmt(round(size_m))} m from centre to corner")],
        esc(ctx_statement),
    )
