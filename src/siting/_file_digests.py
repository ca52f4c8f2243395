"""SHA-256 of files, remembered by the file's identity so a large unchanged file is not read again.

The network cache is keyed by its source's content (:mod:`siting.network_load`); hashing
a county's 100 MB layer on every run costs more than loading the cached network. So the
digest of a file is remembered, in this process and in the cache folder, with the file's
identity: ``(device, inode, size, mtime_ns, ctime_ns)``. A memo is used only when all five
still match, and never when the file's mtime or ctime is within :data:`RACY_NS` of the
moment it was hashed (or later): a file system's clock is coarse, so a write made just
after the hash could leave the same timestamps ("racy" timestamps, as git's index treats
them). Writing a file changes its ctime, which no user can set back (``os.utime`` sets
back its mtime only); a memo is written only for a file whose ctime is 2 s older than the
hash, so any later write gives the file a ctime the memo does not have.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

__all__ = ["RACY_NS", "file_sha256"]

#: A memo is not trusted when the file's mtime or ctime is this close to (or after) its hashing.
RACY_NS = 2_000_000_000

_Identity = tuple[int, int, int, int, int]

#: Digests found in this process: by resolved path -> (identity, hashed at, SHA-256).
_KNOWN: dict[str, tuple[_Identity, int, str]] = {}


def _identity(st: os.stat_result) -> _Identity:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _trusted(ident: _Identity, hashed_at_ns: int) -> bool:
    """Whether a digest taken at ``hashed_at_ns`` can stand for a file with this identity."""
    return max(ident[3], ident[4]) <= hashed_at_ns - RACY_NS


def _now_ns() -> int:
    return time.time_ns()


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: str | os.PathLike[str], memo_folder: str | os.PathLike[str] | None = None) -> str:
    """The SHA-256 (hex) of a file's bytes.

    Answered from what this process or an earlier run (a memo in ``memo_folder``) found
    for the same file if its identity is unchanged and the memo is not racy; else the
    file is read, and the result remembered (in ``memo_folder`` too when given).
    """
    p = Path(path).resolve()
    key = str(p)
    ident = _identity(p.stat())
    known = _KNOWN.get(key)
    if known is not None and known[0] == ident and _trusted(ident, known[1]):
        return known[2]
    memo = _memo_file(Path(memo_folder), key) if memo_folder is not None else None
    if memo is not None:
        found = _read_memo(memo, key, ident)
        if found is not None:
            _KNOWN[key] = found
            return found[2]
    hashed_at = _now_ns()
    digest = _hash_file(p)
    if _identity(p.stat()) == ident:  # not changed while it was read
        _KNOWN[key] = (ident, hashed_at, digest)
        if memo is not None and _trusted(ident, hashed_at):
            _write_memo(memo, key, ident, hashed_at, digest)
    return digest


def _memo_file(folder: Path, key: str) -> Path:
    return folder / "digests" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def _read_memo(memo: Path, key: str, ident: _Identity) -> tuple[_Identity, int, str] | None:
    try:
        got = json.loads(memo.read_text(encoding="utf-8"))
        stored = tuple(int(v) for v in got["identity"])
        hashed_at = int(got["hashed_at_ns"])
        digest = str(got["sha256"])
    except (OSError, ValueError, KeyError, TypeError):  # none, or unreadable: hash the file
        return None
    if got.get("path") != key or stored != ident or not _trusted(ident, hashed_at):
        return None
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return None
    return ident, hashed_at, digest


def _write_memo(memo: Path, key: str, ident: _Identity, hashed_at: int, digest: str) -> None:
    """Write a memo atomically; a memo that cannot be written only costs a hash next time."""
    blob = json.dumps({"path": key, "identity": list(ident), "hashed_at_ns": hashed_at, "sha256": digest})
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=memo.parent, suffix=".json.tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(blob)
            os.replace(tmp, memo)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass
