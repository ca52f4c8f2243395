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

    from ._line_meets import (
        _crossings,
        _join_t_junctions,
        _joined_by_short_lines,
        _reversals,
        _shared_vertices,
    )

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
