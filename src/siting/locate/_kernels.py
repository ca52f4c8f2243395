"""Compiled helpers for models at county size (numba, cached): grouping demand rows by
their candidate pattern, and the candidate-dominance test.

At 5,000 candidates x 200,000 incidents the pairs number in the tens of millions; a
Python loop per demand row (or a sparse ``A @ A.T`` of candidate overlaps) took minutes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .._jit import njit

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@njit(cache=True)
def _row_pointer(row, n_rows):  # type: ignore[no-untyped-def]
    """Where each row's entries start (and the last ends) once sorted by ``row``."""
    ptr = np.zeros(n_rows + 1, np.int64)
    for r in row:
        ptr[r + 1] += 1
    for r in range(n_rows):
        ptr[r + 1] += ptr[r]
    return ptr


@njit(cache=True)
def sort_by_row(row, n_rows):  # type: ignore[no-untyped-def]
    """Stable counting sort of entries by ``row``: the permutation and the row pointer."""
    ptr = _row_pointer(row, n_rows)
    fill = ptr[:-1].copy()
    order = np.empty(row.size, np.int64)
    for k in range(row.size):
        r = row[k]
        order[fill[r]] = k
        fill[r] += 1
    return order, ptr


@njit(cache=True)
def pairs_increasing(a, b):  # type: ignore[no-untyped-def]
    """Are the pairs ``(a[k], b[k])`` strictly increasing in ``k`` (so none repeats)?"""
    for k in range(a.size - 1):
        if a[k + 1] < a[k] or (a[k + 1] == a[k] and b[k + 1] <= b[k]):
            return False
    return True


@njit(cache=True)
def scatter_by_row(row, n_rows, a, b):  # type: ignore[no-untyped-def]
    """:func:`sort_by_row` applied: the row pointer and ``a``, ``b`` in the stable row order."""
    ptr = _row_pointer(row, n_rows)
    fill = ptr[:-1].copy()
    oa = np.empty(row.size, a.dtype)
    ob = np.empty(row.size, b.dtype)
    for k in range(row.size):
        r = row[k]
        i = fill[r]
        oa[i] = a[k]
        ob[i] = b[k]
        fill[r] = i + 1
    return ptr, oa, ob


@njit(cache=True)
def sort_within_rows(ptr, key1, key2, order):  # type: ignore[no-untyped-def]
    """Sort ``order`` within each row by (``key1``, ``key2``) of its entries (insertion sort:
    rows are short, and usually already in order)."""
    for r in range(ptr.size - 1):
        a, b = ptr[r], ptr[r + 1]
        for i in range(a + 1, b):
            e = order[i]
            k1, k2 = key1[e], key2[e]
            j = i - 1
            while j >= a and (key1[order[j]] > k1 or (key1[order[j]] == k1 and key2[order[j]] > k2)):
                order[j + 1] = order[j]
                j -= 1
            order[j + 1] = e


@njit(cache=True)
def row_hashes(ptr, cand, dist, use_dist, seed):  # type: ignore[no-untyped-def]
    """Two 64-bit hashes of each row's (ordered) entries; equal rows hash equal."""
    n = ptr.size - 1
    h1 = np.empty(n, np.uint64)
    h2 = np.empty(n, np.uint64)
    m1 = np.uint64(0x9E3779B97F4A7C15)
    m2 = np.uint64(0xC2B2AE3D27D4EB4F)
    for r in range(n):
        a = np.uint64(seed) ^ np.uint64(ptr[r + 1] - ptr[r])
        b = np.uint64(0x165667B19E3779F9) + np.uint64(ptr[r + 1] - ptr[r])
        for k in range(ptr[r], ptr[r + 1]):
            v = np.uint64(cand[k])
            if use_dist:
                v = v ^ (dist[k] * m2)
            a = (a ^ v) * m1
            a = a ^ (a >> np.uint64(29))
            b = (b + v + np.uint64(1)) * m2
            b = b ^ (b >> np.uint64(31))
        h1[r] = a
        h2[r] = b
    return h1, h2


@njit(cache=True)
def rows_equal(ptr, cand, dist, use_dist, rep, members):  # type: ignore[no-untyped-def]
    """Does every row ``members[i]`` hold exactly the candidates (and, with ``use_dist``,
    the distances) of row ``rep[i]``?"""
    for i in range(members.size):
        r, s = rep[i], members[i]
        if ptr[r + 1] - ptr[r] != ptr[s + 1] - ptr[s]:
            return False
        off = ptr[s] - ptr[r]
        for k in range(ptr[r], ptr[r + 1]):
            if cand[k] != cand[k + off] or (use_dist and dist[k] != dist[k + off]):
                return False
    return True


