"""Compiled kernels for bounded multi-seed Dijkstra (numba, ``nogil``, cached).

Each kernel handles a chunk of sources with caller-owned workspaces (``dist`` over
nodes, ``best`` over targets) that are all ``inf`` on entry and are left all ``inf``
on exit: only entries a search touched are reset, so the cost of one source follows
the size of its walking catchment, never the size of the network.

The search runs on the junction graph: chains of edges through nodes of degree 2 are
one arc between their end junctions (most street nodes have degree 2, so the queue
sees two to three times fewer nodes). A point lies on a chain at a position from its
``a`` end; it seeds the chain's two ends with the distance already walked to them.
Nodes inside chains get their distance afterwards from the chain's ends (and directly
along the source's own chain). Targets are looked up per junction in a CSR
``junction -> (target, extra metres)`` table, plus a ``chain -> targets`` table for
targets on the source's own chain (reached directly along it).
"""

from __future__ import annotations

import numpy as np

from ._jit import njit

_INF = np.inf


#: buckets per search: each holds the nodes whose walk is in one 1/256 of the cutoff
N_BUCKETS = 256


@njit(nogil=True, cache=True)
def _workspace(n):  # type: ignore[no-untyped-def]
    """A search's bucket lists: ``(next, prev, head)`` (see :func:`_search`)."""
    return np.empty(n, np.int64), np.empty(n, np.int64), np.empty(N_BUCKETS + 2, np.int64)


@njit(nogil=True, cache=True)
def _search(indptr, indices, arc_w, seed_node, seed_dist, cutoff, dist, touched, nxt, prv, head):  # type: ignore[no-untyped-def]
    """Bounded search from several seeds; fills ``dist`` for nodes within ``cutoff``.

    Returns ``n_touched``: ``touched[:n_touched]`` are the nodes whose ``dist`` is now
    finite (all ``<= cutoff``).

    A bucket queue (Dial's): ``head.size - 2`` buckets split ``[0, cutoff]`` evenly;
    a node waits in the bucket of its walk, in a doubly linked list (``nxt``/``prv``
    over nodes: ``prv < 0`` marks the head of bucket ``-prv - 1``, ``nxt == -2`` a node
    in no bucket), so a shorter walk moves it in O(1), and no node is compared with
    another. Buckets are taken in order; within one, nodes are taken in any order, and
    a node whose walk shrinks again after it was taken (an arc shorter than a bucket)
    is put back and taken again: a label-correcting search. Its distances are the same
    floats as any exact Dijkstra's, whatever the width of the buckets: every value a
    node holds is some walk's sum, added arc by arc from a seed (``dist[u] + w``); a
    node's last value is taken and relaxes its out-arcs, and float addition is
    monotone (``a <= b`` gives ``a + w <= b + w``), so each node ends at the least
    such sum over the walks within the cutoff, which is what Dijkstra finds. The width
    only sets how often a node is taken again (about 1% of takes on the county case).
    """
    nb = head.size - 2
    inv = nb / cutoff if cutoff > 0.0 else 0.0
    if not inv < _INF:  # a cutoff too small to divide by: one bucket (still exact)
        inv = 0.0
    for k in range(nb + 2):
        head[k] = -1
    nt = 0
    size = 0  # nodes in buckets
    k = nb + 1
    for q in range(seed_node.size):
        s = seed_node[q]
        d = seed_dist[q]
        if d <= cutoff and d < dist[s]:
            if dist[s] == _INF:
                touched[nt] = s
                nt += 1
            else:  # a seed given twice: unlink it
                p = prv[s]
                n = nxt[s]
                if p >= 0:
                    nxt[p] = n
                else:
                    head[-p - 1] = n
                if n >= 0:
                    prv[n] = p
                size -= 1
            dist[s] = d
            b = max(0, min(int(d * inv), nb + 1))
            n = head[b]
            nxt[s] = n
            prv[s] = -b - 1
            if n >= 0:
                prv[n] = s
            head[b] = s
            size += 1
            k = min(k, b)
    while size > 0:
        u = head[k]
        if u < 0:
            k += 1
            continue
        # take u out of its bucket
        n = nxt[u]
        head[k] = n
        if n >= 0:
            prv[n] = -k - 1
        nxt[u] = -2
        size -= 1
        d = dist[u]
        for a in range(indptr[u], indptr[u + 1]):
            nd = d + arc_w[a]
            if nd > cutoff:
                continue
            v = indices[a]
            if nd < dist[v]:
                if dist[v] == _INF:
                    touched[nt] = v
                    nt += 1
                elif nxt[v] != -2:  # waiting in a bucket: unlink it
                    p = prv[v]
                    n = nxt[v]
                    if p >= 0:
                        nxt[p] = n
                    else:
                        head[-p - 1] = n
                    if n >= 0:
                        prv[n] = p
                    size -= 1
                dist[v] = nd
                # never a bucket before k: nd >= d, and d * inv rounds monotonically
                b = min(int(nd * inv), nb + 1)
                n = head[b]
                nxt[v] = n
                prv[v] = -b - 1
                if n >= 0:
                    prv[n] = v
                head[b] = v
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


