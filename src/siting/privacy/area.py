"""The study area as public geometry: hexagons over every street, and demand units in them.

Everything here is computed from the street network alone, never from the incidents, so
a shareable output can show all of it:

* **cells**: the hexagons (``size_m``, anchored on the CRS origin, the same every month)
  whose centre lies within ``size_m + max_snap_m`` of a street. Every incident kept by a
  run is within ``max_snap_m`` of a street, so it falls in one of them; a cell is shown
  whether or not it holds incidents, and an empty cell looks like one with a few.
* **units**: each cell split by a finer hexagon grid (``unit_m``, a third of the cell by
  default) into the parts holding streets. A unit is represented by a point on a street
  (the street point nearest the middle of the unit's streets) and weighted by its street
  length. Released cell counts are spread over their units by street length; walking
  reach to the units then gives every other shareable figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import shapely

from .._errors import InputError
from .grid import hex_axial, hex_centres, hex_polygons, unique_cells

if TYPE_CHECKING:
    import geopandas as gpd

    from ..network import Snapped, StreetNetwork

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_NEIGHBOURS = ((1, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1))
#: Spacing of the points sampled along the streets to measure street length per cell (m).
SAMPLE_SPACING_M = 10.0


@dataclass(frozen=True, eq=False)
class StudyArea:
    """Hexagon cells covering the streets and the demand units inside them.

    Attributes
    ----------
    crs
        The network's projected CRS.
    size_m, origin
        Cell circumradius and grid origin (the CRS origin).
    q, r
        Axial ids of the cells, sorted by ``q`` then ``r``.
    cell_street_m
        Street length inside each cell (metres; 0 for a cell only near streets).
    unit_cell
        The cell of each unit.
    unit_x, unit_y
        Each unit's point on a street.
    unit_edge, unit_offset_m
        The street edge the point lies on and its distance along it.
    unit_street_m
        Street length of each unit.
    """

    crs: object
    size_m: float
    origin: tuple[float, float]
    q: I64
    r: I64
    cell_street_m: F64
    unit_cell: I64
    unit_x: F64
    unit_y: F64
    unit_edge: I64
    unit_offset_m: F64
    unit_street_m: F64

    @property
    def n_cells(self) -> int:
        return int(self.q.size)

    @property
    def n_units(self) -> int:
        return int(self.unit_cell.size)

    def cell_index(self, x: F64, y: F64) -> I64:
        """The cell holding each point (``-1`` outside the study area)."""
        q, r = hex_axial(x, y, size_m=self.size_m, origin=self.origin)
        key = _key(q, r)
        ckey = _key(self.q, self.r)
        if ckey.size == 0:
            return np.full(key.size, -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(ckey, key), ckey.size - 1)
        return np.where(ckey[pos] == key, pos, -1).astype(np.int64)

    def centres(self) -> tuple[F64, F64]:
        return hex_centres(self.q, self.r, size_m=self.size_m, origin=self.origin)

    def polygons(self) -> npt.NDArray[np.object_]:
        cx, cy = self.centres()
        return hex_polygons(cx, cy, size_m=self.size_m)

    def unit_points(self) -> npt.NDArray[np.object_]:
        return shapely.points(self.unit_x, self.unit_y)

    def snapped_units(self) -> Snapped:
        """The units as points already on the network (for walking reach)."""
        from ..network import Snapped

        n = self.n_units
        return Snapped(
            index=np.arange(n, dtype=np.int64),
            edge=self.unit_edge,
            offset_m=self.unit_offset_m,
            leg_m=np.zeros(n),
            dropped=np.zeros(0, dtype=np.int64),
            n_input=n,
        )

    def cells_frame(self) -> gpd.GeoDataFrame:
        import geopandas as gpd

        return gpd.GeoDataFrame(
            {"q": self.q, "r": self.r, "street_m": np.round(self.cell_street_m, 1)},
            geometry=self.polygons(),
            crs=self.crs,
        )


def _key(q: I64, r: I64) -> I64:
    """One sortable int64 per axial cell (|q|, |r| < 2**31)."""
    return (np.asarray(q, np.int64) << 32) + (np.asarray(r, np.int64) + (1 << 31))


def _street_samples(net: StreetNetwork, spacing_m: float) -> tuple[F64, F64, I64, F64, F64]:
    """Points every ``spacing_m`` along every edge: x, y, edge, offset along it, length each stands for."""
    geoms = net.edge_geometries()
    length = np.asarray(net.edge_length_m, dtype=np.float64)
    n = np.maximum(1, np.ceil(length / spacing_m)).astype(np.int64)
    edge = np.repeat(np.arange(length.size, dtype=np.int64), n)
    start = np.repeat(np.cumsum(n) - n, n)
    k = np.arange(edge.size, dtype=np.int64) - start
    step = length[edge] / n[edge]
    offset = (k + 0.5) * step
    pts = shapely.line_interpolate_point(geoms[edge], offset)
    xy = shapely.get_coordinates(pts)
    return xy[:, 0], xy[:, 1], edge, offset, step


def study_area(
    net: StreetNetwork,
    *,
    size_m: float = 250.0,
    max_snap_m: float = 250.0,
    unit_m: float | None = None,
    spacing_m: float = SAMPLE_SPACING_M,
) -> StudyArea:
    """Cells over the streets of ``net`` and the demand units inside them (public geometry).

    Examples
    --------
    A single 1 km street: the cells along it and one ring beyond (within 500 m).

    >>> import numpy as np
    >>> from siting.network import StreetNetwork
    >>> net = StreetNetwork(
    ...     crs="EPSG:32635", x=np.array([0.0, 1000.0]), y=np.zeros(2),
    ...     edge_u=np.array([0]), edge_v=np.array([1]), edge_length_m=np.array([1000.0]),
    ...     edge_offsets=np.array([0, 2]), edge_coords=np.array([[0.0, 0.0], [1000.0, 0.0]]))
    >>> a = study_area(net, size_m=250, max_snap_m=250)
    >>> round(float(a.cell_street_m.sum()), 6), round(float(a.unit_street_m.sum()), 6)
    (1000.0, 1000.0)
    >>> bool((a.cell_street_m == 0).any())  # cells near the street hold no street themselves
    True
    """
    if size_m <= 0 or max_snap_m < 0:
        msg = f"`size_m` must be positive and `max_snap_m` >= 0, got {size_m} and {max_snap_m}"
        raise InputError(msg)
    if net.n_edges == 0:
        msg = "the street network has no edges, so there is no study area to draw cells on"
        raise InputError(msg)
    from scipy.spatial import cKDTree

    unit = size_m / 3.0 if unit_m is None else float(unit_m)
    origin = (0.0, 0.0)
    sx, sy, sedge, soff, slen = _street_samples(net, min(spacing_m, unit / 4.0))

    # cells: every cell whose centre is within size + max_snap (+ sample spacing) of a street
    q, r = hex_axial(sx, sy, size_m=size_m, origin=origin)
    street_cells = unique_cells(q, r)
    rings = math.ceil((2 * size_m + max_snap_m + spacing_m) / (1.5 * size_m))
    cells = street_cells
    for _ in range(rings):
        grown = np.vstack([cells] + [cells + np.array(d) for d in _NEIGHBOURS])
        cells = unique_cells(grown[:, 0], grown[:, 1])
    cx, cy = hex_centres(cells[:, 0], cells[:, 1], size_m=size_m, origin=origin)
    tree = cKDTree(np.column_stack([sx, sy]))
    d, nearest = tree.query(np.column_stack([cx, cy]), k=1)
    keep = d <= size_m + max_snap_m + spacing_m
    cells, cx, cy, nearest = cells[keep], cx[keep], cy[keep], nearest[keep]
    ckey = _key(cells[:, 0], cells[:, 1])
    order = np.argsort(ckey, kind="stable")
    cells, cx, cy, nearest, ckey = cells[order], cx[order], cy[order], nearest[order], ckey[order]

    s_cell = np.searchsorted(ckey, _key(q, r))
    cell_street = np.bincount(s_cell, weights=slen, minlength=len(cells))

    # units: (cell, sub-hexagon) pairs holding streets, each at its street point nearest the middle
    uq, ur = hex_axial(sx, sy, size_m=unit, origin=origin)
    sub, sub_inv = unique_cells(uq, ur, return_inverse=True)
    ukey = s_cell.astype(np.int64) * np.int64(len(sub)) + sub_inv.astype(np.int64)
    ukeys, s_unit = np.unique(ukey, return_inverse=True)
    n_units = ukeys.size
    wsum = np.bincount(s_unit, weights=slen, minlength=n_units)
    mx = np.bincount(s_unit, weights=slen * sx, minlength=n_units) / wsum
    my = np.bincount(s_unit, weights=slen * sy, minlength=n_units) / wsum
    dist = np.hypot(sx - mx[s_unit], sy - my[s_unit])
    first = np.lexsort((np.arange(sx.size), dist, s_unit))
    head = np.ones(first.size, dtype=bool)
    head[1:] = s_unit[first][1:] != s_unit[first][:-1]
    rep = first[head]  # one sample per unit, in unit order
    unit_cell = (ukeys // len(sub)).astype(np.int64)

    # cells near streets but holding none: one unit at the street point nearest their centre
    empty = np.flatnonzero(cell_street == 0)
    u_cell = np.concatenate([unit_cell, empty])
    u_sample = np.concatenate([rep, nearest[empty]])
    u_len = np.concatenate([wsum, np.zeros(empty.size)])
    order = np.lexsort((u_sample, u_cell))
    u_cell, u_sample, u_len = u_cell[order], u_sample[order], u_len[order]
    return StudyArea(
        crs=net.crs,
        size_m=float(size_m),
        origin=origin,
        q=cells[:, 0].astype(np.int64),
        r=cells[:, 1].astype(np.int64),
        cell_street_m=cell_street,
        unit_cell=u_cell,
        unit_x=sx[u_sample],
        unit_y=sy[u_sample],
        unit_edge=sedge[u_sample],
        unit_offset_m=soff[u_sample],
        unit_street_m=u_len,
    )
