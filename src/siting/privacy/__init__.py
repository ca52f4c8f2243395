"""Disclosure control: what a shareable map, report or table may show about incidents.

Incident locations are health records. Outputs come in two classes:

* **shareable** (maps and reports by default, tables with ``--shareable``): every figure
  derived from incidents passes one rule (:class:`Rule`) and comes from
  :func:`release_plan`;
* **internal** (tables by default, or maps and reports made with ``--internal`` or
  ``--include-incident-points``): exact, and labelled INTERNAL.

The method (README.md, "Privacy", has the threat model):

1. The study area is covered by hexagons over every street (:func:`study_area`), empty
   ones included, the same grid every month.
2. The incidents are counted per hexagon (and fatal incidents per hexagon), with the
   totals and the hour and weekday bars. These counts are the *base table*, the only
   figures computed from the incidents themselves. Each is shown as "fewer than 11" when
   0..10 and otherwise rounded to a base of 10 (never below 20); secondary suppression
   withholds further values wherever a hidden one could be recovered from a total
   (:func:`release_partition`).
3. The released hexagon values are spread along the streets onto demand units, and every
   other figure -- candidate coverage, mean walk, score and rank, chosen sites, coverage
   curve, sensitivity, impact, regions, hotspots -- is recomputed from those units and
   shown with the same rule. Such figures carry no information beyond the base table, so
   subtracting them (nested catchments, a site minus its neighbour) reveals nothing new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from .rule import Rule, minutes_label, percent_label, whole_minutes, whole_percent

if TYPE_CHECKING:
    from .area import StudyArea, study_area
    from .counts import hex_counts, privacy_rule, public_value, suppression_label
    from .coverage import UnitCoverage, unit_coverage
    from .demand import ReleasedDemand, release_demand
    from .grid import (
        _CLEARANCE_M,
        _MIN_CLEARANCE_M,
        hex_axial,
        hex_centres,
        hex_grid_origin,
        hex_polygons,
        unique_cells,
    )
    from .partition import Released, release_counts, release_partition, release_profile
    from .release import INTERNAL, METHOD, SHAREABLE, ReleasedPlan, display, release_plan, rule_for
    from .view import shareable_plan

#: Everything but the rule is imported when first used (it loads pandas and geopandas), so
#: a command checks its privacy options and shows its first progress line before that.
_LAZY = {
    "StudyArea": "area", "study_area": "area",
    "hex_counts": "counts", "privacy_rule": "counts", "public_value": "counts", "suppression_label": "counts",
    "UnitCoverage": "coverage", "unit_coverage": "coverage",
    "ReleasedDemand": "demand", "release_demand": "demand",
    "_CLEARANCE_M": "grid", "_MIN_CLEARANCE_M": "grid", "hex_axial": "grid", "hex_centres": "grid",
    "hex_grid_origin": "grid", "hex_polygons": "grid", "unique_cells": "grid",
    "Released": "partition", "release_counts": "partition", "release_partition": "partition",
    "release_profile": "partition",
    "INTERNAL": "release", "METHOD": "release", "SHAREABLE": "release", "ReleasedPlan": "release",
    "display": "release", "release_plan": "release", "rule_for": "release",
    "shareable_plan": "view",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "INTERNAL",
    "METHOD",
    "SHAREABLE",
    "Released",
    "ReleasedDemand",
    "ReleasedPlan",
    "Rule",
    "StudyArea",
    "UnitCoverage",
    "display",
    "hex_axial",
    "hex_centres",
    "hex_counts",
    "hex_grid_origin",
    "hex_polygons",
    "minutes_label",
    "percent_label",
    "privacy_rule",
    "public_value",
    "release_counts",
    "release_demand",
    "release_partition",
    "release_plan",
    "release_profile",
    "rule_for",
    "shareable_plan",
    "study_area",
    "suppression_label",
    "unique_cells",
    "unit_coverage",
    "whole_minutes",
    "whole_percent",
]