#: size of the ``count`` scratch of :func:`_sort_pairs` (digits of at most 11 bits)
SORT_COUNTS = 2048


@njit(nogil=True, cache=True)
def _sort_pairs(k, v, n, tk, tv, count):  # type: ignore[no-untyped-def]
    """Sort ``k[:n]`` (non-negative int64) in place, carrying ``v[:n]`` along.

    An LSD radix sort for long rows, insertion sort for short ones: numba's ``np.sort``
    is about 10x slower than numpy's and was most of a search's cost. The keys' bits
    are split into as few digits of at most 11 bits as they need, of equal width (18
    bits: two of 9, so each pass clears and scans 512 counters, not 2,048). ``tk``/``tv``
    are scratch, ``count`` holds ``SORT_COUNTS``.
    Moving the values with the keys saves a random read per entry after sorting (they
    are gathered in search order, close in memory).
    """
    if n < 64:
        for i in range(1, n):
            key = k[i]
            val = v[i]
            j = i - 1
            while j >= 0 and k[j] > key:
                k[j + 1] = k[j]
                v[j + 1] = v[j]
                j -= 1
            k[j + 1] = key
            v[j + 1] = val
        return
    top = 0
    for i in range(n):
        if k[i] > top:
            top = k[i]
    bits = 0
    while (top >> bits) > 0:
        bits += 1
    passes = (bits + 10) // 11
    if passes == 0:  # every key is 0
        return
    width = (bits + passes - 1) // passes
    nbk = 1 << width
    mask = nbk - 1
    shift = 0
    for p in range(passes):
        count[:nbk] = 0
        if p % 2 == 0:
            for i in range(n):
                count[(k[i] >> shift) & mask] += 1
        else:
            for i in range(n):
                count[(tk[i] >> shift) & mask] += 1
        total = 0
        for d in range(nbk):
            c = count[d]
            count[d] = total
            total += c
        if p % 2 == 0:
            for i in range(n):
                d = (k[i] >> shift) & mask
                tk[count[d]] = k[i]
                tv[count[d]] = v[i]
                count[d] += 1
        else:
            for i in range(n):
                d = (tk[i] >> shift) & mask
                k[count[d]] = tk[i]
                v[count[d]] = tv[i]
                count[d] += 1
        shift += width
    if passes % 2 == 1:
        for i in range(n):
            k[i] = tk[i]
            v[i] = tv[i]


@njit(nogil=True, cache=True)
def _expand(c, dist, touched, nt, ch_a, ch_b, ch_len, cn_ptr, cn_node, cn_pos, cutoff, own, p, leg):  # type: ignore[no-untyped-def]
    """Give the inner nodes of chain ``c`` their distance from its ends (and directly
    along it from a source at position ``p`` with leg ``leg`` when ``own``)."""
    da = dist[ch_a[c]]
    db = dist[ch_b[c]]
    length = ch_len[c]
    for k in range(cn_ptr[c], cn_ptr[c + 1]):
        q = cn_pos[k]
        d = min(da + q, db + (length - q))
        if own:
            d = min(d, leg + abs(p - q))
        if d <= cutoff:
            v = cn_node[k]
            dist[v] = d
            touched[nt] = v
            nt += 1
    return nt


