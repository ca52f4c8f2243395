"""The junction graph of a street network, compiled (numba, ``nogil``, cached).

Chains of edges through nodes of degree 2 become one arc between their end junctions;
every edge learns its chain, its position along it and its direction, and every inner
node its chain and position. :mod:`siting._routing` builds the search graph from this,
and :mod:`siting._dijkstra` searches it. ``nogil``: ``siting score`` builds it on a
thread while the hotspots are found.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit


@njit(nogil=True, cache=True)
def build_chains(n_nodes, edge_u, edge_v, edge_len, indptr, arc_edge):  # type: ignore[no-untyped-def]
    """Split the network into chains: maximal paths whose inner nodes have degree 2.

    Returns ``(junction, edge_chain, edge_pos_u, edge_fwd, ch_a, ch_b, ch_len, cn_ptr,
    cn_node, cn_pos)``: per edge its chain, the position of its ``u`` end along the chain
    and whether it runs ``a -> b``; per chain its end junctions and length; per chain
    (CSR) its inner nodes and their positions. A cycle of degree-2 nodes gets one of its
    nodes promoted to a junction.
    """
    m = edge_u.size
    deg = np.zeros(n_nodes, np.int64)
    for e in range(m):
        deg[edge_u[e]] += 1
        deg[edge_v[e]] += 1
    junction = deg != 2
    edge_chain = np.full(m, -1, np.int64)
    edge_pos_u = np.zeros(m, np.float64)
    edge_fwd = np.zeros(m, np.bool_)
    ch_a = np.empty(m, np.int64)
    ch_b = np.empty(m, np.int64)
    ch_len = np.empty(m, np.float64)
    cn_start = np.empty(m + 1, np.int64)
    cn_node = np.empty(n_nodes, np.int64)
    cn_pos = np.empty(n_nodes, np.float64)
    nch = 0
    ncn = 0
    for phase in range(2):
        for start in range(n_nodes):
            if phase == 0 and not junction[start]:
                continue
            if phase == 1:
                free = False
                for a in range(indptr[start], indptr[start + 1]):
                    if edge_chain[arc_edge[a]] < 0:
                        free = True
                if not free:
                    continue
                junction[start] = True  # on a cycle of degree-2 nodes
            for a0 in range(indptr[start], indptr[start + 1]):
                e = arc_edge[a0]
                if edge_chain[e] >= 0:
                    continue
                c = nch
                nch += 1
                ch_a[c] = start
                cn_start[c] = ncn
                cur = start
                pos = 0.0
                while True:
                    edge_chain[e] = c
                    if edge_u[e] == cur:
                        edge_fwd[e] = True
                        edge_pos_u[e] = pos
                        nxt = edge_v[e]
                    else:
                        edge_fwd[e] = False
                        edge_pos_u[e] = pos + edge_len[e]
                        nxt = edge_u[e]
                    pos += edge_len[e]
                    if junction[nxt]:
                        break
                    cn_node[ncn] = nxt
                    cn_pos[ncn] = pos
                    ncn += 1
                    ne = -1
                    for a in range(indptr[nxt], indptr[nxt + 1]):
                        if arc_edge[a] != e:
                            ne = arc_edge[a]
                    e = ne
                    cur = nxt
                ch_b[c] = nxt
                ch_len[c] = pos
    cn_start[nch] = ncn
    return (
        junction,
        edge_chain,
        edge_pos_u,
        edge_fwd,
        ch_a[:nch].copy(),
        ch_b[:nch].copy(),
        ch_len[:nch].copy(),
        cn_start[: nch + 1].copy(),
        cn_node[:ncn].copy(),
        cn_pos[:ncn].copy(),
    )
