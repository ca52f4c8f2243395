"""The graphs the compiled walks run on: a network's directed arcs, its junction graph,
and the index of targets on it.

:func:`network_arcs` gives a network its arcs (CSR).
:class:`_Routing` is a network with its chains of degree-2 nodes contracted, as plain
arrays, built once per network (:func:`_routing` keeps it while the network lives);
:class:`_TargetIndex` places targets on its chains. Used by :mod:`siting.reach`,
:mod:`siting.reach_totals` and :mod:`siting.distributed`.
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .network import Snapped, StreetNetwork

log = logging.getLogger("siting.reach")

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


#: The derived arrays of directed arcs (CSR), in the order :func:`network_arcs` returns them.
ARC_ARRAYS = ("indptr", "indices", "arc_length_m", "arc_edge")


def network_arcs(n: int, edge_u: I64, edge_v: I64, edge_length_m: F64) -> tuple[I64, I64, F64, I64]:
    """``(indptr, indices, arc_length_m, arc_edge)`` of a network's directed arcs (CSR):
    both directions of every edge, by tail, then head, then arc number (edges' ``u -> v``
    arcs first). :class:`~siting.network.StreetNetwork` derives them when built."""
    m = edge_u.size
    tail = np.concatenate([edge_u, edge_v]).astype(np.int64, copy=False)
    head = np.concatenate([edge_v, edge_u]).astype(np.int64, copy=False)
    # one sort of unique keys where they fit 63 bits (a county: a third faster than
    # lexsort), else lexsort; both give the stable order
    if m and n * n * 2 * m < 2**62:
        key = (tail * n + head) * (2 * m) + np.arange(2 * m, dtype=np.int64)
        key.sort()
        order = key % (2 * m)
    else:
        order = np.lexsort((head, tail))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    return (
        indptr,
        head[order],
        np.concatenate([edge_length_m, edge_length_m])[order],
        np.where(order < m, order, order - m),
    )


def _morton(x: F64, y: F64) -> npt.NDArray[np.uint64]:
    """Morton (Z-order) codes of coordinates quantised to 21 bits each."""
    if x.size == 0:
        return np.zeros(0, dtype=np.uint64)
    codes = []
    for c in (x, y):
        span = float(c.max() - c.min()) or 1.0
        q = ((c - c.min()) / span * ((1 << 21) - 1)).astype(np.uint64)
        for shift, mask in (
            (16, 0x0000FFFF0000FFFF),
            (8, 0x00FF00FF00FF00FF),
            (4, 0x0F0F0F0F0F0F0F0F),
            (2, 0x3333333333333333),
            (1, 0x5555555555555555),
        ):
            q = (q | (q << np.uint64(shift))) & np.uint64(mask)
        codes.append(q)
    return codes[0] | (codes[1] << np.uint64(1))


#: The junction graph's arrays that are not int64.
_NOT_INT64 = {
    "edge_pos_u": np.dtype(np.float64), "ch_len": np.dtype(np.float64), "cn_pos": np.dtype(np.float64),
    "arc_w": np.dtype(np.float64), "edge_fwd": np.dtype(np.bool_), "arc_fwd": np.dtype(np.bool_),
}


@dataclass(frozen=True, eq=False)
class _Routing:
    """The junction graph of a network (chains of degree-2 nodes contracted), plain arrays.

    Built once per network and kept while the network lives; it is all the compiled
    kernels need, so it is also what is sent to Dask workers. Nodes are renumbered
    internally (junctions first in Morton order of their coordinates, then the inner
    nodes chain by chain) so that a catchment's memory is close together whatever
    order the network's nodes came in; ``node_int``/``node_orig`` map both ways.
    """

    n_nodes: int
    node_int: I64
    node_orig: I64
    # per edge: its chain, the position of its u end along the chain, direction a -> b
    edge_chain: I64
    edge_pos_u: F64
    edge_fwd: npt.NDArray[np.bool_]
    # per chain: end junctions, length, inner nodes (CSR) and their positions
    ch_a: I64
    ch_b: I64
    ch_len: F64
    cn_ptr: I64
    cn_node: I64
    cn_pos: F64
    # junction graph arcs (CSR over all node ids; inner nodes have none)
    indptr: I64
    indices: I64
    arc_w: F64
    arc_chain: I64
    arc_fwd: npt.NDArray[np.bool_]

    @classmethod
    def build(cls, net: StreetNetwork) -> _Routing:
        from ._chains import build_chains  # numba: loaded when a junction graph is built, not read

        (junction, edge_chain, edge_pos_u, edge_fwd, ch_a, ch_b, ch_len, cn_ptr, cn_node, cn_pos) = (
            build_chains(
                net.n_nodes, net.edge_u, net.edge_v, net.edge_length_m, net.indptr, net.arc_edge
            )
        )
        n = net.n_nodes
        jn = np.flatnonzero(junction)
        jn = jn[np.argsort(_morton(net.x[jn], net.y[jn]), kind="stable")]
        jrank = np.empty(n, dtype=np.int64)
        jrank[jn] = np.arange(jn.size)
        # chains (and so their inner nodes) in the order of their a junction
        corder = np.argsort(jrank[ch_a], kind="stable")
        cnew = np.empty_like(corder)
        cnew[corder] = np.arange(corder.size)
        lens = np.diff(cn_ptr)[corder]
        starts = cn_ptr[:-1][corder]
        cn_ptr = np.zeros(corder.size + 1, dtype=np.int64)
        np.cumsum(lens, out=cn_ptr[1:])
        take = np.repeat(starts - cn_ptr[:-1], lens) + np.arange(int(cn_ptr[-1]))
        cn_node, cn_pos = cn_node[take], cn_pos[take]
        ch_a, ch_b, ch_len = ch_a[corder], ch_b[corder], ch_len[corder]
        edge_chain = cnew[edge_chain]
        node_orig = np.concatenate([jn, cn_node]).astype(np.int64)
        if node_orig.size != n:  # every node is a junction or inside exactly one chain
            msg = "internal error: chain decomposition does not cover every node"
            raise RuntimeError(msg)
        node_int = np.empty(n, dtype=np.int64)
        node_int[node_orig] = np.arange(n, dtype=np.int64)
        ch_a, ch_b, cn_node = node_int[ch_a], node_int[ch_b], node_int[cn_node]
        nch = ch_a.size
        tail = np.concatenate([ch_a, ch_b])
        head = np.concatenate([ch_b, ch_a])
        chain = np.concatenate([np.arange(nch), np.arange(nch)]).astype(np.int64)
        fwd = np.concatenate([np.ones(nch, bool), np.zeros(nch, bool)])
        order = np.argsort(tail, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
        return cls(
            n,
            node_int,
            node_orig,
            edge_chain,
            edge_pos_u,
            edge_fwd,
            ch_a,
            ch_b,
            ch_len,
            cn_ptr,
            cn_node,
            cn_pos,
            indptr,
            head[order].astype(np.int64),
            np.concatenate([ch_len, ch_len])[order],
            chain[order],
            fwd[order],
        )

    def arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """Its arrays by field name (what :meth:`from_arrays` takes back): for the network cache."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "n_nodes"}

    @classmethod
    def from_arrays(cls, n_nodes: int, n_edges: int, arrays: dict[str, npt.NDArray[np.generic]]) -> _Routing:
        """The junction graph from :meth:`arrays` of a network of ``n_nodes`` and ``n_edges``
        (read from a cache): their kinds and sizes are checked, not their values."""
        rt = cls(n_nodes, **arrays)
        nch, ncn, narc = rt.ch_a.size, rt.cn_node.size, rt.indices.size
        sizes = {
            "node_int": n_nodes, "node_orig": n_nodes, "edge_chain": n_edges, "edge_pos_u": n_edges,
            "edge_fwd": n_edges, "ch_a": nch, "ch_b": nch, "ch_len": nch, "cn_ptr": nch + 1,
            "cn_node": ncn, "cn_pos": ncn, "indptr": n_nodes + 1, "indices": narc, "arc_w": narc,
            "arc_chain": narc, "arc_fwd": narc,
        }
        for name, size in sizes.items():
            a = getattr(rt, name)
            kind = _NOT_INT64.get(name, np.dtype(np.int64))
            if a.ndim != 1 or a.size != size or a.dtype != kind:
                msg = f"junction graph array {name!r}: {a.dtype}{a.shape}, expected {kind}[{size}]"
                raise ValueError(msg)
        if narc != 2 * nch or rt.indptr[0] != 0 or rt.indptr[-1] != narc or rt.cn_ptr[-1] != ncn:
            msg = "junction graph arrays do not agree with each other"
            raise ValueError(msg)
        return rt

    def search_graph(self) -> tuple[npt.NDArray[np.bool_], I64, I64, F64]:
        """``(dead_end, indptr, indices, arc_w)``: the junction graph without its arcs into
        dead ends (junctions with one arc). A walk never passes through a dead end, so a
        search for targets need not visit them; :mod:`siting._reach_sums` gives a dead end
        its distance from its chain's other end when it needs it. Made once, kept."""
        got = self.__dict__.get("_search_graph")
        if got is None:
            deg = np.diff(self.indptr)
            leaf = deg == 1
            keep = ~leaf[self.indices]
            kept = np.zeros(self.indices.size + 1, dtype=np.int64)
            np.cumsum(keep, out=kept[1:])
            got = (leaf, kept[self.indptr], self.indices[keep], self.arc_w[keep])
            object.__setattr__(self, "_search_graph", got)
        return got  # type: ignore[no-any-return]

    def locate(self, pts: Snapped) -> tuple[I64, F64]:
        """Chain and position along it (from its ``a`` end) of snapped points."""
        e = pts.edge
        chain = self.edge_chain[e]
        pos = np.where(self.edge_fwd[e], self.edge_pos_u[e] + pts.offset_m, self.edge_pos_u[e] - pts.offset_m)
        return chain, np.clip(pos, 0.0, self.ch_len[chain])

    def seeds(self, chain: I64, pos: F64, leg: F64) -> tuple[I64, I64, F64]:
        """Two seeds per source: the ends of its chain with the distance walked to them."""
        n = chain.size
        seed_node = np.empty(2 * n, dtype=np.int64)
        seed_dist = np.empty(2 * n, dtype=np.float64)
        seed_node[0::2] = self.ch_a[chain]
        seed_node[1::2] = self.ch_b[chain]
        seed_dist[0::2] = leg + pos
        seed_dist[1::2] = leg + (self.ch_len[chain] - pos)
        return np.arange(0, 2 * n + 1, 2, dtype=np.int64), seed_node, seed_dist


