"""Dates and flags read once per distinct value, times of day found in numpy: the same
columns, bad rows, formats and warnings as reading every row (the code before, kept here)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from siting.layers import _dates, _flags
from siting.layers._spec import MISSING_TOKENS


def rowwise_dates(raw: pd.Series, date_format: str | None = None) -> _dates.Dates:
    """layers._dates.parse_dates as it read a column before: every row."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        return _dates.Dates(raw.reset_index(drop=True), np.zeros(len(raw), dtype=bool), "datetime")
    text = raw.astype("str").fillna("").str.strip()
    missing = text.str.lower().isin(MISSING_TOKENS).to_numpy()
    present = text[~missing]
    if present.empty:
        out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
        return _dates.Dates(out.reset_index(drop=True), np.zeros(len(raw), dtype=bool), date_format or "none")
    if date_format is not None:
        parsed, used = pd.to_datetime(present, format=date_format, errors="coerce"), date_format
    else:
        parsed, used = _dates._try(present, "ISO 8601"), "ISO 8601"
        if parsed is None:
            found = _dates._numeric_dates(present, len(present))
            if found is not None:
                parsed, used = found
        if parsed is None:
            for fmt in (*_dates._US, *_dates._DAY_FIRST, *_dates._OTHER):
                parsed = _dates._try(present, fmt)
                if parsed is not None:
                    used = fmt
                    break
        if parsed is None:
            used = "mixed"
            try:
                parsed = pd.to_datetime(present, errors="coerce", format="mixed")
            except (ValueError, TypeError):
                parsed = pd.to_datetime(present, errors="coerce", format="mixed", utc=True)
    out = pd.Series(pd.NaT, index=text.index, dtype=parsed.dtype)
    out.loc[present.index] = parsed
    bad = np.zeros(len(raw), dtype=bool)
    bad[np.flatnonzero(~missing)] = parsed.isna().to_numpy()
    return _dates.Dates(out.reset_index(drop=True), bad, used)


def rowwise_flags(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    text = series.astype("string").fillna("").str.strip().str.lower()
    text = text.str.replace(r"\.0+$", "", regex=True)
    is_true = text.isin(_flags.TRUE_VALUES).to_numpy()
    is_false = text.isin(_flags.FALSE_VALUES).to_numpy()
    return is_true, ~(is_true | is_false)


def rowwise_has_time(dates: pd.Series) -> bool:
    d = dates.dropna()
    if d.empty:
        return False
    t = d.dt.hour * 3600 + d.dt.minute * 60 + d.dt.second
    return bool((t != 0).any())


_FORMS = [
    lambda t: t.strftime("%Y-%m-%d"),
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%S"),
    lambda t: t.strftime("%Y-%m-%d %H:%M"),
    lambda t: t.strftime("%m/%d/%Y %I:%M:%S %p"),
    lambda t: t.strftime("%d.%m.%Y %H:%M"),
    lambda t: t.strftime("%d/%m/%y"),
    lambda t: t.strftime("%m/%d/%Y"),
    lambda t: t.strftime("%Y%m%d"),
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%S+02:00"),
]


def _date_column(rng: np.random.Generator, trial: int) -> pd.Series:
    n = int(rng.integers(1, 400))
    days = pd.Timestamp("1965-01-01") + pd.to_timedelta(rng.integers(0, 25000, n), unit="D")
    times = days + pd.to_timedelta(rng.integers(0, 86400, n) * (trial % 3 == 0), unit="s")
    form = _FORMS[trial % len(_FORMS)]
    values = [form(t) for t in times]
    if trial % 4 == 1:  # a few days repeated many times, as a year of calls is
        values = [values[i] for i in rng.integers(0, min(n, 7), n)]
    for i in rng.integers(0, n, int(rng.integers(0, 5))):
        values[i] = str(rng.choice(["", "NA", " n/a ", "-", "not a date", "13/45/2020", "2021-02-30", "nat"]))
    if trial % 5 == 2:  # a second form in the same column
        values[0] = _FORMS[(trial + 3) % len(_FORMS)](times[0])
    return pd.Series(values, dtype="string")


def test_dates_equal_row_by_row_reading(caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(12)
    for trial in range(90):
        raw = _date_column(rng, trial)
        if trial % 6 == 5:
            raw[int(rng.integers(0, len(raw)))] = pd.NA
        fmt = "%Y-%m-%d" if trial % 11 == 7 else None
        with caplog.at_level(logging.WARNING, logger="siting.layers._dates"):
            caplog.clear()
            want = rowwise_dates(raw, fmt)
            want_log = [r.getMessage() for r in caplog.records]
            caplog.clear()
            got = _dates.parse_dates(raw, fmt)
            got_log = [r.getMessage() for r in caplog.records]
        pd.testing.assert_series_equal(got.values, want.values, check_exact=True)
        np.testing.assert_array_equal(got.bad, want.bad)
        assert got.format == want.format, trial
        assert got_log == want_log, trial
        assert _dates.has_time_of_day(got.values) == rowwise_has_time(want.values), trial
    # one US date written on every row: the month/day warning, as for a column of many dates
    with caplog.at_level(logging.WARNING, logger="siting.layers._dates"):
        caplog.clear()
        _dates.parse_dates(pd.Series(["03/04/2021"] * 3, dtype="string"))
        assert "month/day/year" in caplog.text


def test_times_of_day_in_any_zone_and_before_1970() -> None:
    rng = np.random.default_rng(2)
    for trial in range(60):
        n = int(rng.integers(0, 50))
        base = pd.Timestamp("1950-06-01") + pd.to_timedelta(rng.integers(0, 40000, n), unit="D")
        step = rng.choice([0, 1, 3600, 86400])  # midnights, seconds, hours
        d = pd.Series(base + pd.to_timedelta(rng.integers(0, 3, n) * step, unit="s"))
        if trial % 3 == 1:
            d = d + pd.to_timedelta(rng.integers(0, 999, n), unit="us")  # below a second: no time
        if trial % 4 == 2:
            d = d.dt.tz_localize("UTC").dt.tz_convert("America/Los_Angeles")
        if n and trial % 5 == 0:
            d.iloc[0] = pd.NaT
        assert _dates.has_time_of_day(d) == rowwise_has_time(d), trial


def test_flags_equal_row_by_row_reading() -> None:
    rng = np.random.default_rng(3)
    words = ["1", "0", "1.0", "0.00", " Yes ", "no", "DEAD", "alive", "", "nan", "maybe", "Unknown", "T", "doa"]
    for trial in range(40):
        n = int(rng.integers(0, 300))
        raw = pd.Series(rng.choice(words, n), dtype="string")
        if n and trial % 3 == 0:
            raw[0] = pd.NA
        for got, want in zip(_flags.parse_flags(raw), rowwise_flags(raw), strict=True):
            np.testing.assert_array_equal(got, want)
        wanted = frozenset({"dead", "doa", ""})
        text = raw.astype("string").fillna("").str.strip().str.lower()
        np.testing.assert_array_equal(_flags.read_flags(raw, wanted)[0], text.isin(wanted).to_numpy())
    numbers = pd.Series([0.0, -0.0, 1.0, np.nan, 2.5])  # -0.0 writes "-0": not a flag, as before
    for got, want in zip(_flags.parse_flags(numbers), rowwise_flags(numbers), strict=True):
        np.testing.assert_array_equal(got, want)