@njit(cache=True)
def dominated(c_ptr, c_rows, r_ptr, r_cand, fixed):  # type: ignore[no-untyped-def]
    """Candidates whose rows are a subset of another's (ties: the higher index is dominated).

    ``c_ptr/c_rows``: each candidate's rows, sorted; ``r_ptr/r_cand``: each row's
    candidates. A dominating candidate must cover the candidate's rarest row, so only
    that row's candidates are compared, by a merge of the two sorted row lists.
    """
    n = c_ptr.size - 1
    out = np.zeros(n, np.bool_)
    for j in range(n):
        if fixed[j]:
            continue
        a, b = c_ptr[j], c_ptr[j + 1]
        size_j = b - a
        if size_j == 0:
            out[j] = True
            continue
        rare = c_rows[a]
        for k in range(a + 1, b):
            r = c_rows[k]
            if r_ptr[r + 1] - r_ptr[r] < r_ptr[rare + 1] - r_ptr[rare]:
                rare = r
        for t in range(r_ptr[rare], r_ptr[rare + 1]):
            k = r_cand[t]
            if k == j:
                continue
            size_k = c_ptr[k + 1] - c_ptr[k]
            if size_k < size_j or (size_k == size_j and k > j):
                continue
            # is rows(j) a subset of rows(k)?
            p, q = a, c_ptr[k]
            qe = c_ptr[k + 1]
            ok = True
            while p < b:
                while q < qe and c_rows[q] < c_rows[p]:
                    q += 1
                if q == qe or c_rows[q] != c_rows[p]:
                    ok = False
                    break
                p += 1
                q += 1
            if ok:
                out[j] = True
                break
    return out


@njit(cache=True)
def _cover_dual(c_ptr, c_rows, w, lam, col_ok, fixed, p, s, chosen):  # type: ignore[no-untyped-def]
    """L(lam) = sum_r max(0, w_r - lam_r) + the p best of s_j = sum of lam over j's rows
    (fixed sites always among them); ``chosen`` is filled with those p candidates."""
    n = c_ptr.size - 1
    val = 0.0
    for r in range(w.size):
        if w[r] > lam[r]:
            val += w[r] - lam[r]
    nf = 0
    for j in range(n):
        t = 0.0
        for k in range(c_ptr[j], c_ptr[j + 1]):
            t += lam[c_rows[k]]
        s[j] = t
        if fixed[j]:
            chosen[nf] = j
            nf += 1
            val += t
    free = np.empty(n, np.int64)
    nfree = 0
    for j in range(n):
        if col_ok[j] and not fixed[j]:
            free[nfree] = j
            nfree += 1
    order = np.argsort(-s[free[:nfree]], kind="mergesort")
    m = min(p - nf, nfree)
    for i in range(m):
        j = free[order[i]]
        chosen[nf + i] = j
        val += s[j]
    return val, nf + m


@njit(cache=True)
def cover_bound(c_ptr, c_rows, w, col_ok, fixed, p, lower, iters, lam, mu):  # type: ignore[no-untyped-def]
    """An upper bound on maximal covering by Lagrangian relaxation of the covering rows
    (subgradient steps towards ``lower``, the best known objective). Returns the least
    bound met and leaves the best multipliers in ``lam``. Any ``lam >= 0`` gives a valid
    bound, so stopping early is safe; quotas are relaxed (the bound stays valid).
    ``mu`` is the step factor to start from; returns ``(bound, mu)`` so a caller can go
    on in rounds (checking its clock between them)."""
    n = c_ptr.size - 1
    s = np.empty(n, np.float64)
    chosen = np.empty(max(p, 1), np.int64)
    cover = np.zeros(w.size, np.int64)
    g = np.empty(w.size, np.float64)
    best = np.inf
    best_lam = lam.copy()
    stall = 0
    for _ in range(iters):
        val, m = _cover_dual(c_ptr, c_rows, w, lam, col_ok, fixed, p, s, chosen)
        if best == np.inf or val < best - 1e-12 * abs(best):
            best = val
            best_lam[:] = lam
            stall = 0
        else:
            stall += 1
            if stall >= 8:
                mu *= 0.5
                stall = 0
        if best - lower <= 1e-9 * max(1.0, abs(lower)) or mu < 1e-6:
            break
        for i in range(m):
            j = chosen[i]
            for k in range(c_ptr[j], c_ptr[j + 1]):
                cover[c_rows[k]] += 1
        norm = 0.0
        for r in range(w.size):
            gr = float(cover[r]) - (1.0 if w[r] > lam[r] else 0.0)
            # a multiplier at a bound cannot move past it
            if (lam[r] <= 0.0 and gr > 0.0) or (lam[r] >= w[r] and gr < 0.0):
                gr = 0.0
            g[r] = gr
            norm += gr * gr
        for i in range(m):
            j = chosen[i]
            for k in range(c_ptr[j], c_ptr[j + 1]):
                cover[c_rows[k]] = 0
        if norm == 0.0:
            break
        step = mu * (val - lower) / norm
        for r in range(w.size):
            x = lam[r] - step * g[r]
            lam[r] = min(max(x, 0.0), w[r])
    lam[:] = best_lam
    return best, mu
