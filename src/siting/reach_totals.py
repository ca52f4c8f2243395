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

from . import _dijkstra, _reach_sums, reach
from ._errors import InputError
from ._routing import _TargetIndex
from .reach import _check, _check_cutoff, _check_workers, _prepare, _workspace

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .network import Snapped, StreetNetwork

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

__all__ = ["Channel", "ReachSums", "ReachTotals", "reach_sums", "reach_totals"]


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


#: what a channel of :func:`reach_sums` adds up per target within reach
CHANNEL_KINDS = {
    "weight": _reach_sums.KIND_WEIGHT,
    "access": _reach_sums.KIND_ACCESS,
    "metres": _reach_sums.KIND_METRES,
}


@dataclass(frozen=True, eq=False)
class Channel:
    """One sum per source over a target layer's targets within its cutoff.

    ``kind``: ``"weight"`` sums ``weights``; ``"access"`` sums ``weights x clip(1 - t / T,
    0, 1)`` for a walk of ``t`` metres and ``T = access_m``; ``"metres"`` sums the walks.
    """

    layer: int
    kind: str = "weight"
    weights: npt.ArrayLike | None = None
    access_m: float = 0.0


@dataclass(frozen=True, eq=False)
class ReachSums:
    """Per source: ``count`` and ``nearest_m`` (``inf``: none) per target layer, shape
    ``(n_sources, n_layers)``, and ``sums`` per channel, ``(n_sources, n_channels)``."""

    count: I64
    nearest_m: F64
    sums: F64


