"""numba's ``njit`` for siting's kernels, with numba set up without importing SciPy's linalg.

The first kernel a process runs sets numba up, and part of that set-up (importing
``numba.np.arraymath``) imports ``scipy.linalg.cython_blas`` only to learn whether BLAS is
there. That import brings the whole of ``scipy.linalg`` and SciPy's array-API layer: on
the county score about 0.15-0.2 s of CPU holding the GIL, on the critical path of every
run, for kernels that never call BLAS.

So numba's arraymath is imported here first with numba's ``ensure_blas`` standing in as a
check that the extension module's file is installed (what the import would have told it),
then put back. A kernel that does use BLAS (``np.dot`` in a kernel) still runs numba's real
``ensure_blas`` when it is compiled, with its checks. If numba's layout is not the one
expected, nothing is changed and numba sets itself up as usual.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

__all__ = ["njit"]


def _blas_module_installed() -> bool:
    """Whether ``scipy.linalg.cython_blas`` is there, without importing scipy.linalg."""
    spec = importlib.util.find_spec("scipy")
    if spec is None or not spec.submodule_search_locations:
        return False
    return any(
        any(Path(root, "linalg").glob("cython_blas.*")) for root in spec.submodule_search_locations
    )


def _set_up_numba() -> None:
    if "numba.np.arraymath" in sys.modules:
        return
    try:
        from numba.np import linalg
    except ImportError:  # pragma: no cover - numba itself will report it
        return
    real = getattr(linalg, "ensure_blas", None)
    if real is None:  # pragma: no cover - another numba layout: leave it alone
        return
    installed = _blas_module_installed()

    def ensure_blas_installed() -> None:
        if not installed:
            msg = "scipy.linalg.cython_blas is not installed"
            raise ImportError(msg)

    linalg.ensure_blas = ensure_blas_installed
    try:
        import numba.np.arraymath  # noqa: F401  (binds and calls ensure_blas once, at import)
    finally:
        linalg.ensure_blas = real


_set_up_numba()

from numba import njit  # noqa: E402
