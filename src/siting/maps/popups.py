"""Popup HTML: a titled table of already escaped rows; candidate and generic popups."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .text import esc, fmt

#: Score components shown in a candidate's popup, in this order, when present.
SCORE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("covered_incidents", "Incidents covered"),
    ("covered_demand_weight", "Demand weight covered"),
    ("access_demand_weight", "Demand weight, discounted by walk"),
    ("mean_walk_min", "Mean walk of covered incidents (min)"),
    ("services_within", "Services within cutoff"),
    ("nearest_service_min", "Nearest service (min)"),
    ("hotspot_share", "Hotspot share"),
)


def popup_table(title: str, rows: list[tuple[str, str]], *, note: str = "") -> str:
    """A popup's HTML; ``title``, row labels and values must already be escaped."""
    body = "".join(
        f'<tr><th style="text-align:left;padding-right:8px;font-weight:600">{k}</th>'
        f'<td class="siting-{re.sub(r"[^a-z0-9]+", "-", k.lower()).strip("-")}">{v}</td></tr>'
        for k, v in rows
    )
    extra = f'<div style="margin-top:4px">{note}</div>' if note else ""
    return f'<div class="siting-popup"><b>{title}</b><table>{body}</table>{extra}</div>'


# ------------------------------------------------------------------- layers
CANDIDATE_SKIP = {
    "candidate_id",
    "geometry",
    "rank",
    "score",
    "excluded",
    "excluded_reason",
    "region",
    "name",
}


def candidate_popup(row: dict[str, Any], region_col: bool) -> str:
    """Rank, score, every component column present, other attributes, region, exclusion."""
    rows: list[tuple[str, str]] = []
    if "rank" in row:
        rows.append(("Rank", fmt(row["rank"]) or "not ranked"))
    if "score" in row:
        rows.append(("Score", fmt(row["score"])))
    shown = set(CANDIDATE_SKIP)
    for col, label in SCORE_COLUMNS:
        if col in row:
            rows.append((label, fmt(row[col])))
            shown.add(col)
    for col in row:
        if str(col).startswith("part_"):
            rows.append(
                (esc(str(col).removeprefix("part_").replace("_", " ")) + " (part of score)", fmt(row[col]))
            )
            shown.add(col)
    for col in row:
        if str(col).startswith("layer_"):
            rows.append((esc(str(col).removeprefix("layer_")) + " (layer)", fmt(row[col])))
            shown.add(col)
    for col in row:
        if col not in shown and not str(col).startswith("_"):
            rows.append((esc(col), fmt(row[col])))
    if region_col:
        rows.append(("Region", fmt(row["region"])))
    ex = row.get("excluded", False)
    if ex is not None and not pd.isna(ex) and bool(ex):
        rows.append(("Excluded", esc(row.get("excluded_reason", "")) or "yes"))
    title = "Candidate " + esc(row.get("candidate_id", ""))
    if "name" in row and pd.notna(row["name"]) and str(row["name"]):
        title += f" &middot; {esc(row['name'])}"
    return popup_table(title, rows)


def generic_popup(row: dict[str, Any], title: str, skip: set[str]) -> str:
    rows = [(esc(k), fmt(v)) for k, v in row.items() if k not in skip and not str(k).startswith("_")]
    return popup_table(title, rows)
