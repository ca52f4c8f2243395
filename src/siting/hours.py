"""Opening hours from the incidents' time of day: the shortest daily window reaching a share.

A site open from 08:00 to 22:00 is there for the overdoses that happen in those hours
and not for the others (New York's OnPoint opens at 6 am, after the overnight
overdoses). Given the hour-of-day profile of the incidents a site reaches (in the data's
timezone: see ``siting select --timezone``), :func:`recommend_hours` finds the shortest
window of whole hours, wrapping past midnight, that holds at least a target share of them,
and says what a higher share would need: "08:00-22:00 reaches 81%; 95% needs 24 hours".

Ties between windows of the same length go to the one holding more incidents, then to
the earliest start after midnight. Counts are incidents (rows), not demand weights.
Shares print as whole percentages, rounded down, so a window is never said to reach more
than it does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._errors import InputError

F64 = npt.NDArray[np.float64]

#: Share of a site's reachable incidents its recommended hours should cover.
DEFAULT_TARGET = 0.80
#: The higher share whose hours are reported alongside ("95% needs 24 hours").
DEFAULT_ALSO = 0.95


def _check_profile(counts: npt.ArrayLike) -> F64:
    c = np.asarray(counts, dtype=np.float64).ravel()
    if len(c) != 24:
        msg = f"an hourly profile needs 24 values (hours 0..23), got {len(c)}"
        raise InputError(msg)
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        msg = "hourly counts must be finite and >= 0"
        raise InputError(msg)
    return c


def _check_share(share: float, name: str) -> float:
    if not (isinstance(share, int | float) and 0 < share <= 1):
        msg = f"`{name}` must be a share in (0, 1], got {share!r}"
        raise InputError(msg)
    return float(share)


def shortest_window(counts: npt.ArrayLike, share: float) -> tuple[int, int, float]:
    """``(start_hour, n_hours, share_reached)`` of the shortest circular window reaching ``share``.

    Examples
    --------
    >>> shortest_window([0] * 8 + [10] * 12 + [0] * 4, 1.0)
    (8, 12, 1.0)
    >>> shortest_window([5] + [0] * 22 + [5], 1.0)  # wraps past midnight: 23:00-01:00
    (23, 2, 1.0)
    >>> shortest_window([0] * 24, 0.8)
    (0, 0, 0.0)
    """
    c = _check_profile(counts)
    share = _check_share(share, "share")
    total = float(c.sum())
    if total <= 0:
        return 0, 0, 0.0
    need = share * total - 1e-9 * total
    doubled = np.concatenate([c, c])
    csum = np.concatenate([[0.0], np.cumsum(doubled)])
    for length in range(1, 25):
        sums = csum[np.arange(24) + length] - csum[np.arange(24)]
        best = float(sums.max())
        if best >= need:
            start = int(np.flatnonzero(sums == best)[0])
            return start, length, min(best / total, 1.0)
    return 0, 24, 1.0  # pragma: no cover - the full day always holds every incident


def _hhmm(h: int) -> str:
    return f"{h % 24:02d}:00"


def percent_floor(x: float) -> str:
    """A share as whole percent rounded down (never more than it is): ``'81%'`` for 0.8149."""
    return f"{math.floor(x * 100 + 1e-9):d}%"


@dataclass(frozen=True)
class OpeningHours:
    """A recommended daily window and what it reaches.

    Attributes
    ----------
    start
        First hour open (0..23), in the data's timezone.
    hours
        Hours open (1..24); 0 when there were no incidents with a time of day.
    share
        Share of the incidents the window holds.
    target
        The share asked for.
    also, also_hours
        The higher share reported alongside, and the hours it would need.
    incidents
        Incidents in the profile (with a time of day).
    """

    start: int
    hours: int
    share: float
    target: float
    also: float | None
    also_hours: int | None
    incidents: float

    @property
    def window(self) -> str:
        """``'08:00-22:00'``, ``'24 hours'``, or ``''`` when not estimated."""
        if self.hours == 0:
            return ""
        if self.hours >= 24:
            return "24 hours"
        return f"{_hhmm(self.start)}-{_hhmm(self.start + self.hours)}"

    def open_mask(self) -> npt.NDArray[np.bool_]:
        """24 booleans: whether the site is open in each hour of the day."""
        m = np.zeros(24, bool)
        m[(self.start + np.arange(self.hours)) % 24] = True
        return m

    def describe(self) -> str:
        """One line for the popup and the report.

        >>> recommend_hours([0] * 8 + [10] * 14 + [1, 1]).describe()  # 120 of 142 by 20:00
        '08:00-20:00 reaches 84%; 95% needs 14 hours'
        >>> recommend_hours([1] * 24).describe()  # a flat day: 20 of 24 hours for 80%
        '00:00-20:00 reaches 83%; 95% needs 23 hours'
        >>> recommend_hours([1] * 24, target=0.99, also=None).describe()
        'open 24 hours to reach 99% (100%)'
        """
        if self.hours == 0:
            return "no incidents with a time of day: hours not estimated"
        text = f"{self.window} reaches {percent_floor(self.share)}"
        if self.hours >= 24:
            text = f"open 24 hours to reach {percent_floor(self.target)} ({percent_floor(self.share)})"
        if self.also is not None and self.also_hours is not None:
            if self.also_hours >= 24:
                text += f"; {percent_floor(self.also)} needs 24 hours"
            else:
                unit = "hour" if self.also_hours == 1 else "hours"
                text += f"; {percent_floor(self.also)} needs {self.also_hours} {unit}"
        return text


def recommend_hours(
    counts: npt.ArrayLike, *, target: float = DEFAULT_TARGET, also: float | None = DEFAULT_ALSO
) -> OpeningHours:
    """The shortest daily window holding ``target`` of the incidents, and the hours ``also`` needs.

    Parameters
    ----------
    counts
        Incidents per hour of day, 24 values (hour 0 = 00:00-01:00 in the data's timezone).
    target
        Share the window must reach (default 0.8).
    also
        A higher share whose hours are reported too (default 0.95; ``None`` to skip).

    Examples
    --------
    A hand-checked profile: 81 of 100 incidents between 08:00 and 22:00, the other 19
    spread over the night.

    >>> day = [0] * 8 + [6] * 13 + [3] + [0] * 2
    >>> night = [2, 2, 2, 2, 2, 2, 2, 2] + [0] * 13 + [0] + [2, 1]
    >>> profile = [a + b for a, b in zip(day, night)]
    >>> sum(profile), sum(profile[8:22])
    (100, 81)
    >>> recommend_hours(profile).describe()
    '08:00-22:00 reaches 81%; 95% needs 21 hours'
    """
    c = _check_profile(counts)
    target = _check_share(target, "target")
    if also is not None:
        also = _check_share(also, "also")
        if also <= target:
            also = None
    start, length, reached = shortest_window(c, target)
    also_hours = shortest_window(c, also)[1] if also is not None and length else None
    return OpeningHours(start, length, reached, target, also, also_hours, float(c.sum()))


def hourly_counts(hours: npt.ArrayLike, weights: npt.ArrayLike | None = None) -> F64:
    """24 counts from an hour of day per incident (``-1`` or ``NaN``: unknown, left out).

    >>> hourly_counts([0, 0, 23, -1]).tolist()[:1] + hourly_counts([0, 0, 23, -1]).tolist()[-1:]
    [2.0, 1.0]
    """
    h = np.asarray(hours, dtype=np.float64).ravel()
    ok = np.isfinite(h) & (h >= 0)
    if np.any(h[ok] >= 24) or np.any(h[ok] != np.floor(h[ok])):
        msg = "hours of day must be whole numbers 0..23"
        raise InputError(msg)
    w = np.ones(len(h)) if weights is None else np.asarray(weights, np.float64).ravel()
    return np.bincount(h[ok].astype(np.int64), weights=w[ok], minlength=24).astype(np.float64)


def local_hours(dates: pd.Series, timezone: str | None = None) -> npt.NDArray[np.int64]:
    """Hour of day (0..23) of each date in the data's timezone (``-1`` where unknown).

    * Times with a UTC offset are converted to ``timezone``. Without one, they keep their
      own clock time, which is only meaningful when the column has a single offset: two or
      more offsets (daylight saving) without ``timezone`` is an error asking for it.
    * Times without an offset are taken as local clock times already.
    * Dates without a time of day, empty cells and unparseable text give ``-1``.

    >>> import pandas as pd
    >>> local_hours(pd.Series(["2024-01-05T23:30:00-05:00", "2024-01-06T04:30:00+00:00"]),
    ...             "America/Toronto").tolist()
    [23, 23]
    >>> local_hours(pd.Series(["2024-01-05 07:10", "2024-01-05", None])).tolist()
    [7, -1, -1]
    """
    if timezone is not None:
        try:
            import zoneinfo

            zoneinfo.ZoneInfo(str(timezone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            msg = f"timezone {timezone!r} is not known; use an IANA name such as America/Toronto"
            raise InputError(msg) from None
    if pd.api.types.is_datetime64_any_dtype(dates):
        d = dates
        if timezone is not None and getattr(d.dt, "tz", None) is not None:
            d = d.dt.tz_convert(timezone)
        hour = d.dt.hour.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.where(np.isfinite(hour), hour, -1.0).astype(np.int64)
    raw = dates.astype("string").str.strip()
    has_time = raw.str.contains(r"\d[T ]\d{1,2}:\d{2}", regex=True, na=False).to_numpy()
    offset = raw.str.extract(r"(Z|[+-]\d{2}(?::?\d{2})?)$", expand=False)
    with_offset = offset.notna().to_numpy() & has_time
    out = np.full(len(raw), -1, np.int64)
    naive = has_time & ~with_offset
    if naive.any():
        d = pd.to_datetime(raw[naive], errors="coerce", format="mixed")
        out[naive] = d.dt.hour.to_numpy(dtype=np.float64, na_value=-1.0).astype(np.int64)
    if with_offset.any():
        if timezone is None:
            kinds = sorted({"+00:00" if o == "Z" else o for o in offset[with_offset].dropna()})
            if len(kinds) > 1:
                msg = (
                    f"the dates carry {len(kinds)} UTC offsets ({', '.join(kinds[:3])}); hours of day "
                    "need one timezone: give it (e.g. --timezone America/Toronto)"
                )
                raise InputError(msg)
            clock = raw[with_offset].str.replace(r"(Z|[+-]\d{2}(?::?\d{2})?)$", "", regex=True)
            d = pd.to_datetime(clock, errors="coerce", format="mixed")
        else:
            d = pd.to_datetime(raw[with_offset], errors="coerce", format="mixed", utc=True)
            d = d.dt.tz_convert(timezone)
        out[with_offset] = d.dt.hour.to_numpy(dtype=np.float64, na_value=-1.0).astype(np.int64)
    return out
