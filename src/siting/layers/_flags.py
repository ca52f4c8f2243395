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
    text = series.astype("string").fillna("").str.strip().str.lower()
    text = text.str.replace(r"\.0+$", "", regex=True)
    is_true = text.isin(TRUE_VALUES).to_numpy()
    is_false = text.isin(FALSE_VALUES).to_numpy()
    return is_true, ~(is_true | is_false)
