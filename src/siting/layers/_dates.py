"""Dates as agencies write them, read with one format per column (never guessed per row).

A column is read with the first format that reads every value: ISO 8601, then US
month/day/year forms (``11/15/2021 05:42:49 PM``), then day.month.year and
day/month/year forms. Reading each row on its own would turn ``03/04/2021`` into March
and ``13/04/2021`` into April in the same column.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._spec import MISSING_TOKENS
from ._text import extract

log = logging.getLogger(__name__)

_US = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%m/%d/%y %I:%M:%S %p",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%y %H:%M",
    "%m/%d/%y",
    "%m-%d-%Y %H:%M:%S",
    "%m-%d-%Y",
)
_DAY_FIRST = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y",
)
_OTHER = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y%m%d")


@dataclass
class Dates:
    """Parsed dates (NaT where missing), the rows that could not be read, and the format used."""

    values: pd.Series
    bad: npt.NDArray[np.bool_]
    format: str  # "ISO 8601", a strftime format, "mixed" or "datetime"


def _try(text: pd.Series, fmt: str) -> pd.Series | None:
    """``text`` parsed with ``fmt`` if every value reads, else ``None`` (a sample is tried first)."""
    kwargs = {"format": "ISO8601"} if fmt == "ISO 8601" else {"format": fmt}
    try:
        head = pd.to_datetime(text.head(200), errors="coerce", **kwargs)
        if head.isna().any():
            return None
        full = pd.to_datetime(text, errors="coerce", **kwargs)
    except (ValueError, TypeError, OverflowError):
        return None
    return None if full.isna().any() else full


#: No back-reference (pyarrow's RE2 runs it, in C++): the two separators are compared after.
_NUMERIC = (
    r"^(?P<a>\d{1,2})(?P<s1>[/.-])(?P<b>\d{1,2})(?P<s2>[/.-])(?P<y>\d{4}|\d{2})"
    r"(?:[ T]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<se>\d{2})(?:\.\d+)?)?\s*(?P<p>[AaPp]\.?[Mm]\.?)?)?$"
)


def _numeric_dates(present: pd.Series, rows: int) -> tuple[pd.Series, str] | None:
    """``11/15/2021 05:42:49 PM``, ``15.11.2021 17:42`` and the like, read in one vectorised pass.

    Which of the first two numbers is the month is decided by the whole column: a first
    number above 12 anywhere makes it day/month, a second above 12 month/day; dots are
    day.month. A column that reads both ways is read as US month/day, with a warning; one
    that needs both orders is read one way and the rows that do not fit come back NaT.
    Returns ``None`` when some value is not of this form. ``rows``: how many rows hold
    these values (the warning is for a column of more than one date).
    """
    parts = extract(present, _NUMERIC)
    if parts["a"].isna().any() or parts["s1"].nunique() != 1 or (parts["s1"] != parts["s2"]).any():
        return None
    parts = parts.drop(columns="s2")
    parts.columns = range(parts.shape[1])
    sep = str(parts[1].iloc[0])
    a = parts[0].astype("int64").to_numpy()
    b = parts[2].astype("int64").to_numpy()
    year = parts[3].astype("int64").to_numpy()
    two_digit = np.array(parts[3].str.len() == 2, dtype=bool)
    year = np.where(two_digit, np.where(year < 70, 2000 + year, 1900 + year), year)
    first_big, second_big = bool((a > 12).any()), bool((b > 12).any())
    # both orders in one column: read it one way (US, or day.month with dots) and let the
    # rows that do not fit be reported, rather than guess row by row
    day_first = (first_big and not second_big) or (sep == "." and not (second_big and not first_big))
    month, day = (b, a) if day_first else (a, b)
    hour = parts[4].fillna("0").astype("int64").to_numpy()
    minute = parts[5].fillna("0").astype("int64").to_numpy()
    second = parts[6].fillna("0").astype("int64").to_numpy()
    ampm = parts[7].fillna("").str.upper().str.replace(".", "", regex=False)
    has_ampm = np.array(ampm != "", dtype=bool)
    pm = np.array(ampm == "PM", dtype=bool)
    bad_hour = has_ampm & ((hour < 1) | (hour > 12))
    hour = np.where(has_ampm, hour % 12 + 12 * pm, hour)
    parsed = pd.to_datetime(
        pd.DataFrame(
            {"year": year, "month": month, "day": day, "hour": hour, "minute": minute, "second": second}
        ),
        errors="coerce",
    )
    parsed[bad_hour] = pd.NaT
    parsed.index = present.index
    y = "%y" if two_digit.all() else "%Y"
    date_fmt = sep.join(["%d", "%m", y] if day_first else ["%m", "%d", y])
    first = parts.iloc[0]
    time_fmt = ""
    if isinstance(first[4], str) and first[4]:
        time_fmt = ("%I" if has_ampm[0] else "%H") + ":%M" + (":%S" if isinstance(first[6], str) else "")
        time_fmt = " " + time_fmt + (" %p" if has_ampm[0] else "")
    if not day_first and not second_big and not first_big and rows > 1:
        other = sep.join(["%d", "%m", y]) + time_fmt
        log.warning(
            "dates such as %r read as month/day/year (US); if they are day/month/year, give "
            "--date-format %r (or `date_format` in the scenario file)",
            str(present.iloc[0]),
            other,
        )
    return parsed, date_fmt + time_fmt


def parse_dates(raw: pd.Series, date_format: str | None = None) -> Dates:
    """Read a date column; missing values (``""``, ``NA``...) become NaT, unreadable ones are flagged.

    A text column is read once per distinct value (200,000 calls fall on a few hundred
    days, or repeat times): every format decision is over the column's values, so the
    dates are the ones row-by-row reading gives.
    """
    if pd.api.types.is_datetime64_any_dtype(raw):
        return Dates(raw.reset_index(drop=True), np.zeros(len(raw), dtype=bool), "datetime")
    if isinstance(raw.dtype, pd.StringDtype):
        codes, uniques = pd.factorize(raw)
        values = pd.Series(uniques)
    else:
        codes, values = np.arange(len(raw)), raw.reset_index(drop=True)
    text = values.astype("str").fillna("").str.strip()
    missing = text.str.lower().isin(MISSING_TOKENS).to_numpy()
    present = text[~missing]
    has = codes >= 0  # a missing value (code -1) reads as ""
    rows = int(np.count_nonzero(~missing[codes[has]]))
    if present.empty:
        out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
        return Dates(out.reset_index(drop=True), np.zeros(len(raw), dtype=bool), date_format or "none")
    if date_format is not None:
        parsed = pd.to_datetime(present, format=date_format, errors="coerce")
        used = date_format
    else:
        parsed = None
        used = "mixed"
        parsed = _try(present, "ISO 8601")
        if parsed is not None:
            used = "ISO 8601"
        else:
            found = _numeric_dates(present, rows)
            if found is not None:
                parsed, used = found
        if parsed is None:
            for fmt in (*_US, *_DAY_FIRST, *_OTHER):
                parsed = _try(present, fmt)
                if parsed is not None:
                    used = fmt
                    break
        if parsed is None:  # no single format reads them all: report the rows none can read
            try:
                parsed = pd.to_datetime(present, errors="coerce", format="mixed")
            except (ValueError, TypeError):  # several UTC offsets in one column
                parsed = pd.to_datetime(present, errors="coerce", format="mixed", utc=True)
    out = pd.Series(pd.NaT, index=text.index, dtype=parsed.dtype)
    out.loc[present.index] = parsed
    bad_value = np.zeros(len(text), dtype=bool)
    bad_value[np.flatnonzero(~missing)] = parsed.isna().to_numpy()
    bad = np.zeros(len(raw), dtype=bool)
    bad[has] = bad_value[codes[has]]
    return Dates(pd.Series(out.array.take(codes, allow_fill=True)), bad, used)


def has_time_of_day(dates: pd.Series) -> bool:
    """Whether any date carries a time other than midnight (date-only columns do not)."""
    d = pd.Series(dates)
    if pd.api.types.is_datetime64_any_dtype(d):  # wall-clock seconds past midnight, in numpy
        if getattr(d.dt, "tz", None) is not None:
            d = d.dt.tz_localize(None)
        a = d.to_numpy()
        a = a[~np.isnat(a)]
        day = a.astype("datetime64[D]")
        return bool((a.astype("datetime64[s]") != day.astype("datetime64[s]")).any())
    d = d.dropna()
    if d.empty:
        return False
    t = d.dt.hour * 3600 + d.dt.minute * 60 + d.dt.second
    return bool((t != 0).any())


#: The forms a ``since``/``until`` bound may take: 2021-01-31, 2021-01-31T18:00[:00] (or a space).
_ISO_BOUND = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?")


def parse_bound(text: str, *, end: bool) -> pd.Timestamp:
    """A ``since``/``until`` bound; a date alone covers that whole day (``until`` is inclusive).

    Only year-month-day forms (``2021-01-31``, ``2021-01-31T18:00``): ``04/03/2022`` is
    April 3 to one analyst and 4 March to another, so it is refused (``ValueError``).
    """
    if not _ISO_BOUND.fullmatch(text.strip()):
        msg = f"{text!r} is not a year-month-day date"
        raise ValueError(msg)
    value = pd.Timestamp(text.strip())
    date_only = len(text.strip()) <= 10
    if end and date_only:
        value = value + pd.Timedelta(days=1) - pd.Timedelta(nanoseconds=1)
    return value


#: Names of a column holding the time of day of a call when its date is in another column.
TIME_NAMES = (
    "time",
    "call_time",
    "incident_time",
    "event_time",
    "dispatch_time",
    "alarm_time",
    "psap_time",
    "received_time",
    "time_received",
    "call_received_time",
    "time_call_received",
    "time_of_call",
    "occurred_time",
)
_CLOCK = r"^\s*(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?(?:\.\d+)?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?\s*$"
_MILITARY = r"^\s*(?P<hm>\d{3,4})\s*$"


def read_times(raw: pd.Series) -> tuple[pd.Series, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Times of day (``17:42``, ``5:42:49 PM``, military ``1742``) as timedeltas from midnight.

    Returns ``(times, missing, bad)``: NaT where missing (``""``, ``NA``) or unreadable.

    >>> t, missing, bad = read_times(pd.Series(["17:42", "5:42:49 PM", "0930", "", "25:00"]))
    >>> [str(v) for v in t]
    ['0 days 17:42:00', '0 days 17:42:49', '0 days 09:30:00', 'NaT', 'NaT']
    >>> missing.tolist(), bad.tolist()
    ([False, False, False, True, False], [False, False, False, False, True])
    """
    text = raw.astype("string").fillna("").str.strip().reset_index(drop=True)
    missing = np.array(text.str.lower().isin(MISSING_TOKENS), dtype=bool)
    clock = extract(text, _CLOCK)
    h = pd.to_numeric(clock["h"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    m = pd.to_numeric(clock["m"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    s = pd.to_numeric(clock["s"], errors="coerce").fillna(0).to_numpy(dtype=np.float64, na_value=np.nan)
    half = clock["ampm"].astype("string").str.lower().str[0].fillna("").to_numpy(dtype=object)
    twelve = (half == "a") | (half == "p")
    in_range = np.where(twelve, (h >= 1) & (h <= 12), h < 24)
    ok = np.isfinite(h) & np.isfinite(m) & (m < 60) & (s < 60) & in_range
    h = np.where(twelve, np.where(half == "p", h % 12 + 12, h % 12), h)
    mil = pd.to_numeric(extract(text, _MILITARY)["hm"], errors="coerce")
    mil = mil.to_numpy(dtype=np.float64, na_value=np.nan)
    use_mil = ~ok & np.isfinite(mil) & (mil // 100 < 24) & (mil % 100 < 60)
    h = np.where(use_mil, mil // 100, h)
    m = np.where(use_mil, mil % 100, m)
    s = np.where(use_mil, 0, s)
    ok |= use_mil
    seconds = np.where(ok, h * 3600 + m * 60 + s, np.nan)
    return pd.Series(pd.to_timedelta(seconds, unit="s")), missing, ~missing & ~ok


def time_column(
    frame: pd.DataFrame, cols: list[str], date_column: str, keep: npt.NDArray[np.bool_]
) -> str | None:
    """A column named like a time of day (``Incident Time``, ``TIME_RECEIVED``) whose values all
    read as times: the other half of a date column without times."""
    for col in cols:
        plain = re.sub(r"[^0-9a-z]+", "_", str(col).lower()).strip("_")
        if col == date_column or plain not in TIME_NAMES:
            continue
        _, missing, bad = read_times(frame[col][keep].head(500))
        if not bad.any() and not missing.all():
            return str(col)
    return None


def date_like_column(frame: pd.DataFrame, cols: list[Any], keep: npt.NDArray[np.bool_]) -> str | None:
    """A column named like a date (``CALL_DATE_TIME``, ``Date/Time``) whose values all read as dates."""
    named = [c for c in cols if "date" in str(c).lower()] + [c for c in cols if "time" in str(c).lower()]
    for col in dict.fromkeys(named):
        sample = frame[col][keep].head(500)
        if pd.api.types.is_datetime64_any_dtype(sample):
            return str(col)
        parsed = parse_dates(sample)
        if not parsed.bad.any() and parsed.values.notna().any():
            return str(col)
    return None
