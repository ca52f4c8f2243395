"""Street-centreline lines (read by :mod:`siting._line_layer`) as a noded network.

:func:`repair_lines` turns lines, projected to metres, into a properly noded network
where every line ends at a node: crossings split (or, for data with bridges, left alone
except where lines share a vertex), T-junctions joined, near-coincident ends merged,
duplicates and zero-length pieces dropped. Every step is vectorised (shapely + STRtree +
numpy), so a county of a few hundred thousand lines is repaired in seconds.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from ._errors import InputError, NetworkError

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Geoms = npt.NDArray[np.object_]

#: Positions closer than this (metres) are one node, and pieces shorter than this are not
#: cut off a line. Matches the millimetre rounding `StreetNetwork.from_lines` uses.
_WELD_M = 1e-3


# ========================================================================= repairing
def _merge_close(
    xy: F64, tol: float, weight: F64 | None = None, joined: I64 | None = None
) -> tuple[F64, I64, int]:
    """Merge points closer than ``tol`` (single linkage) to the weighted mean of each group.

    Points with the same ``joined`` label (already connected to each other) are not
    linked directly. Returns the new position of every point, its group label, and how
    many points were merged into another (points minus groups).
    """
    n = xy.shape[0]
    if n == 0:
        return xy.copy(), np.zeros(0, dtype=np.int64), 0
    from scipy.spatial import cKDTree

    pairs = cKDTree(xy).query_pairs(tol, output_type="ndarray") if tol > 0 else np.zeros((0, 2), int)
    if joined is not None and pairs.size:
        pairs = pairs[joined[pairs[:, 0]] != joined[pairs[:, 1]]]
        # towards a group of joined points, link only the nearest point of that group, and
        # only if the link is nearest seen from both sides: a loose end near a curve of
        # tiny pieces joins its nearest point without pulling the curve together
        src = np.concatenate([pairs[:, 0], pairs[:, 1]])
        dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
        d = np.hypot(*(xy[src] - xy[dst]).T)
        order = np.lexsort((dst, d, joined[dst], src))
        src_o, grp_o = src[order], joined[dst][order]
        first = np.ones(order.size, dtype=bool)
        first[1:] = (src_o[1:] != src_o[:-1]) | (grp_o[1:] != grp_o[:-1])
        chosen = np.zeros(order.size, dtype=bool)
        chosen[order[first]] = True
        m = pairs.shape[0]
        pairs = pairs[chosen[:m] & chosen[m:]]
    graph = sparse.coo_matrix(
        (np.ones(pairs.shape[0], dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
    )
    ngroups, labels = csgraph.connected_components(graph, directed=False)
    w = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64)
    wsum = np.bincount(labels, weights=w, minlength=ngroups)
    rep = np.column_stack([
        np.bincount(labels, weights=w * xy[:, 0], minlength=ngroups) / wsum,
        np.bincount(labels, weights=w * xy[:, 1], minlength=ngroups) / wsum,
    ])
    # a group of one keeps its exact coordinates (no floating-point drift)
    size = np.bincount(labels, minlength=ngroups)
    single = size[labels] == 1
    out = rep[labels]
    out[single] = xy[single]
    return out, labels.astype(np.int64), int(n - ngroups)


class _Lines:
    """Lines as flat numpy arrays: ``coords`` and the 0-based line of each vertex."""

    def __init__(self, coords: F64, line: I64, source: I64) -> None:
        self.coords = coords
        self.line = line
        self.source = source  # input row of each line
        self.n = int(source.size)
        counts = np.bincount(line, minlength=self.n)
        self.offsets = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(counts, out=self.offsets[1:])

    @classmethod
    def from_geoms(cls, geoms: Geoms, source: I64) -> _Lines:
        coords, line = shapely.get_coordinates(geoms, return_index=True)
        return cls(coords.astype(np.float64), line.astype(np.int64), source.astype(np.int64))

    def geoms(self) -> Geoms:
        if self.n == 0:
            return np.empty(0, dtype=object)
        return shapely.linestrings(self.coords, indices=self.line)

    @property
    def start(self) -> I64:
        return self.offsets[:-1]

    @property
    def end(self) -> I64:
        return self.offsets[1:] - 1

    def end_xy(self) -> F64:
        """Both ends of every line: starts then ends (shape ``2n x 2``)."""
        return np.vstack([self.coords[self.start], self.coords[self.end]])

    def set_end_xy(self, xy: F64) -> None:
        self.coords[self.start] = xy[: self.n]
        self.coords[self.end] = xy[self.n :]

    def nodes(self) -> tuple[F64, I64, I64]:
        """Distinct end positions, and the node at the start and end of every line."""
        uniq, inv = _unique_xy(self.end_xy())
        return uniq, inv[: self.n], inv[self.n :]

    def vertex_s(self) -> F64:
        """Distance of every vertex along its line from the line's start."""
        seg = np.zeros(self.coords.shape[0])
        same = self.line[1:] == self.line[:-1]
        seg[1:] = np.where(same, np.hypot(*(self.coords[1:] - self.coords[:-1]).T), 0.0)
        cum = np.cumsum(seg)
        return cum - cum[self.start][self.line] if self.n else cum

    def lengths(self) -> F64:
        return self.vertex_s()[self.end] if self.n else np.zeros(0)

    def drop_repeated(self) -> _Lines:
        """The lines without consecutive repeated vertices."""
        keep = np.ones(self.coords.shape[0], dtype=bool)
        keep[1:] = (self.line[1:] != self.line[:-1]) | (self.coords[1:] != self.coords[:-1]).any(axis=1)
        if keep.all():
            return self
        return _Lines(self.coords[keep], self.line[keep], self.source)

    def collapsed(self) -> npt.NDArray[np.bool_]:
        """Lines of fewer than two distinct vertices (call on lines without repeats)."""
        return np.diff(self.offsets) < 2

    def duplicates(self) -> npt.NDArray[np.bool_]:
        """True for every line that repeats an earlier one (same vertices either way, to 1 mm)."""
        import pandas as pd

        if self.n == 0:
            return np.zeros(0, dtype=bool)
        # cheap screen on ends (in a fixed order), vertex count and length; compare in full
        # only the lines that share all of these with another
        a = np.round(self.coords[self.start] / _WELD_M)
        b = np.round(self.coords[self.end] / _WELD_M)
        swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
        lo, hi = np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)
        screen = pd.DataFrame({
            "x0": lo[:, 0], "y0": lo[:, 1], "x1": hi[:, 0], "y1": hi[:, 1],
            "n": np.diff(self.offsets), "len": np.round(self.lengths() / _WELD_M),
        })
        cand = np.flatnonzero(screen.duplicated(keep=False).to_numpy())
        out = np.zeros(self.n, dtype=bool)
        if cand.size:
            mask = np.zeros(self.n, dtype=bool)
            mask[cand] = True
            geoms = self.select(mask).geoms()
            key = shapely.to_wkb(shapely.normalize(shapely.set_precision(geoms, _WELD_M)))
            out[cand] = pd.Series(key).duplicated().to_numpy()
        return out

    def select(self, keep: npt.NDArray[np.bool_]) -> _Lines:
        vkeep = keep[self.line]
        new_id = np.cumsum(keep) - 1
        return _Lines(self.coords[vkeep], new_id[self.line[vkeep]].astype(np.int64), self.source[keep])


