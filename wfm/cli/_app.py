"""The Typer application shared by every command module.

Library errors (:class:`wfm.errors.WfmError`) become a one-line message on
stderr and exit code 2 here, and only here.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer

from wfm.errors import DataValidationError, WfmError

app = typer.Typer(
    name="wfm",
    help=(
        "Workforce management for omnichannel contact centers: forecast contact "
        "volume, turn it into required agents per channel and interval, schedule "
        "agents with the right skills, and show the coverage gaps.\n\n"
        "Run 'wfm plan' for the whole chain on the bundled sample center."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """Print ``error: message`` on stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def command(name: str | None = None, **kwargs: Any) -> Callable:
    """Register a command whose :class:`WfmError` becomes a clean exit."""

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kw: Any) -> Any:
            try:
                return func(*args, **kw)
            except DataValidationError as err:
                report = getattr(err, "report", None)
                if report is not None and hasattr(report, "to_text"):
                    typer.echo(report.to_text(), err=True)
                fail(str(err).splitlines()[0] if report is not None else str(err))
            except WfmError as err:
                fail(str(err))

        return app.command(name, **kwargs)(wrapper)

    return decorator


def progress(message: str) -> None:
    """A progress line on stderr (stdout stays clean for --json and pipes)."""
    typer.echo(message, err=True)
    sys.stderr.flush()
