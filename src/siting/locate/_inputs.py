"""Reading a model's inputs that are not the cost matrix: quotas and incidents per point."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._errors import InputError

if TYPE_CHECKING:
    import numpy.typing as npt

    from ._common import I64

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
