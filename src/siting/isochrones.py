"""Isochrones: polygons of the street network reached from each source within a cutoff."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ._errors import InputError
from .reach import _check_cutoff, node_reach

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd

    from .network import Snapped, StreetNetwork

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

__all__ = ["isochrones"]


def _reached_pieces(
    net: StreetNetwork, nodes: I64, metres: F64, cutoff: float, edge: int, offset: float, leg: float
) -> list[Any]:
    """Line pieces of the network within ``cutoff`` of one source (reached edge parts)."""
    import shapely
    from shapely.ops import substring

    geoms = net.edge_geometries()
    r_own = cutoff - leg
    if r_own < 0:
        return []
    keep = metres <= cutoff
    nodes, metres = nodes[keep], metres[keep]
    d = dict(zip(nodes.tolist(), metres.tolist(), strict=True))
    # edges incident to a reached node
    starts, stops = net.indptr[nodes], net.indptr[nodes + 1]
    if nodes.size:
        counts = stops - starts
        arc = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        edges = np.unique(net.arc_edge[arc])
    else:
        edges = np.zeros(0, np.int64)
    pieces: list[Any] = []
    full: list[int] = []
    for e in edges.tolist():
        length = float(net.edge_length_m[e])
        du = d.get(int(net.edge_u[e]))
        dv = d.get(int(net.edge_v[e]))
        ru = -1.0 if du is None else cutoff - du
        rv = -1.0 if dv is None else cutoff - dv
        if ru >= 0 and rv >= 0 and ru + rv >= length:
            full.append(e)
            continue
        if ru > 0:
            pieces.append(substring(geoms[e], 0.0, min(ru, length)))
        if rv > 0:
            pieces.append(substring(geoms[e], max(length - rv, 0.0), length))
    if full:
        pieces.extend(geoms[np.asarray(full)])
    length = float(net.edge_length_m[edge])
    a, b = max(offset - r_own, 0.0), min(offset + r_own, length)
    pieces.append(substring(geoms[edge], a, b) if b > a else shapely.line_interpolate_point(geoms[edge], a))
    return pieces


def isochrones(
    net: StreetNetwork,
    sources: Snapped,
    cutoffs_m: Sequence[float],
    *,
    buffer_m: float = 35.0,
    workers: int | None = None,
) -> gpd.GeoDataFrame:
    """Walking isochrone polygons in the network's CRS, for maps.

    Each polygon is the reached part of the network (whole edges and the reached parts
    of partially reached ones, including the source's own edge) buffered by
    ``buffer_m``. A source whose off-network leg alone exceeds a cutoff gets an empty
    polygon.

    Returns
    -------
    GeoDataFrame
        Columns ``source`` (position in ``sources``), ``cutoff_m``, geometry; one row per
        source and cutoff, sources first, cutoffs in the order given.
    """
    import geopandas as gpd
    import shapely

    cuts = [_check_cutoff(c) for c in cutoffs_m]
    if not buffer_m > 0:
        msg = f"`buffer_m` must be positive, got {buffer_m!r}"
        raise InputError(msg)
    rows_src: list[int] = []
    rows_cut: list[float] = []
    geoms: list[Any] = []
    if cuts and len(sources):
        reach = node_reach(net, sources, max(cuts), workers=workers)
        for i in range(len(sources)):
            nodes, metres = reach.row(i)
            for c in cuts:
                pieces = _reached_pieces(
                    net,
                    nodes,
                    metres,
                    c,
                    int(sources.edge[i]),
                    float(sources.offset_m[i]),
                    float(sources.leg_m[i]),
                )
                if pieces:
                    # buffering pieces one by one then merging is ~100x faster than
                    # buffering one multi-part geometry
                    poly = shapely.union_all(
                        shapely.buffer(np.asarray(pieces, dtype=object), buffer_m, quad_segs=4)
                    )
                else:
                    poly = shapely.Polygon()
                rows_src.append(i)
                rows_cut.append(c)
                geoms.append(poly)
    return gpd.GeoDataFrame(
        {"source": np.asarray(rows_src, dtype=np.int64), "cutoff_m": np.asarray(rows_cut, dtype=np.float64)},
        geometry=gpd.GeoSeries(geoms, crs=net.crs) if geoms else gpd.GeoSeries([], crs=net.crs),
        crs=net.crs,
    )
