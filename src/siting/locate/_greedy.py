"""Greedy starts and swap improvement, shared by the models.

The greedy opens fixed sites first, then the best site of each region with a lower quota
until it is met, then the best site anywhere (within upper quotas) until ``p`` sites are
open or a stop rule holds. Swap improvement tries closing each open site and opening the
best other one, keeping quotas, while that improves the objective. The MILP uses the
greedy as its starting solution; ``method='greedy'`` returns it with its gap to the LP
bound.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from .._errors import InfeasibleError, SolverError
from ._common import EPS, F64, Mask, bincount

if TYPE_CHECKING:
    from collections.abc import Callable

    from .base import Model

#: Rounds of swap improvement at most, and candidates tried per closed site.
SWAP_ROUNDS = 50
SWAP_TRIES = 50


def greedy_fill(
    model: Model,
    gain_fn: Callable[[], F64],
    add_fn: Callable[[int], None],
    n_target: int | None,
    stop_fn: Callable[[Mask], bool] | None = None,
    *,
    stalled: list[Mask] | None = None,
) -> Mask:
    """Greedy: fixed sites, then quota lower bounds, then best gain until done.

    ``gain_fn()`` gives each candidate's gain given the sites opened so far, ``add_fn(j)``
    opens ``j``; the fill stops at ``n_target`` sites or when ``stop_fn(open_mask)`` holds.
    When no candidate may be opened before ``stop_fn`` holds, a :class:`SolverError` is
    raised; the sites open at that point are appended to ``stalled`` when it is given.
    """
    mask = np.zeros(model.n_active, bool)
    count: dict[str, int] = {}
    lo, hi = model.quota_limits()

    def open_site(j: int) -> None:
        mask[j] = True
        add_fn(j)
        r = model.region[j]
        count[r] = count.get(r, 0) + 1

    for f in np.flatnonzero(model.fixed):
        open_site(int(f))

    def pick(allowed: Mask) -> int:
        g = np.where(allowed & ~mask, gain_fn(), -np.inf)
        j = int(np.argmax(g))
        return j if np.isfinite(g[j]) else -1

    for name, k in lo.items():
        members = model.region == name
        while count.get(name, 0) < k:
            j = pick(members)
            if j < 0:  # pragma: no cover - pre-check makes this unreachable
                msg = f"quota '{name}>={k}' cannot be met"
                raise InfeasibleError(msg)
            open_site(j)
    while True:
        if n_target is not None and mask.sum() >= n_target:
            break
        if stop_fn is not None and stop_fn(mask):
            break
        allowed = np.ones(model.n_active, bool)
        full = {r for r, k in hi.items() if count.get(r, 0) + 1 > k}
        if full:  # regions at their upper quota take no more sites
            allowed = np.array([r not in full for r in model.region], dtype=bool)
        j = pick(allowed)
        if j < 0:
            if n_target is not None:
                msg = f"cannot open {n_target} sites within the quotas ({model.constraint_text()})"
                raise InfeasibleError(msg)
            if stalled is not None:
                stalled.append(mask.copy())
            msg = "the greedy ran out of candidates before reaching the target"
            raise SolverError(msg)
        open_site(j)
    return mask


def swap_ok(model: Model, out: int, inn: int, mask: Mask) -> bool:
    """May open site ``out`` be swapped for ``inn`` without breaking a quota?"""
    if not model.quotas:
        return True
    ra, rb = model.region[out], model.region[inn]
    if ra == rb:
        return True
    lo, hi = model.quota_limits()
    cnt_a = int((model.region[mask] == ra).sum())
    cnt_b = int((model.region[mask] == rb).sum())
    return not ((ra in lo and cnt_a - 1 < lo[ra]) or (rb in hi and cnt_b + 1 > hi[rb]))


def past(deadline: float | None) -> bool:
    """Has ``deadline`` (a ``time.perf_counter()`` value, or ``None``: never) passed?"""
    return deadline is not None and time.perf_counter() > deadline


def coverage_greedy(
    model: Model,
    *,
    n_target: int | None,
    target_weight: float | None,
    swap: bool,
    deadline: float | None = None,
) -> Mask:
    """Greedy coverage (with capacity: proportional assignment of each new site's room).

    With ``target_weight`` (fewest sites) sites are added until that weight is covered,
    then sites the target does not need are dropped again.
    """
    rows = model.rows
    n = model.n_active
    r_e = rows.row_of_entry()
    c_e = rows.cand
    cnt = np.zeros(rows.n, np.int64)
    resid = rows.weight.copy()  # capacity case: weight not yet served
    csc = sparse.csr_matrix((np.ones(len(c_e)), (c_e, r_e)), shape=(n, rows.n))
    state = {"served": 0.0}
    cap = model.cap

    def members_of(j: int) -> np.ndarray:
        return csc.indices[csc.indptr[j] : csc.indptr[j + 1]]

    def gain() -> F64:
        if cap is None:
            return bincount(c_e, weights=rows.weight[r_e] * (cnt[r_e] == 0), minlength=n)
        avail = bincount(c_e, weights=resid[r_e], minlength=n)
        return np.minimum(avail, cap)

    def add(j: int) -> None:
        members = members_of(j)
        if cap is None:
            state["served"] += float(rows.weight[members[cnt[members] == 0]].sum())
        else:
            tot = float(resid[members].sum())
            take = min(tot, float(cap[j]))
            if tot > 0:
                resid[members] *= 1.0 - take / tot
            state["served"] += take
        cnt[members] += 1

    stop = None
    if target_weight is not None:
        need = target_weight * (1 - 1e-12)

        def stop(mask: Mask) -> bool:
            if state["served"] >= need:
                return True
            # with capacity the proportional split can serve less than the open sites can: when
            # it stalls, or every candidate is open, ask the exact served weight (a max flow)
            if cap is not None and (mask.all() or float(gain()[~mask].max(initial=0.0)) <= 1e-12 * need):
                state["served"] = max(state["served"], model.served_weight(mask))
                return state["served"] >= need
            return False

    stalled: list[Mask] = []
    try:
        mask = greedy_fill(model, gain, add, n_target, stop, stalled=stalled)
    except SolverError:
        if target_weight is None:
            raise
        best = model.covered_weight(np.ones(n, bool))
        repaired = repair_to_target(model, stalled[0], need, deadline) if stalled and best >= need else None
        if repaired is not None:
            return drop_redundant(model, repaired, target_weight) if swap else repaired
        if best >= need:
            # reachable with every candidate open, but the upper quotas let the greedy open only
            # some of a region's candidates, and its picks fell short: the exact MILP decides
            msg = (
                f"the greedy could not reach the target ({target_weight:.6g} demand weight) within "
                f"{model.constraint_text()}: its picks in the capped regions fell short; the exact "
                "solver (--method milp) finds a choice that reaches it, or proves there is none"
            )
            raise SolverError(msg) from None
        msg = (
            f"the target ({target_weight:.6g} demand weight) cannot be reached: with every candidate "
            f"open, {best:.6g} is covered" + (" within capacity" if cap is not None else "")
        )
        raise InfeasibleError(msg) from None
    if not swap:
        return mask
    if target_weight is not None:
        return drop_redundant(model, mask, target_weight)
    if cap is not None:
        return mask  # swaps need the exact served LP; the greedy keeps its choice
    for _ in range(SWAP_ROUNDS):
        improved = False
        for j in np.flatnonzero(mask & ~model.fixed):
            if past(deadline):  # the time limit covers the swaps too: keep what we have
                return mask
            members = members_of(int(j))
            loss = float(rows.weight[members[cnt[members] == 1]].sum())
            cnt[members] -= 1
            mask[j] = False
            g = gain()
            g[mask] = -np.inf
            g[j] = -np.inf
            done = False
            for k in np.argsort(-g, kind="stable")[:SWAP_TRIES]:
                if g[k] <= loss + EPS * max(1.0, loss):
                    break
                if swap_ok(model, int(j), int(k), mask | (np.arange(n) == j)):
                    cnt[members_of(int(k))] += 1
                    mask[k] = True
                    improved = done = True
                    break
            if not done:
                cnt[members] += 1
                mask[j] = True
        if not improved:
            break
    return mask


def repair_to_target(model: Model, mask: Mask, need: float, deadline: float | None = None) -> Mask | None:
    """Swap sites within the quotas until ``need`` weight is covered; ``None`` if stuck.

    The greedy fill stalls when upper quotas cap a region whose first picks overlap: every
    site it may still open adds nothing. Each round takes the single change that covers
    the most: opening a site the quotas allow, or swapping an open site (not a fixed one)
    for a closed one. Exact coverage (served weight with capacity) decides each change.
    """
    mask = mask.copy()
    rows = model.rows
    n = model.n_active
    r_e, c_e = rows.row_of_entry(), rows.cand
    lo, hi = model.quota_limits()
    idx = np.arange(n)
    cur = model.covered_weight(mask)
    rounds = 0
    while cur < need and rounds < SWAP_ROUNDS and not past(deadline):
        rounds += 1
        best_val, best_mask = cur, None
        count = {r: int((model.region[mask] == r).sum()) for r in hi}
        # the closed sites that reach the most weight no open site reaches are tried first
        free = ~rows.covered(mask) if model.cap is None else np.ones(rows.n, bool)
        gain = bincount(c_e, weights=rows.weight[r_e] * free[r_e], minlength=n)
        gain[mask] = -np.inf
        tries = [int(k) for k in np.argsort(-gain, kind="stable")[:SWAP_TRIES] if gain[k] > 0]
        for k in tries:
            rk = model.region[k]
            if rk not in hi or count[rk] + 1 <= hi[rk]:
                trial = mask | (idx == k)
                val = model.covered_weight(trial)
                if val > best_val + EPS * max(1.0, best_val):
                    best_val, best_mask = val, trial
            for j in np.flatnonzero(mask & ~model.fixed):
                if not swap_ok(model, int(j), int(k), mask):
                    continue
                trial = (mask & (idx != j)) | (idx == k)
                val = model.covered_weight(trial)
                if val > best_val + EPS * max(1.0, best_val):
                    best_val, best_mask = val, trial
        if best_mask is None:
            return None
        mask, cur = best_mask, best_val
    if cur < need:
        return None
    for r, k in lo.items():  # a swap never leaves a lower quota short, but say so plainly
        assert int((model.region[mask] == r).sum()) >= k
    return mask


def drop_redundant(model: Model, mask: Mask, target: float) -> Mask:
    """Close open sites (last opened first) while the rest still cover ``target`` weight."""
    lo, _ = model.quota_limits()
    for j in np.flatnonzero(mask & ~model.fixed)[::-1]:
        r = model.region[j]
        if r in lo and int((model.region[mask] == r).sum()) - 1 < lo[r]:
            continue
        mask[j] = False
        if model.covered_weight(mask) < target * (1 - 1e-12):
            mask[j] = True
    return mask


def median_greedy(
    model: Model, swap: bool, *, big: float, reach_all: bool, deadline: float | None = None
) -> Mask:
    """Greedy p-median (largest drop in total weighted cost), then swaps.

    A row no open site reaches costs ``big`` (the penalty; or, when every row must be
    reached, a cost so high that any reach is worth it). With ``reach_all`` a set that
    leaves a row unreached is an error.
    """
    rows = model.rows
    n = model.n_active
    r_e = rows.row_of_entry()
    c_e = rows.cand
    best = np.full(rows.n, big)
    wr = rows.weight[r_e]

    def gain() -> F64:
        return bincount(c_e, weights=wr * np.maximum(0.0, best[r_e] - rows.dist), minlength=n)

    col = sparse.csr_matrix((np.arange(len(c_e)) + 1, (c_e, r_e)), shape=(n, rows.n))

    def add(j: int) -> None:
        e = col.data[col.indptr[j] : col.indptr[j + 1]].astype(np.int64) - 1
        np.minimum.at(best, r_e[e], rows.dist[e])

    mask = greedy_fill(model, gain, add, model.p)

    def recompute(m: Mask) -> F64:
        b = np.full(rows.n, big)
        o = m[c_e]
        np.minimum.at(b, r_e[o], rows.dist[o])
        return b

    if swap:
        cur = float(np.dot(rows.weight, best))
        for _ in range(SWAP_ROUNDS):
            improved = False
            for j in np.flatnonzero(mask & ~model.fixed):
                if past(deadline):  # the time limit covers the swaps too
                    improved = False
                    break
                mask[j] = False
                b_wo = recompute(mask)
                cost_wo = float(np.dot(rows.weight, b_wo))
                best[:] = b_wo
                g = gain()
                g[mask] = -np.inf
                g[j] = -np.inf
                done = False
                for k in np.argsort(-g, kind="stable")[:SWAP_TRIES]:
                    if cost_wo - g[k] >= cur - EPS * max(1.0, abs(cur)):
                        break
                    if swap_ok(model, int(j), int(k), mask | (np.arange(n) == j)):
                        mask[k] = True
                        best[:] = recompute(mask)
                        cur = float(np.dot(rows.weight, best))
                        improved = done = True
                        break
                if not done:
                    mask[j] = True
                    best[:] = recompute(mask)
            if not improved:
                break
    if reach_all and np.any(recompute(mask) >= big):
        msg = (
            "the greedy left demand beyond the cutoff of every chosen site "
            "(beyond='exclude'); use the MILP or a penalty"
        )
        raise SolverError(msg)
    return mask
