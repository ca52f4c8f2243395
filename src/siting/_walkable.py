"""Which street centrelines a person can walk on, by the road classes the data carries.

Census TIGER/Line roads carry an ``MTFCC`` class: ``S1100`` (primary roads: interstates
and other limited-access highways) and ``S1630`` (ramps) are not walkable. OpenStreetMap
data (``highway``, or ``fclass`` in Geofabrik's shapefiles) marks ``motorway``,
``motorway_link``, ``trunk`` and ``trunk_link`` the same way, unless the way itself says
people may walk there (``foot=yes|designated|permissive`` or a ``sidewalk`` on it).
``all_road_classes=True`` (``--all-road-classes``) keeps every class.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

#: TIGER/Line MTFCC codes that are not walkable, with what they are.
NOT_WALKABLE_MTFCC = {"S1100": "primary road (limited access)", "S1630": "ramp"}
#: OpenStreetMap highway values that are not walkable unless tagged for people on foot.
NOT_WALKABLE_HIGHWAY = ("motorway", "motorway_link", "trunk", "trunk_link")
#: ``foot`` values that make a way walkable whatever its class.
FOOT_ALLOWED = frozenset({"yes", "designated", "permissive"})
#: ``sidewalk`` values that mean a sidewalk is drawn on the way itself.
SIDEWALK_ON_WAY = frozenset({"yes", "both", "left", "right"})


def _column(columns: Any, *names: str) -> str | None:
    lower = {str(c).lower(): str(c) for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def _text(values: Any) -> pd.Series:
    return pd.Series(values).astype("string").fillna("").str.strip().str.lower()


def osm_walkable(highway: Any, foot: Any = None, sidewalk: Any = None) -> npt.NDArray[np.bool_]:
    """Whether OSM ways are walkable by their class (``foot``/``sidewalk`` tags may allow them)."""
    hw = _text(highway).str.replace(r"^\[|\]$|'", "", regex=True)
    blocked = np.array(hw.isin(NOT_WALKABLE_HIGHWAY), dtype=bool)
    if foot is not None:
        blocked &= ~_text(foot).isin(FOOT_ALLOWED).to_numpy()
    if sidewalk is not None:
        blocked &= ~_text(sidewalk).isin(SIDEWALK_ON_WAY).to_numpy()
    return ~blocked


def walkable_lines(frame: pd.DataFrame) -> tuple[npt.NDArray[np.bool_], dict[str, int]]:
    """Rows of a centreline table that are walkable by their road class, and what was dropped.

    Returns the mask and the number of lines dropped per class (``"MTFCC S1100"``,
    ``"highway trunk"``); a table without a class column keeps every line.

    >>> import pandas as pd
    >>> keep, dropped = walkable_lines(pd.DataFrame({"MTFCC": ["S1400", "S1100", "S1630", "S1200"]}))
    >>> keep.tolist(), dropped
    ([True, False, False, True], {'MTFCC S1100': 1, 'MTFCC S1630': 1})
    >>> keep, dropped = walkable_lines(pd.DataFrame({"highway": ["trunk", "trunk"], "sidewalk": ["both", None]}))
    >>> keep.tolist(), dropped
    ([True, False], {'highway trunk': 1})
    """
    keep = np.ones(len(frame), dtype=bool)
    dropped: dict[str, int] = {}
    mtfcc = _column(frame.columns, "mtfcc")
    if mtfcc is not None:
        code = frame[mtfcc].astype("string").fillna("").str.strip().str.upper()
        for value in NOT_WALKABLE_MTFCC:
            hit = (code == value).to_numpy() & keep
            if hit.any():
                dropped[f"{mtfcc} {value}"] = int(hit.sum())
                keep &= ~hit
    highway = _column(frame.columns, "highway", "fclass")
    if highway is not None:
        foot = _column(frame.columns, "foot")
        side = _column(frame.columns, "sidewalk")
        ok = osm_walkable(
            frame[highway].to_numpy(),
            frame[foot].to_numpy() if foot else None,
            frame[side].to_numpy() if side else None,
        )
        hw = _text(frame[highway].to_numpy())
        for value in NOT_WALKABLE_HIGHWAY:
            hit = ~ok & (hw == value).to_numpy() & keep
            if hit.any():
                dropped[f"{highway} {value}"] = int(hit.sum())
                keep &= ~hit
    return keep, dropped
