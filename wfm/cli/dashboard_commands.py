"""``wfm dashboard``: start the planners' Streamlit dashboard.

The dashboard lives next to the package in a source checkout
(``<repo>/dashboards/app.py``); this command only finds it, checks that the
``dashboard`` extra is installed and hands over to ``streamlit run``.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import typer

from wfm.cli._app import command, progress
from wfm.errors import MissingExtraError, WfmError

#: Environment variables the dashboard reads (set from the options below).
ENV_SCENARIO = "WFM_DASHBOARD_SCENARIO"
ENV_CACHE_DIR = "WFM_DASHBOARD_CACHE"


def dashboard_app_path() -> Path:
    """Path of the dashboard's entry script, ``<repo>/dashboards/app.py``.

    Raises
    ------
    WfmError
        When wfm is installed without its source tree (the dashboard is not
        part of the wheel).
    """
    import wfm

    app = Path(wfm.__file__).resolve().parent.parent / "dashboards" / "app.py"
    if not app.is_file():
        raise WfmError(
            f"dashboard app not found at {app}; the dashboard ships with the source "
            "checkout: clone the repository and run 'pip install -e \".[dashboard]\"'"
        )
    return app


def streamlit_command(port: int = 8501, address: str = "localhost",
                      python: str | None = None) -> list[str]:
    """The ``streamlit run`` command line that serves the dashboard.

    Raises
    ------
    MissingExtraError
        When Streamlit is not installed (the ``dashboard`` extra).
    """
    if importlib.util.find_spec("streamlit") is None:
        raise MissingExtraError(
            "the dashboard needs Streamlit, which is not installed; install the "
            "dashboard extra: pip install -e \".[dashboard]\""
        )
    return [
        python or sys.executable, "-m", "streamlit", "run", str(dashboard_app_path()),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", address,
        "--browser.gatherUsageStats", "false",
        # planners need no 'Deploy' / developer menu
        "--client.toolbarMode", "viewer",
        # planners upload history files of a few years; 200 MB is Streamlit's default
        "--server.maxUploadSize", "500",
    ]


@command("dashboard")
def dashboard(
    port: int = typer.Option(8501, "--port", "-p", min=1, max=65535,
                             help="TCP port to serve on."),
    scenario: Path | None = typer.Option(
        None, "--scenario", "-s", exists=False,
        help="Scenario TOML to open (default: the bundled sample center)."),
    address: str = typer.Option("localhost", "--address",
                                help="Interface to listen on (0.0.0.0 for every one)."),
    cache_dir: Path | None = typer.Option(
        None, "--cache-dir",
        help="Where computed forecasts and schedules are kept between runs "
             "(default: ~/.cache/wfm/dashboard)."),
) -> None:
    """Start the planners' dashboard (Streamlit) in the foreground.

    Opens on the coverage-gap page; the first visit computes the forecast,
    requirements and a schedule for the scenario and keeps them in the cache
    directory, so later starts are immediate. Stop it with Ctrl+C.
    """
    cmd = streamlit_command(port=port, address=address)
    env = dict(os.environ)
    if scenario is not None:
        from wfm.config import load_scenario

        load_scenario(scenario)  # a bad scenario fails here, with its message, not in the app
        env[ENV_SCENARIO] = str(scenario.resolve())
    if cache_dir is not None:
        env[ENV_CACHE_DIR] = str(cache_dir.resolve())
    progress(f"wfm dashboard: http://{address}:{port}  (Ctrl+C to stop)")
    if os.name == "posix":
        # Replace this process so signals (Ctrl+C, terminate) reach Streamlit directly.
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(cmd[0], cmd, env)
    try:  # pragma: no cover - non-POSIX
        code = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:  # pragma: no cover
        code = 0
    raise typer.Exit(code)