def reach_sums(
    net: StreetNetwork,
    sources: Snapped,
    layers: Sequence[Snapped],
    *,
    cutoffs_m: Sequence[float],
    channels: Sequence[Channel] = (),
    workers: int | None = None,
) -> ReachSums:
    """Per-source totals over several target layers, by one search per source.

    What :func:`siting.reach.walking_reach_layers` finds, summed in the kernel instead of
    kept as pairs: per layer the number of targets within its cutoff and the nearest
    one's walk, and per :class:`Channel` a sum over them. Every sum is the one
    ``np.add.reduceat`` makes over that source's row of the pairs' CSR matrix (the
    entries in target order), so it equals the sum computed from the pairs to the last
    bit; results do not depend on ``workers``.
    """
    if len(layers) != len(cutoffs_m):
        msg = "give one cutoff per target layer"
        raise InputError(msg)
    cuts = np.asarray([_check_cutoff(c) for c in cutoffs_m], dtype=np.float64)
    workers = _check_workers(workers)
    _check(net, sources, "sources")
    for t in layers:
        _check(net, t, "targets")
    ns, nl, nq = len(sources), len(layers), len(channels)
    sizes = np.array([len(t) for t in layers], dtype=np.int64)
    lay_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    for q, ch in enumerate(channels):
        if not 0 <= ch.layer < nl or ch.kind not in CHANNEL_KINDS:
            msg = f"channel {q}: layer must be 0..{nl - 1} and kind one of {', '.join(CHANNEL_KINDS)}"
            raise InputError(msg)
    # channels grouped by layer; each target's channel weights side by side
    by_layer = sorted(range(nq), key=lambda q: channels[q].layer)
    ch_ptr = np.zeros(nl + 1, np.int64)
    np.cumsum(np.bincount([c.layer for c in channels], minlength=nl), out=ch_ptr[1:])
    ch_kind = np.zeros(nq, np.int64)
    ch_t = np.ones(nq, np.float64)
    ch_w = np.zeros((int(lay_start[-1]), nq))
    for col, q in enumerate(by_layer):
        ch = channels[q]
        k = int(sizes[ch.layer])
        w = np.ones(k) if ch.weights is None else np.asarray(ch.weights, dtype=np.float64).ravel()
        if w.size != k:
            msg = f"channel {q}: `weights` must be {k} numbers (one per target of its layer), got {w.size}"
            raise InputError(msg)
        ch_kind[col] = CHANNEL_KINDS[ch.kind]
        if ch.kind == "access":
            ch_t[col] = _check_cutoff(ch.access_m)
        ch_w[lay_start[ch.layer] : lay_start[ch.layer + 1], col] = w
    count = np.zeros((ns, nl), np.int64)
    nearest = np.full((ns, nl), np.inf)
    sums = np.zeros((ns, nq))
    nt = int(lay_start[-1])
    if ns == 0 or nt == 0:
        return ReachSums(count, nearest, sums)
    rt, chain, pos, leg = _prepare(net, sources)
    t_chain, t_pos = rt.locate(reach._joined(layers))
    t_leg = np.concatenate([t.leg_m for t in layers]).astype(np.float64)
    ti = _TargetIndex.from_located(rt, t_chain, t_pos, t_leg)
    tc_chain = t_chain[ti.t_orig]
    # the distances target_chunk adds to each end's junction (see _TargetIndex)
    add_a = ti.tc_pos + ti.tc_leg
    add_b = (rt.ch_len[tc_chain] - ti.tc_pos) + ti.tc_leg
    ch_w = np.ascontiguousarray(ch_w[ti.t_orig])  # by internal target id, like the walks
    jc_ptr, jc_chain, jc_isa = _chains_with_targets(rt, ti)
    leaf, s_indptr, s_indices, s_arc_w = _without_dead_ends(rt)
    # sources near each other one after another: their searches share cache lines
    order = np.argsort(rt.ch_a[chain], kind="stable")
    chain, pos, leg = chain[order], pos[order], leg[order]

    def run(a: int, b: int, ws: dict[str, Any]) -> tuple[Any, ...]:
        seed_ptr, seed_node, seed_dist = rt.seeds(chain[a:b], pos[a:b], leg[a:b])
        return _reach_sums.sums_chunk(  # type: ignore[no-any-return]
            s_indptr,
            s_indices,
            s_arc_w,
            jc_ptr,
            jc_chain,
            jc_isa,
            rt.ch_a,
            rt.ch_b,
            rt.ch_len,
            leaf,
            seed_ptr,
            seed_node,
            seed_dist,
            chain[a:b],
            pos[a:b],
            leg[a:b],
            ti.tc_ptr,
            ti.tc_pos,
            ti.tc_leg,
            add_a,
            add_b,
            ti.t_orig,
            lay_start,
            cuts,
            ch_ptr,
            ch_kind,
            ch_t,
            ch_w,
            ws["dist"],
            ws["touched"],
            ws["tseen"],
        )

    parts = reach._map_chunks(ns, run, lambda: _workspace(rt.n_nodes, nt), workers)
    count[order] = np.concatenate([p[0] for p in parts])
    nearest[order] = np.concatenate([p[1] for p in parts])
    sums[np.ix_(order, by_layer)] = np.concatenate([p[2] for p in parts])
    return ReachSums(count, nearest, sums)


def _chains_with_targets(rt: Any, ti: _TargetIndex) -> tuple[I64, I64, npt.NDArray[np.bool_]]:
    """Per junction (CSR), the chains ending there that hold targets, and whether the
    junction is their ``a`` end."""
    full = np.flatnonzero(np.diff(ti.tc_ptr) > 0)
    node = np.concatenate([rt.ch_a[full], rt.ch_b[full]])
    chain = np.concatenate([full, full])
    isa = np.concatenate([np.ones(full.size, bool), np.zeros(full.size, bool)])
    order = np.argsort(node, kind="stable")
    ptr = np.zeros(rt.n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(node, minlength=rt.n_nodes), out=ptr[1:])
    return ptr, chain[order].astype(np.int64), isa[order]


def _without_dead_ends(rt: Any) -> tuple[npt.NDArray[np.bool_], I64, I64, F64]:
    """The junction graph without its arcs into dead ends (junctions with one arc): a
    walk never passes through a dead end, so the search need not visit them; the
    kernel gives a dead end its distance from its chain's other end when it needs it."""
    deg = np.diff(rt.indptr)
    leaf = deg == 1
    keep = ~leaf[rt.indices]
    tail = np.repeat(np.arange(rt.n_nodes, dtype=np.int64), deg)
    indptr = np.zeros(rt.n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail[keep], minlength=rt.n_nodes), out=indptr[1:])
    return leaf, indptr, rt.indices[keep], rt.arc_w[keep]
