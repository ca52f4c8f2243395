"""Walking reach: exact walking distances from sources to targets under a cutoff.

Points are snapped to the nearest point on the nearest street edge (see
:meth:`StreetNetwork.snap`); a point at offset ``t`` on edge ``(u, v)`` of length ``L``
with an off-network leg ``l`` starts a search at ``u`` with ``l + t`` and at ``v`` with
``l + L - t``. A target at offset ``t'`` on edge ``(u', v')`` with leg ``l'`` is reached
at ``min(d[u'] + t', d[v'] + L' - t') + l'``, or directly along the edge
(``l + |t - t'| + l'``) when source and target share it.

One bounded multi-seed Dijkstra per source (compiled, see :mod:`siting._dijkstra`)
touches only the nodes of its walking catchment; it runs on the junction graph (chains
of degree-2 nodes contracted), and targets are looked up per reached junction, so the
cost follows the size of a catchment, not the size of the county. Sources are
independent: ``workers`` threads split them, and results do not depend on the number
of workers (:mod:`siting.distributed` spreads them over a Dask cluster).

* :func:`walking_reach`: source x target walks within a cutoff (sparse).
* :func:`siting.reach_totals.reach_totals`: per source, count / weight / weighted walk of
  the targets within several cutoffs, without keeping the pairs.
* :func:`node_reach`: source x network node walks (for isochrones and interop).
* :func:`siting.isochrones.isochrones`: polygons of the reached network, for maps.
"""

from __future__ import annotations

import logging
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from . import _dijkstra
from ._errors import InputError
from ._routing import _Routing, _routing, _TargetIndex

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from scipy import sparse

    from .network import Snapped, StreetNetwork

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: Sources per compiled call; small enough to balance threads, large enough to amortise.
_CHUNK = 64

__all__ = [
    "Reach",
    "node_reach",
    "walking_reach",
    "walking_reach_layers",
]


@dataclass(frozen=True, eq=False)
class Reach:
    """Sparse sources x targets walking distances within a cutoff.

    Attributes
    ----------
    n_sources, n_targets
        Shape: rows are positions in the sources given, columns positions in the targets
        (for :func:`node_reach`, network node ids).
    cutoff_m
        Pairs farther than this (metres of walking) are absent.
    indptr
        CSR row pointer by source (``n_sources + 1``).
    target
        Target positions, sorted within each row.
    metres
        Total walk: source off-network leg + network distance + target leg.
    """

    n_sources: int
    n_targets: int
    cutoff_m: float
    indptr: I64
    target: I64
    metres: F64

    @property
    def nnz(self) -> int:
        """Number of (source, target) pairs within the cutoff."""
        return int(self.target.size)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_sources, self.n_targets)

    def row(self, i: int) -> tuple[I64, F64]:
        """Targets reached from source ``i`` and their metres."""
        a, b = self.indptr[i], self.indptr[i + 1]
        return self.target[a:b], self.metres[a:b]

    def sources(self) -> I64:
        """The source position of every pair (the CSR rows expanded)."""
        return np.repeat(np.arange(self.n_sources, dtype=np.int64), np.diff(self.indptr))

    def to_csr(self) -> sparse.csr_matrix:
        """A scipy CSR matrix of metres; explicit zeros are kept (distance 0 is real)."""
        from scipy import sparse

        return sparse.csr_matrix(
            (self.metres, self.target, self.indptr), shape=(self.n_sources, self.n_targets)
        )

    def minutes(self, speed_m_per_min: float) -> F64:
        """Walking minutes of every pair at ``speed_m_per_min`` (aligned with ``target``)."""
        if not speed_m_per_min > 0:
            msg = f"`speed_m_per_min` must be positive, got {speed_m_per_min!r}"
            raise InputError(msg)
        return self.metres / float(speed_m_per_min)

    def within(self, cutoff_m: float) -> Reach:
        """The same reach restricted to a smaller cutoff (no new search)."""
        if cutoff_m > self.cutoff_m:
            msg = f"`cutoff_m` {cutoff_m} exceeds the cutoff {self.cutoff_m} this reach was computed with"
            raise InputError(msg)
        keep = self.metres <= cutoff_m
        indptr = np.zeros(self.n_sources + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.sources()[keep], minlength=self.n_sources), out=indptr[1:])
        return Reach(
            self.n_sources, self.n_targets, float(cutoff_m), indptr, self.target[keep], self.metres[keep]
        )


