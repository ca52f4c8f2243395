"""Dates as agencies write them, read with one format per column (never guessed per row).

A column is read with the first format that reads every value: ISO 8601, then US
month/day/year forms (``11/15/2021 05:42:49 PM``), then day.month.year and
day/month/year forms. Reading each row on its own would turn ``03/04/2021`` into March
and ``13/04/2021`` into April in the same column.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._spec import MISSING_TOKENS

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


def parse_dates(raw: pd.Series, date_format: str | None = None) -> Dates:
    """Read a date column; missing values (``""``, ``NA``...) become NaT, unreadable ones are flagged."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        return Dates(raw.reset_index(drop=True), np.zeros(len(raw), dtype=bool), "datetime")
    text = raw.astype("string").fillna("").str.strip()
    missing = text.str.lower().isin(MISSING_TOKENS).to_numpy()
    present = text[~missing]
    if present.empty:
        out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
        return Dates(out.reset_index(drop=True), np.zeros(len(raw), dtype=bool), date_format or "none")
    if date_format is not None:
        parsed = pd.to_datetime(present, format=date_format, errors="coerce")
        used = date_format
    else:
        parsed = None
        used = "mixed"
        for fmt in ("ISO 8601", *_US, *_DAY_FIRST, *_OTHER):
            parsed = _try(present, fmt)
            if parsed is not None:
                used = fmt
                break
        if parsed is None:  # no single format reads them all: report the rows none can read
            try:
                parsed = pd.to_datetime(present, errors="coerce", format="mixed")
            except (ValueError, TypeError):  # several UTC offsets in one column
                parsed = pd.to_datetime(present, errors="coerce", format="mixed", utc=True)
        elif used in _US:
            day_first = used.replace("%m", "%D").replace("%d", "%m").replace("%D", "%d")
            if _try(present, day_first) is not None:
                log.warning(
                    "dates such as %r read as month/day/year (US); if they are day/month/year, give "
                    "--date-format %r (or `date_format` in the scenario file)",
                    str(present.iloc[0]),
                    day_first,
                )
    out = pd.Series(pd.NaT, index=text.index, dtype=parsed.dtype)
    out.loc[present.index] = parsed
    bad = np.zeros(len(raw), dtype=bool)
    bad[np.flatnonzero(~missing)] = parsed.isna().to_numpy()
    return Dates(out.reset_index(drop=True), bad, used)


def has_time_of_day(dates: pd.Series) -> bool:
    """Whether any date carries a time other than midnight (date-only columns do not)."""
    d = dates.dropna()
    if d.empty:
        return False
    t = d.dt.hour * 3600 + d.dt.minute * 60 + d.dt.second
    return bool((t != 0).any())


def parse_bound(text: str, *, end: bool) -> pd.Timestamp:
    """A ``since``/``until`` bound; a date alone covers that whole day (``until`` is inclusive)."""
    value = pd.Timestamp(text)
    date_only = len(text.strip()) <= 10
    if end and date_only:
        value = value + pd.Timedelta(days=1) - pd.Timedelta(nanoseconds=1)
    return value
