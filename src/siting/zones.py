"""Times of day in one zone: what "hour of day" means for an incident layer.

A timestamp column can carry UTC offsets (``2024-07-05T23:30:00-04:00``), one offset for
the whole column (``...Z``: UTC) or none (clock times as written). Hours of day are read
in one zone:

* ``timezone`` given (``--timezone America/Toronto``): times with an offset are converted
  to it; clock times without one are taken as that zone's;
* no ``timezone``, one offset in the column: the data's own zone (for ``Z``, UTC: give
  ``--timezone`` to count a Friday-night incident in Toronto as Friday 23:00, not
  Saturday 03:00 UTC);
* no ``timezone``, no offsets: the clock times as written;
* no ``timezone``, two or more offsets (daylight saving, or several zones): an error
  that asks for ``--timezone``, since no single reading is right.

The zone used is returned as a label the report states beside the hourly chart.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ._errors import InputError

_OFFSET = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
#: Label for clock times that carry no zone.
AS_WRITTEN = "clock time as written (the data carry no time zone)"


def check_timezone(name: str) -> str:
    """``name`` if it is a time zone pandas knows (IANA: ``America/Toronto``, ``UTC``), else an error.

    >>> check_timezone("America/Toronto")
    'America/Toronto'
    >>> check_timezone("Toronto")
    Traceback (most recent call last):
    ...
    siting._errors.InputError: `timezone` 'Toronto' is not a time zone name; give an IANA name such as \
America/Toronto, Europe/Helsinki or UTC
    """
    try:
        pd.Timestamp("2024-01-01").tz_localize(name)
    except Exception:  # pytz/zoneinfo raise different errors for an unknown name
        msg = (
            f"`timezone` {name!r} is not a time zone name; give an IANA name such as America/Toronto, "
            "Europe/Helsinki or UTC"
        )
        raise InputError(msg) from None
    return name


def _offset_label(offset: str) -> str:
    o = offset.upper()
    if o == "Z":
        return "UTC"
    if len(o) == 3:
        o += ":00"
    elif ":" not in o:
        o = f"{o[:3]}:{o[3:]}"
    return "UTC" if o in ("+00:00", "-00:00") else f"UTC{o}"


def dates_in_one_zone(
    raw: pd.Series, parsed: pd.Series, timezone: str | None = None, *, where: str = "the dates"
) -> tuple[pd.Series, str]:
    """``parsed`` (the values of ``raw`` as read) in one zone, and that zone in words.

    Parameters
    ----------
    raw
        The column as written (text, or already datetimes).
    parsed
        The same values as datetimes (NaT where missing), naive or tz-aware.
    timezone
        The zone to read hours of day in (IANA name), or ``None``: the data's own.
    where
        The file and column, for the error message.

    Examples
    --------
    >>> raw = pd.Series(["2024-07-05T23:30:00-04:00", "2024-12-06T23:30:00-05:00"])
    >>> parsed = pd.to_datetime(raw, utc=True, format="ISO8601")
    >>> d, zone = dates_in_one_zone(raw, parsed, "America/Toronto")
    >>> d.dt.hour.tolist(), d.dt.day_name().tolist(), zone
    ([23, 23], ['Friday', 'Friday'], 'America/Toronto')
    >>> dates_in_one_zone(raw, parsed, where="d.csv, column 'time'")
    Traceback (most recent call last):
    ...
    siting._errors.InputError: d.csv, column 'time': the times carry 2 UTC offsets (UTC-04:00, UTC-05:00), \
from daylight saving time or several zones; give --timezone (e.g. America/Toronto) to read hours of day \
in one zone
    """
    if timezone is not None:
        check_timezone(timezone)
    values = pd.Series(parsed).reset_index(drop=True)
    present = values.notna().to_numpy()
    if not present.any():
        return values, timezone or ""
    if pd.api.types.is_datetime64_any_dtype(raw):
        offsets: list[str] = []
        tz = getattr(pd.Series(raw).dt, "tz", None)
        with_offset = np.full(len(values), tz is not None)
        if tz is not None:
            offsets = [str(tz)]
    else:
        text = pd.Series(raw).reset_index(drop=True).astype("string").fillna("").str.strip()
        timed = text.str.contains(r"\d:\d", regex=True).to_numpy(dtype=bool)
        # only a time of day can carry an offset: the rest (200,000 plain dates) is not searched
        at = np.flatnonzero(timed & present)
        found = text.iloc[at].str.extract(f"({_OFFSET.pattern})", flags=re.IGNORECASE, expand=False)
        has = found.notna().to_numpy()
        with_offset = np.zeros(len(values), dtype=bool)
        with_offset[at[has]] = True
        offsets = sorted({_offset_label(o) for o in found[has]})
    aware = getattr(values.dt, "tz", None) is not None
    if timezone is not None:
        if aware:
            return values.dt.tz_convert(timezone), timezone
        # clock times without an offset are that zone's (an hour repeated in autumn: its standard-time,
        # second, reading; an hour skipped in spring: shifted forward)
        localized = values.dt.tz_localize(
            timezone, ambiguous=np.zeros(len(values), dtype=bool), nonexistent="shift_forward"
        )
        return localized, timezone
    if len(offsets) > 1 or (with_offset.any() and not with_offset[present].all()):
        kinds = ", ".join(offsets[:3]) + (" and more" if len(offsets) > 3 else "")
        what = (
            f"the times carry {len(offsets)} UTC offsets ({kinds}), "
            "from daylight saving time or several zones"
            if len(offsets) > 1
            else "some times carry a UTC offset and some do not"
        )
        msg = f"{where}: {what}; give --timezone (e.g. America/Toronto) to read hours of day in one zone"
        raise InputError(msg)
    if offsets:
        zone = offsets[0]
        return values, f"{zone} (the data's own zone; give --timezone for local time)"
    return values, AS_WRITTEN
