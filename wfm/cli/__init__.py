"""Batch command-line interface: ``wfm COMMAND --help``.

Each command lives in a ``*_commands`` module and calls one library
function; this package only wires them into one Typer app, in pipeline
order.
"""

from __future__ import annotations

import importlib
import importlib.util

from wfm.cli._app import app

_COMMAND_MODULES = (
    "data_commands",       # sample-data, validate
    "forecast_commands",   # forecast
    "staffing_commands",   # erlang, requirements
    "schedule_commands",   # schedule
    "coverage_commands",   # coverage
    "plan_commands",       # plan, compare
    "dashboard_commands",  # dashboard
)

for _name in _COMMAND_MODULES:
    if importlib.util.find_spec(f"wfm.cli.{_name}") is not None:
        importlib.import_module(f"wfm.cli.{_name}")

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``wfm`` console script."""
    app()