@njit(nogil=True, cache=True)
def node_chunk(  # type: ignore[no-untyped-def]
    indptr,
    indices,
    arc_w,
    arc_chain,
    arc_fwd,
    ch_a,
    ch_b,
    ch_len,
    cn_ptr,
    cn_node,
    cn_pos,
    node_int,
    node_orig,
    seed_ptr,
    seed_node,
    seed_dist,
    src_chain,
    src_pos,
    src_leg,
    cutoff,
    dist,
    touched,
):
    """Reached nodes and distances for each source of a chunk.

    Returns ``(counts, nodes, metres)``: per source the number of reached nodes, then
    all sources' reached nodes (original ids, sorted within each source) and their
    distances.
    """
    ns = seed_ptr.size - 1
    counts = np.zeros(ns, np.int64)
    out_n = np.empty(1024, np.int64)
    out_m = np.empty(1024, np.float64)
    nxt, prv, head = _workspace(dist.size)
    scratch = np.empty(touched.size, np.int64)
    vals = np.empty(touched.size, np.float64)
    svals = np.empty(touched.size, np.float64)
    count = np.empty(SORT_COUNTS, np.int64)
    pos = 0
    for s in range(ns):
        a, b = seed_ptr[s], seed_ptr[s + 1]
        nt = _search(
            indptr, indices, arc_w, seed_node[a:b], seed_dist[a:b], cutoff, dist, touched, nxt, prv, head
        )
        nj = nt
        own = src_chain[s]
        if src_leg[s] <= cutoff:
            nt = _expand(
                own,
                dist,
                touched,
                nt,
                ch_a,
                ch_b,
                ch_len,
                cn_ptr,
                cn_node,
                cn_pos,
                cutoff,
                True,
                src_pos[s],
                src_leg[s],
            )
        for i in range(nj):
            x = touched[i]
            for arc in range(indptr[x], indptr[x + 1]):
                c = arc_chain[arc]
                if c == own or cn_ptr[c] == cn_ptr[c + 1]:
                    continue
                # each chain once: from its a end, or from its b end if a was not reached
                if arc_fwd[arc] or dist[ch_a[c]] == _INF:
                    nt = _expand(
                        c,
                        dist,
                        touched,
                        nt,
                        ch_a,
                        ch_b,
                        ch_len,
                        cn_ptr,
                        cn_node,
                        cn_pos,
                        cutoff,
                        False,
                        0.0,
                        0.0,
                    )
        out_n = _grow(out_n, pos + nt)
        out_m = _grow(out_m, pos + nt)
        for k in range(nt):
            v = touched[k]
            vals[k] = dist[v]
            dist[v] = _INF
            touched[k] = node_orig[v]
        _sort_pairs(touched, vals, nt, scratch, svals, count)
        for k in range(nt):
            out_n[pos + k] = touched[k]
            out_m[pos + k] = vals[k]
        counts[s] = nt
        pos += nt
    return counts, out_n[:pos].copy(), out_m[:pos].copy()


@njit(nogil=True, cache=True)
def _reach_targets(  # type: ignore[no-untyped-def]
    c, p, leg, nt, touched, dist, tn_ptr, tn_target, tn_add, tc_ptr, tc_target, tc_pos, tc_leg, cutoff, best, tseen  # noqa: E501
):
    """After a search from a source on chain ``c`` at position ``p`` with leg ``leg``: every
    target within ``cutoff``, its walk in ``best`` and its id in ``tseen`` (returns how
    many); ``dist`` of the ``nt`` touched junctions is reset."""
    nseen = 0
    # targets on the source's own chain, walked to directly along it
    for k in range(tc_ptr[c], tc_ptr[c + 1]):
        j = tc_target[k]
        tot = leg + abs(p - tc_pos[k]) + tc_leg[k]
        if tot <= cutoff and tot < best[j]:
            if best[j] == _INF:
                tseen[nseen] = j
                nseen += 1
            best[j] = tot
    # targets hanging off every reached junction
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
    return nseen


