"""Compiled kernels for bounded multi-seed Dijkstra (numba, ``nogil``, cached).

Each kernel handles a chunk of sources with caller-owned workspaces (``dist`` over
nodes, ``best`` over targets) that are all ``inf`` on entry and are left all ``inf``
on exit: only entries a search touched are reset, so the cost of one source follows
the size of its walking catchment, never the size of the network.

A source is given by its seeds (two per snapped point: the two ends of its edge with
the distance already walked to reach them). Targets are looked up per network node
in a CSR ``node -> (target, extra metres)`` table, plus an ``edge -> targets`` table
for targets that lie on the source's own edge (reached directly along the edge).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_INF = np.inf


@njit(nogil=True, cache=True)
def _search(indptr, indices, arc_w, seed_node, seed_dist, cutoff, dist, touched, hk, hv):  # type: ignore[no-untyped-def]
    """Bounded Dijkstra from several seeds; fills ``dist`` for nodes within ``cutoff``.

    Returns ``n_touched``: ``touched[:n_touched]`` are the nodes whose ``dist`` is now
    finite (all ``<= cutoff``). Returns -1, with ``dist`` reset, if the heap arrays are
    too small; the caller grows them and searches again (growing them here, in the hot
    loop, makes numba's code several times slower).
    """
    nt = 0
    size = 0
    cap = hk.size
    for k in range(seed_node.size):
        s = seed_node[k]
        d = seed_dist[k]
        if d <= cutoff and d < dist[s]:
            if dist[s] == _INF:
                touched[nt] = s
                nt += 1
            dist[s] = d
            if size == cap:
                for i in range(nt):
                    dist[touched[i]] = _INF
                return -1
            i = size
            while i > 0:
                p = (i - 1) >> 1
                if hk[p] <= d:
                    break
                hk[i] = hk[p]
                hv[i] = hv[p]
                i = p
            hk[i] = d
            hv[i] = s
            size += 1
    while size > 0:
        d = hk[0]
        u = hv[0]
        # pop: move the last entry down from the root
        size -= 1
        key = hk[size]
        val = hv[size]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= size:
                break
            if c + 1 < size and hk[c + 1] < hk[c]:
                c += 1
            if hk[c] >= key:
                break
            hk[i] = hk[c]
            hv[i] = hv[c]
            i = c
        if size > 0:
            hk[i] = key
            hv[i] = val
        if d > dist[u]:
            continue  # stale entry
        for a in range(indptr[u], indptr[u + 1]):
            nd = d + arc_w[a]
            if nd > cutoff:
                continue
            v = indices[a]
            if nd < dist[v]:
                if dist[v] == _INF:
                    touched[nt] = v
                    nt += 1
                dist[v] = nd
                if size == cap:
                    for i in range(nt):
                        dist[touched[i]] = _INF
                    return -1
                i = size
                while i > 0:
                    p = (i - 1) >> 1
                    if hk[p] <= nd:
                        break
                    hk[i] = hk[p]
                    hv[i] = hv[p]
                    i = p
                hk[i] = nd
                hv[i] = v
                size += 1
    return nt


@njit(nogil=True, cache=True)
def _grow(a, need):  # type: ignore[no-untyped-def]
    if need <= a.size:
        return a
    cap = max(need, 2 * a.size)
    b = np.empty(cap, a.dtype)
    b[: a.size] = a
    return b


@njit(nogil=True, cache=True)
def node_chunk(indptr, indices, arc_w, seed_ptr, seed_node, seed_dist, cutoff, dist, touched):  # type: ignore[no-untyped-def]
    """Reached nodes and distances for each source of a chunk.

    Returns ``(counts, nodes, metres)``: per source the number of reached nodes, then
    all sources' reached nodes (sorted within each source) and their distances.
    """
    ns = seed_ptr.size - 1
    counts = np.zeros(ns, np.int64)
    out_n = np.empty(1024, np.int64)
    out_m = np.empty(1024, np.float64)
    hk = np.empty(1024, np.float64)
    hv = np.empty(1024, np.int64)
    pos = 0
    for s in range(ns):
        a, b = seed_ptr[s], seed_ptr[s + 1]
        nt = _search(indptr, indices, arc_w, seed_node[a:b], seed_dist[a:b], cutoff, dist, touched, hk, hv)
        while nt < 0:
            hk = np.empty(2 * hk.size, np.float64)
            hv = np.empty(2 * hv.size, np.int64)
            nt = _search(indptr, indices, arc_w, seed_node[a:b], seed_dist[a:b], cutoff, dist, touched, hk, hv)
        out_n = _grow(out_n, pos + nt)
        out_m = _grow(out_m, pos + nt)
        nodes = np.sort(touched[:nt])
        for k in range(nt):
            v = nodes[k]
            out_n[pos + k] = v
            out_m[pos + k] = dist[v]
            dist[v] = _INF
        counts[s] = nt
        pos += nt
    return counts, out_n[:pos].copy(), out_m[:pos].copy()


@njit(nogil=True, cache=True)
def target_chunk(  # type: ignore[no-untyped-def]
    indptr, indices, arc_w,
    seed_ptr, seed_node, seed_dist,
    src_edge, src_off, src_leg,
    tn_ptr, tn_target, tn_add,
    te_ptr, te_target, te_off, te_leg,
    cutoff, dist, touched, best, tseen,
):
    """Reached targets and total walking metres for each source of a chunk.

    A target is reached at ``dist[node] + add`` for each end node of its edge (the
    ``tn_*`` table), or directly along a shared edge (``te_*``). Returns
    ``(counts, targets, metres)`` with targets sorted within each source.
    """
    ns = seed_ptr.size - 1
    counts = np.zeros(ns, np.int64)
    out_t = np.empty(1024, np.int64)
    out_m = np.empty(1024, np.float64)
    hk = np.empty(1024, np.float64)
    hv = np.empty(1024, np.int64)
    pos = 0
    for s in range(ns):
        a, b = seed_ptr[s], seed_ptr[s + 1]
        nt = _search(indptr, indices, arc_w, seed_node[a:b], seed_dist[a:b], cutoff, dist, touched, hk, hv)
        while nt < 0:
            hk = np.empty(2 * hk.size, np.float64)
            hv = np.empty(2 * hv.size, np.int64)
            nt = _search(indptr, indices, arc_w, seed_node[a:b], seed_dist[a:b], cutoff, dist, touched, hk, hv)
        nseen = 0
        # targets on the source's own edge, walked to directly along it
        e = src_edge[s]
        if e >= 0:
            for k in range(te_ptr[e], te_ptr[e + 1]):
                j = te_target[k]
                tot = src_leg[s] + abs(src_off[s] - te_off[k]) + te_leg[k]
                if tot <= cutoff and tot < best[j]:
                    if best[j] == _INF:
                        tseen[nseen] = j
                        nseen += 1
                    best[j] = tot
        # targets hanging off every reached node
        for i in range(nt):
            v = touched[i]
            dv = dist[v]
            for k in range(tn_ptr[v], tn_ptr[v + 1]):
                tot = dv + tn_add[k]
                if tot <= cutoff:
                    j = tn_target[k]
                    if tot < best[j]:
                        if best[j] == _INF:
                            tseen[nseen] = j
                            nseen += 1
                        best[j] = tot
            dist[v] = _INF
        out_t = _grow(out_t, pos + nseen)
        out_m = _grow(out_m, pos + nseen)
        tg = np.sort(tseen[:nseen])
        for k in range(nseen):
            j = tg[k]
            out_t[pos + k] = j
            out_m[pos + k] = best[j]
            best[j] = _INF
        counts[s] = nseen
        pos += nseen
    return counts, out_t[:pos].copy(), out_m[:pos].copy()
