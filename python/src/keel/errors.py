"""The exceptions and warnings of the keel package.

Every failure is a ``KeelError``: a missing or too old binary, a DataFrame keel cannot read, a keel
command that exits with an error (its message quotes keel's own ``error:`` line), a server's error
response. Nothing surfaces as a raw ``CalledProcessError``.
"""

from __future__ import annotations


class KeelError(Exception):
    """Base class of every error this package raises."""


class KeelNotFoundError(KeelError):
    """No keel binary: neither ``KEEL_BIN`` nor ``PATH`` names one."""


class KeelVersionError(KeelError):
    """The keel binary is older than this package supports."""


class KeelInputError(KeelError, ValueError):
    """Data the package will not hand to keel: a missing target, an unsupported dtype, a non-DataFrame."""


class KeelCommandError(KeelError):
    """A keel command exited with an error.

    ``message`` is keel's own error line (``error: …``); ``stderr`` holds everything keel wrote on
    standard error; ``returncode`` is its exit code (1 error, 2 usage error, 3 a check found a problem).
    """

    def __init__(self, command: list[str], returncode: int, stderr: str):
        self.command = command
        self.returncode = returncode
        self.stderr = stderr
        self.message = _error_line(stderr) or f"exit code {returncode}, nothing on standard error"
        name = " ".join(["keel", *command[:1]])
        if command[:1] and command[0] in ("model", "models", "runs") and len(command) > 1:
            name = " ".join(["keel", *command[:2]])
        super().__init__(f"{name} failed (exit code {returncode}): {self.message}")


class KeelDataError(KeelCommandError, ValueError):
    """A keel command refused the data or the options (exit code 1 or 2), e.g. a target with one class."""


class KeelServerError(KeelError):
    """An error response from ``keel serve``: HTTP ``status``, and the body's ``code``, ``field``, ``row``, ``message``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 row: int | None = None, request_id: str | None = None):
        self.status = status
        self.code = code
        self.field = field
        self.row = row
        self.request_id = request_id
        self.message = message
        where = ", ".join(part for part in (f"field {field!r}" if field is not None else "",
                                             f"row {row}" if row is not None else "") if part)
        super().__init__(f"keel serve answered {status} {code}" + (f" ({where})" if where else "") + f": {message}")


class KeelWarning(UserWarning):
    """A warning keel printed (an unseen level, a value out of range, a column left out)."""


def _error_line(stderr: str) -> str:
    """The last ``error:`` line keel wrote, else its last non-empty line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error:")]
    if errors:
        return errors[-1]
    return lines[-1] if lines else ""


def warn(message: str) -> None:
    """Issues a KeelWarning attributed to the caller's code, outside this package."""
    import os
    import sys
    import warnings

    package = os.path.dirname(os.path.abspath(__file__))
    level, frame = 2, sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == package:
        level, frame = level + 1, frame.f_back
    warnings.warn(message, KeelWarning, stacklevel=level)