def _unique_xy(xy: F64) -> tuple[F64, I64]:
    """Distinct rows of an ``n x 2`` array (sorted by x, then y) and the inverse index."""
    if xy.shape[0] == 0:
        return xy.copy(), np.zeros(0, dtype=np.int64)
    order = np.lexsort((xy[:, 1], xy[:, 0]))
    srt = xy[order]
    new = np.ones(srt.shape[0], dtype=bool)
    new[1:] = (srt[1:] != srt[:-1]).any(axis=1)
    group = np.cumsum(new) - 1
    inv = np.empty(xy.shape[0], dtype=np.int64)
    inv[order] = group
    return srt[new], inv


def _split(lines: _Lines, cut_v: I64, cut_t: F64, cut_xy: F64) -> _Lines:
    """Cut lines at points given by segment (its first vertex ``cut_v``) and position ``cut_t``.

    Each point is inserted exactly as given (``cut_xy``) as the end of one piece and the
    start of the next, so that lines cut at the same point share that node. Cuts within a
    millimetre of a line's end, or of the previous cut along the same line, are ignored.
    Positions are per segment, so lines that cross or double back on themselves are cut
    at the right place.
    """
    if cut_v.size == 0:
        return lines
    vs = lines.vertex_s()
    seg_len = np.hypot(*(lines.coords[cut_v + 1] - lines.coords[cut_v]).T)
    s = vs[cut_v] + cut_t * seg_len
    line = lines.line[cut_v]
    ok = (s > _WELD_M) & (s < lines.lengths()[line] - _WELD_M)
    cut_v, cut_t, cut_xy, s, line = cut_v[ok], cut_t[ok], cut_xy[ok], s[ok], line[ok]
    order = np.lexsort((cut_t, cut_v))
    cut_v, cut_t, cut_xy, s, line = cut_v[order], cut_t[order], cut_xy[order], s[order], line[order]
    first = np.ones(cut_v.size, dtype=bool)
    first[1:] = (line[1:] != line[:-1]) | (s[1:] - s[:-1] > _WELD_M)
    cut_v, cut_t, cut_xy = cut_v[first], cut_t[first], cut_xy[first]
    if cut_v.size == 0:
        return lines

    # events along each line: vertices (kind 1) and every cut twice, as the end of one
    # piece (kind 0) and the start of the next (kind 2); vertex indices are global and
    # contiguous per line, so (vertex, t, kind) orders the events along every line
    nv, k = lines.coords.shape[0], cut_v.size
    ev_v = np.concatenate([np.arange(nv), cut_v, cut_v])
    ev_t = np.concatenate([np.zeros(nv), cut_t, cut_t])
    ev_kind = np.concatenate([np.ones(nv, np.int8), np.zeros(k, np.int8), np.full(k, 2, np.int8)])
    ev_xy = np.vstack([lines.coords, cut_xy, cut_xy])
    order = np.lexsort((ev_kind, ev_t, ev_v))
    ev_v, ev_kind, ev_xy = ev_v[order], ev_kind[order], ev_xy[order]
    ev_line = lines.line[ev_v]
    # a vertex within a millimetre of a cut next to it is replaced by the cut (else the
    # piece would step back and forth around the node); lines' own ends are kept
    is_cut = ev_kind != 1
    same = ev_line[1:] == ev_line[:-1]
    close = np.hypot(*(ev_xy[1:] - ev_xy[:-1]).T) <= _WELD_M
    near_cut = np.zeros(ev_v.size, dtype=bool)
    near_cut[1:] |= same & close & is_cut[:-1]
    near_cut[:-1] |= same & close & is_cut[1:]
    line_end = np.zeros(nv, dtype=bool)
    line_end[lines.start] = True
    line_end[lines.end] = True
    drop = near_cut & ~is_cut & ~line_end[ev_v]
    if drop.any():
        ev_v, ev_kind, ev_xy, ev_line = ev_v[~drop], ev_kind[~drop], ev_xy[~drop], ev_line[~drop]
    new_piece = np.ones(ev_v.size, dtype=bool)
    new_piece[1:] = (ev_line[1:] != ev_line[:-1]) | (ev_kind[1:] == 2)
    piece = np.cumsum(new_piece) - 1
    out = _Lines(ev_xy, piece.astype(np.int64), lines.source[ev_line[new_piece]]).drop_repeated()
    return out.select(~out.collapsed())


