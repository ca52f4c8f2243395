"""The one place that talks to HiGHS: a model as arrays in, bound, status and solution out.

HiGHS writes its banner to the process's standard output (file descriptor 1, from C) when
the first solver of a process is created, whatever ``output_flag`` says. Standard output
carries data (``siting select -o -``, ``--summary-json -``) and standard error only warnings
and errors unless asked for more, so every call into HiGHS runs with descriptor 1 pointed at
the null device, or at standard error when the ``siting`` logger shows INFO (``-v``)
(:func:`solver_stdout`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from .. import settings
from .._errors import SolverError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ._common import F64, I64, Mask


@dataclass
class Lp:
    """A (mixed-integer) linear program as arrays, in HiGHS's row-wise form."""

    sense: int  # 1 minimise, -1 maximise
    offset: float
    cost: F64
    col_lo: F64
    col_hi: F64
    integer: npt.NDArray[np.int32]
    a: sparse.csr_matrix
    row_lo: F64
    row_hi: F64
    meta: dict[str, Any] = field(default_factory=dict)


def make_lp(
    sense: int,
    offset: float,
    cost: F64,
    col_lo: F64,
    col_hi: F64,
    n_int: int,
    ri: list[I64],
    ci: list[I64],
    vals: list[F64],
    row_lo: list[F64] | F64,
    row_hi: list[F64] | F64,
    lp_only: bool,
) -> Lp:
    """Assemble an :class:`Lp` from coordinate pieces; the first ``n_int`` columns are binary."""
    n_cols = len(cost)
    rlo = (
        np.concatenate([np.atleast_1d(np.asarray(x, np.float64)) for x in row_lo])
        if len(row_lo)
        else np.zeros(0)
    )
    rhi = (
        np.concatenate([np.atleast_1d(np.asarray(x, np.float64)) for x in row_hi])
        if len(row_hi)
        else np.zeros(0)
    )
    a = sparse.csr_matrix(
        (
            np.concatenate(vals) if vals else np.zeros(0),
            (
                np.concatenate(ri) if ri else np.zeros(0, np.int64),
                np.concatenate(ci) if ci else np.zeros(0, np.int64),
            ),
        ),
        shape=(len(rlo), n_cols),
    )
    a.sum_duplicates()
    integer = np.zeros(n_cols, np.int32)
    if not lp_only:
        integer[:n_int] = 1
    return Lp(sense, offset, cost, col_lo, col_hi, integer, a, rlo, rhi)


_redirect_lock = threading.Lock()
_redirect_depth = 0
_saved_fd: int | None = None


def _solver_output_target() -> int:
    """A descriptor for what the solver prints: standard error with ``-v``, else the null device."""
    if logging.getLogger("siting").isEnabledFor(logging.INFO):
        return os.dup(2)
    return os.open(os.devnull, os.O_WRONLY)


@contextlib.contextmanager
def solver_stdout() -> Iterator[None]:
    """Point file descriptor 1 away from standard output for the duration (C-level prints included).

    The solver's own prints (HiGHS's banner) go to the null device, or to standard error
    when the ``siting`` logger is verbose (INFO or DEBUG). Re-entrant and thread-safe: the
    first caller redirects, the last one restores.
    """
    global _redirect_depth, _saved_fd
    with _redirect_lock:
        if _redirect_depth == 0:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
            try:
                _saved_fd = os.dup(1)
                target = _solver_output_target()
                try:
                    os.dup2(target, 1)
                finally:
                    os.close(target)
            except OSError:  # pragma: no cover - no descriptor 1 or 2: nothing to protect
                _saved_fd = None
        _redirect_depth += 1
    try:
        yield
    finally:
        with _redirect_lock:
            _redirect_depth -= 1
            if _redirect_depth == 0 and _saved_fd is not None:
                os.dup2(_saved_fd, 1)
                os.close(_saved_fd)
                _saved_fd = None


def run_highs(
    lp: Lp,
    time_limit: float | None,
    mip_rel_gap: float,
    threads: int | None,
    start: Mask | None,
    heuristic_effort: float | None = None,
) -> tuple[float, str, F64 | None]:
    """Solve; return (bound, status, column values or None).

    ``bound`` is the MIP dual bound (or the LP optimum for a pure LP), in the model's
    sense, including the objective offset. ``status`` is ``optimal``, ``time-limit`` or
    ``infeasible``.
    """
    with solver_stdout():
        return _run(lp, time_limit, mip_rel_gap, threads, start, heuristic_effort)


