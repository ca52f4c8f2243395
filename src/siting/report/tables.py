"""HTML tables for the report: columns formatted by magnitude, every cell escaped."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..maps import esc, fmt


def column_decimals(values: pd.Series) -> int | None:
    """Decimals for a float column (None: integers or not numeric), from its magnitude.

    >>> column_decimals(pd.Series([0.5, 0.0772])), column_decimals(pd.Series([4.85, 12.0]))
    (3, 2)
    >>> column_decimals(pd.Series([1.0, 2.0])) is None
    True
    """
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0 or np.all(v == np.round(v)):
        return None
    top = float(np.abs(v).max())
    return 3 if top < 1 else (2 if top < 100 else 1)


def table(df: pd.DataFrame, *, numeric: set[str] | None = None) -> str:
    numeric = (
        numeric
        if numeric is not None
        else {
            c
            for c in df.columns
            if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
        }
    )
    decimals = {c: column_decimals(df[c]) for c in numeric}
    head = "".join(f"<th>{esc(str(c).replace('_', ' '))}</th>" for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, rec, strict=True):
            if c in numeric:
                d = decimals.get(c)
                text = fmt(v) if d is None or pd.isna(v) or not np.isfinite(v) else f"{v:,.{d}f}"
                cells.append(f'<td class="n">{text}</td>')
            else:
                cells.append(f"<td>{fmt(v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def kv_table(items: list[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{value(v)}</td></tr>" for k, v in items)
    return f"<table>{rows}</table>"


def value(v: Any) -> str:
    if isinstance(v, dict):
        return "; ".join(f"{esc(k)}: {value(x)}" for k, x in v.items()) or "none"
    if isinstance(v, (list, tuple)):
        return ", ".join(value(x) for x in v) or "none"
    return fmt(v)