# ================================================================== preparation
def _check(net: StreetNetwork, pts: Snapped, what: str) -> None:
    if pts.edge.size and (pts.edge.min() < 0 or pts.edge.max() >= net.n_edges):
        msg = f"`{what}` were snapped to another network (edge ids out of range); snap them with this network"
        raise InputError(msg)


def _check_cutoff(cutoff_m: float) -> float:
    c = float(cutoff_m)
    if not (math.isfinite(c) and c >= 0):
        msg = f"`cutoff_m` must be a finite number of metres >= 0, got {cutoff_m!r}"
        raise InputError(msg)
    return c


# ==================================================================== execution
_Chunk = tuple[I64, I64, F64]


def _workspace(n_nodes: int, n_targets: int) -> dict[str, Any]:
    """Per-thread scratch; all ``inf`` between sources (kernels reset what they touch)."""
    ws: dict[str, Any] = {"dist": np.full(n_nodes, np.inf), "touched": np.empty(n_nodes, np.int64)}
    if n_targets:
        ws["best"] = np.full(n_targets, np.inf)
        ws["tseen"] = np.empty(n_targets, np.int64)
    return ws


def _target_rows(
    rt: _Routing,
    ti: _TargetIndex,
    cutoff: float,
    chain: I64,
    pos: F64,
    leg: F64,
    ws: dict[str, Any] | None = None,
) -> _Chunk:
    """Rows of the source x target reach for sources given by chain, position, leg."""
    if ws is None:
        ws = _workspace(rt.n_nodes, ti.n_targets)
    seed_ptr, seed_node, seed_dist = rt.seeds(chain, pos, leg)
    return _dijkstra.target_chunk(  # type: ignore[no-any-return]
        rt.indptr,
        rt.indices,
        rt.arc_w,
        seed_ptr,
        seed_node,
        seed_dist,
        chain,
        pos,
        leg,
        ti.tn_ptr,
        ti.tn_target,
        ti.tn_add,
        ti.tc_ptr,
        ti.tc_target,
        ti.tc_pos,
        ti.tc_leg,
        ti.t_orig,
        cutoff,
        ws["dist"],
        ws["touched"],
        ws["best"],
        ws["tseen"],
    )


def _node_rows(
    rt: _Routing, cutoff: float, chain: I64, pos: F64, leg: F64, ws: dict[str, Any] | None = None
) -> _Chunk:
    """Rows of the source x node reach for sources given by chain, position, leg."""
    if ws is None:
        ws = _workspace(rt.n_nodes, 0)
    seed_ptr, seed_node, seed_dist = rt.seeds(chain, pos, leg)
    return _dijkstra.node_chunk(  # type: ignore[no-any-return]
        rt.indptr,
        rt.indices,
        rt.arc_w,
        rt.arc_chain,
        rt.arc_fwd,
        rt.ch_a,
        rt.ch_b,
        rt.ch_len,
        rt.cn_ptr,
        rt.cn_node,
        rt.cn_pos,
        rt.node_int,
        rt.node_orig,
        seed_ptr,
        seed_node,
        seed_dist,
        chain,
        pos,
        leg,
        cutoff,
        ws["dist"],
        ws["touched"],
    )


