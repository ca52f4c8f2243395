"""The walking street network: projected nodes, undirected edges with geometry, CSR arcs.

A :class:`StreetNetwork` is built from an OpenStreetMap file (``.osm.pbf``, ``.osm``),
a place name (OSMnx, online) or any street-centreline line layer. Everything is in metres
in the UTM zone of the data (computed from the data, never hard-coded). Walking is allowed
both ways on every edge, so each edge gives two directed arcs.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import shapely

from . import settings
from ._errors import InputError, NetworkError, NoCrsError
from ._routing import ARC_ARRAYS, network_arcs

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx
    from scipy import sparse

log = logging.getLogger(__name__)

_SNAP_LOCK = threading.Lock()
#: Points per compiled snapping call (threads take chunks in turn).
_SNAP_CHUNK = 16_384

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

@dataclass(frozen=True, eq=False)
class Snapped:
    """Points snapped to the nearest point on the nearest street edge.

    Attributes
    ----------
    index
        Positions (0-based) in the input of the points that were kept.
    edge
        Edge of each kept point.
    offset_m
        Distance along the edge from its ``u`` end to the snapped point, metres.
    leg_m
        Straight-line off-network leg from the point to the snapped point, metres.
    dropped
        Positions in the input of the points farther than ``max_snap_m`` from any street.
    """

    index: I64
    edge: I64
    offset_m: F64
    leg_m: F64
    dropped: I64
    n_input: int

    def __len__(self) -> int:
        return int(self.index.size)


@dataclass(frozen=True, eq=False)
class StreetNetwork:
    """An immutable walking network in a projected CRS (metres).

    Nodes are ``x``/``y``; undirected edges are ``edge_u``/``edge_v`` with their length
    and polyline geometry (``edge_coords[edge_offsets[i]:edge_offsets[i+1]]``). Directed
    arcs in CSR form (``indptr``, ``indices``, ``arc_length_m``, ``arc_edge``) are derived.
    """

    crs: str
    x: F64
    y: F64
    edge_u: I64
    edge_v: I64
    edge_length_m: F64
    edge_offsets: I64
    edge_coords: F64
    source: str = ""
    node_osm_id: I64 | None = None
    #: How the network was built: lines read and left out (by filter and road class),
    #: repairs, nodes dropped outside the largest component. Kept in the cache.
    build_report: dict[str, Any] = field(default_factory=dict, repr=False)
    indptr: I64 = field(init=False, repr=False)
    indices: I64 = field(init=False, repr=False)
    arc_length_m: F64 = field(init=False, repr=False)
    arc_edge: I64 = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._check_sizes()
        arcs = network_arcs(self.x.size, self.edge_u, self.edge_v, self.edge_length_m)
        for name, a in zip(ARC_ARRAYS, arcs, strict=True):
            object.__setattr__(self, name, a)

    def _check_sizes(self) -> None:
        n = self.x.size
        if self.y.size != n:
            msg = "`x` and `y` must have the same length"
            raise NetworkError(msg)
        m = self.edge_u.size
        if not (self.edge_v.size == m == self.edge_length_m.size == self.edge_offsets.size - 1):
            msg = "edge arrays must all describe the same number of edges"
            raise NetworkError(msg)

    # ----------------------------------------------------------------- sizes
    @property
    def n_nodes(self) -> int:
        return int(self.x.size)

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.size)

    @property
    def n_arcs(self) -> int:
        return int(self.indices.size)

    def __repr__(self) -> str:
        return (
            f"StreetNetwork({self.n_nodes} nodes, {self.n_edges} edges, "
            f"{self.edge_length_m.sum() / 1000:.1f} km, crs={self.crs_obj.name!r})"
        )

    @property
    def crs_obj(self) -> Any:
        from pyproj import CRS

        return CRS.from_user_input(self.crs)

    # ----------------------------------------------------------- geometry
    def edge_geometries(self) -> npt.NDArray[np.object_]:
        """Edge polylines as shapely LineStrings (projected CRS)."""
        cached = self.__dict__.get("_edge_geoms")
        if cached is None:
            idx = np.repeat(np.arange(self.n_edges), np.diff(self.edge_offsets))
            cached = shapely.linestrings(self.edge_coords, indices=idx)
            object.__setattr__(self, "_edge_geoms", cached)
        return cached  # type: ignore[no-any-return]

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """Edges as a GeoDataFrame in the network's CRS."""
        import geopandas as gpd

        return gpd.GeoDataFrame(
            {"u": self.edge_u, "v": self.edge_v, "length_m": self.edge_length_m},
            geometry=self.edge_geometries(),
            crs=self.crs,
        )

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        """Nodes as a GeoDataFrame in the network's CRS."""
        import geopandas as gpd

        data: dict[str, Any] = {}
        if self.node_osm_id is not None:
            data["osm_id"] = self.node_osm_id
        return gpd.GeoDataFrame(data, geometry=shapely.points(self.x, self.y), crs=self.crs)

    def bounds(self) -> tuple[float, float, float, float]:
        return (float(self.x.min()), float(self.y.min()), float(self.x.max()), float(self.y.max()))

    # ------------------------------------------------------------ interop
    def csr(self) -> sparse.csr_matrix:
        """Directed arcs as a scipy CSR matrix of metres (parallel arcs keep the shortest)."""
        from scipy import sparse  # when used: a bad layer is refused before scipy loads

        order = np.lexsort((self.arc_length_m, self.indices, np.repeat(
            np.arange(self.n_nodes), np.diff(self.indptr))))
        tail = np.repeat(np.arange(self.n_nodes), np.diff(self.indptr))[order]
        head, w = self.indices[order], self.arc_length_m[order]
        first = np.ones(head.size, dtype=bool)
        first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
        return sparse.csr_matrix(
            (w[first], (tail[first], head[first])), shape=(self.n_nodes, self.n_nodes)
        )

    def to_networkx(self) -> nx.MultiGraph:
        """An undirected networkx MultiGraph with ``length`` in metres (for tests and interop)."""
        import networkx as nx

        g = nx.MultiGraph(crs=self.crs)
        g.add_nodes_from((i, {"x": float(self.x[i]), "y": float(self.y[i])}) for i in range(self.n_nodes))
        g.add_edges_from(
            (int(u), int(v), int(k), {"length": float(w)})
            for k, (u, v, w) in enumerate(zip(self.edge_u, self.edge_v, self.edge_length_m, strict=True))
        )
        return g

    # ----------------------------------------------------------- snapping
    def snap(
        self,
        points: Any,
        *,
        max_snap_m: float | None = None,
        workers: int | None = None,
    ) -> Snapped:
        """Snap points to the nearest point on the nearest edge.

        Point geometries go through a compiled grid search over the edges' segments
        (:mod:`siting._snap`) that computes distances and positions as GEOS does, so the
        result is the one shapely's ``STRtree.query_nearest`` and ``line_locate_point``
        give; edges at exactly the same distance go to the lowest edge id. Other
        geometry types use shapely itself (their position is where the edge comes nearest
        to them). Missing and empty geometries are dropped.

        Parameters
        ----------
        points
            A GeoSeries/GeoDataFrame in the network CRS, or an array of shapely geometries.
        max_snap_m
            Points farther than this from every edge are dropped and reported.
        workers
            Threads that split the points (default: the cores this process may use); the
            result does not depend on it.

        Examples
        --------
        >>> net = StreetNetwork(
        ...     crs="EPSG:32635", x=np.array([0.0, 100.0]), y=np.zeros(2),
        ...     edge_u=np.array([0]), edge_v=np.array([1]), edge_length_m=np.array([100.0]),
        ...     edge_offsets=np.array([0, 2]), edge_coords=np.array([[0.0, 0.0], [100.0, 0.0]]))
        >>> s = net.snap([shapely.Point(30, 4), shapely.Point(50, 900), None])
        >>> s.index.tolist(), s.offset_m.tolist(), s.leg_m.tolist(), s.dropped.tolist()
        ([0], [30.0], [4.0], [1, 2])
        """
        from . import _snap
        from ._threads import available_cores

        limit = settings.max_snap_m if max_snap_m is None else float(max_snap_m)
        geoms = np.asarray(getattr(points, "geometry", points), dtype=object).reshape(-1)
        n = geoms.size
        edge = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.inf)
        if n and self.n_edges:
            kind = shapely.get_type_id(geoms)
            is_point = (kind == 0) & ~shapely.is_empty(geoms)
            pts = np.flatnonzero(is_point)
            if pts.size:
                xy = shapely.get_coordinates(geoms[pts])
                px, py = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
                g = self._snap_grid()
                order = _snap.cell_order(px, py, *g[3:])
                threads = available_cores() if workers is None else max(1, int(workers))
                pe, pd_ = np.empty(pts.size, np.int64), np.empty(pts.size)

                def run(a: int, b: int) -> None:
                    _snap.nearest_edges(px, py, order[a:b], limit, *g, pe, pd_)

                _in_chunks(pts.size, run, threads)
                edge[pts], dist[pts] = pe, pd_
            other = np.flatnonzero((kind > 0) & ~shapely.is_empty(geoms))
            if other.size:
                oe, od = self._nearest_strtree(geoms[other], limit)
                edge[other], dist[other] = oe, od
        keep = (edge >= 0) & (dist <= limit)
        pidx = np.flatnonzero(keep).astype(np.int64)
        eidx, leg = edge[pidx], dist[pidx]
        offset = np.empty(pidx.size)
        if pidx.size:
            is_pt = shapely.get_type_id(geoms[pidx]) == 0
            if is_pt.all():
                xy = shapely.get_coordinates(geoms[pidx])
                _snap.locate_on_edges(
                    np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1]), eidx,
                    self.edge_offsets, self.edge_coords, offset,
                )
            else:  # other geometry types: where the edge comes nearest to them
                lines = self.edge_geometries()[eidx]
                near = np.where(is_pt, geoms[pidx], shapely.get_point(shapely.shortest_line(lines, geoms[pidx]), 0))
                offset = shapely.line_locate_point(lines, near)
        # geometric length equals edge_length_m (both measured in the projected CRS)
        offset = np.clip(offset, 0.0, self.edge_length_m[eidx])
        dropped = np.flatnonzero(~keep).astype(np.int64)
        return Snapped(pidx, eidx, offset.astype(np.float64), leg.astype(np.float64), dropped, n)

    def _snap_grid(self) -> tuple[Any, ...]:
        """The segment grid of :mod:`siting._snap`, built once per network."""
        from . import _snap

        with _SNAP_LOCK:
            grid = self.__dict__.get("_snap_grid_arrays")
            if grid is None:
                off = self.edge_offsets
                last = np.zeros(self.edge_coords.shape[0], dtype=bool)
                last[off[1:] - 1] = True
                seg_start = np.flatnonzero(~last).astype(np.int64)
                seg_edge = np.repeat(np.arange(self.n_edges, dtype=np.int64), np.diff(off) - 1)
                coords = np.ascontiguousarray(self.edge_coords, dtype=np.float64)
                minx, miny, cell, nx, ny = _snap.grid_shape(coords, seg_start.size)
                cell_ptr, cell_xy, cell_edge = _snap.build_grid(coords, seg_start, seg_edge, minx, miny, cell, nx, ny)
                grid = (cell_ptr, cell_xy, cell_edge, minx, miny, cell, nx, ny)
                object.__setattr__(self, "_snap_grid_arrays", grid)
            return grid  # type: ignore[no-any-return]

    def _nearest_strtree(self, geoms: npt.NDArray[np.object_], limit: float) -> tuple[I64, F64]:
        """Nearest edge and distance of any geometries by shapely's STRtree (``-1``: none)."""
        edges = self.edge_geometries()
        tree = self.__dict__.get("_edge_tree")
        if tree is None:  # built once per network: every layer snaps against the same edges
            tree = shapely.STRtree(edges)
            object.__setattr__(self, "_edge_tree", tree)
        (pidx, eidx), dist = tree.query_nearest(
            geoms, max_distance=limit, return_distance=True, all_matches=True
        )
        # ties: take the lowest edge index so results never depend on tree internals
        order = np.lexsort((eidx, pidx))
        pidx, eidx, dist = pidx[order], eidx[order], dist[order]
        first = np.ones(pidx.size, dtype=bool)
        first[1:] = pidx[1:] != pidx[:-1]
        out_e = np.full(geoms.size, -1, dtype=np.int64)
        out_d = np.full(geoms.size, np.inf)
        out_e[pidx[first]] = eidx[first]
        out_d[pidx[first]] = dist[first]
        return out_e, out_d

    # ---------------------------------------------------------- components
    def largest_component(self) -> StreetNetwork:
        """The largest connected component; the number of dropped nodes is logged."""
        if self.n_nodes == 0:
            return self
        from scipy.sparse import csgraph

        ncomp, labels = csgraph.connected_components(self.csr(), directed=False)
        if ncomp <= 1:
            return self
        counts = np.bincount(labels)
        best = int(np.argmax(counts))
        keep = labels == best
        log.info(
            "kept the largest connected component: %d of %d nodes (%d dropped in %d other components)",
            int(counts[best]), self.n_nodes, self.n_nodes - int(counts[best]), ncomp - 1,
        )
        sub = self.subgraph(keep)
        sub.build_report["largest_component"] = {
            "nodes_kept": int(counts[best]),
            "nodes_dropped": self.n_nodes - int(counts[best]),
            "other_components": ncomp - 1,
        }
        return sub

    def subgraph(self, keep_nodes: npt.NDArray[np.bool_]) -> StreetNetwork:
        """The network restricted to ``keep_nodes`` (edges with both ends kept)."""
        new_id = np.full(self.n_nodes, -1, dtype=np.int64)
        new_id[keep_nodes] = np.arange(int(keep_nodes.sum()))
        ekeep = keep_nodes[self.edge_u] & keep_nodes[self.edge_v]
        counts = np.diff(self.edge_offsets)[ekeep]
        coord_mask = np.repeat(ekeep, np.diff(self.edge_offsets))
        offsets = np.zeros(counts.size + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return StreetNetwork(
            crs=self.crs,
            x=self.x[keep_nodes],
            y=self.y[keep_nodes],
            edge_u=new_id[self.edge_u[ekeep]],
            edge_v=new_id[self.edge_v[ekeep]],
            edge_length_m=self.edge_length_m[ekeep],
            edge_offsets=offsets,
            edge_coords=self.edge_coords[coord_mask],
            source=self.source,
            node_osm_id=None if self.node_osm_id is None else self.node_osm_id[keep_nodes],
            build_report=dict(self.build_report),
        )

    # ----------------------------------------------------------- building
    @classmethod
    def from_lines(
        cls,
        lines: Any,
        *,
        source: str = "",
        osm_ids: dict[tuple[float, float], int] | None = None,
        build_report: dict[str, Any] | None = None,
    ) -> StreetNetwork:
        """Build from already-noded LineStrings in a projected CRS.

        Each line is one edge; its two end points are its nodes (ends closer than a
        millimetre are the same node). Zero-length lines are dropped.
        """
        crs = lines.crs
        if crs is None or not crs.is_projected:
            msg = "lines given to `StreetNetwork.from_lines` must be in a projected CRS (metres)"
            raise NetworkError(msg)
        geoms = shapely.line_merge(np.asarray(lines.geometry, dtype=object))
        geoms = np.asarray(geoms, dtype=object)
        parts = shapely.get_parts(geoms)
        parts = parts[shapely.get_type_id(parts) == 1]  # LineString
        parts = parts[~shapely.is_empty(parts)]
        length = shapely.length(parts)
        parts, length = parts[length > 0], length[length > 0]
        coords, idx = shapely.get_coordinates(parts, return_index=True)
        counts = np.bincount(idx, minlength=parts.size)
        offsets = np.zeros(parts.size + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        starts = coords[offsets[:-1]]
        ends = coords[offsets[1:] - 1]
        ends_all = np.round(np.vstack([starts, ends]), 3)
        uniq, inv = np.unique(ends_all, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        m = parts.size
        node_osm = None
        if osm_ids is not None:
            node_osm = np.array([osm_ids.get((float(a), float(b)), -1) for a, b in uniq], dtype=np.int64)
        net = cls(
            crs=crs.to_wkt(),
            x=uniq[:, 0].astype(np.float64),
            y=uniq[:, 1].astype(np.float64),
            edge_u=inv[:m].astype(np.int64),
            edge_v=inv[m:].astype(np.int64),
            edge_length_m=length.astype(np.float64),
            edge_offsets=offsets,
            edge_coords=coords.astype(np.float64),
            source=source,
            node_osm_id=node_osm,
            build_report=dict(build_report or {}),
        )
        return net

    # -------------------------------------------------------------- cache
    def save(self, path: str | os.PathLike[str]) -> None:
        """Save to ``.npz`` (written to a temporary name, then renamed), with the arrays
        derived from the network (arcs, junction graph) so that :meth:`load` need not
        derive them again (:mod:`siting._network_file`)."""
        from ._network_file import save_network

        save_network(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> StreetNetwork:
        """Load a network saved with :meth:`save`: the same network, array for array, with
        its arcs and junction graph read instead of derived."""
        from ._network_file import load_network_file

        return load_network_file(cls, path)


def _in_chunks(n: int, run: Any, threads: int) -> None:
    """``run(a, b)`` over chunks of ``range(n)``, on ``threads`` threads (kernels release the GIL)."""
    bounds = [(a, min(a + _SNAP_CHUNK, n)) for a in range(0, n, _SNAP_CHUNK)]
    if threads <= 1 or len(bounds) <= 1:
        for a, b in bounds:
            run(a, b)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(threads, len(bounds)), thread_name_prefix="siting-snap") as pool:
        list(pool.map(lambda ab: run(*ab), bounds))
