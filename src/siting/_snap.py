"""Compiled nearest-street snapping: a uniform grid over edge segments, then an exact check.

Gives the same answer as GEOS (shapely's ``STRtree.query_nearest`` then
``line_locate_point``), computed the way GEOS computes it, so that distances and
positions agree to the last bit:

* the distance from a point to an edge is the least distance to one of its segments,
  ``Distance::pointToSegment`` (projection factor ``r``; ends when ``r <= 0`` or
  ``r >= 1``; else ``|s| * sqrt(len2)``);
* among edges at exactly the same distance the lowest edge id wins;
* the position along the edge is ``LengthIndexOfPoint``: the first segment at the least
  distance, the measure of its start (lengths summed in order) plus the projection
  factor times its length.

Segments are binned by their bounding box into square cells; a query visits rings of
cells around the point and stops when every unvisited cell is farther than the best
distance found (or than ``max_snap_m``). Each point is independent, so threads split
them and the result does not depend on how many.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ._jit import njit

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: Target number of segment entries per grid cell.
_PER_CELL = 2.0
#: Most cells a grid may have (memory: 8 bytes each for the cell pointer).
_MAX_CELLS = 1 << 23


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _point_segment(px, py, ax, ay, bx, by):  # type: ignore[no-untyped-def]
    """GEOS ``Distance::pointToSegment``, operation for operation."""
    if ax == bx and ay == by:
        dx = px - ax
        dy = py - ay
        return math.sqrt(dx * dx + dy * dy)
    len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay)
    r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2
    if r <= 0.0:
        dx = px - ax
        dy = py - ay
        return math.sqrt(dx * dx + dy * dy)
    if r >= 1.0:
        dx = px - bx
        dy = py - by
        return math.sqrt(dx * dx + dy * dy)
    s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / len2
    return abs(s) * math.sqrt(len2)


@njit(nogil=True, cache=True, error_model="numpy")
def build_grid(coords, seg_start, seg_edge, minx, miny, cell, nx, ny):  # type: ignore[no-untyped-def]
    """Cells (CSR ``cell_ptr``, row-major ``j * nx + i``) -> the segments touching them.

    ``seg_start[k]`` is the index in ``coords`` of segment ``k``'s first end and
    ``seg_edge[k]`` its edge. Each cell's entries are stored together, in segment order,
    so a query reads memory in order: ``cell_xy[t]`` = (ax, ay, bx, by) of entry ``t``
    and ``cell_edge[t]`` its edge.
    """
    ncell = nx * ny
    count = np.zeros(ncell + 1, np.int64)
    for k in range(seg_start.size):
        c = seg_start[k]
        ax, ay, bx, by = coords[c, 0], coords[c, 1], coords[c + 1, 0], coords[c + 1, 1]
        i0 = min(max(int(math.floor((min(ax, bx) - minx) / cell)), 0), nx - 1)
        i1 = min(max(int(math.floor((max(ax, bx) - minx) / cell)), 0), nx - 1)
        j0 = min(max(int(math.floor((min(ay, by) - miny) / cell)), 0), ny - 1)
        j1 = min(max(int(math.floor((max(ay, by) - miny) / cell)), 0), ny - 1)
        for j in range(j0, j1 + 1):
            for i in range(i0, i1 + 1):
                count[j * nx + i + 1] += 1
    for c in range(ncell):
        count[c + 1] += count[c]
    total = count[ncell]
    cell_xy = np.empty((total, 4), np.float64)
    cell_edge = np.empty(total, np.int64)
    fill = count[:ncell].copy()
    for k in range(seg_start.size):
        c = seg_start[k]
        ax, ay, bx, by = coords[c, 0], coords[c, 1], coords[c + 1, 0], coords[c + 1, 1]
        i0 = min(max(int(math.floor((min(ax, bx) - minx) / cell)), 0), nx - 1)
        i1 = min(max(int(math.floor((max(ax, bx) - minx) / cell)), 0), nx - 1)
        j0 = min(max(int(math.floor((min(ay, by) - miny) / cell)), 0), ny - 1)
        j1 = min(max(int(math.floor((max(ay, by) - miny) / cell)), 0), ny - 1)
        for j in range(j0, j1 + 1):
            for i in range(i0, i1 + 1):
                q = j * nx + i
                t = fill[q]
                cell_xy[t, 0] = ax
                cell_xy[t, 1] = ay
                cell_xy[t, 2] = bx
                cell_xy[t, 3] = by
                cell_edge[t] = seg_edge[k]
                fill[q] = t + 1
    return count, cell_xy, cell_edge


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _visit(px, py, i, j, nx, minx, miny, cell, margin, cell_ptr, cell_xy, cell_edge, best_d, best_e):  # type: ignore[no-untyped-def]
    # skip a cell wholly farther than the best so far
    cx0 = minx + i * cell
    cy0 = miny + j * cell
    gx = max(cx0 - px, 0.0, px - (cx0 + cell))
    gy = max(cy0 - py, 0.0, py - (cy0 + cell))
    if gx * gx + gy * gy > (best_d + margin) * (best_d + margin):
        return best_d, best_e
    q = j * nx + i
    for t in range(cell_ptr[q], cell_ptr[q + 1]):
        d = _point_segment(px, py, cell_xy[t, 0], cell_xy[t, 1], cell_xy[t, 2], cell_xy[t, 3])
        e = cell_edge[t]
        if d < best_d or (d == best_d and e < best_e):
            best_d = d
            best_e = e
    return best_d, best_e


@njit(nogil=True, cache=True, error_model="numpy")
def nearest_edges(  # type: ignore[no-untyped-def]
    px, py, order, limit, cell_ptr, cell_xy, cell_edge, minx, miny, cell, nx, ny, out_e, out_d
):
    """For each point the nearest edge within ``limit`` (``-1`` if none) and its distance.

    Points are visited in ``order`` (by cell, so that neighbouring queries find the
    grid's memory in cache); results are written at the points' own positions.
    """
    # margin for rounding in the ring bound: a segment's computed distance may be below
    # its true distance by a few ulps; stopping needs the bound to be safely above
    for k in range(order.size):
        p = order[k]
        x = px[p]
        y = py[p]
        best_d = np.inf
        best_e = -1
        fi = math.floor((x - minx) / cell)
        fj = math.floor((y - miny) / cell)
        if not (math.isfinite(fi) and math.isfinite(fj)):
            out_e[p] = -1
            out_d[p] = np.inf
            continue
        margin = 1e-9 * (abs(x) + abs(y) + cell)
        ci = int(min(max(fi, -(1 << 40)), 1 << 40))
        cj = int(min(max(fj, -(1 << 40)), 1 << 40))
        r = max(0, -ci, ci - (nx - 1), -cj, cj - (ny - 1))
        while True:
            # cells at Chebyshev distance r from (ci, cj), clipped to the grid
            j0, j1 = cj - r, cj + r
            i0, i1 = ci - r, ci + r
            for j in range(max(j0, 0), min(j1, ny - 1) + 1):
                if j == j0 or j == j1:  # the ring's bottom and top rows: every cell in the grid
                    ia, ib, step = max(i0, 0), min(i1, nx - 1), 1
                else:  # rows between: the ring's two side cells
                    ia, ib, step = i0, i1, max(i1 - i0, 1)
                for i in range(ia, ib + 1, step):
                    if i >= 0 and i < nx:
                        best_d, best_e = _visit(
                            x, y, i, j, nx, minx, miny, cell, margin, cell_ptr, cell_xy, cell_edge, best_d, best_e
                        )
            if i0 <= 0 and j0 <= 0 and i1 >= nx - 1 and j1 >= ny - 1:
                break  # every cell visited
            # anything not yet visited lies outside the box of rings 0..r
            bound = min(
                x - (minx + i0 * cell),
                (minx + (i1 + 1) * cell) - x,
                y - (miny + j0 * cell),
                (miny + (j1 + 1) * cell) - y,
            )
            bound = bound - margin
            if bound > best_d or bound > limit:
                break
            r += 1
        if best_d <= limit:
            out_e[p] = best_e
            out_d[p] = best_d
        else:
            out_e[p] = -1
            out_d[p] = np.inf


@njit(nogil=True, cache=True, error_model="numpy")
def locate_on_edges(px, py, edge, edge_offsets, coords, out):  # type: ignore[no-untyped-def]
    """GEOS ``LengthIndexOfPoint``: each point's measure along its edge's polyline."""
    for p in range(px.size):
        x = px[p]
        y = py[p]
        e = edge[p]
        min_d = np.inf
        measure = -1.0
        start = 0.0
        for c in range(edge_offsets[e], edge_offsets[e + 1] - 1):
            ax, ay, bx, by = coords[c, 0], coords[c, 1], coords[c + 1, 0], coords[c + 1, 1]
            d = _point_segment(x, y, ax, ay, bx, by)
            dx = ax - bx
            dy = ay - by
            seg_len = math.sqrt(dx * dx + dy * dy)
            # segmentNearestMeasure via LineSegment::projectionFactor
            if x == ax and y == ay:
                f = 0.0
            elif x == bx and y == by:
                f = 1.0
            else:
                ux = bx - ax
                uy = by - ay
                f = ((x - ax) * ux + (y - ay) * uy) / (ux * ux + uy * uy)
            if f <= 0.0:
                m = start
            elif f <= 1.0:
                m = start + f * seg_len
            else:
                m = start + seg_len
            if d < min_d and m > -1.0:
                measure = m
                min_d = d
            start += seg_len
        out[p] = measure


def grid_shape(coords: F64, n_segments: int) -> tuple[float, float, float, int, int]:
    """Origin, cell size and cell counts for about :data:`_PER_CELL` segments a cell."""
    minx, miny = float(coords[:, 0].min()), float(coords[:, 1].min())
    w = max(float(coords[:, 0].max()) - minx, 1e-6)
    h = max(float(coords[:, 1].max()) - miny, 1e-6)
    cell = max(math.sqrt(w * h * _PER_CELL / max(n_segments, 1)), 1e-3)
    while (math.floor(w / cell) + 1) * (math.floor(h / cell) + 1) > _MAX_CELLS:
        cell *= 1.25
    return minx, miny, cell, math.floor(w / cell) + 1, math.floor(h / cell) + 1


def cell_order(px: F64, py: F64, minx: float, miny: float, cell: float, nx: int, ny: int) -> I64:
    """Point positions sorted by their grid cell (row by row), for locality of the queries."""
    i = np.clip(np.floor((px - minx) / cell), -1, nx)
    j = np.clip(np.floor((py - miny) / cell), -1, ny)
    key = np.nan_to_num((j + 1) * (nx + 2) + (i + 1), nan=-1.0)
    return np.argsort(key, kind="stable").astype(np.int64)


def warm_up() -> None:
    """Load every kernel from numba's cache (compiling it the first time), on a tiny network.

    The first call of a numba function in a process sets numba up (about 0.5 s of CPU);
    doing it here, in a thread while the network loads, takes that off the snapping step.
    The arguments have the types and layouts that :meth:`StreetNetwork.snap` passes.
    """
    coords = np.array([[0.0, 0.0], [10.0, 0.0]])
    seg = np.zeros(1, np.int64)
    minx, miny, cell, nx, ny = grid_shape(coords, 1)
    cell_ptr, cell_xy, cell_edge = build_grid(coords, seg, seg, minx, miny, cell, nx, ny)
    px = np.array([1.0])
    py = np.array([1.0])
    out_e = np.empty(1, np.int64)
    out_d = np.empty(1)
    order = cell_order(px, py, minx, miny, cell, nx, ny)
    nearest_edges(px, py, order[0:1], 5.0, cell_ptr, cell_xy, cell_edge, minx, miny, cell, nx, ny, out_e, out_d)
    locate_on_edges(px, py, np.zeros(1, np.int64), np.array([0, 2], np.int64), coords, out_d)
