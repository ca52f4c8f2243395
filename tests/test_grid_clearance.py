"""The compiled hexagon-grid clearance (privacy._clearance) against the numpy computation it
replaced, to the bit: the cells of every point, each point's distance, the chosen origin."""

from __future__ import annotations

import numpy as np
import pytest

from siting._errors import InputError
from siting.privacy import grid

_ANG = np.deg2rad(np.arange(6) * 60.0)


def numpy_best(px, py, q, r, size_m, origin):  # type: ignore[no-untyped-def]
    """Each point's distance to the nearest centre or corner, as privacy.grid computed it
    with numpy before the kernel (cells sorted, vertices per cell, held neighbours by key)."""
    cells, inv = grid.unique_cells(q, r, return_inverse=True)
    cq, cr = cells[:, 0], cells[:, 1]
    cx, cy = grid.hex_centres(cq, cr, size_m=size_m, origin=origin)
    q0, r0 = int(cq.min()) - 1, int(cr.min()) - 1
    span = int(cr.max()) - r0 + 2
    keys = (cq - q0) * span + (cr - r0)

    def held(a, b):  # type: ignore[no-untyped-def]
        k = (a - q0) * span + (b - r0)
        at = np.minimum(np.searchsorted(keys, k), keys.size - 1)
        return np.asarray(keys[at] == k)

    def dist(vx, vy):  # type: ignore[no-untyped-def]
        dx = px - vx[inv]
        dy = py - vy[inv]
        return np.asarray(np.sqrt(dx * dx + dy * dy))

    cos, sin = np.cos(_ANG), np.sin(_ANG)
    best = dist(cx, cy)
    for j in range(6):
        np.minimum(best, dist(cx + size_m * cos[j], cy + size_m * sin[j]), out=best)
    for j, dq, dr, k in grid._SHARED:
        nx, ny = grid.hex_centres(cq + dq, cr + dr, size_m=size_m, origin=origin)
        d = dist(nx + size_m * cos[k], ny + size_m * sin[k])
        d[~held(cq + dq, cr + dr)[inv]] = np.inf
        np.minimum(best, d, out=best)
    return best


def numpy_origin(x, y, size_m):  # type: ignore[no-untyped-def]
    """privacy.grid.hex_grid_origin as it was, with numpy_best."""
    best = (-1.0, (0.0, 0.0))
    for k in range(16):
        origin = (size_m * ((k * 0.6180339887) % 1.0), size_m * ((k * 0.4142135624) % 1.0))
        q, r = grid.hex_axial(x, y, size_m=size_m, origin=origin)
        closest = float(numpy_best(x, y, q, r, size_m, origin).min())
        if closest >= grid._CLEARANCE_M:
            return origin
        if closest > best[0]:
            best = (closest, origin)
        if k >= 3 and best[0] >= grid._MIN_CLEARANCE_M:
            break
    if best[0] >= grid._MIN_CLEARANCE_M:
        return best[1]
    return None


def _points(rng, trial, size, origin):  # type: ignore[no-untyped-def]
    n = int(rng.integers(1, 3000))
    kind = trial % 4
    if kind == 0:  # spread over a county, projected metres
        return rng.normal(385000, 8000, n), rng.normal(6672000, 8000, n)
    if kind == 1:  # dense: a few hundred metres
        return rng.uniform(0, 400, n), rng.uniform(-200, 200, n)
    # on and next to centres, corners and edge midpoints, in both hemispheres' magnitudes
    x, y = rng.normal(-5.0e5 if kind == 2 else 5.0e5, 2000, n), rng.normal(5.2e6, 2000, n)
    q, r = grid.hex_axial(x, y, size_m=size, origin=origin)
    cx, cy = grid.hex_centres(q, r, size_m=size, origin=origin)
    a = np.deg2rad(rng.integers(0, 6, n) * 60.0 + rng.choice([0.0, 30.0], n))
    t = rng.choice([0.0, 0.5, 0.8660254037844386, 1.0, 0.999999, 1.0000001], n)
    return cx + size * t * np.cos(a) + rng.choice([0.0, 1e-9, -1e-7, 0.3], n), cy + size * t * np.sin(a)


