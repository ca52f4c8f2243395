"""Per source: counts, nearest walks and weighted sums over several target layers.

What :func:`siting.reach.walking_reach_layers` finds, summed inside the walks instead of
kept as (source, target) pairs: ``siting score`` needs per candidate only totals (incidents
and their weight within reach, the walking discount, the walks, demand in hotspots,
services and the nearest one, extra layers), and a county has millions of pairs. Every sum
is the one ``np.add.reduceat`` makes over that source's row of the pairs' CSR matrix (the
entries in target order), so it equals the sum computed from the pairs to the last bit;
results do not depend on the number of threads. The kernel is :mod:`siting._reach_sums`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from . import _reach_sums, reach
from ._errors import InputError
from ._routing import _Routing, _TargetIndex
from .reach import _check, _check_cutoff, _check_workers, _prepare, _workspace

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .network import Snapped, StreetNetwork

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

__all__ = ["Channel", "ReachSums", "SumsIndex", "reach_sums"]

#: what a channel adds up per target within reach
CHANNEL_KINDS = {
    "weight": _reach_sums.KIND_WEIGHT,
    "access": _reach_sums.KIND_ACCESS,
    "metres": _reach_sums.KIND_METRES,
}


@dataclass(frozen=True, eq=False)
class Channel:
    """One sum per source over a target layer's targets within its cutoff.

    ``kind``: ``"weight"`` sums ``weights`` (default 1 each); ``"access"`` sums ``weights x
    clip(1 - t / T, 0, 1)`` for a walk of ``t`` metres and ``T = access_m``; ``"metres"``
    sums the walks.
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


@dataclass(frozen=True, eq=False)
class SumsIndex:
    """Everything :func:`reach_sums` needs that does not depend on the channels: the
    junction graph, the sources in the order they are searched and the targets placed on
    it. Build it ahead (``siting score`` does, while the hotspots are found)."""

    rt: _Routing
    n_sources: int
    sizes: I64
    #: sources in search order (Morton order of their chain: neighbours share cache lines)
    order: I64
    chain: I64
    pos: F64
    leg: F64
    ti: _TargetIndex
    #: per internal target, the walk added to its chain's a / b end (as _TargetIndex's)
    add_a: F64
    add_b: F64
    #: per junction (CSR): chains ending there that hold targets, and whether it is their a end
    jc_ptr: I64
    jc_chain: I64
    jc_isa: npt.NDArray[np.bool_]

    @classmethod
    def build(cls, net: StreetNetwork, sources: Snapped, layers: Sequence[Snapped]) -> SumsIndex:
        _check(net, sources, "sources")
        for t in layers:
            _check(net, t, "targets")
        rt, chain, pos, leg = _prepare(net, sources)
        rt.search_graph()  # built now, not in the first search
        sizes = np.array([len(t) for t in layers], dtype=np.int64)
        if layers:
            t_chain, t_pos = rt.locate(reach._joined(layers))
            t_leg = np.concatenate([t.leg_m for t in layers]).astype(np.float64)
        else:
            t_chain, t_pos, t_leg = np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        ti = _TargetIndex.from_located(rt, t_chain, t_pos, t_leg)
        tc_chain = t_chain[ti.t_orig]
        order = np.argsort(rt.ch_a[chain], kind="stable")
        full = np.flatnonzero(np.diff(ti.tc_ptr) > 0)
        node = np.concatenate([rt.ch_a[full], rt.ch_b[full]])
        jc_order = np.argsort(node, kind="stable")
        jc_ptr = np.zeros(rt.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(node, minlength=rt.n_nodes), out=jc_ptr[1:])
        return cls(
            rt,
            len(sources),
            sizes,
            order,
            chain[order],
            pos[order],
            leg[order],
            ti,
            ti.tc_pos + ti.tc_leg,
            (rt.ch_len[tc_chain] - ti.tc_pos) + ti.tc_leg,
            jc_ptr,
            np.concatenate([full, full]).astype(np.int64)[jc_order],
            np.concatenate([np.ones(full.size, bool), np.zeros(full.size, bool)])[jc_order],
        )


def reach_sums(
    net: StreetNetwork,
    sources: Snapped,
    layers: Sequence[Snapped],
    *,
    cutoffs_m: Sequence[float],
    channels: Sequence[Channel] = (),
    workers: int | None = None,
    index: SumsIndex | None = None,
) -> ReachSums:
    """Per-source totals over several target layers, by one search per source.

    Per layer: the number of targets within its cutoff and the nearest one's walk; per
    :class:`Channel`: a sum over those targets. ``index``: :meth:`SumsIndex.build` of the
    same network, sources and layers, when it was built ahead.
    """
    if len(layers) != len(cutoffs_m):
        msg = "give one cutoff per target layer"
        raise InputError(msg)
    cuts = np.asarray([_check_cutoff(c) for c in cutoffs_m], dtype=np.float64)
    workers = _check_workers(workers)
    ns, nl, nq = len(sources), len(layers), len(channels)
    sizes = np.array([len(t) for t in layers], dtype=np.int64)
    lay_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    nt = int(lay_start[-1])
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
    ch_w = np.zeros((nt, nq))
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
    if index is not None and (index.n_sources != ns or not np.array_equal(index.sizes, sizes)):
        msg = "`index` was built for other sources or layers"
        raise InputError(msg)
    if ns == 0 or nt == 0:
        return ReachSums(count, nearest, sums)
    ix = SumsIndex.build(net, sources, layers) if index is None else index
    rt, ti = ix.rt, ix.ti
    leaf, s_indptr, s_indices, s_arc_w = rt.search_graph()
    ch_w = np.ascontiguousarray(ch_w[ti.t_orig])  # by internal target id, like the walks

    def run(a: int, b: int, ws: dict[str, Any]) -> tuple[Any, ...]:
        seed_ptr, seed_node, seed_dist = rt.seeds(ix.chain[a:b], ix.pos[a:b], ix.leg[a:b])
        return _reach_sums.sums_chunk(  # type: ignore[no-any-return]
            s_indptr,
            s_indices,
            s_arc_w,
            ix.jc_ptr,
            ix.jc_chain,
            ix.jc_isa,
            rt.ch_a,
            rt.ch_b,
            rt.ch_len,
            leaf,
            seed_ptr,
            seed_node,
            seed_dist,
            ix.chain[a:b],
            ix.pos[a:b],
            ix.leg[a:b],
            ti.tc_ptr,
            ti.tc_pos,
            ti.tc_leg,
            ix.add_a,
            ix.add_b,
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
    order = ix.order
    count[order] = np.concatenate([p[0] for p in parts])
    nearest[order] = np.concatenate([p[1] for p in parts])
    sums[np.ix_(order, by_layer)] = np.concatenate([p[2] for p in parts])
    return ReachSums(count, nearest, sums)
