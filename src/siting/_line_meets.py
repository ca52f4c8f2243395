"""Where street lines meet: shared vertices, T-junctions, reversed duplicates and crossings.

The searches :func:`siting._lines.repair_lines` runs to node a centreline layer; each
returns where to cut lines (line, position along it, point) for :func:`siting._lines._split`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from ._lines import _WELD_M, _unique_xy

if TYPE_CHECKING:
    from ._lines import _Lines

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def _joined_by_short_lines(net: _Lines, n_s: I64, n_e: I64, n_nodes: int, max_m: float) -> I64:
    """Label of each node: nodes joined through lines no longer than ``max_m`` share one."""
    short = net.lengths() <= max_m
    graph = sparse.coo_matrix(
        (np.ones(int(short.sum()), dtype=np.int8), (n_s[short], n_e[short])), shape=(n_nodes, n_nodes)
    )
    return csgraph.connected_components(graph, directed=False)[1].astype(np.int64)


def _shared_vertices(net: _Lines) -> tuple[I64, F64, F64, int]:
    """Inner vertices that another line (or another part of the same line) also passes through.

    Returns cuts (segment ending at the vertex, position 1, the vertex) and the number of
    distinct shared positions. Positions are compared to the millimetre.
    """
    none = np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((0, 2)), 0
    nv = net.coords.shape[0]
    if nv == 0:
        return none
    key = np.round(net.coords / _WELD_M)
    _, inv = _unique_xy(key)
    count = np.bincount(inv)
    inner = np.ones(nv, dtype=bool)
    inner[net.start] = False
    inner[net.end] = False
    k = np.flatnonzero(inner & (count[inv] > 1))
    if k.size == 0:
        return none
    return (k - 1).astype(np.int64), np.ones(k.size), net.coords[k], int(np.unique(inv[k]).size)


def _reversals(net: _Lines) -> tuple[I64, F64, F64]:
    """Inner vertices where a line turns back on itself, as cuts (segment, position, point)."""
    c, line = net.coords, net.line
    k = np.arange(1, c.shape[0] - 1)
    k = k[(line[k - 1] == line[k]) & (line[k + 1] == line[k])]
    d1, d2 = c[k] - c[k - 1], c[k + 1] - c[k]
    norm = np.hypot(*d1.T) * np.hypot(*d2.T)
    cos = np.einsum("ij,ij->i", d1, d2) / np.where(norm > 0, norm, 1.0)
    k = k[(norm > 0) & (cos <= -1 + 1e-9)]
    return (k - 1).astype(np.int64), np.ones(k.size), c[k]


def _segments(net: _Lines) -> tuple[I64, F64, F64]:
    """Every segment of non-zero length: its first vertex (global index), start and end."""
    v = np.flatnonzero(net.line[1:] == net.line[:-1]).astype(np.int64)
    v = v[(net.coords[v] != net.coords[v + 1]).any(axis=1)]
    return v, net.coords[v], net.coords[v + 1]


def _project(pts: F64, a: F64, b: F64) -> tuple[F64, F64, F64]:
    """Nearest point on segments ``a``-``b`` to ``pts``: position ``t`` in [0, 1], point, distance."""
    r = b - a
    rr = np.einsum("ij,ij->i", r, r)
    t = np.clip(np.einsum("ij,ij->i", pts - a, r) / np.where(rr > 0, rr, 1.0), 0.0, 1.0)
    proj = a + t[:, None] * r
    return t, proj, np.hypot(*(proj - pts).T)


def _join_t_junctions(net: _Lines, tol: float) -> tuple[_Lines, I64, F64, F64]:
    """Move every node within ``tol`` of another line's middle onto the nearest such line.

    A node that then lies on the middle of further lines (an end at a crossing) is joined
    to those too. Returns the lines with moved ends and the cuts to make (segment as its
    first vertex, position on the segment, point).
    """
    empty = np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((0, 2))
    node_xy, n_s, n_e = net.nodes()
    geoms = net.geoms()
    pts = shapely.points(node_xy)
    ni, lj = shapely.STRtree(geoms).query(pts, predicate="dwithin", distance=tol)
    # not onto a line the node already reaches through short lines (a curve drawn as
    # many tiny pieces passes close to its own nodes)
    joined = _joined_by_short_lines(net, n_s, n_e, node_xy.shape[0], 2 * tol)
    other = (joined[n_s[lj]] != joined[ni]) & (joined[n_e[lj]] != joined[ni])
    other &= (n_s[lj] != ni) & (n_e[lj] != ni)
    ni, lj = ni[other], lj[other]
    if ni.size == 0:
        return (net, *empty)
    length = net.lengths()
    s = shapely.line_locate_point(geoms[lj], pts[ni])
    inner = (s > _WELD_M) & (s < length[lj] - _WELD_M)
    ci, cj, cs = ni[inner], lj[inner], s[inner]
    if ci.size == 0:
        return (net, *empty)
    d = shapely.distance(pts[ci], geoms[cj])
    order = np.lexsort((cj, d, ci))  # nearest line per node, ties to the lowest line
    ci, cj, cs = ci[order], cj[order], cs[order]
    first = np.ones(ci.size, dtype=bool)
    first[1:] = ci[1:] != ci[:-1]
    ci, cj, cs = ci[first], cj[first], cs[first]
    moved = np.zeros(node_xy.shape[0], dtype=bool)
    moved[ci] = True
    node_xy = node_xy.copy()
    node_xy[ci] = _point_at(net, cj, cs)
    # every candidate line the moved node now lies on (to the millimetre) is cut there
    keep = moved[ni]
    ni, lj = ni[keep], lj[keep]
    on = shapely.points(node_xy[ni])
    s = shapely.line_locate_point(geoms[lj], on)
    hit = (shapely.distance(on, geoms[lj]) <= _WELD_M) & (s > _WELD_M) & (s < length[lj] - _WELD_M)
    ni, lj, s = ni[hit], lj[hit], s[hit]
    seg_v, seg_t = _segment_at(net, lj, s)
    net.set_end_xy(node_xy[np.concatenate([n_s, n_e])])
    return net, seg_v, seg_t, node_xy[ni]


def _segment_at(net: _Lines, line: I64, s: F64) -> tuple[I64, F64]:
    """The segment (its first vertex) and position on it at distance ``s`` along ``line``."""
    vs = net.vertex_s()
    # global key: line index + fraction of the line, so one search covers every line
    length = np.maximum(net.lengths(), 1e-300)
    key = net.line + vs / length[net.line] * 0.5
    q = line + np.clip(s / length[line], 0.0, 1.0) * 0.5
    v = np.searchsorted(key, q, side="right") - 1
    v = np.clip(v, net.start[line], net.end[line] - 1)
    seg_len = vs[v + 1] - vs[v]
    t = np.clip((s - vs[v]) / np.where(seg_len > 0, seg_len, 1.0), 0.0, 1.0)
    return v.astype(np.int64), t


def _point_at(net: _Lines, line: I64, s: F64) -> F64:
    """Coordinates of the point at distance ``s`` along ``line``."""
    v, t = _segment_at(net, line, s)
    a, b = net.coords[v], net.coords[v + 1]
    return a + t[:, None] * (b - a)


#: Segments queried at a time when looking for crossings (bounds memory at county scale).
_CHUNK = 250_000


def _crossings(net: _Lines, near_m: float) -> tuple[I64, F64, F64, int]:
    """Where segments of different lines (or of one line) meet away from the lines' ends.

    Intersections are computed per segment pair, exactly, in numpy, a chunk of segments at
    a time. Returns the cuts to make (segment, position, point) and the number of
    distinct points where two lines cross in the middle of both.
    """
    none = np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((0, 2)), 0
    v, a, b = _segments(net)
    if v.size < 2:
        return none
    segs = shapely.linestrings(np.stack([a, b], axis=1))
    tree = shapely.STRtree(segs)
    vs, length = net.vertex_s(), net.lengths()
    parts = []
    for lo in range(0, v.size, _CHUNK):
        # candidate pairs by bounding box only; whether they meet is decided exactly
        i, j = tree.query(segs[lo : lo + _CHUNK])
        parts.append(_meet(net, v, a, b, vs, length, i + lo, j, near_m))
    cut_v = np.concatenate([p[0] for p in parts])
    cut_t = np.concatenate([p[1] for p in parts])
    cut_xy = np.vstack([p[2] for p in parts])
    both_xy = np.vstack([p[3] for p in parts])
    n_cross = int(_unique_xy(np.round(both_xy / _WELD_M))[0].shape[0])
    return cut_v, cut_t, cut_xy, n_cross


def _meet(
    net: _Lines, v: I64, a: F64, b: F64, vs: F64, length: F64, i: I64, j: I64, near_m: float
) -> tuple[I64, F64, F64, F64]:
    """Exact meeting points of candidate segment pairs ``i``, ``j``: cuts and crossing points."""
    none = np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((0, 2)), np.zeros((0, 2))
    seg_line = net.line[v]
    # pairs once; not consecutive segments of a line (they meet at their shared vertex)
    keep = (i < j) & ~((seg_line[i] == seg_line[j]) & (v[j] == v[i] + 1))
    i, j = i[keep], j[keep]
    if i.size == 0:
        return none
    eps = 1e-9
    p, r, q, w = a[i], b[i] - a[i], a[j], b[j] - a[j]
    qp = q - p
    den = r[:, 0] * w[:, 1] - r[:, 1] * w[:, 0]
    len_r, len_w = np.hypot(*r.T), np.hypot(*w.T)
    par = np.abs(den) <= 1e-12 * len_r * len_w
    safe = np.where(par, 1.0, den)
    ti = (qp[:, 0] * w[:, 1] - qp[:, 1] * w[:, 0]) / safe
    uj = (qp[:, 0] * r[:, 1] - qp[:, 1] * r[:, 0]) / safe
    hit = ~par & (ti >= -eps) & (ti <= 1 + eps) & (uj >= -eps) & (uj <= 1 + eps)
    seg_i, seg_j = i[hit], j[hit]
    t_i, t_j = np.clip(ti[hit], 0.0, 1.0), np.clip(uj[hit], 0.0, 1.0)
    xy = p[hit] + t_i[:, None] * r[hit]
    # collinear overlaps: the overlap's two ends, on both segments
    off_line = np.abs(qp[:, 0] * r[:, 1] - qp[:, 1] * r[:, 0]) / len_r
    rr2 = len_r * len_r
    t0 = np.einsum("ij,ij->i", qp, r) / rr2
    t1 = np.einsum("ij,ij->i", qp + w, r) / rr2
    lo, hi = np.clip(np.minimum(t0, t1), 0, 1), np.clip(np.maximum(t0, t1), 0, 1)
    coll = par & (off_line <= 1e-7) & (lo <= hi + eps)
    if coll.any():
        pi, pj, pp, rr_, qq, ww = i[coll], j[coll], p[coll], r[coll], q[coll], w[coll]
        for tt in (lo[coll], hi[coll]):
            pt = pp + tt[:, None] * rr_
            uu, _, _ = _project(pt, qq, qq + ww)
            seg_i, seg_j = np.concatenate([seg_i, pi]), np.concatenate([seg_j, pj])
            t_i, t_j = np.concatenate([t_i, tt]), np.concatenate([t_j, uu])
            xy = np.vstack([xy, pt])

    def inner(seg: I64, t: F64) -> npt.NDArray[np.bool_]:
        s = vs[v[seg]] + t * np.hypot(*(b[seg] - a[seg]).T)
        return (s > near_m) & (s < length[seg_line[seg]] - near_m)

    in_i, in_j = inner(seg_i, t_i), inner(seg_j, t_j)
    cut_v = np.concatenate([v[seg_i[in_i]], v[seg_j[in_j]]])
    cut_t = np.concatenate([t_i[in_i], t_j[in_j]])
    return cut_v, cut_t, np.vstack([xy[in_i], xy[in_j]]), xy[in_i & in_j]
