"""Every error siting raises on purpose.

Each class also subclasses the builtin a caller would expect, so ``except ValueError``
keeps working. The CLI turns any :class:`SitingError` into a one-line message and exit 2.
"""

from __future__ import annotations


class SitingError(Exception):
    """Base class of every error siting raises on purpose."""


class InputError(ValueError, SitingError):
    """A user-supplied file, column, row or value is wrong; the message says how to fix it."""


class InputFileNotFoundError(FileNotFoundError, SitingError):
    """An input file does not exist."""


class UnknownFormatError(InputError):
    """A file's extension is not one siting can read or write."""


class NoCrsError(InputError):
    """A layer has coordinates but no coordinate reference system."""


class CrsMismatchError(InputError):
    """Two layers that must share a CRS do not."""


class FileOverwriteError(FileExistsError, SitingError):
    """An output exists and ``--overwrite`` was not given."""


class InfeasibleError(ValueError, SitingError):
    """A selection problem has no solution; the message names the constraint."""


class SolverError(RuntimeError, SitingError):
    """The optimisation solver failed or returned an unusable status."""


class NetworkError(ValueError, SitingError):
    """The street network cannot be built or is unusable."""


class MissingDependencyError(ImportError, SitingError):
    """An optional dependency is needed; the message names the pip extra."""
