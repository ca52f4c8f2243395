"""The recommendation's layers: candidates coloured by rank and the chosen sites on top."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ._leaflet import capped, records, to_wgs84
from .drawing import CHOSEN_LAYER, Drawing
from .layers import Popups, spec, styles_of
from .legend import gradient, swatch
from .popups import candidate_popup, site_name, site_popup
from .styles import (
    CANDIDATE,
    CHOSEN,
    EXCLUDED,
    VIRIDIS,
    ramp,
)
from .text import esc, fmt
from .whatif import CANDIDATE_LAYER

log = logging.getLogger("siting.maps")


def draw_candidates(d: Drawing) -> None:
    """Candidates coloured by score (viridis), excluded ones grey and dashed."""
    ctx, fig = d.ctx, d.fig
    c_all = fig.candidates
    if c_all is None or not len(c_all):
        return
    cands = capped(c_all, "candidates", d.notes, label="Candidates", order="rank", kept="best ranked")
    # colour by rank (the order the run computed on the exact data; released scores are rounded)
    rank = pd.to_numeric(cands["rank"], errors="coerce") if "rank" in cands.columns else None
    excluded = cands["excluded"].fillna(False).astype(bool) if "excluded" in cands.columns else None
    worst = float(rank.max()) if rank is not None and rank.notna().any() else 1.0
    items, tips, ids = [], [], []
    pops = Popups()
    for i, row in enumerate(records(cands)):
        is_ex = bool(excluded.iloc[i]) if excluded is not None else False
        r = float(rank.iloc[i]) if rank is not None and pd.notna(rank.iloc[i]) else float("nan")
        pos = 1.0 - (r - 1.0) / (worst - 1.0) if worst > 1 and np.isfinite(r) else float(np.isfinite(r))
        items.append(EXCLUDED if is_ex else {**CANDIDATE, "fillColor": ramp(pos)})
        cid = str(row.get("candidate_id", ""))
        tip = site_name(cid, row.get("name"))
        if pd.notna(row.get("rank")):
            tip += f" (rank {fmt(int(row['rank']))})"
        elif is_ex:
            tip += " (excluded)"
        tips.append(tip)
        ids.append(cid)
        pops.add(candidate_popup(row, ctx))
    styles, index = styles_of(items)
    fg = d.group(CANDIDATE_LAYER, order=20)
    d.add(
        fg,
        spec(
            cands,
            kind="pt",
            styles=styles,
            style_index=index,
            popups=pops,
            tips=tips,
            ids=ids,
            pane="sitingCandidates",
        ),
    )
    d.m.siting_candidates = positions(cands, ids)
    d.legend.add(
        "Candidates",
        [
            (gradient(VIRIDIS[::-1]), f"rank 1 \u2192 {fmt(int(worst))} (yellow is best)"),
            (swatch(EXCLUDED, "dot"), "excluded by a rule"),
        ],
    )


def draw_sites(d: Drawing) -> None:
    """Chosen sites: large rings with a permanent label, in the top pane, keyboard-reachable."""
    plan, ctx, fig = d.plan, d.ctx, d.fig
    sites = fig.sites
    if sites is None or not len(sites):
        return
    cands = fig.candidates.set_index(fig.candidates["candidate_id"].astype(str))
    pops = Popups()
    tips, ids = [], []
    findings = plan.findings
    for k, row in enumerate(records(sites), start=1):
        cid = str(row["candidate_id"])
        crow = cands.loc[cid].to_dict() if cid in cands.index else {}
        merged = {**crow, **{kk: v for kk, v in row.items() if v is not None}}
        extra: list[tuple[str, ...]] = []
        if findings is not None and len(findings):
            for rec in findings[findings["site"] == cid].to_dict("records"):
                if rec["finding"] == "rule":
                    extra.append(("Chosen by rule", esc(rec.get("rule"))))
                elif rec["finding"] == "low_rank":
                    extra.append(
                        (
                            "Adds",
                            f"{fig.adds(rec, ctx.cutoff_min)} of its incidents "
                            "no other chosen site reaches",
                        )
                    )
        pops.add(site_popup(merged, k, ctx, extra))
        tips.append(f"{k}. {site_name(cid, row.get('name'))}")
        ids.append(cid)
    from .site_profile import site_profiles  # hours, attendance, deaths, booths (impact-led's)

    profiles = site_profiles(plan, released=fig.released, internal=fig.internal)
    if profiles:
        for k, cid in enumerate(ids):
            if cid in profiles:
                entry = pops.data[k]
                note = entry[2] if len(entry) > 2 else ""
                pops.data[k] = [entry[0], entry[1], profiles[cid] + (f"<br>{note}" if note else "")]
    fg = d.group(CHOSEN_LAYER, order=0)
    d.add(
        fg,
        spec(
            sites,
            kind="pt",
            styles=[CHOSEN],
            popups=pops,
            tips=tips,
            ids=ids,
            pane="sitingChosen",
            tab=True,
            labelled=True,
        ),
    )
    d.legend.add("Recommendation", [(swatch(CHOSEN, "dot"), "chosen site (numbered, labelled)")])


# ----------------------------------------------------------------- finish
def positions(gdf: Any, ids: list[str]) -> dict[str, Any]:
    """Candidate positions in lon/lat (for tests and callers that click them)."""
    pts = shapely.get_coordinates(
        shapely.point_on_surface(np.asarray(to_wgs84(gdf).geometry.values, dtype=object))
    )
    return {
        "features": [
            {"geometry": {"coordinates": [float(x), float(y)]}, "properties": {"candidate_id": cid}}
            for (x, y), cid in zip(pts, ids, strict=True)
        ]
    }