def _concat_rows(n_sources: int, parts: list[_Chunk]) -> tuple[I64, I64, F64]:
    """Join per-chunk rows (in source order) into CSR arrays.

    Empties ``parts`` as it copies, so the peak is one result plus one chunk, not two
    results.
    """
    indptr = np.zeros(n_sources + 1, dtype=np.int64)
    if not parts:
        return indptr, np.zeros(0, np.int64), np.zeros(0, np.float64)
    np.cumsum(np.concatenate([p[0] for p in parts]), out=indptr[1:])
    nnz = int(indptr[-1])
    col = np.empty(nnz, dtype=np.int64)
    val = np.empty(nnz, dtype=np.float64)
    at = 0
    since_trim = 0
    parts.reverse()
    while parts:
        _, c, v = parts.pop()
        col[at : at + c.size] = c
        val[at : at + c.size] = v
        at += c.size
        since_trim += c.size
        del c, v
        if since_trim >= _TRIM_EVERY:
            _release_freed()
            since_trim = 0
    _release_freed()
    return indptr, col, val


#: Entries copied between two returns of freed memory to the OS (~32 MB of pairs).
_TRIM_EVERY = 2_000_000
_LIBC: Any = None


def _release_freed() -> None:
    """Give freed heap pages back to the OS (glibc ``malloc_trim``; elsewhere nothing).

    The chunks' arrays are a few MB each: malloc keeps them on its heap once freed, so
    without this the pages of every chunk would stay resident while the joined result
    is filled, and the peak would be the result twice.
    """
    global _LIBC
    if _LIBC is None:
        try:
            import ctypes

            _LIBC = ctypes.CDLL("libc.so.6")
            _LIBC.malloc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError):
            _LIBC = False
    if _LIBC:
        _LIBC.malloc_trim(0)


def _check_workers(workers: int | None) -> int:
    """``workers`` as a thread count; ``None``: the cores this process may use."""
    if workers is None:
        from ._threads import available_cores

        return available_cores()
    if not (isinstance(workers, int | np.integer) and not isinstance(workers, bool) and workers >= 1):
        msg = f"`workers` must be an integer >= 1, got {workers!r}"
        raise InputError(msg)
    return int(workers)


def _run_chunks(
    n_sources: int,
    run: Callable[[int, int, dict[str, Any]], _Chunk],
    workspace: Callable[[], dict[str, Any]],
    workers: int,
) -> tuple[I64, I64, F64]:
    """Run ``run(start, stop, ws)`` over chunks of sources on threads; rows in source order."""
    return _concat_rows(n_sources, _map_chunks(n_sources, run, workspace, workers))


def _map_chunks(
    n_sources: int,
    run: Callable[[int, int, dict[str, Any]], Any],
    workspace: Callable[[], dict[str, Any]],
    workers: int,
) -> list[Any]:
    """``run(start, stop, ws)`` for each chunk of sources, on threads; results in order."""
    bounds = [(a, min(a + _CHUNK, n_sources)) for a in range(0, n_sources, _CHUNK)]
    if workers == 1 or len(bounds) <= 1:
        ws = workspace() if bounds else {}
        parts = [run(a, b, ws) for a, b in bounds]
    else:
        local = threading.local()

        def task(ab: tuple[int, int]) -> Any:
            ws = getattr(local, "ws", None)
            if ws is None:
                ws = local.ws = workspace()
            return run(ab[0], ab[1], ws)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="siting-reach") as pool:
            parts = list(pool.map(task, bounds))
    return parts


def _prepare(net: StreetNetwork, sources: Snapped) -> tuple[_Routing, I64, F64, F64]:
    rt = _routing(net)
    chain, pos = rt.locate(sources)
    return rt, chain, pos, sources.leg_m.astype(np.float64)


