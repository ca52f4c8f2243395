"""The SHA-256 memo of network sources: used only for the very same, settled file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from siting import _file_digests, network_load, pipeline
from siting._file_digests import RACY_NS, file_sha256
from siting.network_load import load_network


@pytest.fixture(autouse=True)
def _new_process() -> None:
    _file_digests._KNOWN.clear()


def _forget() -> None:
    """What a new process knows: nothing but the memos on disk."""
    _file_digests._KNOWN.clear()


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files are hashed 10 s after they are written (so they are not "racy")."""
    real = time.time_ns
    monkeypatch.setattr(_file_digests, "_now_ns", lambda: real() + 10 * 10**9)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files actually read to hash them."""
    seen: list[Path] = []
    real = _file_digests._hash_file

    def counted(path: Path) -> str:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(_file_digests, "_hash_file", counted)
    return seen


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _new_ctime(path: Path, mtime_ns: int) -> None:
    """Set ``path``'s mtime back to ``mtime_ns`` until its ctime has moved on (file system
    clocks are coarse: a test can be faster than a tick, a person is not)."""
    before = path.stat().st_ctime_ns
    os.utime(path, ns=(mtime_ns, mtime_ns))
    while path.stat().st_ctime_ns == before:
        time.sleep(0.002)
        os.utime(path, ns=(mtime_ns, mtime_ns))


def test_a_settled_file_is_read_once_then_known_from_its_memo(
    tmp_path: Path, later: None, reads: list[Path]
) -> None:
    f, memo = tmp_path / "streets.bin", tmp_path / "cache"
    f.write_bytes(bytes(range(256)) * 40)
    want = _sha(f)
    assert file_sha256(f, memo) == want and len(reads) == 1
    assert file_sha256(f, memo) == want and len(reads) == 1  # known in this process
    _forget()
    assert file_sha256(f, memo) == want and len(reads) == 1  # from the memo on disk
    assert len(list((memo / "digests").glob("*.json"))) == 1
    _forget()
    assert file_sha256(f) == want and len(reads) == 2  # no memo folder given: read


def test_a_file_changed_with_its_size_and_mtime_kept_is_read_again(
    tmp_path: Path, later: None, reads: list[Path]
) -> None:
    f, memo = tmp_path / "streets.bin", tmp_path / "cache"
    f.write_bytes(b"a" * 1000)
    st = f.stat()
    file_sha256(f, memo)
    _forget()
    f.write_bytes(b"b" * 1000)
    _new_ctime(f, st.st_mtime_ns)
    now = f.stat()
    assert (now.st_ino, now.st_size, now.st_mtime_ns) == (st.st_ino, st.st_size, st.st_mtime_ns)
    assert file_sha256(f, memo) == _sha(f) == hashlib.sha256(b"b" * 1000).hexdigest()
    assert len(reads) == 2
    # also in the same process (no memo folder involved)
    f.write_bytes(b"c" * 1000)
    _new_ctime(f, st.st_mtime_ns)
    assert file_sha256(f, memo) == hashlib.sha256(b"c" * 1000).hexdigest()
    # a file replaced by another of the same size and mtime (another inode)
    other = tmp_path / "other.bin"
    other.write_bytes(b"d" * 1000)
    os.utime(other, ns=(st.st_mtime_ns, st.st_mtime_ns))
    os.replace(other, f)
    _forget()
    assert file_sha256(f, memo) == hashlib.sha256(b"d" * 1000).hexdigest()


def test_a_memo_of_another_file_is_not_used(tmp_path: Path, later: None, reads: list[Path]) -> None:
    a, b, memo = tmp_path / "a.bin", tmp_path / "b.bin", tmp_path / "cache"
    a.write_bytes(b"a" * 1000)
    b.write_bytes(b"b" * 1000)
    st = a.stat()
    os.utime(b, ns=(st.st_mtime_ns, st.st_mtime_ns))  # same size, same mtime
    file_sha256(a, memo)
    memo_a = _file_digests._memo_file(memo, str(a.resolve()))
    memo_b = _file_digests._memo_file(memo, str(b.resolve()))
    assert memo_a.exists() and memo_a != memo_b
    shutil.copy(memo_a, memo_b)  # a's memo where b's would be
    _forget()
    assert file_sha256(b, memo) == _sha(b)
    # even with b's path written in it: its device and inode are a's
    got = json.loads(memo_a.read_text())
    memo_b.write_text(json.dumps(got | {"path": str(b.resolve())}))
    _forget()
    assert file_sha256(b, memo) == _sha(b)
    # or with b's size and times but another inode
    st = b.stat()
    memo_b.write_text(json.dumps(got | {"path": str(b.resolve()), "identity": [
        st.st_dev, st.st_ino + 1, st.st_size, st.st_mtime_ns, st.st_ctime_ns]}))  # fmt: skip
    _forget()
    assert file_sha256(b, memo) == _sha(b)
    assert len(reads) == 4


def test_a_racy_file_is_never_answered_from_a_memo(tmp_path: Path, reads: list[Path]) -> None:
    f, memo = tmp_path / "streets.bin", tmp_path / "cache"
    f.write_bytes(b"x" * 1000)  # written just now: hashed within 2 s of it
    want = _sha(f)
    assert file_sha256(f, memo) == want
    assert not list(memo.glob("digests/*.json"))  # no memo written
    assert file_sha256(f, memo) == want and len(reads) == 2  # not trusted in this process either
    # a memo that matches the file exactly but was taken within 2 s of its last change
    st = f.stat()
    ident = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    changed = max(st.st_mtime_ns, st.st_ctime_ns)
    path = _file_digests._memo_file(memo, str(f.resolve()))
    path.parent.mkdir(parents=True)
    for hashed_at, answer in ((changed + RACY_NS - 1, want), (changed + RACY_NS, "0" * 64)):
        path.write_text(json.dumps({"path": str(f.resolve()), "identity": ident, "hashed_at_ns": hashed_at,
                                    "sha256": "0" * 64}))  # fmt: skip
        _forget()
        assert file_sha256(f, memo) == answer  # the settled one is believed: it is the memo used
    # a file whose mtime is in the future is racy whatever the memo says
    os.utime(f, ns=(time.time_ns() + 3600 * 10**9,) * 2)
    st = f.stat()
    ident = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    path.write_text(json.dumps({"path": str(f.resolve()), "identity": ident, "hashed_at_ns": time.time_ns(),
                                "sha256": "0" * 64}))  # fmt: skip
    _forget()
    assert file_sha256(f, memo) == want


def _streets(path: Path) -> Path:
    lines = [shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(100, 0), (100, 80)])]
    gpd.GeoDataFrame({"highway": ["residential"] * 2}, geometry=lines, crs="EPSG:32635").to_file(path)
    return path


def test_the_network_source_is_read_once_across_runs_and_the_manifest_has_its_sha256(
    tmp_path: Path, later: None, reads: list[Path]
) -> None:
    src, cache = _streets(tmp_path / "streets.gpkg"), tmp_path / "cache"
    first = load_network(src, cache_folder=cache)
    _forget()
    second = load_network(src, cache_folder=cache)  # another run
    assert reads == [src.resolve()]
    assert second.n_edges == first.n_edges == 2
    assert pipeline.sha256(src) == network_load.file_sha256(src) == _sha(src)
    assert reads == [src.resolve()]
    # the source edited in place, its size and mtime kept: a new key and a new sha256
    key = network_load._file_digest(src, cache)
    st = src.stat()
    data = bytearray(src.read_bytes())
    data[-1] ^= 0xFF
    src.write_bytes(bytes(data))
    _new_ctime(src, st.st_mtime_ns)
    _forget()
    assert network_load._file_digest(src, cache) != key
    assert pipeline.sha256(src) == _sha(src) == hashlib.sha256(bytes(data)).hexdigest()
