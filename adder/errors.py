"""Bad input is reported one way: one ``error: ...`` line on stderr and exit status 2."""

from __future__ import annotations

import sys
from typing import Any, NoReturn


class InputError(ValueError):
    """Something the user gave (a flag, a config, a file, a number) cannot be used."""


def first_line(error: BaseException, last: bool = False) -> str:
    """One line of ``error``'s message for an ``error:`` line: the first non-empty one, or the last
    (where a library wraps the cause in context), else the exception's type."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[-1] if last else lines[0]) if lines else type(error).__name__


def deepest_cause(error: BaseException) -> BaseException:
    """The exception at the end of ``error``'s ``raise ... from`` chain: where jsonargparse wraps a
    class's own check of its arguments (a network named by class_path) in the union it tried."""
    while error.__cause__ is not None:
        error = error.__cause__
    return error


def fail(message: str, status: int = 2) -> NoReturn:
    """Print ``error: MESSAGE`` on one line and exit with ``status``."""
    print("error: " + " ".join(str(message).split()), file=sys.stderr)
    raise SystemExit(status)


class OneLineErrors:
    """Mixin for argparse and jsonargparse parsers: a bad command line raises InputError with one
    line, no usage dump, for the command's ``main`` to print (and a caller in Python to catch)."""

    prog: str
    exit_on_error: bool = True

    def error(self, message: str, *args: Any) -> NoReturn:
        if not self.exit_on_error:  # jsonargparse parses nested values with this off: let it raise
            super().error(message, *args)  # type: ignore[misc]
        raise InputError(" ".join(f"{message} (see {self.prog} --help)".split()))
