"""Finding the keel binary, checking its version, and running it.

The binary is ``$KEEL_BIN`` when set, else ``keel`` on ``PATH``. Its standard output goes to a
temporary file (JSON documents can be large); its standard error is read line by line, so training
progress can be shown as it happens, and kept for the error message when the command fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Callable

from .errors import KeelCommandError, KeelDataError, KeelNotFoundError, KeelVersionError

#: The keel versions this package works with: at least ``MINIMUM_VERSION``, below ``VERSION_LIMIT``.
MINIMUM_VERSION = (0, 1, 0)
VERSION_LIMIT = (0, 2, 0)
SUPPORTED_VERSIONS = "0.1.x (at least 0.1.0, below 0.2.0)"

_checked: dict[tuple[str, float], tuple[int, int, int]] = {}


def find_binary() -> str:
    """The path of a keel binary of a supported version; raises KeelNotFoundError or KeelVersionError."""
    configured = os.environ.get("KEEL_BIN", "")
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise KeelNotFoundError(f"KEEL_BIN is {configured!r}, which is not an executable file; "
                                    "point KEEL_BIN at the keel binary, or unset it to use `keel` on PATH")
        path = configured
    else:
        found = shutil.which("keel")
        if found is None:
            raise KeelNotFoundError("no keel binary: KEEL_BIN is not set and there is no `keel` on PATH; "
                                    "build it (`swift build -c release`) and set KEEL_BIN=/path/to/keel, "
                                    "or put its folder on PATH")
        path = found
    binary_version(path)
    return path


def binary_version(path: str) -> tuple[int, int, int]:
    """``keel --version`` of the binary at ``path`` (cached per file and modification time)."""
    key = (path, os.path.getmtime(path))
    if key in _checked:
        return _checked[key]
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
    except OSError as error:
        raise KeelNotFoundError(f"cannot run {path} --version: {error}") from None
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", done.stdout)
    if done.returncode != 0 or match is None:
        said = (done.stdout + done.stderr).strip()[:200]
        raise KeelVersionError(f"{path} --version did not print a version (exit code {done.returncode}: "
                               f"{said!r}); this package supports keel {SUPPORTED_VERSIONS}")
    version = (int(match[1]), int(match[2]), int(match[3]))
    if version < MINIMUM_VERSION:
        raise KeelVersionError(f"keel {match[0]} at {path} is too old: this package supports keel "
                               f"{SUPPORTED_VERSIONS}; build a newer keel or point KEEL_BIN at one")
    if version >= VERSION_LIMIT:
        from .errors import warn
        warn(f"keel {match[0]} at {path} is newer than this package knows (it supports keel "
                      f"{SUPPORTED_VERSIONS}); upgrade the Python package if something fails")
    _checked[key] = version
    return version


@dataclass
class Completed:
    """A finished keel command: its standard output and standard error."""

    stdout: str
    stderr: str


def run(arguments: list[str], *, echo: Callable[[str], None] | None = None) -> Completed:
    """Runs ``keel ARGUMENTS``; ``echo`` receives each standard-error line as it arrives.

    Exit codes 1 and 2 (an error, a usage error) raise KeelDataError, anything else non-zero
    KeelCommandError; both quote keel's ``error:`` line. Ctrl-C stops the keel process too.
    """
    binary = find_binary()
    lines: list[str] = []
    with tempfile.TemporaryFile() as out:
        try:
            process = subprocess.Popen([binary, *arguments], stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
                                       env={**os.environ, "NO_COLOR": "1"})
        except OSError as error:
            raise KeelNotFoundError(f"cannot run {binary}: {error}") from None
        try:
            assert process.stderr is not None
            for line in process.stderr:
                lines.append(line)
                if echo is not None:
                    echo(line)
            process.wait()
        except BaseException:
            process.kill()
            process.wait()
            raise
        out.seek(0)
        stdout = out.read().decode("utf-8", errors="replace")
    stderr = "".join(lines)
    if process.returncode in (1, 2):
        raise KeelDataError(arguments, process.returncode, stderr)
    if process.returncode != 0:
        raise KeelCommandError(arguments, process.returncode, stderr)
    return Completed(stdout, stderr)


def echo_to_stderr(line: str) -> None:
    """Shows a progress line on this process's standard error (a notebook shows it under the cell)."""
    sys.stderr.write(line)
    sys.stderr.flush()
