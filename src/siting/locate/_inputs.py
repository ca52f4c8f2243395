"""Reading a model's inputs that are not the cost matrix: quotas and incidents per point."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._errors import InfeasibleError, InputError

if TYPE_CHECKING:
    import numpy.typing as npt

    from ._common import I64
    from .base import Model

#: A regional quota: ``(op, k)`` with op one of ``>=``, ``==``, ``<=``.
Quota = tuple[str, int]

_OPS = {">=": ">=", "==": "==", "=": "==", "<=": "<="}


def parse_quota(text: str) -> tuple[str, Quota]:
    """Parse ``'NAME>=1'``, ``'NAME==1'`` (or ``=``) or ``'NAME<=2'`` into ``(name, (op, k))``.

    Examples
    --------
    >>> parse_quota("Seattle>=1")
    ('Seattle', ('>=', 1))
    >>> parse_quota("King County = 2")
    ('King County', ('==', 2))
    """
    for op in (">=", "<=", "==", "="):
        if op in text:
            name, _, k = text.partition(op)
            name = name.strip()
            try:
                kk = int(k.strip())
            except ValueError:
                kk = -1
            if not name or kk < 0:
                break
            return name, (_OPS[op], kk)
    msg = f"quota {text!r} is not of the form 'NAME>=K', 'NAME==K' or 'NAME<=K' (K a whole number)"
    raise InputError(msg)


def check_quota(name: object, q: tuple[str, int]) -> Quota:
    """A quota given as ``(op, k)``, checked and with ``=`` read as ``==``."""
    op, k = q
    if op not in _OPS or int(k) != k or k < 0:
        msg = f"quota for {name!r} must be ('>=' | '==' | '<=', whole number >= 0), got {q!r}"
        raise InputError(msg)
    return (_OPS[op], int(k))


def check_feasible(m: Model) -> None:
    """Raise :class:`~siting._errors.InfeasibleError`, naming the constraint, when no set
    of ``m.p`` sites meets the model's fixed sites and quotas (checked when it is built)."""
    n_fixed = int(m.fixed.sum())
    p = m.p
    if p is not None:
        if p < 1:
            msg = f"`p` must be at least 1, got {p}"
            raise InfeasibleError(msg)
        if p < n_fixed:
            msg = f"p={p} is smaller than the {n_fixed} fixed sites; raise p or fix fewer sites"
            raise InfeasibleError(msg)
        if p > m.n_active:
            msg = f"p={p} exceeds the {m.n_active} candidates available (after exclusions); lower p"
            raise InfeasibleError(msg)
    lower_total = 0
    for name, (op, k) in m.quotas.items():
        members = np.flatnonzero(m.region == name)
        fixed_in = int(m.fixed[members].sum())
        if op in (">=", "==") and len(members) < k:
            msg = (
                f"quota '{name}{op}{k}' needs {k} sites but only {len(members)} "
                f"candidates in region {name!r} are available"
            )
            raise InfeasibleError(msg)
        if op in ("<=", "==") and fixed_in > k:
            msg = f"quota '{name}{op}{k}' allows {k} sites but {fixed_in} fixed sites lie in {name!r}"
            raise InfeasibleError(msg)
        if op in (">=", "=="):
            lower_total += k
        if p is not None and op in (">=", "==") and k > p:
            msg = f"quota '{name}{op}{k}' needs more sites than p={p}"
            raise InfeasibleError(msg)
    if p is not None and lower_total > p:
        msg = f"the regional quotas need {lower_total} sites together, more than p={p}"
        raise InfeasibleError(msg)
    if p is not None and m.quotas:
        # exact: each candidate has one region, so the counts a set may hold per region form
        # intervals [the quota's least or the fixed sites in it, the quota's most or its
        # candidates], and a set of p sites exists exactly when p lies between their sums
        least = most = 0
        for name in {str(r) for r in m.region if r is not None} | set(m.quotas) | {None}:
            members = m.region == name if name is not None else np.equal(m.region, None)
            op, k = m.quotas.get(name, ("", 0)) if name is not None else ("", 0)
            least += max(k if op in (">=", "==") else 0, int(m.fixed[members].sum()))
            most += min(k if op in ("<=", "==") else m.n_active, int(members.sum()))
        if least > p:
            msg = (
                f"the regional quotas and the fixed sites need {least} sites together, more than "
                f"p={p} ({m.constraint_text()}); raise p, or fix fewer sites outside the quota regions"
            )
            raise InfeasibleError(msg)
        if most < p:
            msg = (
                f"the regional quotas allow at most {most} sites together, fewer than p={p} "
                f"({m.constraint_text()}); lower p or loosen the quotas"
            )
            raise InfeasibleError(msg)


def incident_counts(counts: npt.ArrayLike | None, n_d: int) -> I64:
    """Incidents per demand point: whole numbers >= 0 (default 1 each)."""
    if counts is None:
        return np.ones(n_d, np.int64)
    c = np.asarray(counts, dtype=np.float64).ravel()
    if len(c) != n_d:
        msg = f"`counts` has {len(c)} values but the cost matrix has {n_d} demand columns"
        raise InputError(msg)
    if not np.all(np.isfinite(c)) or np.any(c < 0) or np.any(c != np.round(c)):
        msg = "`counts` (incidents per demand point) must be whole numbers >= 0"
        raise InputError(msg)
    return c.astype(np.int64)
