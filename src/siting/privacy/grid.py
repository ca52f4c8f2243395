"""The hexagon grid: axial coordinates, centres, polygons, and the grid origin.

Flat-topped hexagons in the projected CRS (metres); ``size_m`` is the circumradius (centre
to corner, equal to the side). Pure geometry: nothing here knows about incidents.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from .._errors import InputError

log = logging.getLogger("siting.privacy")

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_SQRT3 = float(np.sqrt(3.0))
#: No hexagon centre or corner lies closer than this to an incident (metres).
_CLEARANCE_M = 0.5
#: The least clearance accepted when no shift keeps every vertex :data:`_CLEARANCE_M` away.
_MIN_CLEARANCE_M = 0.05


# ------------------------------------------------------------------ hexagon grid
def hex_axial(x: F64, y: F64, *, size_m: float, origin: tuple[float, float] = (0.0, 0.0)) -> tuple[I64, I64]:
    """Axial coordinates ``(q, r)`` of the flat-topped hexagon holding each point.

    ``size_m`` is the hexagon's circumradius (centre to corner, equal to its side).
    Ties on a boundary go to one cell deterministically (cube rounding).
    """
    px = (np.asarray(x, dtype=np.float64) - origin[0]) / size_m
    py = (np.asarray(y, dtype=np.float64) - origin[1]) / size_m
    qf = (2.0 / 3.0) * px
    rf = (-1.0 / 3.0) * px + (_SQRT3 / 3.0) * py
    sf = -qf - rf
    q, r, s = np.round(qf), np.round(rf), np.round(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return q.astype(np.int64), r.astype(np.int64)


def hex_centres(
    q: I64, r: I64, *, size_m: float, origin: tuple[float, float] = (0.0, 0.0)
) -> tuple[F64, F64]:
    """Projected centres of flat-topped hexagons given their axial coordinates."""
    cx = origin[0] + size_m * 1.5 * np.asarray(q, dtype=np.float64)
    cy = origin[1] + size_m * _SQRT3 * (np.asarray(r, dtype=np.float64) + np.asarray(q) / 2.0)
    return cx, cy


def hex_polygons(cx: F64, cy: F64, *, size_m: float) -> npt.NDArray[np.object_]:
    """Flat-topped hexagon polygons around the given centres."""
    ang = np.deg2rad(np.arange(6) * 60.0)
    xs = np.asarray(cx)[:, None] + size_m * np.cos(ang)[None, :]
    ys = np.asarray(cy)[:, None] + size_m * np.sin(ang)[None, :]
    ring = np.stack([xs, ys], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return shapely.polygons(ring)


def unique_cells(
    q: I64, r: I64, *, return_inverse: bool = False
) -> npt.NDArray[np.int64] | tuple[npt.NDArray[np.int64], I64]:
    """Distinct ``(q, r)`` cells sorted by ``q`` then ``r`` (as ``np.unique(axis=0)``, but fast).

    Examples
    --------
    >>> unique_cells(np.array([2, 0, 2, 0]), np.array([1, 5, 1, -3])).tolist()
    [[0, -3], [0, 5], [2, 1]]
    """
    q = np.asarray(q, dtype=np.int64)
    r = np.asarray(r, dtype=np.int64)
    if q.size == 0:
        cells = np.empty((0, 2), np.int64)
        return (cells, np.zeros(0, np.int64)) if return_inverse else cells
    r0 = int(r.min())
    span = int(r.max()) - r0 + 1
    key = (q - int(q.min())) * span + (r - r0)
    if return_inverse:
        _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    else:
        _, first = np.unique(key, return_index=True)
    cells = np.column_stack([q[first], r[first]])
    return (cells, inv.reshape(-1)) if return_inverse else cells


#: Axial offsets of a hexagon's 6 neighbours.
_NEIGHBOURS = ((1, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1))
_ANGLES = np.deg2rad(np.arange(6) * 60.0)


def _shared_corners() -> tuple[tuple[int, int, int, int], ...]:
    """``(j, dq, dr, k)``: corner ``j`` of a hexagon is corner ``k`` of its neighbour
    ``(dq, dr)`` (each corner is shared by two neighbours), found from the geometry."""
    cos, sin = np.cos(_ANGLES), np.sin(_ANGLES)
    out = []
    for j in range(6):
        for dq, dr in _NEIGHBOURS:
            nx, ny = hex_centres(np.array([dq]), np.array([dr]), size_m=1.0)
            for k in range(6):
                if abs(nx[0] + cos[k] - cos[j]) < 1e-9 and abs(ny[0] + sin[k] - sin[j]) < 1e-9:
                    out.append((j, dq, dr, k))
    return tuple(out)


_SHARED = _shared_corners()


def _kernel_args(size_m: float) -> tuple[Any, ...]:
    """The constants of :mod:`._clearance`, computed by numpy as :func:`hex_axial` and
    :func:`hex_centres` compute them."""
    coef = np.array([2.0 / 3.0, -1.0 / 3.0, _SQRT3 / 3.0])
    corner_x = size_m * np.cos(_ANGLES)
    corner_y = size_m * np.sin(_ANGLES)
    return coef, size_m * 1.5, size_m * _SQRT3, corner_x, corner_y, _SHARED_ARRAY


_SHARED_ARRAY = np.array(_SHARED, dtype=np.int64)


def _closest(px: F64, py: F64, q: I64, r: I64, size_m: float, origin: tuple[float, float]) -> float:
    """Distance from the points to the nearest centre or corner of the hexagons holding
    them (cells ``q, r``; ``inf`` without points).

    The centres and corners of a hexagon grid form a triangular lattice; a hexagon is the
    union of its six equilateral triangles (centre, corner, next corner), and each is
    covered by the Voronoi cells of its own three vertices, so the vertex nearest a point
    is its own hexagon's centre or one of its corners. A corner is computed from the
    centre of every cell holding it (as each cell draws its own), so the copies from the
    neighbours that hold points are measured too: the least distance is the one a
    nearest-neighbour search over all the cells' centres and corners finds, to the bit.
    Compiled (:mod:`._clearance`).
    """
    from . import _clearance

    x = np.ascontiguousarray(px, dtype=np.float64)
    y = np.ascontiguousarray(py, dtype=np.float64)
    _check_coordinates(x, y, size_m)
    _, wx, wy, corner_x, corner_y, shared = _kernel_args(size_m)
    out = np.empty(x.size)
    best = _clearance._clearance(
        x, y, np.ascontiguousarray(q, dtype=np.int64), np.ascontiguousarray(r, dtype=np.int64),
        float(origin[0]), float(origin[1]), wx, wy, corner_x, corner_y, shared, out,
    )
    return _root(best)


def _check_coordinates(x: F64, y: F64, size_m: float) -> None:
    """Finite coordinates within 10**15 cells of the origin (what 64-bit cell numbers hold)."""
    if x.size and not (np.isfinite(x).all() and np.isfinite(y).all()):
        msg = "a hexagon grid needs finite coordinates; some points have none (NaN or infinite x/y)"
        raise InputError(msg)
    if x.size and max(np.abs(x).max(), np.abs(y).max()) / size_m > 1e15:
        msg = "the points are too far apart for a hexagon grid of this size; use a larger `size_m`"
        raise InputError(msg)


def _root(best: float) -> float:
    if best < 0:  # cells too far apart for 64-bit keys
        msg = "the points are too far apart for a hexagon grid of this size; use a larger `size_m`"
        raise InputError(msg)
    return float(np.sqrt(best))


def hex_grid_origin(x: F64, y: F64, *, size_m: float) -> tuple[float, float]:
    """The grid origin used for these points: (0, 0) unless a vertex would touch a point.

    Shifts are deterministic (multiples of irrational fractions of the size), so the same
    points always give the same grid. The first shift whose centres and corners all stay
    :data:`_CLEARANCE_M` from every point is used; with hundreds of thousands of incidents
    none may, and then the shift that keeps them farthest (of the first few tried) is used
    as long as that is at least :data:`_MIN_CLEARANCE_M` (far more than the written precision of coordinates,
    about 1 cm at 7 decimals), so no vertex can repeat an incident's coordinates.
    """
    return hex_grid(x, y, size_m=size_m)[0]


def hex_grid(x: F64, y: F64, *, size_m: float) -> tuple[tuple[float, float], I64, I64]:
    """:func:`hex_grid_origin` and each point's cell on that grid (:func:`hex_axial` there),
    found on the way (one compiled pass over the points per shift tried)."""
    from . import _clearance

    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    _check_coordinates(x, y, size_m)
    args = _kernel_args(size_m)
    best: tuple[float, tuple[float, float], I64, I64] | None = None
    for k in range(16):
        origin = (size_m * ((k * 0.6180339887) % 1.0), size_m * ((k * 0.4142135624) % 1.0))
        sq, _, q, r = _clearance.shift_clearance(x, y, origin[0], origin[1], size_m, *args)
        closest = _root(sq)
        if closest >= _CLEARANCE_M:
            if k:
                log.debug("hexagon grid shifted %d time(s) to clear incident locations", k)
            return origin, q, r
        if best is None or closest > best[0]:
            best = (closest, origin, q, r)
        if k >= 3 and best[0] >= _MIN_CLEARANCE_M:
            break  # dense data: no shift will clear the full clearance; take the best so far
    if best is not None and best[0] >= _MIN_CLEARANCE_M:
        log.debug("hexagon grid: closest vertex %.3f m from an incident", best[0])
        return best[1], best[2], best[3]
    msg = "could not place a hexagon grid clear of every incident; try another `size_m`"
    raise InputError(msg)
