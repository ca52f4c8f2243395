"""Compiled per-source sums over the targets within reach (numba, ``nogil``, cached).

The walks of :func:`siting._dijkstra.target_chunk`, summed per source instead of kept
as (source, target) pairs. Targets are read chain by chain: after the search, every
chain with a reached end is visited once, and each of its targets is reached at
``min(dist[a] + add_a, dist[b] + add_b)`` (plus, on the source's own chain, directly
along it), the same sums in the same order as ``target_chunk``'s, so the walks are the
same to the last bit.

Sums are those numpy and scipy take over a row of the pairs' CSR matrix: the entries of
a row in target order, ``first + pairwise(rest)`` (``np.add.reduceat``'s order, numpy's
pairwise summation), so a total here equals the one computed from the pairs exactly.
"""

from __future__ import annotations

import numpy as np

from ._dijkstra import SORT_COUNTS, _search, _sort_pairs, _workspace
from ._jit import njit

_INF = np.inf

#: channel kinds: the value an entry adds to a channel's sum
KIND_WEIGHT = 0  # the target's weight
KIND_ACCESS = 1  # weight x clip(1 - metres / T, 0, 1)
KIND_METRES = 2  # the walk itself


@njit(nogil=True, cache=True)
def _pairwise(a, lo, n):  # type: ignore[no-untyped-def]
    """numpy's pairwise sum of ``a[lo:lo + n]`` (``DOUBLE_pairwise_sum``, block of 128)."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    if n <= 128:
        r0 = a[lo]
        r1 = a[lo + 1]
        r2 = a[lo + 2]
        r3 = a[lo + 3]
        r4 = a[lo + 4]
        r5 = a[lo + 5]
        r6 = a[lo + 6]
        r7 = a[lo + 7]
        i = 8
        stop = n - n % 8
        while i < stop:
            r0 += a[lo + i]
            r1 += a[lo + i + 1]
            r2 += a[lo + i + 2]
            r3 += a[lo + i + 3]
            r4 += a[lo + i + 4]
            r5 += a[lo + i + 5]
            r6 += a[lo + i + 6]
            r7 += a[lo + i + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += a[lo + i]
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise(a, lo, n2) + _pairwise(a, lo + n2, n - n2)


@njit(nogil=True, cache=True)
def row_sum(a, lo, n):  # type: ignore[no-untyped-def]
    """``np.add.reduceat``'s sum of one segment ``a[lo:lo + n]`` (0 when empty)."""
    if n == 0:
        return 0.0
    if n == 1:
        return a[lo]
    return a[lo] + _pairwise(a, lo + 1, n - 1)


@njit(nogil=True, cache=True)
def _ends(c, dist, ch_a, ch_b, ch_len, leaf, cutoff):  # type: ignore[no-untyped-def]
    """The distances of chain ``c``'s two ends, as a search with the arcs into dead ends
    would leave them: such an end gets ``the other end + length`` when that is shorter
    and within the cutoff (the same sum the search's relaxation makes)."""
    a = ch_a[c]
    b = ch_b[c]
    da = dist[a]
    db = dist[b]
    length = ch_len[c]
    ra = da
    rb = db
    if leaf[a]:
        t = db + length
        if t <= cutoff and t < ra:
            ra = t
    if leaf[b]:
        t = da + length
        if t <= cutoff and t < rb:
            rb = t
    return ra, rb


@njit(nogil=True, cache=True)
def _chain_targets(c, da, db, tc_ptr, add_a, add_b, t_orig, cutoff, tseen, tint, tdist, n):  # type: ignore[no-untyped-def]
    """Targets of chain ``c`` within ``cutoff`` from its ends, appended at ``n``: their
    numbers in ``tseen``, internal ids in ``tint``, walks in ``tdist`` (by internal id)."""
    for k in range(tc_ptr[c], tc_ptr[c + 1]):
        # the two sums target_chunk makes (junction distance + the target's add)
        ta = da + add_a[k]
        tb = db + add_b[k]
        t = ta if ta <= tb else tb
        if t <= cutoff:
            tseen[n] = t_orig[k]
            tint[n] = k
            tdist[k] = t
            n += 1
    return n


