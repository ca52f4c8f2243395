"""Counts that add up to a published total: the rule, then secondary suppression.

A table whose parts add up to a total (hexagon cells and the incident total, the 24 hour
bars and the total, a site's hours and its count) lets a reader subtract: with the total
known to lie in ``[L, U]`` and every other part in its own interval, a hidden part is at
least ``L - sum of the others' upper bounds``. :func:`release_partition` applies the rule
(:class:`~siting.privacy.rule.Rule`) to every part and then checks, in closed form, the
two ways a subtraction could pin a hidden count inside ``1..threshold``:

* one hidden part: ``L - sum(upper bounds of every other part) >= 1``;
* all hidden parts together: their sum is at least 1 and at most ``threshold``.

(Any other group of hidden parts is then safe too: its lower bound can only be positive
when the whole hidden group's is, and a group of two or more can hold ``threshold + 1``.)
When a check fails, the smallest shown part is *withheld* (shown as "not shown"; a reader
knows only that it is above the threshold), which makes both bounds open, and the check
runs again. This is secondary suppression; the attack suite audits it with an LP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .rule import Rule

F64 = npt.NDArray[np.float64]

SHOWN = "shown"
SUPPRESSED = "suppressed"
WITHHELD = "withheld"
#: The text of a part withheld to protect another.
WITHHELD_LABEL = "not shown"


@dataclass(frozen=True)
class Released:
    """Released counts: what may be shown, and what a reader can infer from it.

    Attributes
    ----------
    value
        The number shown (rounded), NaN where suppressed or withheld.
    label
        The text shown.
    status
        ``"shown"``, ``"suppressed"`` (0..threshold) or ``"withheld"`` (secondary).
    low, high
        The whole counts consistent with what is shown (``high`` is ``inf`` when withheld).
    """

    value: F64
    label: npt.NDArray[np.object_]
    status: npt.NDArray[np.object_]
    low: F64
    high: F64

    def __len__(self) -> int:
        return len(self.value)

    @property
    def hidden(self) -> npt.NDArray[np.bool_]:
        return self.status != SHOWN


def release_counts(values: npt.ArrayLike, rule: Rule) -> Released:
    """The rule alone (no total to protect against), value by value.

    >>> from siting.privacy import Rule
    >>> r = release_counts([0, 4, 37], Rule())
    >>> r.label.tolist(), r.low.tolist(), r.high.tolist()
    (['fewer than 11', 'fewer than 11', '40'], [0.0, 0.0, 35.0], [10.0, 10.0, 44.0])
    """
    v = np.asarray(values, dtype=np.float64)
    shown = rule.released(v)
    status = np.where(np.isnan(shown), SUPPRESSED, SHOWN).astype(object)
    low = np.zeros(v.size)
    high = np.full(v.size, float(rule.threshold))
    for i in np.flatnonzero(~np.isnan(shown)):
        low[i], high[i] = rule.window(shown[i])
    label = np.array([rule.suppressed_label if np.isnan(s) else f"{int(s):,}" for s in shown], dtype=object)
    return Released(value=shown, label=label, status=status, low=low, high=high)


def _pinned(values: F64, r: Released, total: tuple[float, float], t: int) -> bool:
    """Would the parts and the total pin a hidden small count (see the module docstring)?"""
    if (r.status == WITHHELD).any():
        return False  # a withheld part can absorb any difference: no positive lower bound
    lo_t, hi_t = total
    shown = r.status == SHOWN
    sup = r.status == SUPPRESSED
    n_sup = int(sup.sum())
    if n_sup == 0:
        return False
    missing_low = lo_t - float(r.high[shown].sum())  # least the hidden parts hold together
    missing_high = hi_t - float(r.low[shown].sum())  # most they hold together
    if missing_low - (n_sup - 1) * t >= 1 and (values[sup] > 0).any():
        return True
    hidden_sum = float(values[sup].sum())
    return 1 <= hidden_sum <= t and missing_low >= 1 and min(n_sup * t, missing_high) <= t


def release_partition(
    values: npt.ArrayLike,
    rule: Rule,
    *,
    total: tuple[float, float] | None,
) -> Released:
    """Release parts that add up to a published total, with secondary suppression.

    Parameters
    ----------
    values
        The exact parts (counts).
    rule
        The disclosure rule.
    total
        What a reader knows of the parts' sum: the whole counts ``(low, high)`` the
        published total stands for (``Rule.window`` of it, or ``(0, threshold)`` when it
        is itself suppressed). ``None``: no total is published, nothing to subtract from.

    Examples
    --------
    Forty-three incidents: one cell of 40 and one of 3. Shown exactly, 43 - 40 gives the
    hidden 3; shown as 40 (35..44) and 40 (35..44), the hidden cell is anywhere in 0..9:

    >>> from siting.privacy import Rule
    >>> r = release_partition([40, 3], Rule(), total=(35, 44))
    >>> r.label.tolist()
    ['40', 'fewer than 11']

    Twenty-four hour bars where only one is small and the others sit at the top of their
    windows (44 shows as 40): the total 1,015 (shown as 1,020: 1,015..1,024) minus 23 x 44
    pins the small bar at 3 or more, so the smallest shown bar is withheld as well.

    >>> bars = [3] + [44] * 23
    >>> r = release_partition(bars, Rule(), total=Rule().window(Rule().released([1015])[0]))
    >>> r.status[:2].tolist(), r.label[1]
    (['suppressed', 'withheld'], 'not shown')
    """
    return _release_partition(values, rule, total)[0]


def _release_partition(
    values: npt.ArrayLike, rule: Rule, total: tuple[float, float] | None
) -> tuple[Released, bool]:
    """:func:`release_partition`, and whether it is safe (False: only hiding the total helps)."""
    v = np.asarray(values, dtype=np.float64)
    r = release_counts(v, rule)
    if total is None or v.size == 0:
        return r, True
    t = rule.threshold
    value, label, status = r.value.copy(), r.label.copy(), r.status.copy()
    low, high = r.low.copy(), r.high.copy()
    while _pinned(v, Released(value, label, status, low, high), total, t):
        shown = np.flatnonzero(status == SHOWN)
        if shown.size == 0:
            return Released(value, label, status, low, high), False
        j = int(shown[np.lexsort((shown, v[shown]))[0]])  # the smallest, first on ties
        value[j] = np.nan
        label[j] = WITHHELD_LABEL
        status[j] = WITHHELD
        low[j], high[j] = float(t + 1), math.inf
    return Released(value=value, label=label, status=status, low=low, high=high), True


def release_with_total(
    total: float, parts: dict[str, npt.ArrayLike], rule: Rule
) -> tuple[Released, dict[str, Released]]:
    """A total and every table that adds up to it (cells, hour bars, weekday bars).

    The total follows the rule. If some table has every part hidden and the total would
    still pin one (a handful of cells, all "fewer than 11", and a total of 11 or more),
    the total is shown only as "fewer than" the most those parts can hold, which says no
    more than the parts do.

    >>> from siting.privacy import Rule
    >>> tot, parts = release_with_total(11, {"cells": [1, 10]}, Rule())
    >>> tot.label[0], parts["cells"].label.tolist()
    ('fewer than 21', ['fewer than 11', 'fewer than 11'])
    """
    tot = release_counts([total], rule)
    out: dict[str, Released] = {}
    cap = math.inf
    for name, v in parts.items():
        r, ok = _release_partition(v, rule, total_window(tot))
        out[name] = r
        if not ok:
            cap = min(cap, float(len(r) * rule.threshold))
    if math.isfinite(cap):
        tot = Released(
            value=np.array([np.nan]),
            label=np.array([f"fewer than {int(cap) + 1:,}"], dtype=object),
            status=np.array([SUPPRESSED], dtype=object),
            low=np.array([0.0]),
            high=np.array([cap]),
        )
        out = {name: release_partition(v, rule, total=total_window(tot)) for name, v in parts.items()}
    return tot, out


def total_window(released_total: Released) -> tuple[float, float]:
    """``(low, high)`` of a released total of one value (for :func:`release_partition`)."""
    return float(released_total.low[0]), float(released_total.high[0])


def release_profile(counts: npt.ArrayLike, rule: Rule, *, total: Released | None = None) -> Released:
    """Bars of a profile (hours of the day, days of the week, one site's hours).

    Each bar follows the rule; when the profile's ``total`` is published too (released
    with the same rule), bars are withheld as needed so none can be recovered from it.
    """
    return release_partition(counts, rule, total=None if total is None else total_window(total))
