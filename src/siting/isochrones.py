"""Isochrones: polygons of the street network reached from each source within a cutoff.

An isochrone is the reached part of the network (whole edges, the reached parts of
partially reached ones cut at the exact reached distance, and the source's own edge)
buffered by ``buffer_m``: the points within ``buffer_m`` of a reached street.

Buffering every reached piece and merging thousands of overlapping discs is slow at
county size (about 0.4 s for one 15-minute walk). The same point set is built from the
faces the reached streets enclose instead (see :func:`_buffered_lines`): inside a face,
the distance to the streets is the distance to the face's own boundary, so only faces
wider than the buffer leave a hole (their inward buffer), and only the streets that
bound no face (dead ends, the fringe of the walk) are buffered one by one.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ._errors import InputError
from .reach import _check_cutoff, _check_workers, node_reach

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd

    from .network import Snapped, StreetNetwork

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

__all__ = ["isochrones"]

QUAD_SEGS = 4  # segments per quarter circle of the buffers' rounded ends and corners


def _cut_lines(net: StreetNetwork, edge: I64, start: F64, stop: F64) -> npt.NDArray[np.object_]:
    """Parts ``[start, stop]`` metres along edges, as LineStrings (``start < stop``).

    Distances are measured along each edge's polyline from its first vertex and clamped
    to its length; a part keeps the edge's vertices strictly inside it and ends at points
    interpolated on the segments holding ``start`` and ``stop`` (an edge's own first or
    last vertex when the part starts at 0 or runs to the end).
    """
    import shapely

    k = edge.size
    if k == 0:
        return np.zeros(0, dtype=object)
    first = net.edge_offsets[edge]
    n = net.edge_offsets[edge + 1] - first
    piece = np.repeat(np.arange(k), n)
    head = np.cumsum(n) - n  # position of each part's first vertex in the gathered arrays
    xy = net.edge_coords[np.repeat(first - head, n) + np.arange(piece.size)]
    step = np.zeros(piece.size)
    step[1:] = np.hypot(xy[1:, 0] - xy[:-1, 0], xy[1:, 1] - xy[:-1, 1])
    step[head] = 0.0
    cum = np.cumsum(step)
    cum -= np.repeat(cum[head], n)  # distance of every vertex from its edge's first vertex
    total = cum[head + n - 1]
    a = np.clip(start, 0.0, total)
    b = np.clip(stop, 0.0, total)

    def at(t: F64, last: B) -> F64:
        # the point t metres along: on the segment (j, j + 1) with cum[j] <= t < cum[j + 1]
        j = head + np.add.reduceat(cum <= np.repeat(t, n), head) - 1
        j = np.minimum(j, head + n - 2)
        seg = cum[j + 1] - cum[j]
        f = np.divide(t - cum[j], seg, out=np.zeros(k), where=seg > 0)
        p = xy[j] + (xy[j + 1] - xy[j]) * f[:, None]
        p[last] = xy[head + n - 1][last]
        return p

    pa = at(a, a >= total)
    pb = at(b, b >= total)
    inner = (cum > np.repeat(a, n)) & (cum < np.repeat(b, n))
    m = np.bincount(piece[inner], minlength=k) + 2  # vertices of each part
    out_head = np.cumsum(m) - m
    out = np.empty((int(m.sum()), 2))
    out[out_head] = pa
    out[out_head + m - 1] = pb
    rank = np.cumsum(inner) - 1  # order of the inner vertices, part by part
    kept_before = np.concatenate([[0], np.cumsum(m - 2)[:-1]])
    out[(out_head + 1)[piece[inner]] + rank[inner] - kept_before[piece[inner]]] = xy[inner]
    return shapely.linestrings(out, indices=np.repeat(np.arange(k), m))  # type: ignore[no-any-return]


def _reached_pieces(
    net: StreetNetwork, dist: F64, nodes: I64, cutoff: float, edge: int, offset: float, leg: float
) -> tuple[npt.NDArray[np.object_], Any]:
    """Line pieces of the network within ``cutoff`` of one source, and a lone point.

    ``dist`` holds the walk metres of every node reached (``inf`` elsewhere); ``nodes``
    lists them. The lone point is the source's snapped position when its off-network leg
    uses up the whole cutoff (``None`` otherwise).
    """
    import shapely

    r_own = cutoff - leg
    if r_own < 0:
        return np.zeros(0, dtype=object), None
    nodes = nodes[dist[nodes] <= cutoff]
    if nodes.size:  # edges incident to a reached node
        starts, stops = net.indptr[nodes], net.indptr[nodes + 1]
        counts = stops - starts
        arc = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        edges = np.unique(net.arc_edge[arc])
    else:
        edges = np.zeros(0, np.int64)
    length = net.edge_length_m[edges]
    ru = cutoff - dist[net.edge_u[edges]]  # metres left at each end (< 0: not reached)
    rv = cutoff - dist[net.edge_v[edges]]
    full = (ru >= 0) & (rv >= 0) & (ru + rv >= length)
    from_u = ~full & (ru > 0)
    from_v = ~full & (rv > 0)
    own_len = float(net.edge_length_m[edge])
    a, b = max(offset - r_own, 0.0), min(offset + r_own, own_len)
    point = None
    parts = [
        edges[full],
        edges[from_u],
        edges[from_v],
        np.asarray([edge] if b > a else [], dtype=np.int64),
    ]
    starts_m = [
        np.zeros(int(full.sum())),
        np.zeros(int(from_u.sum())),
        np.maximum(length[from_v] - rv[from_v], 0.0),
        np.asarray([a] if b > a else [], dtype=np.float64),
    ]
    stops_m = [
        np.full(int(full.sum()), np.inf),
        np.minimum(ru[from_u], length[from_u]),
        np.full(int(from_v.sum()), np.inf),
        np.asarray([b] if b > a else [], dtype=np.float64),
    ]
    if not b > a:
        coords = net.edge_coords[net.edge_offsets[edge] : net.edge_offsets[edge + 1]]
        point = shapely.line_interpolate_point(shapely.linestrings(coords), a)
    return _cut_lines(net, np.concatenate(parts), np.concatenate(starts_m), np.concatenate(stops_m)), point


def _buffered_lines(lines: npt.NDArray[np.object_], points: list[Any], buffer_m: float) -> Any:
    """The points within ``buffer_m`` of ``lines`` or ``points``, as one (multi)polygon.

    The lines are noded (crossings split, overlaps dissolved) and polygonised into the
    faces they enclose. Their union ``A`` buffered outwards covers every point within
    ``buffer_m`` of a face boundary outside ``A`` and all of ``A``; a point inside a face
    is as far from the lines bounding faces as from that face's own boundary (the way
    out of a face crosses it), so each face's inward buffer (non-empty only for faces
    wider than ``2 * buffer_m``) is what lies farther. The lines bounding no face (dead
    ends, bridges between parts) are buffered and merged as they are; those inside a
    face count only near its inward buffer.
    """
    import shapely

    d = float(buffer_m)
    shapes = [shapely.buffer(p, d, quad_segs=QUAD_SEGS) for p in points]
    if not lines.size:
        return shapely.union_all(shapes) if shapes else shapely.Polygon()
    noded = shapely.node(shapely.multilinestrings(lines))
    faces_c, cuts, dangles, rings = shapely.polygonize_full([noded])
    faces = shapely.get_parts(faces_c)
    loose = np.concatenate([shapely.get_parts(g) for g in (cuts, dangles, rings)])
    if faces.size:
        filled = shapely.coverage_union_all(faces)
        around = shapely.buffer(filled, d, quad_segs=QUAD_SEGS)
        # a face holds a disc of radius d (its inward buffer is not empty) only if its
        # area exceeds the disc's
        wide = faces[shapely.area(faces) > math.pi * d * d]
        holes = shapely.buffer(wide, -d, quad_segs=QUAD_SEGS)
        holes = holes[~shapely.is_empty(holes)]
        if holes.size:
            around = shapely.difference(around, shapely.multipolygons(shapely.get_parts(holes)))
        shapes.append(around)
        if loose.size:
            # a loose line inside a face matters only within d of that face's hole
            shapely.prepare(filled)
            inside = shapely.contains_properly(filled, loose)
            keep = ~inside
            if holes.size and inside.any():
                idx = np.flatnonzero(inside)
                near = shapely.STRtree(holes).query(loose[idx], predicate="dwithin", distance=d)[0]
                keep[idx[np.unique(near)]] = True
            loose = loose[keep]
    if loose.size:
        merged = shapely.line_merge(shapely.multilinestrings(loose))
        shapes.append(shapely.buffer(shapely.get_parts(merged), d, quad_segs=QUAD_SEGS))
    return shapely.union_all(np.concatenate([np.atleast_1d(np.asarray(g, dtype=object)) for g in shapes]))


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
    polygon. The polygons do not depend on ``workers`` (threads building them).

    Returns
    -------
    GeoDataFrame
        Columns ``source`` (position in ``sources``), ``cutoff_m``, geometry; one row per
        source and cutoff, sources first, cutoffs in the order given.
    """
    import geopandas as gpd

    cuts = [_check_cutoff(c) for c in cutoffs_m]
    if not buffer_m > 0:
        msg = f"`buffer_m` must be positive, got {buffer_m!r}"
        raise InputError(msg)
    workers = _check_workers(workers)
    jobs: list[tuple[npt.NDArray[np.object_], list[Any]]] = []
    if cuts and len(sources):
        reach = node_reach(net, sources, max(cuts), workers=workers)
        dist = np.full(net.n_nodes, np.inf)
        for i in range(len(sources)):
            nodes, metres = reach.row(i)
            dist[nodes] = metres
            for c in cuts:
                lines, point = _reached_pieces(
                    net,
                    dist,
                    nodes,
                    c,
                    int(sources.edge[i]),
                    float(sources.offset_m[i]),
                    float(sources.leg_m[i]),
                )
                jobs.append((lines, [] if point is None else [point]))
            dist[nodes] = np.inf

    def build(job: tuple[npt.NDArray[np.object_], list[Any]]) -> Any:
        return _buffered_lines(job[0], job[1], buffer_m)

    if workers > 1 and len(jobs) > 1:
        from concurrent.futures import ThreadPoolExecutor  # GEOS releases the GIL

        with ThreadPoolExecutor(min(workers, len(jobs))) as pool:
            geoms = list(pool.map(build, jobs))
    else:
        geoms = [build(j) for j in jobs]
    n_src = len(jobs) // len(cuts) if cuts else 0
    return gpd.GeoDataFrame(
        {
            "source": np.repeat(np.arange(n_src, dtype=np.int64), len(cuts)),
            "cutoff_m": np.asarray(cuts * n_src, dtype=np.float64),
        },
        geometry=gpd.GeoSeries(geoms, crs=net.crs) if geoms else gpd.GeoSeries([], crs=net.crs),
        crs=net.crs,
    )