_ROUTING: weakref.WeakKeyDictionary[StreetNetwork, _Routing] = weakref.WeakKeyDictionary()
_ROUTING_LOCK = threading.Lock()


def _attach(net: StreetNetwork, rt: _Routing) -> None:
    """Give ``net`` its junction graph (read with it from a cache) instead of building it."""
    with _ROUTING_LOCK:
        _ROUTING[net] = rt


def _routing(net: StreetNetwork) -> _Routing:
    with _ROUTING_LOCK:
        r = _ROUTING.get(net)
        if r is None:
            r = _ROUTING[net] = _Routing.build(net)
            log.debug(
                "junction graph: %d of %d nodes are junctions, %d chains",
                int(np.count_nonzero(np.diff(r.indptr))),
                net.n_nodes,
                r.ch_a.size,
            )
        return r


@dataclass(frozen=True, eq=False)
class _TargetIndex:
    """Targets looked up by junction (both ends of their chain) and by chain.

    Targets are renumbered internally in the order of their chain (chains follow their
    first junction's Morton order), so that a catchment's targets are close together in
    memory; ``t_orig`` maps an internal target id back to its position.
    """

    n_targets: int
    t_orig: I64
    tn_ptr: I64
    tn_target: I64
    tn_add: F64
    tc_ptr: I64
    tc_target: I64
    tc_pos: F64
    tc_leg: F64

    @classmethod
    def build(cls, rt: _Routing, tgt: Snapped) -> _TargetIndex:
        chain, pos = rt.locate(tgt)
        return cls.from_located(rt, chain, pos, tgt.leg_m.astype(np.float64))

    @classmethod
    def from_located(cls, rt: _Routing, chain: I64, pos: F64, leg: F64) -> _TargetIndex:
        """From targets' chain, position along it and leg."""
        n = chain.size
        t_orig = np.argsort(chain, kind="stable").astype(np.int64)  # internal -> position
        chain, pos, leg = chain[t_orig], pos[t_orig], leg[t_orig]
        node = np.concatenate([rt.ch_a[chain], rt.ch_b[chain]])
        target = np.concatenate([np.arange(n), np.arange(n)]).astype(np.int64)
        add = np.concatenate([pos + leg, (rt.ch_len[chain] - pos) + leg])
        order = np.argsort(node, kind="stable")
        tn_ptr = np.zeros(rt.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(node, minlength=rt.n_nodes), out=tn_ptr[1:])
        nch = rt.ch_a.size
        tc_ptr = np.zeros(nch + 1, dtype=np.int64)
        np.cumsum(np.bincount(chain, minlength=nch), out=tc_ptr[1:])
        return cls(
            n,
            t_orig,
            tn_ptr,
            target[order],
            add[order].astype(np.float64),
            tc_ptr,
            np.arange(n, dtype=np.int64),
            pos,
            leg,
        )