@njit(nogil=True, cache=True, error_model="numpy")  # x / 0 as numpy makes it (no exception)
def sums_chunk(  # type: ignore[no-untyped-def]
    indptr,
    indices,
    arc_w,
    jc_ptr,
    jc_chain,
    jc_isa,
    ch_a,
    ch_b,
    ch_len,
    leaf,
    seed_ptr,
    seed_node,
    seed_dist,
    src_chain,
    src_pos,
    src_leg,
    tc_ptr,
    tc_pos,
    tc_leg,
    add_a,
    add_b,
    t_orig,
    lay_start,
    lay_cut,
    ch_ptr,
    ch_kind,
    ch_t,
    ch_w,
    dist,
    touched,
    tseen,
):
    """Per source and target layer: count, nearest metres; per source and channel: sum.

    Targets are numbered across layers (layer ``l`` holds ``lay_start[l]`` up to
    ``lay_start[l + 1]``) and internally by chain (``tc_ptr``; ``t_orig`` gives the
    layers' numbering). Channels are grouped by layer (those of layer ``l`` are
    ``ch_ptr[l]`` up to ``ch_ptr[l + 1]``); channel ``q`` sums, over the targets of its
    layer within the layer's cutoff ``lay_cut``, its weight ``ch_w[internal target id, q]`` (kind 0),
    that times ``clip(1 - metres / ch_t[q], 0, 1)`` (kind 1) or the metres (kind 2).
    Returns ``(count, nearest, sums)``: ``(ns, nl)`` int64, ``(ns, nl)`` float64 (``inf``:
    none), ``(ns, nq)`` float64.
    """
    ns = seed_ptr.size - 1
    nl = lay_cut.size
    # each target's channel weights side by side: one cache line per target
    nq = ch_kind.size
    cutoff = 0.0
    for i in range(nl):
        if lay_cut[i] > cutoff:
            cutoff = lay_cut[i]
    count = np.zeros((ns, nl), np.int64)
    nearest = np.full((ns, nl), _INF)
    sums = np.zeros((ns, nq), np.float64)
    nxt, prv, head = _workspace(dist.size)
    tint = np.empty(tseen.size, np.int64)
    tdist = np.empty(tseen.size, np.float64)
    scratch = np.empty(tseen.size, np.int64)
    sint = np.empty(tseen.size, np.int64)
    kept = np.empty(tseen.size, np.int64)
    walk = np.empty(tseen.size, np.float64)
    part = np.empty(tseen.size, np.float64)
    cnt = np.empty(SORT_COUNTS, np.int64)
    for s in range(ns):
        a, b = seed_ptr[s], seed_ptr[s + 1]
        nt = _search(
            indptr, indices, arc_w, seed_node[a:b], seed_dist[a:b], cutoff, dist, touched, nxt, prv, head
        )
        n = 0
        own = src_chain[s]
        # the source's own chain: from its ends, or directly along it
        da, db = _ends(own, dist, ch_a, ch_b, ch_len, leaf, cutoff)
        for k in range(tc_ptr[own], tc_ptr[own + 1]):
            t = src_leg[s] + abs(src_pos[s] - tc_pos[k]) + tc_leg[k]
            ta = da + add_a[k]
            tb = db + add_b[k]
            if ta < t:
                t = ta
            if tb < t:
                t = tb
            if t <= cutoff:
                tseen[n] = t_orig[k]
                tint[n] = k
                tdist[k] = t
                n += 1
        # every other chain with targets and a reached end, once: from its a end, or
        # from its b end when a was not reached
        for i in range(nt):
            x = touched[i]
            for e in range(jc_ptr[x], jc_ptr[x + 1]):
                c = jc_chain[e]
                if c != own and (jc_isa[e] or dist[ch_a[c]] == _INF):
                    da, db = _ends(c, dist, ch_a, ch_b, ch_len, leaf, cutoff)
                    n = _chain_targets(c, da, db, tc_ptr, add_a, add_b, t_orig, cutoff, tseen, tint, tdist, n)
        for i in range(nt):
            dist[touched[i]] = _INF
        # target order, as in a CSR row
        # (carrying the internal ids: the walks and weights are read by them, close in memory)
        _sort_pairs(tseen, tint, n, scratch, sint, cnt)
        lo = 0
        for lay in range(nl):
            hi = lo
            while hi < n and tseen[hi] < lay_start[lay + 1]:
                hi += 1
            # the layer's own cutoff: its entries within it, in order, each one's channel values
            m = 0
            cut = lay_cut[lay]
            near = _INF
            q0 = ch_ptr[lay]
            q1 = ch_ptr[lay + 1]
            for i in range(lo, hi):
                t = tint[i]
                d = tdist[t]
                if d > cut:
                    continue
                if d < near:
                    near = d
                kept[m] = t
                walk[m] = d
                m += 1
            count[s, lay] = m
            nearest[s, lay] = near
            # one channel at a time: its values in the entries' order, then their sum
            for q in range(q0, q1):
                kind = ch_kind[q]
                if kind == 2:
                    sums[s, q] = row_sum(walk, 0, m)
                    continue
                if kind == 1:
                    big_t = ch_t[q]
                    for j in range(m):
                        f = 1.0 - walk[j] / big_t
                        if f < 0.0:
                            f = 0.0
                        elif f > 1.0:
                            f = 1.0
                        part[j] = ch_w[kept[j], q] * f
                else:
                    for j in range(m):
                        part[j] = ch_w[kept[j], q]
                sums[s, q] = row_sum(part, 0, m)
            lo = hi
    return count, nearest, sums