def walking_reach(
    net: StreetNetwork,
    sources: Snapped,
    targets: Snapped,
    *,
    cutoff_m: float,
    workers: int | None = None,
) -> Reach:
    """Exact walking metres from every source to every target within ``cutoff_m``.

    Parameters
    ----------
    net
        The walking network the points were snapped to.
    sources, targets
        Snapped points (rows and columns of the result are their positions,
        ``0..len-1``; ``Snapped.index`` maps back to input rows).
    cutoff_m
        Longest walk kept, metres, including both off-network legs.
    workers
        Threads that split the sources (the compiled kernels release the GIL); default:
        the cores this process may use (CPU affinity and cgroup quota). The result does
        not depend on it. For a Dask cluster see
        :func:`siting.distributed.walking_reach_dask`.

    Returns
    -------
    Reach
        Sparse ``len(sources) x len(targets)``; a pair is present iff its walk is
        ``<= cutoff_m``.

    See Also
    --------
    siting.reach_totals.reach_totals : per-source sums without keeping the pairs.
    siting.distributed.walking_reach_dask : the same on a Dask cluster.

    Examples
    --------
    A straight street of two 100 m edges; a source 5 m off it at 10 m along, a target
    on it at 150 m:

    >>> import numpy as np, shapely
    >>> from siting.network import StreetNetwork
    >>> net = StreetNetwork(
    ...     crs="EPSG:32635", x=np.array([0.0, 100.0, 200.0]), y=np.zeros(3),
    ...     edge_u=np.array([0, 1]), edge_v=np.array([1, 2]),
    ...     edge_length_m=np.array([100.0, 100.0]), edge_offsets=np.array([0, 2, 4]),
    ...     edge_coords=np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 0.0], [200.0, 0.0]]))
    >>> src = net.snap(shapely.points([10.0], [5.0]))
    >>> tgt = net.snap(shapely.points([150.0], [0.0]))
    >>> walking_reach(net, src, tgt, cutoff_m=200.0).to_csr().toarray()
    array([[145.]])
    >>> walking_reach(net, src, tgt, cutoff_m=100.0).nnz
    0
    >>> walking_reach(net, src, net.snap([]), cutoff_m=100.0).shape
    (1, 0)
    """
    cutoff = _check_cutoff(cutoff_m)
    workers = _check_workers(workers)
    _check(net, sources, "sources")
    _check(net, targets, "targets")
    ns, nt = len(sources), len(targets)
    if ns == 0 or nt == 0:
        return Reach(ns, nt, cutoff, np.zeros(ns + 1, np.int64), np.zeros(0, np.int64), np.zeros(0))
    rt, chain, pos, leg = _prepare(net, sources)
    ti = _TargetIndex.build(rt, targets)

    def run(a: int, b: int, ws: dict[str, Any]) -> _Chunk:
        return _target_rows(rt, ti, cutoff, chain[a:b], pos[a:b], leg[a:b], ws)

    indptr, target, metres = _run_chunks(ns, run, lambda: _workspace(rt.n_nodes, nt), workers)
    log.debug("walking reach: %d sources x %d targets, %d pairs within %.0f m", ns, nt, target.size, cutoff)
    return Reach(ns, nt, cutoff, indptr, target, metres)


