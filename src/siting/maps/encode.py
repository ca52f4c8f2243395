"""Compact geometry for the page: encoded polylines (a few bytes a vertex instead of ~20).

Coordinates are written as integers (degrees times ``10**precision``), each the
difference from the previous one, zig-zag signed and cut into 5-bit chunks: the encoded
polyline format web maps have used for years. Text is plain ASCII from ``?`` to ``~``
(no ``<``, ``>`` or ``&``, so it is safe inside a script). Every geometry starts from the
first vertex of the one before it, so a layer of nearby shapes stays small.

Polygons are written ring by ring; a layer keeps, per feature, how many rings it has and,
per ring, how many vertices, so the page can rebuild them.

The published example of the format:

>>> import shapely
>>> line = shapely.LineString([(-120.2, 38.5), (-120.95, 40.7), (-126.453, 43.252)])
>>> text, meta = encode_lines([line], precision=5)
>>> text, meta
(['_p~iF~ps|U_ulLnnqC_mqNvxq`@'], None)
>>> decode(text[0], precision=5)
[[38.5, -120.2], [40.7, -120.95], [43.252, -126.453]]
>>> texts, rings = encode_polygons([shapely.box(0, 0, 1, 1), shapely.Polygon()], precision=5)
>>> rings, decode_all(texts)
([[1], [0]], [[[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]])
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

#: JavaScript twin of :func:`decode_all`: ``sitingDecode(text, factor, state)`` returns
#: ``[[lat, lon], ...]``; ``state`` (``{lat: 0, lon: 0}`` for a layer's first string) carries the
#: first vertex of the string before, in integer units, from one call to the next.
DECODE_JS = """
function sitingDecode(s, f, st) {
    var out = [], i = 0, lat = st.lat, lon = st.lon, n = s.length, first = true, r, sh, b;
    while (i < n) {
        r = 0; sh = 0;
        do { b = s.charCodeAt(i++) - 63; r |= (b & 31) << sh; sh += 5; } while (b >= 32);
        lat += (r & 1) ? ~(r >>> 1) : (r >>> 1);
        r = 0; sh = 0;
        do { b = s.charCodeAt(i++) - 63; r |= (b & 31) << sh; sh += 5; } while (b >= 32);
        lon += (r & 1) ? ~(r >>> 1) : (r >>> 1);
        if (first) { st.lat = lat; st.lon = lon; first = false; }
        out.push([lat / f, lon / f]);
    }
    return out;
}
"""


def _encode_ints(values: npt.NDArray[np.int64]) -> bytes:
    """Zig-zag and 5-bit chunk a flat array of integers (vectorised)."""
    v = values.astype(np.int64)
    z = np.where(v < 0, ~(v << 1), v << 1).astype(np.uint64)
    chunks = np.zeros((z.size, 7), dtype=np.uint8)
    keep = np.zeros((z.size, 7), dtype=bool)
    keep[:, 0] = True
    rest = z.copy()
    for k in range(7):
        part = (rest & np.uint64(31)).astype(np.uint8)
        rest = rest >> np.uint64(5)
        more = rest > 0
        chunks[:, k] = part + np.where(more, 32, 0).astype(np.uint8) + 63
        if k < 6:
            keep[:, k + 1] = more
    return chunks[keep].tobytes()


def _split(coords: npt.NDArray[np.float64], counts: npt.NDArray[np.int64], precision: int) -> list[str]:
    """Encode ``coords`` (lon, lat) cut into consecutive runs of ``counts`` vertices."""
    if coords.size == 0:
        return ["" for _ in counts]
    scale = 10.0**precision
    ll = np.round(coords[:, ::-1] * scale).astype(np.int64)  # (lat, lon) order
    starts = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    delta = np.diff(ll, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    # each run continues from the first vertex of the run before it
    first = starts[:-1][counts > 0]
    prev_first = np.concatenate([[0], first[:-1]])
    base = np.where(np.arange(first.size) > 0, 1, 0)[:, None] * ll[prev_first]
    delta[first] = ll[first] - base
    # byte lengths per value, then per run
    flat = delta.reshape(-1)
    z = np.where(flat < 0, ~(flat << 1), flat << 1).astype(np.uint64)
    nbytes = np.ones(z.size, dtype=np.int64)
    rest = z >> np.uint64(5)
    while np.any(rest > 0):
        nbytes += (rest > 0).astype(np.int64)
        rest = rest >> np.uint64(5)
    text = _encode_ints(flat)
    per_vertex = nbytes.reshape(-1, 2).sum(axis=1)
    cum = np.zeros(per_vertex.size + 1, dtype=np.int64)
    np.cumsum(per_vertex, out=cum[1:])
    s = text.decode("ascii")
    return [s[cum[a] : cum[b]] for a, b in itertools.pairwise(starts)]


def encode_lines(geoms: Any, *, precision: int = 5) -> tuple[list[str], list[list[int]] | None]:
    """Encode LineStrings (or MultiLineStrings, one string per part joined by the caller).

    Returns one string per line and ``None`` (no ring structure). MultiLineStrings are
    exploded by the caller; empty geometries give an empty string.
    """
    g = np.asarray(geoms, dtype=object)
    coords, idx = shapely.get_coordinates(g, return_index=True)
    counts = np.bincount(idx, minlength=g.size).astype(np.int64)
    return _split(coords, counts, precision), None


def encode_polygons(geoms: Any, *, precision: int = 5) -> tuple[list[str], list[list[int]]]:
    """Encode Polygons / MultiPolygons ring by ring.

    Returns one string per ring (in feature order) and, per feature, the list of its
    rings' vertex counts grouped by part: ``[[n_rings_part1, n_rings_part2, ...], ...]``
    so ``rings[i]`` belongs to part ``j`` of feature ``k``.
    """
    g = np.asarray(geoms, dtype=object)
    parts, part_idx = shapely.get_parts(g, return_index=True)
    rings, ring_idx = shapely.get_rings(parts, return_index=True)
    coords, idx = shapely.get_coordinates(rings, return_index=True)
    counts = np.bincount(idx, minlength=rings.size).astype(np.int64)
    # drop each ring's closing vertex (the page closes rings itself)
    keep = np.ones(coords.shape[0], dtype=bool)
    ends = np.cumsum(counts) - 1
    keep[ends[counts > 0]] = False
    coords = coords[keep]
    counts = np.maximum(counts - 1, 0)
    rings_per_part = np.bincount(ring_idx, minlength=parts.size)
    structure: list[list[int]] = [[] for _ in range(g.size)]
    for p, k in enumerate(part_idx.tolist()):
        structure[k].append(int(rings_per_part[p]))
    return _split(coords, counts, precision), structure


def decode(text: str, *, precision: int = 5, state: list[int] | None = None) -> list[list[float]]:
    """Decode one string to ``[[lat, lon], ...]`` (the Python twin of :data:`DECODE_JS`).

    ``state`` is the integer first vertex of the string before (updated in place).
    """
    st = [0, 0] if state is None else state
    out: list[list[float]] = []
    i = 0
    lat, lon = st
    f = 10**precision
    n = len(text)
    while i < n:
        vals = []
        for _ in range(2):
            r = sh = 0
            while True:
                b = ord(text[i]) - 63
                i += 1
                r |= (b & 31) << sh
                sh += 5
                if b < 32:
                    break
            vals.append(~(r >> 1) if r & 1 else r >> 1)
        lat += vals[0]
        lon += vals[1]
        if not out:
            st[0], st[1] = lat, lon
        out.append([lat / f, lon / f])
    return out


def decode_all(texts: list[str], *, precision: int = 5) -> list[list[list[float]]]:
    """Decode a layer's strings in order (each continues from the first vertex of the last)."""
    state = [0, 0]
    return [decode(t, precision=precision, state=state) for t in texts]
