"""Figures as the terminal summaries print them: whole numbers with thousands separators.

A demand weight of 1,480 reads "1,480", never "1.48e+03"; a weight with a fraction keeps one
decimal ("12.5"); minutes keep one decimal; scores keep three.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def amount(v: Any) -> str:
    """A count or a demand weight: a whole number with separators, else one decimal.

    >>> amount(1480.0), amount(1234567), amount(12.5), amount(float("nan")), amount("C007")
    ('1,480', '1,234,567', '12.5', '-', 'C007')
    """
    from ..impact import amount as weight_text

    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    return weight_text(x)


def one_decimal(v: Any) -> str:
    """Minutes: one decimal, ``-`` when missing."""
    x = float(v)
    return f"{x:,.1f}" if math.isfinite(x) else "-"


def score_text(v: Any) -> str:
    """A score in [0, 1]: three decimals."""
    x = float(v)
    return f"{x:.3f}" if math.isfinite(x) else "-"


#: How each column of the ranked table prints (any other column: :func:`amount`).
FORMATS = {
    "rank": amount,
    "score": score_text,
    "covered_incidents": amount,
    "covered_demand_weight": amount,
    "services_within": amount,
    "mean_walk_min": one_decimal,
    "nearest_service_min": one_decimal,
}


def table_text(df: pd.DataFrame) -> str:
    """A small table for the terminal, every number printed as a planner reads it."""
    import pandas as pd

    formatters = {
        c: FORMATS.get(c, amount)
        for c in df.columns
        if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
    }
    return df.to_string(index=False, formatters=formatters)


__all__ = ["FORMATS", "amount", "one_decimal", "score_text", "table_text"]