def walking_reach_layers(
    net: StreetNetwork,
    sources: Snapped,
    layers: Sequence[Snapped],
    *,
    cutoffs_m: Sequence[float],
    workers: int | None = None,
) -> list[Reach]:
    """:func:`walking_reach` to several target layers with one search per source.

    The search runs to the largest cutoff and every layer keeps its own; the result is
    what separate calls give, for the price of one search (the search, not the number of
    targets, is most of the cost: incidents and services from 5,000 candidates cost
    nearly twice as much as separate calls).

    >>> import numpy as np, shapely
    >>> from siting.network import StreetNetwork
    >>> net = StreetNetwork(
    ...     crs="EPSG:32635", x=np.array([0.0, 100.0, 200.0]), y=np.zeros(3),
    ...     edge_u=np.array([0, 1]), edge_v=np.array([1, 2]),
    ...     edge_length_m=np.array([100.0, 100.0]), edge_offsets=np.array([0, 2, 4]),
    ...     edge_coords=np.array([[0.0, 0.0], [100.0, 0.0], [100.0, 0.0], [200.0, 0.0]]))
    >>> src = net.snap(shapely.points([10.0], [5.0]))
    >>> a, b = net.snap(shapely.points([150.0], [0.0])), net.snap(shapely.points([20.0, 190.0], [0.0, 0.0]))
    >>> ra, rb = walking_reach_layers(net, src, [a, b], cutoffs_m=[200.0, 100.0])
    >>> ra.to_csr().toarray(), rb.to_csr().toarray()
    (array([[145.]]), array([[15.,  0.]]))
    """
    if len(layers) != len(cutoffs_m):
        msg = "give one cutoff per target layer"
        raise InputError(msg)
    cuts = [_check_cutoff(c) for c in cutoffs_m]
    workers = _check_workers(workers)
    _check(net, sources, "sources")
    for t in layers:
        _check(net, t, "targets")
    ns = len(sources)
    sizes = np.array([len(t) for t in layers], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    nt = int(starts[-1])
    if ns == 0 or nt == 0 or not layers:
        return [
            Reach(ns, int(k), c, np.zeros(ns + 1, np.int64), np.zeros(0, np.int64), np.zeros(0))
            for k, c in zip(sizes, cuts, strict=True)
        ]
    cutoff = max(cuts)
    rt, chain, pos, leg = _prepare(net, sources)
    t_chain, t_pos = rt.locate(_joined(layers))
    t_leg = np.concatenate([t.leg_m for t in layers]).astype(np.float64)
    ti = _TargetIndex.from_located(rt, t_chain, t_pos, t_leg)
    cut_arr = np.asarray(cuts)

    def run(a: int, b: int, ws: dict[str, Any]) -> list[_Chunk]:
        counts, target, metres = _target_rows(rt, ti, cutoff, chain[a:b], pos[a:b], leg[a:b], ws)
        layer = np.searchsorted(starts, target, side="right") - 1
        row = np.repeat(np.arange(b - a), counts)
        keep = metres <= cut_arr[layer]
        out = []
        for k in range(len(layers)):
            m = keep & (layer == k)
            out.append((np.bincount(row[m], minlength=b - a), target[m] - starts[k], metres[m]))
        return out

    per_layer = _run_chunks_multi(ns, run, lambda: _workspace(rt.n_nodes, nt), workers, len(layers))
    return [Reach(ns, int(sizes[k]), cuts[k], *per_layer[k]) for k in range(len(layers))]


def _joined(layers: Sequence[Snapped]) -> Snapped:
    """Several snapped layers as one (positions one after the other)."""
    from .network import Snapped

    n = int(sum(len(t) for t in layers))
    return Snapped(
        np.arange(n, dtype=np.int64),
        np.concatenate([t.edge for t in layers]).astype(np.int64),
        np.concatenate([t.offset_m for t in layers]).astype(np.float64),
        np.concatenate([t.leg_m for t in layers]).astype(np.float64),
        np.zeros(0, np.int64),
        n,
    )


def _run_chunks_multi(
    n_sources: int,
    run: Callable[[int, int, dict[str, Any]], list[_Chunk]],
    workspace: Callable[[], dict[str, Any]],
    workers: int,
    n_layers: int,
) -> list[tuple[I64, I64, F64]]:
    """:func:`_run_chunks` for a ``run`` that returns one chunk per target layer."""
    results = _map_chunks(n_sources, run, workspace, workers)
    out = []
    for k in range(n_layers):
        parts = [chunks[k] for chunks in results]
        for chunks in results:
            chunks[k] = None  # _concat_rows frees each part as it copies it
        out.append(_concat_rows(n_sources, parts))
    return out


def node_reach(
    net: StreetNetwork,
    sources: Snapped,
    cutoff_m: float,
    *,
    workers: int | None = None,
) -> Reach:
    """Network nodes reached from every source within ``cutoff_m`` and their metres.

    The metres include the source's off-network leg. Columns are node ids
    (``n_targets == net.n_nodes``).
    """
    cutoff = _check_cutoff(cutoff_m)
    workers = _check_workers(workers)
    _check(net, sources, "sources")
    ns, n_nodes = len(sources), net.n_nodes
    if ns == 0:
        return Reach(0, n_nodes, cutoff, np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0))
    rt, chain, pos, leg = _prepare(net, sources)

    def run(a: int, b: int, ws: dict[str, Any]) -> _Chunk:
        return _node_rows(rt, cutoff, chain[a:b], pos[a:b], leg[a:b], ws)

    indptr, nodes, metres = _run_chunks(ns, run, lambda: _workspace(n_nodes, 0), workers)
    return Reach(ns, n_nodes, cutoff, indptr, nodes, metres)
