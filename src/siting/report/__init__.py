"""The report a planner attaches to a council memo: one self-contained, printable HTML page.

:func:`report_html` writes what was run (inputs with SHA-256, parameters, package
versions, seed), the chosen sites and why, the ranked table, the coverage curve and the
sensitivity of the result to the cutoff as inline SVG charts, impact ranges with their
sources, when incidents happen (hour of day, day of week, small counts suppressed), the
hotspots found, the privacy rule applied and the assumptions with their sources.

The page holds no script, no external resource and no incident location. Its text depends
only on the plan: the same inputs and seed give the same report, byte for byte (no clock
is read; the date shown is the manifest's ``created`` when the run recorded one).
"""

from __future__ import annotations

from .charts import bar_chart, line_chart
from .page import ASSUMPTIONS, MAX_TABLE_ROWS, report_html, save_report

__all__ = ["ASSUMPTIONS", "MAX_TABLE_ROWS", "bar_chart", "line_chart", "report_html", "save_report"]
