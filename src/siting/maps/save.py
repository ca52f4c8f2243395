"""Render a map to HTML and write it atomically."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._atomic import write_bytes_atomic

if TYPE_CHECKING:
    import os

log = logging.getLogger("siting.maps")

#: A map written by :func:`save_map` should stay under this size; caps below keep it there.
MAX_HTML_BYTES = 25 * 1024 * 1024


# --------------------------------------------------------------------- save
#: The viewport of every page: pinch zoom allowed (folium's default forbids it).
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1"/>'


def render_html(m: Any) -> str:
    """The full HTML of a map or figure, with ``lang`` and a viewport that allows zooming."""
    text = str(m.get_root().render())
    text = re.sub(r"<meta\s+name=\"viewport\"[^>]*>", "", text, flags=re.IGNORECASE)
    text = re.sub(r"<html>", '<html lang="en">', text, count=1)
    return text.replace("<head>", "<head>\n    " + VIEWPORT, 1)


def save_map(m: Any, path: str | os.PathLike[str]) -> Path:
    """Write a map (or :func:`compare_map` figure) as one HTML file, atomically.

    Written to a temporary file in the same folder, then renamed. Logs the size and warns
    when it exceeds :data:`MAX_HTML_BYTES`.
    """
    path = Path(path)
    text = render_html(m)
    data = text.encode("utf-8")
    write_bytes_atomic(path, data)
    size = len(data)
    if size > MAX_HTML_BYTES:
        log.warning(
            "map %s is %.1f MB, over the %.0f MB the caps aim for", path, size / 1e6, MAX_HTML_BYTES / 1e6
        )
    else:
        log.info("map written: %s (%.1f MB)", path, size / 1e6)
    return path
