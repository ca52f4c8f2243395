"""Walking reach on a Dask cluster: per-source work spread over workers.

The sources of a reach are independent, so they are cut into tasks of
``sources_per_task`` sources. The network's junction graph (plain arrays, see
:class:`siting._routing._Routing`) is scattered to every worker once per client and reused
by later calls; the target index is scattered once per call.

For a network too big to copy to every worker (a state), give ``tile_m``: sources are
grouped by square tiles of that size, and each tile's tasks get only the part of the
network within ``cutoff_m`` of the tile's sources (plus one edge beyond), and only the
targets on it. A walk of at most ``cutoff_m`` never leaves that part (a walk along a
street is never shorter than the straight line), so results are still identical; no
worker holds more than its tiles' share. Rows come back in source
order, so the result is identical to :func:`siting.reach.walking_reach` run locally.

On one machine threads are enough (``walking_reach(..., workers=N)``: the compiled
kernels release the GIL); this module is for clusters, and it runs unchanged on a
``dask.distributed.LocalCluster`` in tests.

Example (a scheduler started with ``dask scheduler`` and workers with
``dask worker tcp://HOST:8786``)::

    from dask.distributed import Client
    from siting.distributed import walking_reach_dask

    with Client("tcp://HOST:8786") as client:
        reach = walking_reach_dask(client, net, sources, targets, cutoff_m=800.0)
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import InputError, MissingDependencyError
from ._routing import _Routing, _TargetIndex
from .reach import Reach, _check, _check_cutoff, _concat_rows, _node_rows, _prepare, _target_rows

if TYPE_CHECKING:
    import numpy.typing as npt

    from .network import Snapped, StreetNetwork

    I64 = npt.NDArray[np.int64]

log = logging.getLogger(__name__)

__all__ = ["node_reach_dask", "walking_reach_dask"]

# routing futures already on a client's workers: network -> {client id: future}
_SENT: weakref.WeakKeyDictionary[StreetNetwork, dict[str, Any]] = weakref.WeakKeyDictionary()
_SENT_LOCK = threading.Lock()


def _require_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        msg = "running on a Dask cluster needs dask.distributed: pip install 'siting[dask]'"
        raise MissingDependencyError(msg) from exc


def _routing_future(client: Any, net: StreetNetwork, rt: _Routing) -> Any:
    """The network's junction graph on every worker, sent once per client."""
    with _SENT_LOCK:
        per_client = _SENT.setdefault(net, {})
        fut = per_client.get(client.id)
        if fut is None or fut.status != "finished":
            fut = client.scatter(rt, broadcast=True, hash=False)
            per_client[client.id] = fut
            log.debug("sent the junction graph of %r to the cluster", net)
        return fut


def _bounds(n: int, per_task: int) -> list[tuple[int, int]]:
    if not (isinstance(per_task, int | np.integer) and per_task >= 1):
        msg = f"`sources_per_task` must be an integer >= 1, got {per_task!r}"
        raise InputError(msg)
    return [(a, min(a + int(per_task), n)) for a in range(0, n, int(per_task))]


