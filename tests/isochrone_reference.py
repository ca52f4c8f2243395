"""The isochrone algorithm before the faces rewrite, kept as the reference it is checked
against (tests/test_isochrones.py) and timed against (bench/isochrones.py): every reached
edge piece cut with ``shapely.ops.substring``, buffered, and all the buffers merged."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.ops import substring


def reference_pieces(
    net: Any, nodes: Any, metres: Any, cutoff: float, edge: int, offset: float, leg: float
) -> list[Any]:
    geoms = net.edge_geometries()
    r_own = cutoff - leg
    if r_own < 0:
        return []
    keep = metres <= cutoff
    nodes, metres = nodes[keep], metres[keep]
    d = dict(zip(nodes.tolist(), metres.tolist(), strict=True))
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


def reference_isochrone(
    net: Any,
    nodes: Any,
    metres: Any,
    cutoff: float,
    edge: int,
    offset: float,
    leg: float,
    buffer_m: float = 35.0,
) -> Any:
    pieces = reference_pieces(net, nodes, metres, cutoff, edge, offset, leg)
    if not pieces:
        return shapely.Polygon()
    return shapely.union_all(shapely.buffer(np.asarray(pieces, dtype=object), buffer_m, quad_segs=4))
