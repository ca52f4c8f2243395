"""Layers as GeoJSON collections with style (``_s``), popup (``_p``) and tooltip (``_t``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import shapely

from .. import privacy
from ._leaflet import Notes, capped, features, json_num, records, to_wgs84
from .colours import EXCLUDED_COLOUR, hex_colour, ramp
from .popups import candidate_popup, generic_popup, popup_table
from .text import esc, fmt

if TYPE_CHECKING:
    import geopandas as gpd


def candidates_layer(cands: gpd.GeoDataFrame, notes: Notes) -> tuple[dict[str, Any], tuple[float, float]]:
    cands = capped(cands, "candidates", notes, label="Candidates", order="rank", kept="best ranked")
    region_col = "region" in cands.columns
    score = pd.to_numeric(cands["score"], errors="coerce") if "score" in cands.columns else None
    excluded = cands["excluded"].fillna(False).astype(bool) if "excluded" in cands.columns else None
    lo, hi = 0.0, 1.0
    if score is not None and score.notna().any():
        ok = score if excluded is None else score[~excluded]
        if ok.notna().any():
            lo, hi = float(ok.min()), float(ok.max())
    props = []
    for i, row in enumerate(records(cands)):
        is_ex = bool(excluded.iloc[i]) if excluded is not None else False
        s = float(score.iloc[i]) if score is not None and pd.notna(score.iloc[i]) else float("nan")
        colour = EXCLUDED_COLOUR if is_ex else ramp((s - lo) / (hi - lo) if hi > lo else 1.0)
        style = {
            "radius": 6,
            "color": "#222222",
            "weight": 1,
            "fillColor": colour,
            "fillOpacity": 0.55 if is_ex else 0.95,
        }
        if is_ex:
            style["dashArray"] = "2,2"
        tip = esc(row.get("candidate_id", ""))
        if "rank" in row and pd.notna(row["rank"]):
            tip += f" (rank {fmt(row['rank'])})"
        props.append(
            {
                "_s": style,
                "_p": candidate_popup(row, region_col),
                "_t": tip,
                "candidate_id": str(row.get("candidate_id", "")),
                "rank": json_num(row.get("rank")),
            }
        )
    geoms = to_wgs84(cands).geometry.values
    return features(geoms, props), (lo, hi)


def points_layer(
    gdf: gpd.GeoDataFrame,
    *,
    colour: str,
    radius: float,
    title_col: str,
    label: str,
    skip: set[str] | None = None,
) -> dict[str, Any]:
    skip = {"geometry", *(skip or set())}
    props = []
    for row in records(gdf):
        name = esc(row[title_col]) if title_col in row and pd.notna(row[title_col]) else label
        props.append(
            {
                "_s": {
                    "radius": radius,
                    "color": "#ffffff",
                    "weight": 1,
                    "fillColor": colour,
                    "fillOpacity": 0.9,
                },
                "_p": generic_popup(row, name, skip),
                "_t": name,
            }
        )
    return features(to_wgs84(gdf).geometry.values, props)


def polygon_layer(
    gdf: gpd.GeoDataFrame,
    *,
    style: dict[str, Any],
    title: str,
    skip: set[str] | None = None,
    decimals: int = 6,
    tooltip_col: str | None = None,
) -> dict[str, Any]:
    skip = {"geometry", *(skip or set())}
    props = []
    for row in records(gdf):
        prop = {"_s": style, "_p": generic_popup(row, title, skip)}
        if tooltip_col is not None and pd.notna(row.get(tooltip_col)):
            prop["_t"] = esc(row[tooltip_col])
        props.append(prop)
    g = to_wgs84(gdf).geometry.values
    g = shapely.simplify(g, 1e-6 * 2)  # about 0.2 m: fewer vertices, same picture
    return features(g, props, decimals=decimals)


def hex_layer(hexes: gpd.GeoDataFrame, notes: Notes, threshold: int) -> dict[str, Any]:
    hexes = capped(
        hexes,
        "incidents",
        notes,
        label="Incidents (hexagons)",
        order="heat",
        ascending=False,
        kept="busiest cells",
    )
    props = []
    for label, heat, sup in zip(hexes["label"], hexes["heat"], hexes["suppressed"], strict=True):
        props.append(
            {
                "_s": {
                    "color": "#7f2704",
                    "weight": 0.5,
                    "fillColor": hex_colour(float(heat), bool(sup)),
                    "fillOpacity": 0.45,
                },
                "_t": f"Incidents: {esc(label)}",
                "_p": popup_table(
                    "Incidents in this hexagon",
                    [("Count", esc(label))],
                    note=esc(privacy.privacy_rule(threshold)),
                ),
            }
        )
    return features(to_wgs84(hexes).geometry.values, props)
