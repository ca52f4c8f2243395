"""Walking reach on a Dask cluster: per-source work spread over workers.

The sources of a reach are independent, so they are cut into tasks of
``sources_per_task`` sources. The network's junction graph (plain arrays, see
:class:`siting.reach._Routing`) is scattered to every worker once per client and reused
by later calls; the target index is scattered once per call. Rows come back in source
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

from ._errors import MissingDependencyError
from .reach import (
    Reach,
    _check,
    _check_cutoff,
    _concat_rows,
    _node_rows,
    _prepare,
    _Routing,
    _target_rows,
    _TargetIndex,
)

if TYPE_CHECKING:
    from .network import Snapped, StreetNetwork

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
        from ._errors import InputError

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
    """
    _require_dask()
    cutoff = _check_cutoff(cutoff_m)
    _check(net, sources, "sources")
    _check(net, targets, "targets")
    ns, nt = len(sources), len(targets)
    bounds = _bounds(ns, sources_per_task)
    if ns == 0 or nt == 0:
        return Reach(ns, nt, cutoff, np.zeros(ns + 1, np.int64), np.zeros(0, np.int64), np.zeros(0))
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
) -> Reach:
    """:func:`siting.reach.node_reach` with the sources spread over a Dask cluster."""
    _require_dask()
    cutoff = _check_cutoff(cutoff_m)
    _check(net, sources, "sources")
    ns = len(sources)
    bounds = _bounds(ns, sources_per_task)
    if ns == 0:
        return Reach(0, net.n_nodes, cutoff, np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0))
    rt, chain, pos, leg = _prepare(net, sources)
    rt_f = _routing_future(client, net, rt)
    futures = [
        client.submit(_node_rows, rt_f, cutoff, chain[a:b], pos[a:b], leg[a:b], pure=False)
        for a, b in bounds
    ]
    parts = list(client.gather(futures))
    del futures
    indptr, nodes, metres = _concat_rows(ns, parts)
    return Reach(ns, net.n_nodes, cutoff, indptr, nodes, metres)
