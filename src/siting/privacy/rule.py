"""The one disclosure rule every shareable figure derived from incidents follows.

A count (or an estimate of one) ``v`` is shown as:

* ``"fewer than 11"`` when ``v <= threshold`` (10 by default, the CMS cell-size rule),
  zero included, so an empty area and an area with a few incidents look the same;
* otherwise ``v`` rounded half up to a multiple of ``base`` (10 by default), never shown
  below the first multiple of ``base`` above the threshold (so 11 to 24 show as 20).

Walking times are shown in whole minutes and shares in whole percent.

Why the base is 10 and not 5: two releases of nested figures (this month's total and next
month's, a catchment and a larger one around it) differ by ``d`` incidents. If both are
rounded to base ``b``, a reader learns ``d`` only to within ``b - 1`` on each side, so a
difference of 1 to ``threshold`` can never be pinned inside 1..``threshold`` when
``2 b - 1 >= threshold + 1``. With the threshold 10 that needs ``b >= 6``; base 5 lets
150 -> 155 say "1 to 9 new incidents". A weaker threshold or base needs ``allow_weaker``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import settings
from .._errors import InputError

F64 = npt.NDArray[np.float64]

#: The threshold below which no rule is accepted without ``allow_weaker`` (CMS: 1-10).
MIN_THRESHOLD = 10


@dataclass(frozen=True)
class Rule:
    """Small-count suppression and rounding for shareable outputs.

    Parameters
    ----------
    threshold
        Counts from 0 to ``threshold`` are shown as "fewer than ``threshold + 1``".
    base
        Other counts are rounded to a multiple of ``base``.
    allow_weaker
        Accept a threshold below :data:`MIN_THRESHOLD` or a base too small to protect
        differences between releases (see :attr:`min_base`). Off by default.

    Examples
    --------
    >>> r = Rule()
    >>> [r.label(v) for v in (0, 3, 10, 11, 24, 25, 1234)]
    ['fewer than 11', 'fewer than 11', 'fewer than 11', '20', '20', '30', '1,230']
    >>> r.window(20), r.window(30)
    ((11, 24), (25, 34))
    >>> Rule(threshold=5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    siting._errors.InputError: suppression threshold 5 is below 10 ...; pass `--allow-weaker-privacy` ...
    """

    threshold: int = settings.suppression_threshold
    base: int = 10
    allow_weaker: bool = False

    def __post_init__(self) -> None:
        t, b = self.threshold, self.base
        if not isinstance(t, int | np.integer) or isinstance(t, bool) or t < 0:
            msg = f"suppression threshold must be a whole number >= 0, got {t!r}"
            raise InputError(msg)
        if not isinstance(b, int | np.integer) or isinstance(b, bool) or b < 1:
            msg = f"rounding base must be a whole number >= 1, got {b!r}"
            raise InputError(msg)
        object.__setattr__(self, "threshold", int(t))
        object.__setattr__(self, "base", int(b))
        if self.allow_weaker:
            return
        if t < MIN_THRESHOLD:
            msg = (
                f"suppression threshold {t} is below {MIN_THRESHOLD} (the CMS cell-size rule); pass "
                "`--allow-weaker-privacy` (allow_weaker=True) if your data agreement permits it"
            )
            raise InputError(msg)
        if b < self.min_base:
            msg = (
                f"rounding base {b} is too small for threshold {t}: two releases could then pin a "
                f"difference of 1 to {t} incidents; use a base of at least {self.min_base} or pass "
                "`--allow-weaker-privacy`"
            )
            raise InputError(msg)

    # ------------------------------------------------------------------ derived
    @property
    def min_base(self) -> int:
        """The smallest base that protects differences between two releases."""
        return max(1, math.ceil((self.threshold + 2) / 2))

    @property
    def first_shown(self) -> int:
        """The smallest number ever shown: the first multiple of the base above the threshold."""
        return (self.threshold // self.base + 1) * self.base

    @property
    def suppressed_label(self) -> str:
        """The text shown instead of a count of 0..threshold."""
        return f"fewer than {self.threshold + 1}"

    def describe(self) -> dict[str, Any]:
        """The rule's parameters, for file metadata."""
        return {
            "threshold": self.threshold,
            "suppressed_label": self.suppressed_label,
            "rounding_base": self.base,
            "smallest_number_shown": self.first_shown,
            "walking_times": "whole minutes",
            "shares": "whole percent",
        }

    def statement(self) -> str:
        """The privacy statement printed on every shareable map and report."""
        return (
            f"Shareable: every figure derived from incidents follows one rule. Counts from 0 to "
            f"{self.threshold} are shown as \u201c{self.suppressed_label}\u201d, so an empty area and an "
            f"area with a few incidents look the same; other counts are rounded to the nearest "
            f"{self.base:,} (never shown below {self.first_shown:,}); walking times are in whole "
            f"minutes and shares in whole percent. Only the incident counts per hexagon, the totals "
            f"and the hour and weekday bars are computed from the incidents themselves, and a value "
            f"is withheld where it could otherwise be worked out from a total. Every other figure "
            f"(candidates, chosen sites, coverage, impact, regions, hotspots) is estimated from the "
            f"published hexagon counts spread along the streets, so it reveals nothing more. No "
            f"incident location is written."
        )

    # ------------------------------------------------------------------ values
    def released(self, values: npt.ArrayLike) -> F64:
        """The number shown for each value: NaN where suppressed (below ``threshold + 1``).

        >>> Rule().released([0, 7.5, 12, 15, 104.9, np.nan]).tolist()
        [nan, nan, 20.0, 20.0, 100.0, nan]
        """
        v = np.asarray(values, dtype=np.float64)
        out = np.floor(v / self.base + 0.5) * self.base
        out = np.maximum(out, self.first_shown)
        return np.where(np.isfinite(v) & (v >= self.threshold + 1), out, np.nan)

    def label(self, value: Any) -> str:
        """The text shown for one count or estimate (empty for a missing value)."""
        try:
            v = float(value)
        except (TypeError, ValueError):
            return ""
        if not math.isfinite(v):
            return ""
        r = self.released([v])[0]
        return self.suppressed_label if np.isnan(r) else f"{int(r):,}"

    def share(self, part: Any, whole: Any) -> tuple[float, str]:
        """A share of counts (or of weights) as shown: its number (0..1) and its text.

        Whole percent, unless the part or the rest of the whole is below ``threshold + 1``: then
        the share is a bound ("under 8%", "over 92%"), for a whole percent of a small or
        released total would otherwise give that small count back (99% of 150 leaves 1 or
        2). Nothing is shown of a whole of 0..``threshold`` (NaN, "").

        >>> r = Rule()
        >>> r.share(120, 150), r.share(5, 150), r.share(145, 150), r.share(3, 8)
        ((0.8, '80%'), (0.08, 'under 8%'), (0.92, 'over 92%'), (nan, ''))
        >>> r.share(0, 1800)
        (0.01, 'under 1%')
        """
        try:
            p, w = float(part), float(whole)
        except (TypeError, ValueError):
            return math.nan, ""
        if not (math.isfinite(p) and math.isfinite(w)) or w < self.threshold + 1:
            return math.nan, ""
        small = (self.threshold + 1) / w
        if p < self.threshold + 1:
            bound = math.ceil(100 * small - 1e-9)
            return bound / 100, f"under {bound}%"
        if w - p < self.threshold + 1:
            bound = math.floor(100 * (1 - small) + 1e-9)
            return bound / 100, f"over {bound}%"
        v = float(whole_percent([p / w])[0])
        return v / 100, f"{int(v)}%"

    def shares(self, parts: npt.ArrayLike, whole: float) -> tuple[F64, list[str]]:
        """:meth:`share` of each part of one whole: numbers and labels."""
        out = [self.share(p, whole) for p in np.asarray(parts, dtype=np.float64)]
        return np.array([v for v, _ in out], dtype=np.float64), [lab for _, lab in out]

    def labels(self, values: npt.ArrayLike) -> npt.NDArray[np.object_]:
        """:meth:`label` of every value."""
        return np.array([self.label(v) for v in np.asarray(values, dtype=np.float64)], dtype=object)

    def window(self, shown: float) -> tuple[int, int]:
        """Every whole count that is shown as ``shown`` (what a reader can infer from it).

        >>> five = Rule(base=5, allow_weaker=True)
        >>> five.window(15), five.window(20)
        ((11, 17), (18, 22))
        """
        r = int(shown)
        lo = r - self.base // 2
        hi = r + (self.base + 1) // 2 - 1
        if r == self.first_shown:
            lo = self.threshold + 1
        return lo, hi


def whole_minutes(values: npt.ArrayLike) -> F64:
    """Walking times as shown: whole minutes, half up.

    >>> whole_minutes([4.49, 4.5, np.nan]).tolist()
    [4.0, 5.0, nan]
    """
    v = np.asarray(values, dtype=np.float64)
    return np.floor(v + 0.5)


def whole_percent(shares: npt.ArrayLike) -> F64:
    """Shares (0..1) as shown: whole percent, half up.

    >>> whole_percent([0.8519, 0.005, np.nan]).tolist()
    [85.0, 1.0, nan]
    """
    v = np.asarray(shares, dtype=np.float64) * 100.0
    return np.floor(v + 0.5 + 1e-9)


def percent_label(share: Any) -> str:
    """``"85%"`` for 0.852; empty for a missing value."""
    p = whole_percent([float(share) if share is not None else np.nan])[0]
    return "" if np.isnan(p) else f"{int(p)}%"


def minutes_label(minutes: Any) -> str:
    """``"5 min"`` for 4.85; empty for a missing value."""
    m = whole_minutes([float(minutes) if minutes is not None else np.nan])[0]
    return "" if np.isnan(m) else f"{int(m)} min"
