"""Capacity: how many visits a site can take, and the capacitated formulations.

A site's capacity is ``booths x uses_per_booth_per_day`` supervised visits per day.
Demand weights are converted to visits per day with ``demand_per_day``: the planner's
estimate of the daily visits the *whole* demand layer represents, spread over the points
in proportion to their weight (a point of weight ``w`` stands for
``w / total_weight x demand_per_day`` visits a day).

Every capacitated model uses assignment variables per (demand, candidate) pair: served
demand at a site is at most its capacity, and demand above capacity is not counted as
served (maximal covering, fewest sites) or is counted at the penalty (p-median). The rows
they share are built here (:func:`capacity_rows`); each model's module holds the rest of
its capacitated formulation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import settings
from .._errors import InputError
from ._highs import Lp, make_lp

if TYPE_CHECKING:
    from ._common import F64, I64, Mask, Rows


@dataclass(frozen=True)
class Capacity:
    """Capacity of each site, and how demand weight becomes visits per day.

    Attributes
    ----------
    booths
        Booths per site: one number for every candidate, or a mapping
        ``candidate_id -> booths`` (candidates not named get ``default_booths``).
    demand_per_day
        Supervised visits per day the whole demand layer represents; a demand point of
        weight ``w`` stands for ``w / total_weight x demand_per_day`` visits a day.
    uses_per_booth_per_day
        Supervised uses one booth handles per day (default 40: Insite, about 500 a day on
        12-13 booths).
    default_booths
        Booths at candidates absent from a ``booths`` mapping.
    visits
        Optional ``candidate_id -> visits a day`` the site can take, in place of
        ``booths x uses_per_booth_per_day`` (candidates not named keep that product). The
        queue's figure (:func:`siting.booths.visits_within_wait`, ``--capacity-rule erlang``)
        comes in here.
    """

    booths: float | Mapping[str, float]
    demand_per_day: float
    uses_per_booth_per_day: float = field(default_factory=lambda: settings.uses_per_booth_per_day)
    default_booths: float = 0.0
    visits: Mapping[str, float] | None = None

    def visits_per_day(self, candidate_ids: Sequence[str]) -> F64:
        """Capacity of each candidate in visits per day."""
        if self.visits is not None:
            unknown = sorted(set(map(str, self.visits)) - set(candidate_ids))
            if unknown:
                msg = f"`capacity.visits` names unknown candidate ids {unknown[:5]}; check the ids"
                raise InputError(msg)
            by_rule = replace(self, visits=None).visits_per_day(candidate_ids)
            v = np.array([float(self.visits.get(c, r)) for c, r in zip(candidate_ids, by_rule, strict=True)])
            if not np.all(np.isfinite(v)) or np.any(v < 0):
                msg = "`capacity.visits` must be finite and >= 0"
                raise InputError(msg)
            return v
        if isinstance(self.booths, Mapping):
            unknown = sorted(set(map(str, self.booths)) - set(candidate_ids))
            if unknown:
                msg = f"`capacity.booths` names unknown candidate ids {unknown[:5]}; check the ids"
                raise InputError(msg)
            b = np.array([float(self.booths.get(c, self.default_booths)) for c in candidate_ids])
        else:
            b = np.full(len(candidate_ids), float(self.booths))
        if not np.all(np.isfinite(b)) or np.any(b < 0):
            msg = "`capacity.booths` must be finite and >= 0"
            raise InputError(msg)
        if not (math.isfinite(self.demand_per_day) and self.demand_per_day > 0):
            msg = f"`capacity.demand_per_day` must be a positive number, got {self.demand_per_day}"
            raise InputError(msg)
        if not (math.isfinite(self.uses_per_booth_per_day) and self.uses_per_booth_per_day > 0):
            msg = "`capacity.uses_per_booth_per_day` must be a positive number"
            raise InputError(msg)
        return b * float(self.uses_per_booth_per_day)


def capacity_rows(
    ri: list[Any], ci: list[Any], vals: list[Any], start: int, cap: F64, c_e: I64, wr: F64
) -> None:
    """Append the capacity rows shared by the capacitated models, from row ``start`` on.

    Columns: ``open_j`` at ``0..n-1`` (``n = len(cap)``) and the flows ``f_e`` at
    ``n..n+m-1``. Rows: ``sum_r w_r f_rj - cap_j open_j <= 0`` (n rows), then
    ``f_e - open_j(e) <= 0`` (m rows).
    """
    n = len(cap)
    m = len(c_e)
    b3 = start + n
    ri += [start + c_e, start + np.arange(n), b3 + np.arange(m), b3 + np.arange(m)]
    ci += [n + np.arange(m), np.arange(n), n + np.arange(m), c_e]
    vals += [wr, -cap, np.ones(m), -np.ones(m)]


def served_lp(rows: Rows, cap: F64, mask: Mask) -> Lp:
    """Max served weight with the open set fixed: a transport LP over covered pairs."""
    r_e = rows.row_of_entry()
    keep = mask[rows.cand]
    r_e, c_e = r_e[keep], rows.cand[keep]
    m = len(r_e)
    ri = [r_e, rows.n + c_e]
    ci = [np.arange(m), np.arange(m)]
    vals = [np.ones(m), rows.weight[r_e]]
    # flows are fractions of each row: sum_j f_rj <= 1, sum_r w_r f_rj <= cap_j
    cost = rows.weight[r_e].copy()
    return make_lp(
        -1,
        0.0,
        cost,
        np.zeros(m),
        np.ones(m),
        0,
        ri,
        ci,
        vals,
        [np.full(rows.n, -math.inf), np.full(len(cap), -math.inf)],
        [np.ones(rows.n), cap],
        True,
    )