def _run(
    lp: Lp,
    time_limit: float | None,
    mip_rel_gap: float,
    threads: int | None,
    start: Mask | None,
    heuristic_effort: float | None,
) -> tuple[float, str, F64 | None]:
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", int(settings.seed))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("mip_abs_gap", 1e-7)
    # restarting the root after reduced-cost fixing costs more than it saves on these
    # models (measured: p-median pmed16 42 s -> 21 s, covering p=20 at 200k points 70 s -> 14 s)
    h.setOptionValue("mip_allow_restart", False)
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    a = lp.a.tocsr()
    a.sort_indices()
    is_mip = bool(lp.integer.any())
    if not is_mip:
        h.setOptionValue("solver", "ipm")  # faster than simplex on the chained rows
    if heuristic_effort is not None:
        h.setOptionValue("mip_heuristic_effort", float(heuristic_effort))
    status = h.passModel(
        len(lp.cost),
        int(a.shape[0]),
        int(a.nnz),
        2,  # row-wise
        int(lp.sense),
        float(lp.offset),
        np.ascontiguousarray(lp.cost, np.float64),
        np.ascontiguousarray(lp.col_lo, np.float64),
        np.ascontiguousarray(lp.col_hi, np.float64),
        np.ascontiguousarray(lp.row_lo, np.float64),
        np.ascontiguousarray(lp.row_hi, np.float64),
        np.ascontiguousarray(a.indptr, np.int32),
        np.ascontiguousarray(a.indices, np.int32),
        np.ascontiguousarray(a.data, np.float64),
        np.ascontiguousarray(lp.integer, np.int32),
    )
    if status == highspy.HighsStatus.kError:
        msg = "HiGHS rejected the model (internal error building it)"
        raise SolverError(msg)
    if start is not None and is_mip:
        idx = np.arange(len(start), dtype=np.int32)
        h.setSolution(len(start), idx, start.astype(np.float64))
    h.run()
    ms = h.getModelStatus()
    if ms == highspy.HighsModelStatus.kModelEmpty:
        # no constraints: each column sits at its better bound
        better_hi = (lp.cost * lp.sense) < 0
        x0 = np.where(better_hi, lp.col_hi, lp.col_lo)
        return float(lp.offset + lp.cost @ x0), "optimal", x0
    info = h.getInfo()
    ms_ = highspy.HighsModelStatus
    if ms in (ms_.kInfeasible, ms_.kUnboundedOrInfeasible):
        return math.nan, "infeasible", None
    has_sol = info.primal_solution_status == highspy.kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_sol else None
    if is_mip and start is not None and x is not None:
        claimed = float(info.objective_function_value)
        held = float(lp.offset + lp.cost @ x)
        if abs(held - claimed) > 1e-7 * (1.0 + abs(claimed)):
            # HiGHS 1.16 can report an incumbent it found yet hand back the completed start
            # (seen on a capacitated p-median: objective 116.6, solution worth 130.6).
            # Solve again without the start rather than return a worse set as optimal.
            logging.getLogger("siting.locate").info(
                "HiGHS handed back a solution worth %g for its objective %g: solving without the start",
                held,
                claimed,
            )
            return _run(lp, time_limit, mip_rel_gap, threads, None, heuristic_effort)
    if ms == ms_.kOptimal:
        st = "optimal"
    elif ms in (ms_.kTimeLimit, ms_.kInterrupt, ms_.kSolutionLimit, ms_.kIterationLimit):
        st = "time-limit"
    else:
        msg = f"HiGHS stopped with status {h.modelStatusToString(ms)}"
        raise SolverError(msg)
    if is_mip:
        bound = float(info.mip_dual_bound)
    else:
        bound = (
            float(info.objective_function_value)
            if st == "optimal"
            else (-math.inf if lp.sense > 0 else math.inf)
        )
    return bound, st, x


def lp_duals(lp: Lp, time_limit: float | None = None) -> tuple[float, F64] | None:
    """Solve a pure LP by HiGHS's primal simplex: its optimum and row duals, or ``None``
    when HiGHS does not reach optimality (within ``time_limit`` seconds). The duals' sign
    is HiGHS's."""
    import highspy

    with solver_stdout():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        # the restricted covering LPs of _cover_lp: primal simplex 4.0 s, dual 7.4 s, and the
        # interior point 6.6 s for the 12 rounds of the county case (measured)
        h.setOptionValue("simplex_strategy", 4)
        if time_limit is not None:
            h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
        h.setOptionValue("random_seed", int(settings.seed))
        a = lp.a.tocsr()
        a.sort_indices()
        h.passModel(
            len(lp.cost), int(a.shape[0]), int(a.nnz), 2, int(lp.sense), float(lp.offset),
            np.ascontiguousarray(lp.cost, np.float64), np.ascontiguousarray(lp.col_lo, np.float64),
            np.ascontiguousarray(lp.col_hi, np.float64), np.ascontiguousarray(lp.row_lo, np.float64),
            np.ascontiguousarray(lp.row_hi, np.float64), np.ascontiguousarray(a.indptr, np.int32),
            np.ascontiguousarray(a.indices, np.int32), np.ascontiguousarray(a.data, np.float64),
            np.zeros(len(lp.cost), np.int32),
        )  # fmt: skip
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        value = float(h.getInfo().objective_function_value)
        return value, np.asarray(h.getSolution().row_dual, dtype=np.float64)
