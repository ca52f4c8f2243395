"""Maximise attendance: each incident goes to its most attractive open site, as in ArcGIS.

The share of an incident's demand that attends a site ``t`` minutes away is an attendance
curve ``a(t)`` (:class:`siting.decay.DecayCurve`: step, linear, exponential or logistic,
with sourced defaults). ``p`` sites are chosen to maximise the expected attendance
``sum_i w_i max_{j open} a(t_ij)``, ArcGIS Location-Allocation's "Maximize Attendance",
which no open library offers. It is solved exactly (see :mod:`siting.locate._value`:
a p-median on ``1 - a``), with fixed sites, exclusions, regional quotas and capacity as
in the other models. With capacity (booths x uses per booth a day, the visits
:class:`~siting.locate.Capacity` converts demand weight to) a site takes in at most its
capacity of attending visits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..decay import DecayCurve
from ._value import ValueModel

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    from ._common import F64


class MaximizeAttendance(ValueModel):
    """Choose ``p`` sites maximising expected attendance under a decay curve.

    Parameters
    ----------
    costs
        Candidates x demand walking minutes (sparse: absent = out of reach; dense:
        ``inf``/``NaN``).
    curve
        A :class:`~siting.decay.DecayCurve` or its text (``"exponential:half=3"``); default
        the linear curve to 0 at 10 minutes (ArcGIS's default decay).
    weights, candidate_ids, p, cutoff, regions, quotas, fixed, excluded, capacity
        As for :class:`~siting.locate.MaximalCovering`; ``cutoff`` (minutes) can only
        shorten the curve's own reach.

    Examples
    --------
    Two incidents 2 and 8 minutes from site ``a``, one incident 1 minute from ``b``; the
    linear curve gives ``a`` 0.8 + 0.2 = 1.0 and ``b`` 0.9.

    >>> import numpy as np
    >>> t = np.array([[2.0, 8.0, np.inf], [np.inf, np.inf, 1.0]])
    >>> r = MaximizeAttendance(t, candidate_ids=["a", "b"], p=1).solve()
    >>> r.chosen, round(r.objective, 6), r.status
    (['a'], 1.0, 'optimal')
    >>> r = MaximizeAttendance(t, candidate_ids=["a", "b"], p=1, curve="step").solve()
    >>> r.chosen, r.objective
    (['a'], 2.0)
    """

    name = "attendance"
    options = ("p", "curve")
    value_name = "expected attendance"
    value_column = "expected_attendance"
    value_unit = "demand weight"

    def __init__(
        self,
        costs: Any,
        *,
        weights: npt.ArrayLike | None = None,
        candidate_ids: Sequence[Any] | None = None,
        p: int,
        curve: DecayCurve | str | None = None,
        **kw: Any,
    ) -> None:
        if curve is None:
            curve = DecayCurve.default("linear")
        self.curve = DecayCurve.parse(curve) if isinstance(curve, str) else curve
        super().__init__(costs, weights=weights, candidate_ids=candidate_ids, p=p, **kw)

    def value_of(self, costs: F64) -> F64:
        return self.curve(costs)

    def own_args(self) -> dict[str, Any]:
        return {"curve": self.curve}

    def reach(self) -> float:
        return self.curve.reach

    def describe(self) -> str:
        return self.curve.describe()
