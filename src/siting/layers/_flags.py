"""Yes/no columns (a fatal flag above all), read one way by every reader of the package."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

#: Values read as true in a flag column (case and surrounding spaces ignored; ``1.0`` is ``1``).
TRUE_VALUES = frozenset({"1", "true", "t", "yes", "y", "fatal", "death", "died", "dead", "deceased", "doa"})
#: Values read as false; an empty cell is false.
FALSE_VALUES = frozenset(
    {"0", "false", "f", "no", "n", "non-fatal", "nonfatal", "non fatal", "alive", "survived", "", "nan",
     "none", "<na>", "na", "null"}
)  # fmt: skip


def parse_flags(series: pd.Series) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """A yes/no column: ``(is_true, unreadable)`` per row.

    Examples
    --------
    >>> import pandas as pd
    >>> flags, bad = parse_flags(pd.Series(["1.0", "death", "Died", "no", "", "maybe"]))
    >>> flags.tolist(), bad.tolist()
    ([True, True, True, False, False, False], [False, False, False, False, False, True])
    """
    codes, text = _distinct_text(series)
    text = text.str.replace(r"\.0+$", "", regex=True)
    is_true = _per_row(text.isin(TRUE_VALUES).to_numpy(), codes, "" in TRUE_VALUES)
    is_false = _per_row(text.isin(FALSE_VALUES).to_numpy(), codes, "" in FALSE_VALUES)
    return is_true, ~(is_true | is_false)


def _distinct_text(series: pd.Series) -> tuple[npt.NDArray[np.intp], pd.Series]:
    """Each row's code and the distinct values as stripped lower-case text: a text column of
    200,000 flags holds a handful of values, so the text is worked on once per value.
    Missing values have code -1 (they read as ``""``). Other columns keep a row per value
    (numbers that compare equal, such as 0.0 and -0.0, do not write the same)."""
    import numpy as np
    import pandas as pd

    if isinstance(series.dtype, pd.StringDtype):
        codes, uniques = pd.factorize(series)
        values = pd.Series(uniques)
    else:
        codes, values = np.arange(len(series)), series.reset_index(drop=True)
    return codes, values.astype("string").fillna("").str.strip().str.lower()


def _per_row(
    per_value: npt.NDArray[np.bool_], codes: npt.NDArray[np.intp], missing: bool
) -> npt.NDArray[np.bool_]:
    """A result per distinct value spread to the rows (``missing`` where a row has none)."""
    import numpy as np

    out = np.full(codes.size, missing, dtype=bool)
    has = codes >= 0
    out[has] = per_value[codes[has]]
    return out


def flag_rule(given: str | None) -> tuple[str | None, frozenset[str] | None]:
    """A flag column as given: ``"OUTCOME=Deceased,DOA"`` -> ``("OUTCOME", {"deceased", "doa"})``.

    With ``=VALUES`` the column is true where it holds one of VALUES (case ignored) and
    false everywhere else, for outcome columns with many values ("Alive", "Unknown",
    "Transported"...). Without it the column must be a yes/no column (:func:`parse_flags`).
    """
    if given is None or "=" not in given:
        return given, None
    col, _, values = given.partition("=")
    wanted = frozenset(v.strip().lower() for v in values.split(",") if v.strip())
    return col.strip(), wanted or None


def read_flags(
    series: pd.Series, values: frozenset[str] | None = None
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """``(is_true, unreadable)`` per row: by ``values`` (see :func:`flag_rule`) or as yes/no."""
    if values is None:
        return parse_flags(series)
    import numpy as np

    codes, text = _distinct_text(series)
    return _per_row(text.isin(values).to_numpy(), codes, "" in values), np.zeros(len(series), dtype=bool)


def unreadable_values(series: pd.Series, bad: npt.NDArray[np.bool_], limit: int = 5) -> str:
    """The values a flag column could not read, most frequent first: ``'Unknown' (305 rows)``."""
    counts = series[bad].astype("string").str.strip().value_counts()
    shown = [f"{v!r} ({n:,} row{'s' if n != 1 else ''})" for v, n in counts.iloc[:limit].items()]
    more = len(counts) - limit
    return ", ".join(shown) + (f" and {more} more value{'s' if more != 1 else ''}" if more > 0 else "")


def flag_problem(column: str, series: pd.Series, bad: npt.NDArray[np.bool_], rows: str) -> str:
    """What is wrong with a fatal flag column (``rows`` names where) and what to do."""
    return (
        f"column {column!r} must be true/false, yes/no or 1/0 (or fatal/non-fatal, dead/alive) but also "
        f"holds {unreadable_values(series, bad)}, in {rows}; to count some values as fatal and every "
        f"other as not, name them: --fatal-column '{column}=VALUE,VALUE'"
    )