def test_cells_and_distances_equal_numpys_to_the_bit() -> None:
    from siting.privacy import _clearance

    rng = np.random.default_rng(7)
    for trial in range(160):
        size = float(rng.choice([250.0, 100.0, 37.3, 1.0]))
        k = int(rng.integers(0, 16))
        origin = (size * ((k * 0.6180339887) % 1.0), size * ((k * 0.4142135624) % 1.0))
        x, y = _points(rng, trial, size, origin)
        q, r = grid.hex_axial(x, y, size_m=size, origin=origin)
        want = numpy_best(x, y, q, r, size, origin)
        best, sq, kq, kr = _clearance.shift_clearance(
            np.ascontiguousarray(x), np.ascontiguousarray(y), origin[0], origin[1], size, *grid._kernel_args(size)
        )
        np.testing.assert_array_equal(kq, q)
        np.testing.assert_array_equal(kr, r)
        np.testing.assert_array_equal(np.sqrt(sq), want, err_msg=f"trial {trial}")
        assert np.sqrt(best) == want.min()
        assert grid._closest(x, y, q, r, size, origin) == want.min()


def test_sorted_keys_when_the_cells_are_too_many_for_a_bitmap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points far apart (cells spanning more than the bitmap holds): held neighbours are
    found by binary search, with the same distances."""
    from siting.privacy import _clearance

    rng = np.random.default_rng(3)
    size = 1.0
    x = np.concatenate([rng.uniform(0, 50, 500), rng.uniform(9.0e6, 9.0e6 + 50, 500)])
    y = np.concatenate([rng.uniform(0, 50, 500), rng.uniform(9.0e6, 9.0e6 + 50, 500)])
    q, r = grid.hex_axial(x, y, size_m=size)
    want = numpy_best(x, y, q, r, size, (0.0, 0.0))
    coef, wx, wy, cx, cy, shared = grid._kernel_args(size)
    out = np.empty(x.size)
    assert (q.max() - q.min()) * (r.max() - r.min()) > _clearance._MAX_BITMAP
    _clearance._clearance(x, y, q, r, 0.0, 0.0, wx, wy, cx, cy, shared, out)
    np.testing.assert_array_equal(np.sqrt(out), want)


def test_origins_equal_numpys() -> None:
    """The same origin as before for sparse, dense and adversarial point sets, and the same
    refusal when no shift keeps the minimum clearance."""
    rng = np.random.default_rng(11)
    for trial in range(40):
        size = float(rng.choice([250.0, 100.0, 37.3]))
        x, y = _points(rng, trial, size, (0.0, 0.0))
        if trial % 5 == 4:  # many points exactly on the unshifted grid's vertices
            q, r = grid.hex_axial(x, y, size_m=size)
            x, y = grid.hex_centres(q, r, size_m=size)
        want = numpy_origin(x, y, size)
        assert grid.hex_grid_origin(x, y, size_m=size) == want, trial
        origin, q, r = grid.hex_grid(x, y, size_m=size)
        want_q, want_r = grid.hex_axial(x, y, size_m=size, origin=want)
        np.testing.assert_array_equal(q, want_q)
        np.testing.assert_array_equal(r, want_r)
    dense_x, dense_y = rng.uniform(0, 2000, 200_000), rng.uniform(0, 2000, 200_000)
    assert grid.hex_grid_origin(dense_x, dense_y, size_m=250.0) == numpy_origin(dense_x, dense_y, 250.0)
    # every shift's vertices land on points: refused, as before
    vx, vy = [], []
    for k in range(16):
        o = (250.0 * ((k * 0.6180339887) % 1.0), 250.0 * ((k * 0.4142135624) % 1.0))
        cx, cy = grid.hex_centres(np.arange(-3, 4), np.zeros(7, np.int64), size_m=250.0, origin=o)
        vx.append(cx)
        vy.append(cy)
    x, y = np.concatenate(vx), np.concatenate(vy)
    assert numpy_origin(x, y, 250.0) is None
    with pytest.raises(InputError, match="could not place a hexagon grid"):
        grid.hex_grid_origin(x, y, size_m=250.0)


def test_coordinates_a_grid_cannot_number_are_refused() -> None:
    with pytest.raises(InputError, match="finite coordinates"):
        grid.hex_grid_origin(np.array([0.0, np.nan]), np.array([0.0, 1.0]), size_m=250.0)
    with pytest.raises(InputError, match="too far apart"):
        grid.hex_grid_origin(np.array([0.0, 1e300]), np.array([0.0, 1.0]), size_m=250.0)
    assert grid.hex_grid_origin(np.zeros(0), np.zeros(0), size_m=250.0) == (0.0, 0.0)
