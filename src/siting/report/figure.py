"""The report's map figure: the chosen sites and their walking areas, drawn offline as SVG.

Drawn from the run's own network (and the basemap's main streets and their names when the
source has them) in the network's projected CRS, so it prints sharp and needs no tiles:
streets, exclusion zones, the 5/10/15-minute walking areas of the chosen sites, the other
top-ranked candidates and the chosen sites, numbered and labelled, with a scale bar.
No incident is drawn.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from ..maps import esc
from ..maps.styles import CHOSEN, EXCLUSION_COLOUR, ISO_COLOURS, VIRIDIS

if TYPE_CHECKING:
    from ..plan import Plan

#: Most street segments drawn (the longest are kept beyond it).
MAX_SEGMENTS = 40_000


def _extent(plan: Plan) -> tuple[float, float, float, float] | None:
    for gdf in (plan.isochrones, plan.sites, plan.candidates):
        if gdf is not None and len(gdf):
            g = gdf.to_crs(plan.network.crs) if plan.network is not None else gdf
            x0, y0, x1, y1 = (float(v) for v in g.total_bounds)
            if all(math.isfinite(v) for v in (x0, y0, x1, y1)):
                w, h = max(x1 - x0, 200.0), max(y1 - y0, 200.0)
                cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
                w, h = w * 1.12, h * 1.12
                return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    return None


def _path(geoms: Any, tx: Any, decimals: int = 1) -> str:
    """An SVG path ``d`` for lines or polygon rings (projected -> page coordinates)."""
    g = np.asarray(geoms, dtype=object)
    g = g[~(shapely.is_missing(g) | shapely.is_empty(g))]
    parts = shapely.get_parts(g)
    if parts.size and shapely.get_type_id(parts).max() == 3:  # polygons: one subpath per ring
        parts = shapely.get_rings(parts)
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    if coords.size == 0:
        return ""
    px, py = tx(coords[:, 0], coords[:, 1])
    starts = np.r_[True, idx[1:] != idx[:-1]]
    f = f"{{:.{decimals}f}}"
    out = []
    for x, y, s in zip(px.tolist(), py.tolist(), starts.tolist(), strict=True):
        out.append(("M" if s else "L") + f.format(x) + " " + f.format(y))
    return "".join(out)


def _nice_length(m: float) -> float:
    """A round scale-bar length near ``m`` metres (1, 2 or 5 times a power of ten)."""
    p = 10 ** math.floor(math.log10(max(m, 1.0)))
    return next(k * p for k in (5, 2, 1) if k * p <= m) if m >= 1 else 1.0


def map_figure(
    plan: Plan, *, names: dict[str, str], base: Any = None, width: int = 680, height: int = 430
) -> str:
    """The figure as inline SVG (empty string when the run has no network or nothing to show)."""
    net = plan.network
    ext = _extent(plan) if net is not None else None
    if ext is None:
        return ""
    x0, y0, x1, y1 = ext
    scale = min(width / (x1 - x0), height / (y1 - y0))
    ox = (width - (x1 - x0) * scale) / 2
    oy = (height - (y1 - y0) * scale) / 2

    def tx(x: Any, y: Any) -> tuple[Any, Any]:
        return ox + (np.asarray(x) - x0) * scale, height - oy - (np.asarray(y) - y0) * scale

    box = shapely.box(x0, y0, x1, y1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="siting-figure" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Map of the chosen sites and their walking areas">',
        f'<rect width="{width}" height="{height}" fill="#f2efe9"/>',
    ]
    # streets: the network within the frame
    edges = net.edge_geometries()
    tree = shapely.STRtree(edges)
    hit = tree.query(box)
    if hit.size > MAX_SEGMENTS:
        hit = hit[np.argsort(-net.edge_length_m[hit], kind="stable")[:MAX_SEGMENTS]]
    streets = shapely.simplify(edges[np.sort(hit)], 1.5)
    parts.append(f'<path d="{_path(streets, tx)}" fill="none" stroke="#ffffff" stroke-width="1.6"/>')
    parts.append(f'<path d="{_path(streets, tx)}" fill="none" stroke="#c9c2b5" stroke-width="0.5"/>')
    labels = []
    if base is not None and len(base):
        b = base.to_crs(net.crs)
        main = b[(b["layer"] == "street") & (b["kind"] == "main")]
        if len(main):
            g = shapely.intersection(np.asarray(main.geometry.values, dtype=object), box)
            keep = ~shapely.is_empty(g)
            parts.append(
                f'<path d="{_path(shapely.simplify(g[keep], 2.0), tx)}" fill="none" stroke="#b8ab90" '
                'stroke-width="2.6" stroke-linecap="round"/>'
            )
            by_name: dict[str, float] = {}
            for name, geom in zip(main["name"].to_numpy()[keep], g[keep], strict=True):
                if name and shapely.length(geom) > by_name.get(name, 0):
                    by_name[name] = float(shapely.length(geom))
            for name in sorted(by_name, key=lambda n: -by_name[n])[:8]:
                geoms = g[keep][main["name"].to_numpy()[keep] == name]
                line = max(shapely.get_parts(geoms), key=shapely.length)
                mid = line.interpolate(0.5, normalized=True)
                a = line.interpolate(max(0.0, line.project(mid) - 15))
                c = line.interpolate(min(line.length, line.project(mid) + 15))
                (px,), (py,) = tx([mid.x], [mid.y])
                ang = -math.degrees(math.atan2(c.y - a.y, c.x - a.x))
                ang = ang - 180 if ang > 90 else ang + 180 if ang < -90 else ang
                labels.append(
                    f'<text x="{px:.1f}" y="{py:.1f}" transform="rotate({ang:.0f} {px:.1f} {py:.1f})" '
                    f'class="street">{esc(name)}</text>'
                )
    # exclusion zones
    if plan.exclusions is not None and len(plan.exclusions):
        z = plan.exclusions.to_crs(net.crs)
        zg = shapely.simplify(np.asarray(z.geometry.values, dtype=object), 2.0)
        zg = zg[shapely.intersects(zg, box)]
        if zg.size:
            parts.append(
                f'<path d="{_path(zg, tx)}" fill="{EXCLUSION_COLOUR}" fill-opacity="0.25" '
                f'stroke="{EXCLUSION_COLOUR}" stroke-width="0.8" fill-rule="evenodd"/>'
            )
    # walking areas, largest first
    if plan.isochrones is not None and len(plan.isochrones):
        iso = plan.isochrones.to_crs(net.crs).sort_values("minutes", ascending=False, kind="stable")
        for mnt, grp in iso.groupby("minutes", sort=False):
            c = ISO_COLOURS.get(round(float(mnt)), "#6baed6")
            g = shapely.simplify(np.asarray(grp.geometry.values, dtype=object), 3.0)
            parts.append(
                f'<path d="{_path(g, tx)}" fill="{c}" fill-opacity="0.16" stroke="{c}" stroke-width="1" '
                'fill-rule="nonzero"/>'
            )
    parts.extend(labels)
    # other candidates: the twenty best ranked, small dots
    cands = plan.candidates
    chosen = [str(c) for c in plan.sites["candidate_id"]] if plan.sites is not None else []
    if cands is not None and len(cands) and "rank" in cands.columns:
        top = cands[cands["rank"].notna() & ~cands["candidate_id"].astype(str).isin(chosen)]
        top = top.sort_values("rank", kind="stable").head(20).to_crs(net.crs)
        xy = shapely.get_coordinates(top.geometry.values)
        if len(xy):
            px, py = tx(xy[:, 0], xy[:, 1])
            for x, y in zip(px, py, strict=True):
                if 0 <= x <= width and 0 <= y <= height:
                    parts.append(
                        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.2" fill="{VIRIDIS[2]}" stroke="#1a1a1a" '
                        'stroke-width="0.8"/>'
                    )
    # chosen sites, numbered and labelled
    if plan.sites is not None and len(plan.sites):
        s = plan.sites.to_crs(net.crs)
        xy = shapely.get_coordinates(s.geometry.values)
        px, py = tx(xy[:, 0], xy[:, 1])
        for k, (cid, x, y) in enumerate(zip(s["candidate_id"].astype(str), px, py, strict=True), start=1):
            name = names.get(cid, "")
            text = f"{cid} {name}".strip()
            anchor = "end" if x > width * 0.7 else "start"
            dx = -14 if anchor == "end" else 14
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="#ffffff" stroke="{CHOSEN["color"]}" '
                f'stroke-width="3"/><text x="{x:.1f}" y="{y + 4:.1f}" class="num">{k}</text>'
                f'<text x="{x + dx:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}" '
                f'class="site">{esc(text)}</text>'
            )
    # scale bar and north arrow
    metres = _nice_length((x1 - x0) / 5)
    bar = metres * scale
    parts.append(
        f'<g transform="translate(12,{height - 14})"><rect x="-4" y="-14" width="{bar + 60:.0f}" height="20" '
        f'fill="#ffffff" fill-opacity="0.85"/><line x1="0" y1="0" x2="{bar:.1f}" y2="0" stroke="#000" '
        f'stroke-width="2"/><text x="{bar + 6:.1f}" y="4" class="legend">'
        f"{metres:,.0f} m</text></g>"
        f'<g transform="translate({width - 22},26)"><path d="M0 -14 L6 4 L0 0 L-6 4 Z" fill="#000"/>'
        '<text x="0" y="16" class="legend" text-anchor="middle">N</text></g>'
    )
    legend = [
        ("5 min walk", ISO_COLOURS[5]),
        ("10 min walk", ISO_COLOURS[10]),
        ("15 min walk", ISO_COLOURS[15]),
    ]
    has_zones = plan.exclusions is not None and len(plan.exclusions)
    lx = width - 140
    top = 92 + (14 if has_zones else 0)
    parts.append(
        f'<rect x="{lx - 6}" y="{height - top}" width="140" height="{top - 8}" fill="#ffffff" '
        'fill-opacity="0.85"/>'
    )
    if has_zones:
        y = height - top + 12
        parts.append(
            f'<rect x="{lx}" y="{y - 8}" width="12" height="9" fill="{EXCLUSION_COLOUR}" fill-opacity="0.25" '
            f'stroke="{EXCLUSION_COLOUR}"/><text x="{lx + 17}" y="{y}" class="legend">exclusion zone</text>'
        )
    for i, (lab, c) in enumerate(legend):
        y = height - 80 + 14 * i
        parts.append(
            f'<rect x="{lx}" y="{y - 8}" width="12" height="9" fill="{c}" fill-opacity="0.35" stroke="{c}"/>'
            f'<text x="{lx + 17}" y="{y}" class="legend">{lab}</text>'
        )
    y = height - 80 + 14 * 3
    parts.append(
        f'<circle cx="{lx + 6}" cy="{y - 4}" r="5" fill="#fff" stroke="#000" stroke-width="2"/>'
        f'<text x="{lx + 17}" y="{y}" class="legend">chosen site</text>'
        f'<circle cx="{lx + 6}" cy="{y + 10}" r="3" fill="{VIRIDIS[2]}" stroke="#1a1a1a" stroke-width="0.8"/>'
        f'<text x="{lx + 17}" y="{y + 14}" class="legend">other top-20 candidate</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