@njit(nogil=True, cache=True)
def target_chunk(  # type: ignore[no-untyped-def]
    indptr,
    indices,
    arc_w,
    seed_ptr,
    seed_node,
    seed_dist,
    src_chain,
    src_pos,
    src_leg,
    tn_ptr,
    tn_target,
    tn_add,
    tc_ptr,
    tc_target,
    tc_pos,
    tc_leg,
    t_orig,
    cutoff,
    dist,
    touched,
    best,
    tseen,
):
    """Reached targets and total walking metres for each source of a chunk.

    A target is reached at ``dist[junction] + add`` for each end of its chain (the
    ``tn_*`` table), or directly along a shared chain (``tc_*``); targets are numbered
    internally, ``t_orig`` gives their positions. Returns ``(counts, targets, metres)``
    with target positions sorted within each source.
    """
    ns = seed_ptr.size - 1
    counts = np.zeros(ns, np.int64)
    out_t = np.empty(1024, np.int64)
    out_m = np.empty(1024, np.float64)
    nxt, prv, head = _workspace(dist.size)
    scratch = np.empty(tseen.size, np.int64)
    vals = np.empty(tseen.size, np.float64)
    svals = np.empty(tseen.size, np.float64)
    count = np.empty(SORT_COUNTS, np.int64)
    pos = 0
    for s in range(ns):
        a, b = seed_ptr[s], seed_ptr[s + 1]
        nt = _search(
            indptr, indices, arc_w, seed_node[a:b], seed_dist[a:b], cutoff, dist, touched, nxt, prv, head
        )
        nseen = _reach_targets(
            src_chain[s], src_pos[s], src_leg[s], nt, touched, dist, tn_ptr, tn_target, tn_add,
            tc_ptr, tc_target, tc_pos, tc_leg, cutoff, best, tseen,
        )
        out_t = _grow(out_t, pos + nseen)
        out_m = _grow(out_m, pos + nseen)
        for k in range(nseen):
            j = tseen[k]
            vals[k] = best[j]
            best[j] = _INF
            tseen[k] = t_orig[j]
        _sort_pairs(tseen, vals, nseen, scratch, svals, count)
        for k in range(nseen):
            out_t[pos + k] = tseen[k]
            out_m[pos + k] = vals[k]
        counts[s] = nseen
        pos += nseen
    return counts, out_t[:pos].copy(), out_m[:pos].copy()


@njit(nogil=True, cache=True)
def totals_chunk(  # type: ignore[no-untyped-def]
    indptr,
    indices,
    arc_w,
    seed_ptr,
    seed_node,
    seed_dist,
    src_chain,
    src_pos,
    src_leg,
    tn_ptr,
    tn_target,
    tn_add,
    tc_ptr,
    tc_target,
    tc_pos,
    tc_leg,
    t_orig,
    weight,
    cuts,
    dist,
    touched,
    best,
    tseen,
):
    """Per source and cutoff: count, weight, weight x metres of the targets within it,
    and the nearest target's metres; no pairs are kept (memory does not grow with them).

    ``cuts`` is sorted ascending; the search runs once, to the largest.
    """
    ns = seed_ptr.size - 1
    nc = cuts.size
    cutoff = cuts[nc - 1]
    count = np.zeros((ns, nc), np.int64)
    wsum = np.zeros((ns, nc), np.float64)
    wmet = np.zeros((ns, nc), np.float64)
    nearest = np.full(ns, _INF)
    nxt, prv, head = _workspace(dist.size)
    scratch = np.empty(tseen.size, np.int64)
    vals = np.empty(tseen.size, np.float64)
    svals = np.empty(tseen.size, np.float64)
    cnt = np.empty(SORT_COUNTS, np.int64)
    for s in range(ns):
        a, b = seed_ptr[s], seed_ptr[s + 1]
        nt = _search(
            indptr, indices, arc_w, seed_node[a:b], seed_dist[a:b], cutoff, dist, touched, nxt, prv, head
        )
        nseen = _reach_targets(
            src_chain[s], src_pos[s], src_leg[s], nt, touched, dist, tn_ptr, tn_target, tn_add,
            tc_ptr, tc_target, tc_pos, tc_leg, cutoff, best, tseen,
        )
        # sum in target order so totals never depend on the order of the search
        for k in range(nseen):
            j = tseen[k]
            vals[k] = best[j]
            best[j] = _INF
            tseen[k] = t_orig[j]
        _sort_pairs(tseen, vals, nseen, scratch, svals, cnt)
        for k in range(nseen):
            j = tseen[k]
            d = vals[k]
            if d < nearest[s]:
                nearest[s] = d
            for q in range(nc):
                if d <= cuts[q]:
                    count[s, q] += 1
                    wsum[s, q] += weight[j]
                    wmet[s, q] += weight[j] * d
    return count, wsum, wmet, nearest
