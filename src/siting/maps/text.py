"""Text for the map and the report: HTML escaping, JSON inside scripts, number formatting.

Every string that comes from input data passes :func:`esc` before it reaches HTML; JSON
embedded in scripts goes through :func:`js_json` (``<``, ``>`` and ``&`` escaped).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import numpy as np
import pandas as pd


# ----------------------------------------------------------------- escaping
def esc(value: Any) -> str:
    """Text for HTML: ``None``/NA as empty, everything else ``html.escape(str(v))``.

    >>> esc('<img src=x onerror=alert(1)>')
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> esc(None), esc(float('nan')), esc("{{ 7*7 }}")
    ('', '', '&#123;&#123; 7*7 }}')
    """
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    # "{" too: pages pass through Jinja (branca), where "{{ ... }}" from data would run
    return html.escape(str(value), quote=True).replace("{", "&#123;")


def js_json(obj: Any) -> str:
    """JSON safe to put inside a ``<script>`` element (``<``, ``>``, ``&`` escaped).

    >>> js_json({"a": "</script><b>"})
    '{"a":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    >>> js_json(["{{ 7*7 }}", "{%", "{#"])  # Jinja (branca renders scripts through it) never sees them
    '["\\\\u007b{ 7*7 }}","\\\\u007b%","\\\\u007b#"]'
    """
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    # the page's scripts pass through Jinja (branca): no "{{", "{%" or "{#" may survive, which
    # in compact JSON can only come from inside a string (a structural "{" is followed by '"' or "}")
    text = re.sub(r"\{(?=[{%#])", r"\\u007b", text)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def fmt(value: Any) -> str:
    """A number or text for a popup (already escaped).

    >>> fmt(3), fmt(0.87349), fmt(1234.5), fmt(True), fmt(None)
    ('3', '0.873', '1,234.5', 'yes', '')
    """
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return ""
        v = float(value)
        if v == int(v) and abs(v) < 1e15:
            return f"{int(v):,}"
        if abs(v) >= 100:
            return f"{v:,.1f}"
        return f"{v:.3g}" if abs(v) < 1 else f"{v:,.2f}"
    return esc(value)