def repair_lines(
    lines: gpd.GeoDataFrame,
    *,
    tolerance_m: float,
    split_crossings: bool = True,
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Node street centrelines so that every line ends at a node shared with its neighbours.

    Steps, in order:

    1. MultiLineStrings are split into parts; repeated vertices, zero-length lines and
       exact duplicates (same vertices in either direction, to 1 mm) are dropped; a line
       that turns straight back over itself is cut at the turn.
    2. Line ends closer than ``tolerance_m`` are merged to one node (single linkage; the
       node is the mean of the merged ends, weighted by how many lines end there). Ends
       already joined through lines shorter than ``2 * tolerance_m`` are not merged with
       each other, so a curve drawn as many tiny pieces keeps its shape.
    3. T-junctions: a node within ``tolerance_m`` of the middle of another line (one not
       ending there, nor joined to it through such short lines) is moved onto the nearest
       such line, which is cut there. This also joins lines that end exactly on another,
       and cuts collinear overlaps at their ends.
    4. If ``split_crossings``: lines that cross (or a line that crosses itself) are cut
       at the crossing, computed exactly per pair of segments. With
       ``split_crossings=False`` crossings without a shared vertex stay unconnected, as
       at bridges and tunnels; lines that share a vertex are cut there and meet (a real
       intersection drawn that way), and lines that end on another line are still
       joined by step 3.
    5. Ends are welded to the millimetre; pieces made duplicate by overlaps, and any
       zero-length pieces, are dropped.

    Parameters
    ----------
    lines
        Line layer in a projected CRS (metres).
    tolerance_m
        Gaps up to this size between a line's end and another line are closed.
    split_crossings
        Cut lines where they cross.

    Returns
    -------
    repaired, report
        The noded LineStrings (column ``source_row`` maps each piece to its input row, or
        to the input's ``source_row`` column if it has one) and counts of what was
        repaired: ``lines_in``, ``lines_out``, ``zero_length_dropped``,
        ``duplicates_dropped``, ``ends_merged`` (line-end positions moved onto a nearby
        one), ``t_junctions_joined``, ``crossings_split`` (distinct points where
        crossing lines were cut), ``shared_vertices_joined`` (with
        ``split_crossings=False``: distinct shared vertices where lines were cut).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> x = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (10, 0)]), LineString([(5, -5), (5, 5)])],
    ...                      crs=32635)
    >>> out, report = repair_lines(x, tolerance_m=1.0)
    >>> len(out), report["crossings_split"]
    (4, 1)
    >>> out, report = repair_lines(x, tolerance_m=1.0, split_crossings=False)
    >>> len(out), report["crossings_split"]
    (2, 0)
    >>> repair_lines(x.iloc[:0], tolerance_m=1.0)[1]["lines_out"]
    0
    """
    import geopandas as gpd

    crs = lines.crs
    if crs is None or not crs.is_projected:
        msg = "lines given to `repair_lines` must be in a projected CRS (metres); project them first"
        raise NetworkError(msg)
    if not tolerance_m >= 0:
        msg = f"`tolerance_m` must be a distance in metres >= 0, got {tolerance_m!r}"
        raise InputError(msg)
    tol = float(tolerance_m)
    report = dict.fromkeys(
        ("lines_in", "lines_out", "zero_length_dropped", "duplicates_dropped", "ends_merged",
         "t_junctions_joined", "crossings_split", "shared_vertices_joined"), 0
    )

    # ---- 1. clean parts
    geoms = np.asarray(lines.geometry.values, dtype=object)
    row = (
        np.asarray(lines["source_row"], dtype=np.int64)
        if "source_row" in lines.columns
        else np.arange(len(lines), dtype=np.int64)
    )
    parts, pidx = shapely.get_parts(shapely.force_2d(geoms), return_index=True)
    is_line = np.isin(shapely.get_type_id(parts), (1, 2)) & ~shapely.is_empty(parts)
    parts, prow = parts[is_line], row[pidx[is_line]]
    report["lines_in"] = int(parts.size)
    net = _Lines.from_geoms(parts, prow).drop_repeated()
    zero = net.collapsed()
    report["zero_length_dropped"] += int(zero.sum())
    net = net.select(~zero)
    # a line that turns straight back over itself is cut at the turn (its two halves
    # are then treated like any two overlapping lines)
    net = _split(net, *_reversals(net))
    dup = net.duplicates()
    report["duplicates_dropped"] += int(dup.sum())
    net = net.select(~dup)

    if net.n:
        # ---- 2. merge near-coincident ends
        uniq, inv_s, inv_e = net.nodes()
        count = np.bincount(np.concatenate([inv_s, inv_e]), minlength=uniq.shape[0])
        # ends already joined through short lines (a curve drawn as many tiny pieces) are
        # not merged with each other: that would collapse those lines, not close a gap
        joined = _joined_by_short_lines(net, inv_s, inv_e, uniq.shape[0], 2 * tol)
        moved, _, merged = _merge_close(uniq, tol, weight=count, joined=joined)
        report["ends_merged"] = merged
        net.set_end_xy(moved[np.concatenate([inv_s, inv_e])])

        # ---- 3. T-junctions (cut first, so that the joined ends lie exactly on the lines)
        net, t_v, t_t, t_xy = _join_t_junctions(net, tol)
        net = _split(net, t_v, t_t, t_xy)
        # moving ends moves lines a little too: ends that now lie on a line (to the
        # millimetre, or exactly if `tolerance_m` is smaller) are joined by a second pass
        net, t2_v, t2_t, t2_xy = _join_t_junctions(net, min(tol, _WELD_M))
        net = _split(net, t2_v, t2_t, t2_xy)
        report["t_junctions_joined"] = int(_unique_xy(np.vstack([t_xy, t2_xy]))[0].shape[0])

        # ---- 4. crossings
        if split_crossings:
            c_v, c_t, c_xy, n_cross = _crossings(net, _WELD_M)
            report["crossings_split"] = n_cross
            net = _split(net, c_v, c_t, c_xy)
        else:
            # lines that share a vertex meet there (a real intersection); only crossings
            # without a shared vertex (bridges, tunnels) stay apart
            s_v, s_t, s_xy, n_shared = _shared_vertices(net)
            report["shared_vertices_joined"] = n_shared
            net = _split(net, s_v, s_t, s_xy)

        # ---- 5. weld to the millimetre, drop collapsed and duplicate pieces
        uniq, inv_s, inv_e = net.nodes()
        welded, _, _ = _merge_close(uniq, _WELD_M)
        net.set_end_xy(welded[np.concatenate([inv_s, inv_e])])
        net = net.drop_repeated()
        zero = net.collapsed()
        report["zero_length_dropped"] += int(zero.sum())
        net = net.select(~zero)
        dup = net.duplicates()
        report["duplicates_dropped"] += int(dup.sum())
        net = net.select(~dup)
    out_geoms, out_row = net.geoms(), net.source

    report["lines_out"] = int(out_geoms.size)
    out = gpd.GeoDataFrame({"source_row": out_row}, geometry=out_geoms, crs=crs)
    return out, report


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
