"""Exceptions raised by wfm.

Every error a user can cause (a bad file, a bad scenario, an impossible
request) is a :class:`WfmError`. The CLI turns these into a non-zero exit
code and a short message; the library never calls ``sys.exit``.
"""

from __future__ import annotations


class WfmError(Exception):
    """Base class of every error wfm raises on purpose."""


class ConfigError(WfmError):
    """A scenario file (or config dict) is missing, malformed or has a wrong field."""


class DataValidationError(WfmError):
    """An input frame or file failed validation.

    Parameters
    ----------
    message : str
        One-line summary.
    report : object, optional
        The full :class:`wfm.io.ValidationReport` with every problem found.
    """

    def __init__(self, message: str, report: object | None = None):
        super().__init__(message)
        self.report = report


class ForecastError(WfmError):
    """A forecast cannot be produced (e.g. no usable history)."""


class StaffingError(WfmError):
    """Staffing inputs are inconsistent (e.g. unknown channel kind)."""


class SchedulingError(WfmError):
    """The scheduling model cannot be built or solved (e.g. no solver installed)."""


class MissingExtraError(WfmError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""