def walking_reach_dask(
    client: Any,
    net: StreetNetwork,
    sources: Snapped,
    targets: Snapped,
    *,
    cutoff_m: float,
    sources_per_task: int = 1000,
    tile_m: float | None = None,
) -> Reach:
    """:func:`siting.reach.walking_reach` with the sources spread over a Dask cluster.

    Parameters
    ----------
    client
        A ``dask.distributed.Client``.
    net, sources, targets, cutoff_m
        As for :func:`siting.reach.walking_reach`; the result is identical.
    sources_per_task
        Sources per Dask task (each task searches them one after another).
    tile_m
        Send each task only the network around its tile of this size (metres) instead
        of the whole network to every worker (see the module doc).
    """
    _require_dask()
    cutoff = _check_cutoff(cutoff_m)
    _check(net, sources, "sources")
    _check(net, targets, "targets")
    ns, nt = len(sources), len(targets)
    bounds = _bounds(ns, sources_per_task)
    if ns == 0 or nt == 0:
        return Reach(ns, nt, cutoff, np.zeros(ns + 1, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if tile_m is not None:
        return _tiled(client, net, sources, targets, cutoff, int(sources_per_task), tile_m)
    rt, chain, pos, leg = _prepare(net, sources)
    rt_f = _routing_future(client, net, rt)
    ti_f = client.scatter(_TargetIndex.build(rt, targets), broadcast=True, hash=False)
    futures = [
        client.submit(_target_rows, rt_f, ti_f, cutoff, chain[a:b], pos[a:b], leg[a:b], pure=False)
        for a, b in bounds
    ]
    parts = list(client.gather(futures))
    del futures
    indptr, target, metres = _concat_rows(ns, parts)
    return Reach(ns, nt, cutoff, indptr, target, metres)


def node_reach_dask(
    client: Any,
    net: StreetNetwork,
    sources: Snapped,
    cutoff_m: float,
    *,
    sources_per_task: int = 1000,
    tile_m: float | None = None,
) -> Reach:
    """:func:`siting.reach.node_reach` with the sources spread over a Dask cluster
    (``sources_per_task`` and ``tile_m`` as for :func:`walking_reach_dask`)."""
    _require_dask()
    cutoff = _check_cutoff(cutoff_m)
    _check(net, sources, "sources")
    ns = len(sources)
    bounds = _bounds(ns, sources_per_task)
    if ns == 0:
        return Reach(0, net.n_nodes, cutoff, np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if tile_m is not None:
        return _tiled(client, net, sources, None, cutoff, int(sources_per_task), tile_m)
    rt, chain, pos, leg = _prepare(net, sources)
    rt_f = _routing_future(client, net, rt)
    futures = [
        client.submit(_node_rows, rt_f, cutoff, chain[a:b], pos[a:b], leg[a:b], pure=False) for a, b in bounds
    ]
    parts = list(client.gather(futures))
    del futures
    indptr, nodes, metres = _concat_rows(ns, parts)
    return Reach(ns, net.n_nodes, cutoff, indptr, nodes, metres)


# ======================================================================== tiling
def _sub_routing(rt: _Routing, chains: I64) -> tuple[_Routing, I64]:
    """The junction graph restricted to ``chains`` (sorted global chain ids).

    Arc lengths and positions are the global ones, so every walk is computed with the
    same floating-point sums as on the whole network. Returns the sub-graph and, per
    local node id (in increasing global id order), its global node id.
    """
    ca, cb = rt.ch_a[chains], rt.ch_b[chains]
    jn = np.unique(np.concatenate([ca, cb]))  # global internal ids of kept junctions
    lens = np.diff(rt.cn_ptr)[chains]
    starts = rt.cn_ptr[:-1][chains]
    cn_ptr = np.zeros(chains.size + 1, dtype=np.int64)
    np.cumsum(lens, out=cn_ptr[1:])
    take = np.repeat(starts - cn_ptr[:-1], lens) + np.arange(int(cn_ptr[-1]))
    inner = rt.cn_node[take]  # global internal ids of kept inner nodes
    nj, n = jn.size, jn.size + inner.size
    # local internal ids: kept junctions, then kept inner nodes chain by chain
    glob_orig = rt.node_orig[np.concatenate([jn, inner])]
    order = np.argsort(glob_orig, kind="stable")
    local_orig = np.empty(n, dtype=np.int64)  # local internal -> local "original" (ranked)
    local_orig[order] = np.arange(n)
    node_int = np.empty(n, dtype=np.int64)
    node_int[local_orig] = np.arange(n)
    la, lb = np.searchsorted(jn, ca), np.searchsorted(jn, cb)
    nch = chains.size
    tail = np.concatenate([la, lb])
    arc_order = np.argsort(tail, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    ch_len = rt.ch_len[chains]
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0, np.float64)
    sub = _Routing(
        n,
        node_int,
        local_orig,
        empty_i,
        empty_f,
        np.zeros(0, bool),
        la,
        lb,
        ch_len,
        cn_ptr,
        nj + np.arange(inner.size, dtype=np.int64),
        rt.cn_pos[take],
        indptr,
        np.concatenate([lb, la])[arc_order],
        np.concatenate([ch_len, ch_len])[arc_order],
        np.concatenate([np.arange(nch), np.arange(nch)]).astype(np.int64)[arc_order],
        np.concatenate([np.ones(nch, bool), np.zeros(nch, bool)])[arc_order],
    )
    return sub, glob_orig[order]


def _tile_rows(
    sub: _Routing,
    tgt: tuple[I64, npt.NDArray[np.float64], npt.NDArray[np.float64]] | None,
    cutoff: float,
    chain: I64,
    pos: npt.NDArray[np.float64],
    leg: npt.NDArray[np.float64],
) -> tuple[I64, I64, npt.NDArray[np.float64]]:
    """Rows for one task of one tile, in the tile's own node / target numbering."""
    if tgt is None:
        return _node_rows(sub, cutoff, chain, pos, leg)
    return _target_rows(sub, _TargetIndex.from_located(sub, *tgt), cutoff, chain, pos, leg)


def _tiled(
    client: Any,
    net: StreetNetwork,
    sources: Snapped,
    targets: Snapped | None,
    cutoff: float,
    per_task: int,
    tile_m: float,
) -> Reach:
    import shapely

    if not (np.isfinite(tile_m) and tile_m > 0):
        msg = f"`tile_m` must be a positive number of metres, got {tile_m!r}"
        raise InputError(msg)
    geoms = net.edge_geometries()
    if not np.allclose(shapely.length(geoms), net.edge_length_m, rtol=1e-9, atol=1e-6):
        msg = (
            "`tile_m` needs edge lengths equal to the length of their geometry (a walk is then "
            "never shorter than the straight line); this network's differ: run without `tile_m`"
        )
        raise InputError(msg)
    ns = len(sources)
    rt, s_chain, s_pos, s_leg = _prepare(net, sources)
    if targets is not None:
        t_chain, t_pos = rt.locate(targets)
        t_leg = targets.leg_m.astype(np.float64)
    xy = shapely.get_coordinates(shapely.line_interpolate_point(geoms[sources.edge], sources.offset_m))
    keys, tile_of = np.unique(np.floor(xy / tile_m).astype(np.int64), axis=0, return_inverse=True)
    tile_of = tile_of.reshape(-1)
    # junction coordinates, by global internal id
    jx, jy = net.x[rt.node_orig], net.y[rt.node_orig]
    n_targets = net.n_nodes if targets is None else len(targets)
    jobs = []  # (global source rows, global column ids, future)
    for k in range(len(keys)):
        rows = np.flatnonzero(tile_of == k)
        lo = xy[rows].min(axis=0) - cutoff
        hi = xy[rows].max(axis=0) + cutoff
        inside = (jx >= lo[0]) & (jx <= hi[0]) & (jy >= lo[1]) & (jy <= hi[1])
        # a walk within the cutoff stays in the box: keep every chain with an end in it,
        # and the sources' own chains
        keep = inside[rt.ch_a] | inside[rt.ch_b]
        keep[s_chain[rows]] = True
        chains = np.flatnonzero(keep)
        sub, cols_nodes = _sub_routing(rt, chains)
        local_chain = np.cumsum(keep) - 1
        if targets is None:
            cols, tgt = cols_nodes, None
        else:
            cols = np.flatnonzero(keep[t_chain])
            tgt = (local_chain[t_chain[cols]], t_pos[cols], t_leg[cols])
        # one scatter per tile: its part of the network goes to one worker, not to all
        sub_f, tgt_f = client.scatter([sub, tgt], hash=False)
        for a in range(0, rows.size, per_task):
            r = rows[a : a + per_task]
            fut = client.submit(
                _tile_rows, sub_f, tgt_f, cutoff, local_chain[s_chain[r]], s_pos[r], s_leg[r], pure=False
            )
            jobs.append((r, cols, fut))
    log.debug("tiled reach: %d tiles, %d tasks", len(keys), len(jobs))
    parts = client.gather([j[2] for j in jobs])
    # local columns back to global ids (both increasing, so rows stay sorted), rows back
    # to source order
    src_of = np.concatenate([j[0] for j in jobs])
    counts = np.concatenate([p[0] for p in parts])
    col = np.concatenate([j[1][p[1]] for j, p in zip(jobs, parts, strict=True)])
    val = np.concatenate([p[2] for p in parts])
    del parts, jobs
    start = np.cumsum(counts) - counts
    order = np.argsort(src_of, kind="stable")
    indptr = np.zeros(ns + 1, dtype=np.int64)
    np.cumsum(counts[order], out=indptr[1:])
    take = np.repeat(start[order] - indptr[:-1], counts[order]) + np.arange(int(indptr[-1]))
    return Reach(ns, n_targets, cutoff, indptr, col[take], val[take])
