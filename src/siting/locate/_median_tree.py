"""Lagrangian branch and bound for the uncapacitated p-median without quotas.

Where the root Lagrangian bound (:mod:`siting.locate._median_bound`) stops short of the
best set, it is usually at the LP bound: OR-Library's pmed36 (800 candidates, p = 10)
keeps a 1% gap, and closing it takes branching. HiGHS branches on the radius formulation
with an LP per node; here each node is bounded by the same Lagrangian relaxation as the
root instead (Galvao 1980 and Beasley 1993 bound p-median trees by the relaxation's dual),
by subgradient steps warm-started from the parent's multipliers, which costs a pass over
the (row, candidate) pairs cheaper than each row's multiplier per step: far less than an
LP. Every node:

* is a set of candidates forced open and forced closed (``state`` 1 / -1, free 0);
* is a leaf when the forced and free candidates leave one open set: its cost is exact;
* is pruned when its bound reaches the best set's cost (less the tolerance; less 1 when
  every cost is a whole number, as in OR-Library's instances, since then so is every
  set's);
* fixes by reduced costs: a free candidate whose forcing open (closed) lifts the bound
  to the best cost is closed (opened) in the node and all below it;
* otherwise branches on the open candidate of the relaxed set whose closing lifts the
  bound most: first the child that opens it, then the one that closes it (depth first).

Each step's relaxed set is a feasible set too, and the best one seen is kept. The bound
reported when the time runs out is the least bound over the nodes left open, so it stays
a true lower bound. Single-threaded and deterministic: the same model gives the same
tree, set and bound.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._jit import njit
from ._median_bound import lagrangian, set_cost, subgradient

if TYPE_CHECKING:
    from ._common import F64, Mask

#: Subgradient steps at a node below the root (the root gets ROOT_STEPS).
NODE_STEPS = 100
#: Evaluate the relaxed set as a feasible one every this many steps.
PRIMAL_EVERY = 10
ROOT_STEPS = 3000
#: Halve the step after this many steps without a better bound.
NODE_STALL = 6
ROOT_STALL = 30
#: The first step size at a node (its multipliers are the parent's, already close).
NODE_THETA = 2.0
#: Swaps at most in the local search from the root's relaxed set.
SWAP_ROUNDS = 1000
#: ... and from a node's relaxed set every this many nodes.
SWAP_EVERY = 16
#: Give up on a node's steps once the step size is this small.
MIN_THETA = 1e-4


@njit(cache=True)
def _relax(ptr, cand, cost, beyond, lam, state, p, rho, y):  # type: ignore[no-untyped-def]
    """``L(lam)`` at a node (``-inf`` when it has no feasible set), ``rho`` per candidate
    and the relaxed set ``y``; also the dearest free candidate in ``y`` and the cheapest
    free one out of it (for reduced costs)."""
    n = state.size
    val = lagrangian(ptr, cand, cost, beyond, lam, state >= 0, rho)  # candidates not closed
    n_open = 0
    n_free = 0
    for j in range(n):
        y[j] = state[j] == 1
        if state[j] == 1:
            n_open += 1
            val += rho[j]
        elif state[j] == 0:
            n_free += 1
    need = p - n_open
    if need < 0 or n_free < need:
        return -math.inf, 0.0, 0.0
    free = np.empty(n_free, np.int64)
    i = 0
    for j in range(n):
        if state[j] == 0:
            free[i] = j
            i += 1
    order = np.argsort(rho[free], kind="mergesort")
    worst_in = -math.inf
    for i in range(need):
        j = free[order[i]]
        y[j] = True
        val += rho[j]
        worst_in = rho[j]
    best_out = math.inf
    if need < n_free:
        best_out = rho[free[order[need]]]
    return val, worst_in, best_out


@njit(cache=True)
def _node(ptr, cand, cost, beyond, state, p, lam, ub, tol, steps, stall_max, theta, inc, rho, y, g):  # type: ignore[no-untyped-def]
    """Bound one node by subgradient steps from ``lam``, fixing by reduced costs.

    Returns ``(bound, ub, branch)``: ``branch`` is the candidate to branch on (-1: the node
    is closed, pruned or a leaf). ``state`` receives the node's fixings, ``lam`` its best
    multipliers, ``inc`` the best set when ``ub`` falls.
    """
    n = state.size
    best = -math.inf
    best_lam = lam.copy()
    stall = 0
    it = 0
    while True:
        n_open = 0
        n_free = 0
        for j in range(n):
            if state[j] == 1:
                n_open += 1
            elif state[j] == 0:
                n_free += 1
        need = p - n_open
        if need < 0 or n_free < need:
            return math.inf, ub, -1
        if need == 0 or n_free == need:  # one open set left: its exact cost
            for j in range(n):
                y[j] = state[j] == 1 or (need > 0 and state[j] == 0)
            c = set_cost(ptr, cand, cost, beyond, y)
            if c < ub:
                ub = c
                inc[:] = y
            return c, ub, -1
        val, worst_in, best_out = _relax(ptr, cand, cost, beyond, lam, state, p, rho, y)
        it += 1
        if best == -math.inf or val > best + 1e-12 * max(1.0, abs(best)):
            best = val
            best_lam[:] = lam
            stall = 0
        else:
            stall += 1
            if stall >= stall_max:
                theta *= 0.5
                stall = 0
        if it % PRIMAL_EVERY == 1 or PRIMAL_EVERY == 1:
            c = set_cost(ptr, cand, cost, beyond, y)
            if c < ub:
                ub = c
                inc[:] = y
        cut = ub - tol
        if best >= cut:
            return best, ub, -1
        changed = False
        for j in range(n):
            if state[j] != 0:
                continue
            if y[j]:
                if val - rho[j] + best_out >= cut:
                    state[j] = 1
                    changed = True
            elif val - worst_in + rho[j] >= cut:
                state[j] = -1
                changed = True
        if changed:
            continue
        if it >= steps or theta < MIN_THETA:
            break
        norm = subgradient(ptr, cand, cost, beyond, lam, y, g)
        if norm <= 0.0:  # the relaxed set serves every row once: it is the node's optimum
            break
        t = theta * (ub - val) / norm
        for r in range(lam.size):
            v = lam[r] + t * g[r]
            lam[r] = v if v > 0.0 else 0.0
    lam[:] = best_lam
    val, worst_in, best_out = _relax(ptr, cand, cost, beyond, lam, state, p, rho, y)
    if val > best:
        best = val
    cut = ub - tol
    if best >= cut:
        return best, ub, -1
    # branch on the free candidate of the relaxed set whose closing lifts the bound most
    pick = -1
    lift = -math.inf
    for j in range(n):
        if state[j] == 0 and y[j]:
            v = best_out - rho[j]
            if v > lift:
                lift = v
                pick = j
    if pick < 0:  # every candidate of the relaxed set is forced: y is the node's optimum
        c = set_cost(ptr, cand, cost, beyond, y)
        if c < ub:
            ub = c
            inc[:] = y
        return max(best, c), ub, -1
    return best, ub, pick


@njit(cache=True)
def _swap_search(ptr, cand, cost, beyond, state, y, rounds):  # type: ignore[no-untyped-def]
    """Best-improvement swaps (one open free candidate out, one closed free one in) from
    the open set ``y``, changed in place; returns its cost. Each round prices every swap
    from each row's nearest and second-nearest open sites (Whitaker's fast interchange);
    a swap is taken only when its exact cost is lower."""
    n = state.size
    n_rows = ptr.size - 1
    big = 1.0
    for r in range(n_rows):
        if beyond[r] < math.inf:
            big += beyond[r]
    for k in range(cost.size):
        big += cost[k]
    cur = set_cost(ptr, cand, cost, beyond, y)
    if cur == math.inf:
        return cur
    d1 = np.empty(n_rows)
    d2 = np.empty(n_rows)
    c1 = np.empty(n_rows, np.int64)
    pos = np.full(n, -1, np.int64)
    for _ in range(rounds):
        outs = 0
        for j in range(n):
            pos[j] = -1
            if y[j] and state[j] == 0:
                pos[j] = outs
                outs += 1
        if outs == 0:
            break
        gain = np.zeros(n)
        loss = np.zeros(outs)
        extra = np.zeros((outs, n))
        for r in range(n_rows):
            a1 = math.inf
            a2 = math.inf
            s1 = -1
            for k in range(ptr[r], ptr[r + 1]):
                if y[cand[k]]:
                    if s1 < 0:
                        a1 = cost[k]
                        s1 = cand[k]
                    else:
                        a2 = cost[k]
                        break
            b = beyond[r]
            if b < a1:
                d1[r], c1[r], d2[r] = b, -1, b
            elif b < a2:
                d1[r], c1[r], d2[r] = a1, s1, b
            else:
                d1[r], c1[r], d2[r] = a1, s1, a2
            if d2[r] == math.inf:
                d2[r] = big
            j = c1[r]
            pj = pos[j] if j >= 0 else -1
            if pj >= 0:
                loss[pj] += d2[r] - d1[r]
            for k in range(ptr[r], ptr[r + 1]):
                c = cost[k]
                if c >= d2[r]:
                    break
                q = cand[k]
                if y[q] or state[q] != 0:
                    continue
                if c < d1[r]:
                    gain[q] += d1[r] - c
                if pj >= 0:
                    extra[pj, q] += max(c, d1[r]) - d2[r]
        best = 0.0
        bj = -1
        bk = -1
        for j in range(n):
            pj = pos[j]
            if pj < 0:
                continue
            for q in range(n):
                if y[q] or state[q] != 0:
                    continue
                delta = loss[pj] - gain[q] + extra[pj, q]
                if delta < best:
                    best, bj, bk = delta, j, q
        if bj < 0:
            break
        y[bj] = False
        y[bk] = True
        new = set_cost(ptr, cand, cost, beyond, y)
        if not new < cur - 1e-12 * max(1.0, abs(cur)):
            y[bj] = True
            y[bk] = False
            break
        cur = new
    return cur


@dataclass
class Tree:
    """What the search proved."""

    mask: Mask  # the best open set found
    objective: float  # its cost (without the model's offset)
    bound: float  # a lower bound on every open set's cost (without the offset)
    finished: bool  # the whole tree was searched: ``mask`` is optimal
    nodes: int


def tree_search(
    model: Any,
    beyond_cost: F64,
    start: Mask,
    *,
    lam: F64 | None = None,
    closed: Mask | None = None,
    opened: Mask | None = None,
    deadline: float | None = None,
    max_nodes: int | None = None,
    tol: float = 1e-6,
) -> Tree:
    """Lagrangian branch and bound from the feasible set ``start``.

    ``model`` is an uncapacitated :class:`~siting.locate.PMedian` without quotas;
    ``beyond_cost`` as for :func:`~siting.locate._median_bound.lagrangian_fixing`, whose
    multipliers ``lam`` and fixings (``closed``, ``opened``) the root may start from.
    Stops at ``deadline`` (``time.perf_counter()``) or after ``max_nodes`` nodes with the
    bound over the open nodes.
    Sets within ``tol`` of the best are not searched for (when every cost is a whole
    number, none cheaper by less than 1 exists); the bound of a finished search is the
    best cost less ``tol`` (the best cost itself with whole numbers).
    """
    rows = model.rows
    n = model.n_active
    p = int(model.p)
    ptr, cand = rows.ptr, rows.cand
    cost = rows.weight[rows.row_of_entry()] * rows.dist
    state = np.zeros(n, np.int8)
    state[model.fixed] = 1
    if opened is not None:
        state[opened] = 1
    if closed is not None:
        state[closed & (state == 0)] = -1
    inc = start.copy()
    given = lam
    ub = float(set_cost(ptr, cand, cost, beyond_cost, inc))
    fin = beyond_cost[np.isfinite(beyond_cost)]
    if ub < 1e9 and _integral(cost) and _integral(fin):
        # every set costs a whole number: a node whose bound exceeds ub - 1 (by more than
        # rounding) holds no set cheaper than ub, and a finished search proves ub itself
        tol = 1.0 - 1e-6
    if lam is None:
        lam = np.zeros(rows.n)
        for r in range(rows.n):  # each row's cost in the start set
            for k in range(ptr[r], ptr[r + 1]):
                if inc[cand[k]]:
                    lam[r] = min(cost[k], beyond_cost[r])
                    break
            else:
                lam[r] = beyond_cost[r] if math.isfinite(beyond_cost[r]) else 0.0
    rho = np.zeros(n)
    y = np.zeros(n, np.bool_)
    g = np.zeros(rows.n)
    # depth first: (state, multipliers, the parent's bound)
    stack: list[tuple[Any, F64, float]] = [(state, lam.astype(np.float64).copy(), -math.inf)]
    nodes = 0
    root = given is None  # multipliers from a converged root need no long start
    while stack:
        if (deadline is not None and time.perf_counter() > deadline) or (
            max_nodes is not None and nodes >= max_nodes
        ):
            bound = min(min(b for _, _, b in stack), ub)
            return Tree(inc, ub, bound, False, nodes)
        st, lm, parent = stack.pop()
        if parent >= ub - tol:
            continue
        nodes += 1
        steps, stall, theta = (ROOT_STEPS, ROOT_STALL, 2.0) if root else (NODE_STEPS, NODE_STALL, NODE_THETA)
        root = False
        b, ub, j = _node(
            ptr, cand, cost, beyond_cost, st, p, lm, ub, tol, steps, stall, theta, inc, rho, y, g
        )
        if j < 0:
            continue
        if nodes == 1:  # no set below the root opens what the root closed: drop those pairs
            ptr, cand, cost = _without(ptr, cand, cost, st >= 0)
            for trial in (y.copy(), inc.copy()):  # better sets near the relaxed one
                c = float(_swap_search(ptr, cand, cost, beyond_cost, st, trial, SWAP_ROUNDS))
                if c < ub:
                    ub, inc = c, trial
            if b >= ub - tol:
                continue
        b = max(b, parent)
        if nodes % SWAP_EVERY == 0:  # the relaxed sets deep in the tree seed the search too
            trial = y.copy()
            c = float(_swap_search(ptr, cand, cost, beyond_cost, st, trial, SWAP_ROUNDS))
            if c < ub:
                ub, inc = c, trial
            if b >= ub - tol:
                continue
        closed_child = st.copy()
        closed_child[j] = -1
        stack.append((closed_child, lm.copy(), b))
        st[j] = 1
        stack.append((st, lm, b))
    return Tree(inc, ub, ub if tol >= 0.5 else ub - tol, True, nodes)


def _integral(a: F64) -> bool:
    return bool(np.all(a == np.round(a)))


def _without(ptr: Any, cand: Any, cost: F64, keep: Mask) -> tuple[Any, Any, F64]:
    """The rows' entries of the candidates in ``keep`` only (order kept)."""
    k = keep[cand]
    row = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    cnt = np.bincount(row[k], minlength=len(ptr) - 1)
    new_ptr = np.concatenate([[0], np.cumsum(cnt)]).astype(ptr.dtype)
    return new_ptr, cand[k], cost[k]
