"""A :class:`~siting.network.StreetNetwork` saved to and read from ``.npz`` (the network cache).

The file holds the network's own arrays and what is derived from them on every run that
searches it: the directed arcs (CSR), the junction graph (:class:`siting._routing._Routing`)
and the snapping grid (:mod:`siting._snap`). Reading them back is much cheaper than
deriving them (on a county, a sort of 1.3 million arc keys, the chain decomposition and
the grid of 2 million segments), and gives the same arrays, value for value. Arrays are
mapped from the file where they lie, not copied.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import mmap
import os
import struct
import tempfile
import weakref
import zipfile
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import numpy.typing as npt

from ._errors import NetworkError
from ._routing import ARC_ARRAYS, _attach, _Routing, _routing

if TYPE_CHECKING:
    from .network import StreetNetwork

#: Bump when the network's own saved arrays change meaning (2: with derived parts; a
#: change in the code deriving those is seen by :func:`derivation_code`). Part of the
#: cache key (:mod:`siting.network_load`): a cache from another version is never looked
#: up, and one given as a source is refused with a message.
_CACHE_VERSION = 2

#: What the file holds besides the network, and the modules whose code derives it:
#: ``routing`` the arcs and the junction graph, ``snap`` the snapping grid.
_DERIVED_BY = {"routing": ("_routing.py", "_chains.py"), "snap": ("_snap.py",)}

#: Networks read with a part saved by other code (derived again): their file is stale.
_STALE: weakref.WeakSet[StreetNetwork] = weakref.WeakSet()


@functools.cache
def derivation_code(part: str) -> str:
    """A fingerprint of the code that derives ``part`` (the bytes of its modules in
    :data:`_DERIVED_BY`), saved with it: a part saved by other code is derived again,
    never used, so nobody has to remember to bump :data:`_CACHE_VERSION` when editing
    that code."""
    h = hashlib.sha256()
    for name in _DERIVED_BY[part]:
        try:
            h.update((Path(__file__).parent / name).read_bytes())
        except OSError:  # no sources installed: the package version stands for them
            from . import __version__

            h.update(f"{name} of siting {__version__}".encode())
    return h.hexdigest()[:16]


def is_stale(net: StreetNetwork) -> bool:
    """Whether ``net`` was read from a file holding parts saved by other code (see
    :func:`derivation_code`): saving it again refreshes the file."""
    return net in _STALE


#: The kinds of the arcs' arrays (:data:`siting._routing.ARC_ARRAYS`).
_ARC_KINDS = dict(zip(ARC_ARRAYS, (np.int64, np.int64, np.float64, np.int64), strict=True))


def save_network(net: StreetNetwork, path: str | os.PathLike[str]) -> None:
    """Write ``net`` (with its arcs and junction graph) to ``path``, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid = net._snap_grid()
    arrays: dict[str, Any] = {
        "x": net.x, "y": net.y, "edge_u": net.edge_u, "edge_v": net.edge_v,
        "edge_length_m": net.edge_length_m, "edge_offsets": net.edge_offsets,
        "edge_coords": net.edge_coords,
        "meta": np.array(
            json.dumps({
                "crs": net.crs, "source": net.source, "v": _CACHE_VERSION, "build": net.build_report,
                "derived": {part: derivation_code(part) for part in _DERIVED_BY},
                "snap_grid": [float(v) for v in grid[3:6]] + [int(v) for v in grid[6:]],
            })
        ),
    }
    if net.node_osm_id is not None:
        arrays["node_osm_id"] = net.node_osm_id
    arrays.update({name: getattr(net, name) for name in _ARC_KINDS})
    arrays.update({f"rt_{name}": a for name, a in _routing(net).arrays().items()})
    arrays.update(dict(zip(_GRID_ARRAYS, grid[:3], strict=True)))
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_npz(fh, arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_network_file(cls: type[StreetNetwork], path: str | os.PathLike[str]) -> StreetNetwork:
    """Read a network written by :func:`save_network`; its junction graph and snapping
    grid come with it (parts saved by other code are derived again: see :func:`is_stale`)."""
    arrays = _read_npz(Path(path))
    meta = json.loads(str(arrays.pop("meta")))
    if meta.get("v") != _CACHE_VERSION:
        msg = f"{path}: cached network is from another siting version; delete it"
        raise NetworkError(msg)
    try:
        values = {
            "crs": meta["crs"], "x": arrays["x"], "y": arrays["y"], "edge_u": arrays["edge_u"],
            "edge_v": arrays["edge_v"], "edge_length_m": arrays["edge_length_m"],
            "edge_offsets": arrays["edge_offsets"], "edge_coords": arrays["edge_coords"],
            "source": meta["source"], "node_osm_id": arrays.get("node_osm_id"),
            "build_report": meta.get("build", {}),
        }
        saved_by = meta.get("derived")
        saved_by = saved_by if isinstance(saved_by, dict) else {}
        if saved_by.get("routing") == derivation_code("routing"):
            net = _restore(cls, values, {name: arrays[name] for name in _ARC_KINDS})
            rt = {k[3:]: a for k, a in arrays.items() if k.startswith("rt_")}
            _attach(net, _Routing.from_arrays(net.n_nodes, net.n_edges, rt))
        else:
            net = cls(**values)
            _STALE.add(net)
        if saved_by.get("snap") == derivation_code("snap"):
            grid = _snap_grid(meta["snap_grid"], *(arrays[name] for name in _GRID_ARRAYS))
            object.__setattr__(net, "_snap_grid_arrays", grid)
        else:
            _STALE.add(net)
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"{path}: not a complete siting network ({exc}); delete it and build the network again"
        raise NetworkError(msg) from exc
    return net


#: The snapping grid's arrays (:meth:`siting.network.StreetNetwork._snap_grid`).
_GRID_ARRAYS = ("sg_cell_ptr", "sg_cell_xy", "sg_cell_edge")


def _snap_grid(shape: list[Any], cell_ptr: Any, cell_xy: Any, cell_edge: Any) -> tuple[Any, ...]:
    """The snapping grid as :meth:`~siting.network.StreetNetwork._snap_grid` holds it, from
    the file (sizes and kinds checked)."""
    minx, miny, cell, nx, ny = (float(shape[0]), float(shape[1]), float(shape[2]), int(shape[3]), int(shape[4]))
    total = cell_edge.size
    if not (
        cell_ptr.dtype == cell_edge.dtype == np.int64 and cell_xy.dtype == np.float64
        and cell_ptr.shape == (nx * ny + 1,) and cell_xy.shape == (total, 4) and cell_edge.ndim == 1
        and cell_ptr[0] == 0 and cell_ptr[-1] == total
    ):
        msg = "snapping grid arrays do not agree with each other"
        raise ValueError(msg)
    return (cell_ptr, cell_xy, cell_edge, minx, miny, cell, nx, ny)


#: Where each array's data starts in the file (a multiple of this), so that it can be
#: used where it lies, mapped, instead of copied.
_ALIGN = 64
#: A zip "extra field" id for padding (the one Android's zipalign uses); readers skip it.
_PAD_FIELD = 0xD935


def _write_npz(fh: BinaryIO, arrays: dict[str, Any]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` (any ``np.load`` reads it) whose arrays'
    data start at multiples of :data:`_ALIGN` bytes in the file. Fixed member times: the
    same network gives the same bytes."""
    with zipfile.ZipFile(fh, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, a in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            # local header: 30 bytes, the name, the padding field (4 + pad), zip64 sizes (20);
            # then the .npy header, which numpy pads to a multiple of 64 bytes
            fixed = fh.tell() + 30 + len(info.filename.encode()) + 4 + 20
            pad = -fixed % _ALIGN
            info.extra = struct.pack("<HH", _PAD_FIELD, pad) + bytes(pad)
            with zf.open(info, mode="w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.asanyarray(a), allow_pickle=False)


def _read_npz(path: Path) -> dict[str, npt.NDArray[Any]]:
    """The arrays of an ``.npz``: of an uncompressed one, mapped from the file where they lie
    (copy-on-write: writable, and the file is never changed; an array not aligned for its
    type is copied); of another, read by ``np.load``. The zip's checksums are not read:
    a truncated or inconsistent file is refused by the sizes checked here and in
    :func:`_restore`."""
    with path.open("rb") as fh, zipfile.ZipFile(fh) as zf:
        infos = zf.infolist()
        if not all(i.compress_type == zipfile.ZIP_STORED and i.filename.endswith(".npy") for i in infos):
            with np.load(path, allow_pickle=False) as z:
                return {name: z[name] for name in z.files}
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY)
        out: dict[str, npt.NDArray[Any]] = {}
        for info in infos:
            fh.seek(info.header_offset)
            local = fh.read(30)
            if len(local) != 30 or local[:4] != b"PK\x03\x04":
                msg = f"member {info.filename!r} has no local header"
                raise ValueError(msg)
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            fh.seek(info.header_offset + 30 + name_len + extra_len)
            version = np.lib.format.read_magic(fh)
            shape, fortran, dtype = (
                np.lib.format.read_array_header_1_0(fh) if version == (1, 0)
                else np.lib.format.read_array_header_2_0(fh)
            )
            if dtype.hasobject or fortran:
                msg = f"member {info.filename!r} holds objects or a Fortran-ordered array"
                raise ValueError(msg)
            offset, count = fh.tell(), math.prod(shape)
            if count == 0:
                a = np.empty(shape, dtype=dtype)
            else:
                a = np.frombuffer(mm, dtype=dtype, count=count, offset=offset).reshape(shape)
                if offset % dtype.alignment:
                    a = a.copy()
            out[info.filename[: -len(".npy")]] = a
    return out


def _restore(
    cls: type[StreetNetwork], values: dict[str, Any], arcs: dict[str, npt.NDArray[Any]]
) -> StreetNetwork:
    """A network from its fields and its saved arcs: sizes and kinds checked, the arcs not
    derived again (``__init__``, which derives them, is not called)."""
    net = cls.__new__(cls)
    for f in fields(cls):
        if f.init:
            object.__setattr__(net, f.name, values[f.name])
    net._check_sizes()
    n, m2 = net.n_nodes, 2 * net.n_edges
    sizes = {"indptr": n + 1, "indices": m2, "arc_length_m": m2, "arc_edge": m2}
    for name, kind in _ARC_KINDS.items():
        a = arcs[name]
        if a.ndim != 1 or a.size != sizes[name] or a.dtype != kind:
            msg = f"arc array {name!r}: {a.dtype}{a.shape}, expected {np.dtype(kind)}[{sizes[name]}]"
            raise ValueError(msg)
        object.__setattr__(net, name, a)
    if net.indptr[0] != 0 or net.indptr[-1] != m2:
        msg = "arc array 'indptr' does not cover the arcs"
        raise ValueError(msg)
    return net
