"""Per source: the count, weight and weighted walk of the targets within a cutoff.

The same walks as :func:`siting.reach.walking_reach`, summed as they run, so the
(source, target) pairs are never kept: memory stays linear in sources at county size.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from . import _dijkstra, reach
from ._errors import InputError
from ._routing import _TargetIndex
from .reach import _check, _check_cutoff, _check_workers, _prepare, _workspace

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .network import Snapped, StreetNetwork

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

__all__ = ["ReachTotals", "reach_totals"]


@dataclass(frozen=True, eq=False)
class ReachTotals:
    """Per-source sums over the targets within each cutoff, without the pairs.

    Arrays ``count``, ``weight`` and ``weighted_metres`` have shape
    ``(n_sources, len(cutoffs_m))``; ``nearest_m`` is the nearest target's walk within
    the largest cutoff (``inf`` when none). Memory grows with the sources, not with the
    number of (source, target) pairs.
    """

    cutoffs_m: F64
    count: I64
    weight: F64
    weighted_metres: F64
    nearest_m: F64

    def mean_metres(self) -> F64:
        """Weighted mean walk of the targets within each cutoff (``nan`` where none)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.weight > 0, self.weighted_metres / self.weight, np.nan)


def reach_totals(
    net: StreetNetwork,
    sources: Snapped,
    targets: Snapped,
    *,
    cutoffs_m: Sequence[float],
    weights: npt.ArrayLike | None = None,
    workers: int | None = None,
) -> ReachTotals:
    """Count, weight and weighted walk of the targets within each cutoff, per source.

    The same walks as :func:`siting.reach.walking_reach` (one search per source, to the largest
    cutoff), summed in the kernel instead of kept as pairs, so memory stays bounded
    however many targets there are. ``weights`` align with ``targets`` (default 1).
    """
    cuts = np.asarray(sorted(_check_cutoff(c) for c in cutoffs_m), dtype=np.float64)
    if cuts.size == 0:
        msg = "`cutoffs_m` must hold at least one cutoff"
        raise InputError(msg)
    order = np.argsort(np.asarray([float(c) for c in cutoffs_m]), kind="stable")
    workers = _check_workers(workers)
    _check(net, sources, "sources")
    _check(net, targets, "targets")
    ns, nt, nc = len(sources), len(targets), cuts.size
    w = np.ones(nt) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if w.size != nt or not np.all(np.isfinite(w)):
        msg = f"`weights` must be {nt} finite numbers (one per kept target), got {w.size}"
        raise InputError(msg)
    if ns == 0 or nt == 0:
        z = np.zeros((ns, nc))
        return ReachTotals(
            np.asarray(cutoffs_m, dtype=np.float64), z.astype(np.int64), z, z.copy(), np.full(ns, np.inf)
        )
    rt, chain, pos, leg = _prepare(net, sources)
    ti = _TargetIndex.build(rt, targets)
    bounds = [(a, min(a + reach._CHUNK, ns)) for a in range(0, ns, reach._CHUNK)]

    def run(ab: tuple[int, int], ws: dict[str, Any]) -> tuple[Any, ...]:
        a, b = ab
        seed_ptr, seed_node, seed_dist = rt.seeds(chain[a:b], pos[a:b], leg[a:b])
        return _dijkstra.totals_chunk(  # type: ignore[no-any-return]
            rt.indptr,
            rt.indices,
            rt.arc_w,
            seed_ptr,
            seed_node,
            seed_dist,
            chain[a:b],
            pos[a:b],
            leg[a:b],
            ti.tn_ptr,
            ti.tn_target,
            ti.tn_add,
            ti.tc_ptr,
            ti.tc_target,
            ti.tc_pos,
            ti.tc_leg,
            ti.t_orig,
            w,
            cuts,
            ws["dist"],
            ws["touched"],
            ws["best"],
            ws["tseen"],
        )

    if workers == 1 or len(bounds) <= 1:
        ws = _workspace(rt.n_nodes, nt)
        parts = [run(ab, ws) for ab in bounds]
    else:
        local = threading.local()

        def task(ab: tuple[int, int]) -> tuple[Any, ...]:
            ws = getattr(local, "ws", None)
            if ws is None:
                ws = local.ws = _workspace(rt.n_nodes, nt)
            return run(ab, ws)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="siting-reach") as pool:
            parts = list(pool.map(task, bounds))
    # back to the caller's order of cutoffs
    inv = np.empty_like(order)
    inv[order] = np.arange(order.size)
    count, wsum, wmet, nearest = (np.concatenate([p[i] for p in parts]) for i in range(4))
    return ReachTotals(
        np.asarray([float(c) for c in cutoffs_m]), count[:, inv], wsum[:, inv], wmet[:, inv], nearest
    )

