"""Compiled hexagon-grid clearance: how close the grid's centres and corners come to the points.

:func:`siting.privacy.grid.hex_grid_origin` tries a few shifts of the grid over every
incident; this is its inner loop, one pass over the points per shift, without the GIL.
The arithmetic is :func:`~siting.privacy.grid.hex_axial` and
:func:`~siting.privacy.grid.hex_centres` operation for operation (the same rounding,
constants computed by numpy and passed in), so cells and distances are the ones numpy
computes, to the last bit. Squared distances are compared and the root taken once: a
correctly rounded square root never reverses an order, so ``sqrt(min)`` is ``min(sqrt)``.
"""

from __future__ import annotations

import numpy as np

from .._jit import njit

#: Most cells a bitmap of occupied cells may have (bytes); past it, sorted keys are searched.
_MAX_BITMAP = 1 << 24


@njit(nogil=True, cache=True)
def _axial(x, y, ox, oy, size, cq, cr, cs, q, r):  # type: ignore[no-untyped-def]
    """``grid.hex_axial`` into ``q``, ``r``: ``cq = 2/3``, ``cr = -1/3``, ``cs = sqrt(3)/3``."""
    for i in range(x.size):
        px = (x[i] - ox) / size
        py = (y[i] - oy) / size
        qf = cq * px
        rf = cr * px + cs * py
        sf = -qf - rf
        qq = np.rint(qf)
        rr = np.rint(rf)
        ss = np.rint(sf)
        dq = abs(qq - qf)
        dr = abs(rr - rf)
        ds = abs(ss - sf)
        if dq > dr and dq > ds:
            qq = -rr - ss
        elif dr > ds:
            rr = -qq - ss
        q[i] = np.int64(qq)
        r[i] = np.int64(rr)


@njit(nogil=True, cache=True)
def _clearance(x, y, q, r, ox, oy, wx, wy, corner_x, corner_y, shared, out):  # type: ignore[no-untyped-def]
    """Each point's least squared distance to its cell's centre and corners, and to the
    copies of those corners drawn by the neighbours that hold points, into ``out``.

    A centre is ``(ox + wx * q, oy + wy * (r + q / 2))`` (``wx = 1.5 size``,
    ``wy = sqrt(3) size``); corner ``j`` is the centre plus ``(corner_x[j], corner_y[j])``.
    ``shared`` rows are ``(j, dq, dr, k)``: corner ``j`` is corner ``k`` of neighbour
    ``(dq, dr)``. Returns the least of ``out`` (``inf`` without points), or ``-1.0`` when
    the cells span too far for 64-bit keys (the caller measures with numpy then).
    """
    n = x.size
    if n == 0:
        return np.inf
    q_lo, q_hi, r_lo, r_hi = q[0], q[0], r[0], r[0]
    for i in range(n):
        q_lo = min(q_lo, q[i])
        q_hi = max(q_hi, q[i])
        r_lo = min(r_lo, r[i])
        r_hi = max(r_hi, r[i])
    # occupied cells, one ring of margin: key (q - q0) * span + (r - r0)
    q0, r0 = q_lo - 1, r_lo - 1
    span = r_hi - r0 + 2
    rows = q_hi - q0 + 2
    if float(span) * float(rows) > 4.0e18:
        return -1.0
    cells = span * rows
    use_bitmap = cells <= _MAX_BITMAP
    bitmap = np.zeros(cells if use_bitmap else 0, np.uint8)
    keys = np.empty(0 if use_bitmap else n, np.int64)
    for i in range(n):
        k = (q[i] - q0) * span + (r[i] - r0)
        if use_bitmap:
            bitmap[k] = 1
        else:
            keys[i] = k
    if not use_bitmap:
        keys = np.unique(keys)
    best = np.inf
    for i in range(n):
        a, b = q[i], r[i]
        px, py = x[i], y[i]
        cx = ox + wx * np.float64(a)
        cy = oy + wy * (np.float64(b) + np.float64(a) / 2.0)
        dx = px - cx
        dy = py - cy
        d = dx * dx + dy * dy
        for j in range(6):
            dx = px - (cx + corner_x[j])
            dy = py - (cy + corner_y[j])
            d = min(d, dx * dx + dy * dy)
        for s in range(shared.shape[0]):
            na, nb = a + shared[s, 1], b + shared[s, 2]
            k = (na - q0) * span + (nb - r0)
            if use_bitmap:
                held = bitmap[k] != 0
            else:
                at = np.searchsorted(keys, k)
                held = at < keys.size and keys[at] == k
            if not held:
                continue
            nx = ox + wx * np.float64(na)
            ny = oy + wy * (np.float64(nb) + np.float64(na) / 2.0)
            dx = px - (nx + corner_x[shared[s, 3]])
            dy = py - (ny + corner_y[shared[s, 3]])
            d = min(d, dx * dx + dy * dy)
        out[i] = d
        best = min(best, d)
    return best


@njit(nogil=True, cache=True)
def shift_clearance(x, y, ox, oy, size, coef, wx, wy, corner_x, corner_y, shared):  # type: ignore[no-untyped-def]
    """The grid at origin ``(ox, oy)``: :func:`_axial` then :func:`_clearance` (its least
    squared distance, or ``-1.0``), each point's squared distance and its cell ``q``, ``r``."""
    n = x.size
    q = np.empty(n, np.int64)
    r = np.empty(n, np.int64)
    _axial(x, y, ox, oy, size, coef[0], coef[1], coef[2], q, r)
    out = np.empty(n, np.float64)
    best = _clearance(x, y, q, r, ox, oy, wx, wy, corner_x, corner_y, shared, out)
    return best, out, q, r
