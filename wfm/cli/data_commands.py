"""CLI: ``wfm sample-data`` and ``wfm validate``."""

from __future__ import annotations

from pathlib import Path

import typer

from wfm.cli._app import command, fail, progress


@command("sample-data")
def sample_data(
    out_dir: Path = typer.Argument(..., help="folder to write the sample center into"),
    seed: int = typer.Option(None, "--seed", min=0,
                             help="random seed (default: the bundled sample's)"),
    years: float = typer.Option(2.0, "--years", min=0.02, max=10.0,
                                help="years of history ending 2026-11-15"),
    history_format: str = typer.Option("parquet", "--format",
                                       help="history file format: parquet, csv.gz or csv "
                                            "(single site only)"),
    sites: int = typer.Option(None, "--sites", min=1, max=200,
                              help="write a synthetic multi-site group of this many sites "
                                   "(time zones of Europe, the Americas and Asia-Pacific) "
                                   "instead of the single sample center"),
    queues_per_site: int = typer.Option(None, "--queues-per-site", min=1, max=50,
                                        help="queues per site (default 15; with --sites)"),
    interval: int = typer.Option(None, "--interval",
                                 help="interval minutes: 15, 30 or 60 (default 15; with "
                                      "--sites)"),
    agents_per_site: int = typer.Option(None, "--agents-per-site", min=1, max=10_000,
                                        help="roster size of every site (default: sized to "
                                             "the site's queues; with --sites)"),
) -> None:
    """Generate the sample contact center: history, roster.csv, scenario.toml, README.md.

    With --sites: a synthetic multi-site group instead (scenario.toml with
    [[sites]], a hive-partitioned Parquet history/ folder, rosters/<site>.csv,
    README.md). Deterministic: the same seed gives the same files.
    """
    from wfm.sampledata import DEFAULT_SEED

    if sites is None:
        given = [name for name, v in (("--queues-per-site", queues_per_site),
                                      ("--interval", interval),
                                      ("--agents-per-site", agents_per_site)) if v is not None]
        if given:
            fail(f"{', '.join(given)}: only for a multi-site group; add --sites N")
        from wfm.sampledata import generate

        if history_format not in ("parquet", "csv.gz", "csv"):
            fail(f"--format must be one of parquet, csv.gz, csv; got {history_format!r}")
        path = generate(out_dir, seed=DEFAULT_SEED if seed is None else seed, years=years,
                        history_format=history_format, progress=progress)
        typer.echo(str(path))
        return
    from wfm.samplegroup import generate_group

    if history_format != "parquet":
        fail(f"--format {history_format} is for the single site; a group's history is a "
             "partitioned Parquet dataset")
    if interval is not None and interval not in (15, 30, 60):
        fail(f"--interval must be 15, 30 or 60; got {interval}")
    path = generate_group(out_dir, sites=sites,
                          queues_per_site=15 if queues_per_site is None else queues_per_site,
                          years=years, interval_minutes=15 if interval is None else interval,
                          agents_per_site=agents_per_site,
                          seed=DEFAULT_SEED if seed is None else seed, progress=progress)
    typer.echo(str(path))


def _parse_map(items: list[str] | None) -> dict[str, str] | None:
    if not items:
        return None
    out: dict[str, str] = {}
    for item in items:
        src, sep, dst = item.partition("=")
        if not sep or not src.strip() or not dst.strip():
            fail(f"--column-map expects 'VENDOR HEADER=wfm_column', got {item!r}")
        out[src.strip()] = dst.strip()
    return out


@command("validate")
def validate(
    file: Path = typer.Argument(..., help="CSV, CSV.gz or Parquet file to check"),
    scenario: Path = typer.Option(None, "--scenario", "-s",
                                  help="scenario TOML: time zone, interval, channels"),
    kind: str = typer.Option(None, "--kind", "-k",
                             help="history, forecast, requirements, shifts, assignments, "
                                  "coverage or roster (default: from the columns)"),
    column_map: list[str] = typer.Option(None, "--column-map", "-m",
                                         help="rename a vendor column: 'Interval Start="
                                              "timestamp' (repeatable)"),
    tz: str = typer.Option(None, "--tz", help="time zone without a scenario "
                                               "(default Europe/Berlin)"),
    interval: int = typer.Option(None, "--interval",
                                 help="interval minutes without a scenario (default: "
                                      "inferred)"),
    allow_gaps: bool = typer.Option(False, "--allow-gaps",
                                    help="report missing intervals as warnings, not errors"),
    as_csv: bool = typer.Option(False, "--csv", help="print the report as CSV"),
) -> None:
    """Check a data file and print every problem (file, row, column, found, expected).

    Exit code 0 when the file has no errors (warnings allowed), 1 when it has
    errors, 2 when the command itself cannot run (e.g. a bad scenario).
    """
    from wfm.config import load_scenario
    from wfm.io import KINDS, validate_file

    if kind is not None and kind not in KINDS:
        fail(f"--kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if interval is not None and interval not in (15, 30, 60):
        fail(f"--interval must be 15, 30 or 60; got {interval}")
    if scenario is not None:
        from wfm.config import load_group
        group = load_group(scenario)
        if group.multi_site:
            _validate_group(group, file, kind, allow_gaps, as_csv)
            return
    sc = load_scenario(scenario) if scenario is not None else None
    report = validate_file(file, kind, sc, column_map=_parse_map(column_map), tz=tz,
                           interval_minutes=interval,
                           gaps="warning" if allow_gaps else "error")
    if as_csv:
        typer.echo(report.to_frame().to_csv(index=False), nl=False)
    else:
        typer.echo(report.to_text())
    if not report.ok:
        raise typer.Exit(1)


def _validate_group(group, file: Path, kind: str | None, allow_gaps: bool,
                    as_csv: bool) -> None:
    import pandas as pd

    from wfm.group import validate_group_history

    if kind not in (None, "history"):
        fail("with a multi-site scenario, validate checks the group's history "
             f"(--kind history); got --kind {kind}")
    reports = validate_group_history(group, file, gaps="warning" if allow_gaps else "error")
    if as_csv:
        frames = [r.to_frame() for r in reports]
        typer.echo(pd.concat(frames, ignore_index=True).to_csv(index=False), nl=False)
    else:
        typer.echo("\n\n".join(r.to_text() for r in reports))
    bad = [r for r in reports if not r.ok]
    typer.echo(f"{len(reports) - len(bad)} of {len(reports)} sites without errors", err=True)
    if bad:
        raise typer.Exit(1)
