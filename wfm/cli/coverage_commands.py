"""CLI: ``wfm coverage`` -- gaps and service achieved by a schedule."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    import pandas as pd

from wfm.cli._app import command, progress


def _sibling(path: Path, tag: str) -> Path:
    """``cov.csv`` -> ``cov_<tag>.csv`` (keeps ``.csv.gz`` / ``.parquet``)."""
    name = path.name
    for ext in (".csv.gz", ".csv", ".parquet", ".pq"):
        if name.lower().endswith(ext):
            return path.with_name(f"{name[: -len(ext)]}_{tag}{name[-len(ext):]}")
    return path.with_name(f"{name}_{tag}")


def _fmt(v: object, kind: str) -> str:
    import numpy as np

    if v is None or (isinstance(v, float | np.floating) and not np.isfinite(v)):
        return "-"
    if kind == "pct":
        return f"{float(v):.1%}"
    if kind == "s":
        return f"{float(v):.1f}"
    if kind == "h":
        return f"{float(v):.1f}"
    if kind == "pp":
        return f"{float(v) * 100:+.1f} pp"
    if kind == "n":
        return f"{float(v):,.0f}"
    return str(v)


def _table(df: "pd.DataFrame", cols: list[tuple[str, str, str]]) -> str:
    """A plain fixed-width table: ``cols`` = (column, header, format kind)."""
    cells = [[h for _, h, _ in cols]]
    for _, r in df.iterrows():
        cells.append([_fmt(r[c], k) for c, _, k in cols])
    widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
    lines = []
    for j, row in enumerate(cells):
        lines.append("  ".join(x.ljust(w) if i == 0 else x.rjust(w)
                               for i, (x, w) in enumerate(zip(row, widths))))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


KPI_TABLE = [("channel", "channel", "str"), ("volume", "volume", "n"),
             ("service_level", "SL", "pct"), ("service_level_target", "target", "pct"),
             ("asa_seconds", "ASA s", "s"), ("abandonment", "aband.", "pct"),
             ("occupancy", "occ.", "pct"),
             ("share_intervals_under_target", "ivl<target", "pct"),
             ("under_staffed_hours", "under h", "h"), ("over_staffed_hours", "over h", "h")]
SIM_TABLE = [("channel", "channel", "str"), ("service_level_erlang", "SL Erlang", "pct"),
             ("service_level_simulated", "SL sim", "pct"),
             ("service_level_simulated_lo", "CI lo", "pct"),
             ("service_level_simulated_hi", "CI hi", "pct"),
             ("difference", "sim-Erlang", "pp"),
             ("asa_seconds_simulated", "ASA sim s", "s"),
             ("abandonment_simulated", "aband. sim", "pct")]
POOL_TABLE = [("channel", "channel", "str"), ("service_level_dedicated", "SL dedicated", "pct"),
              ("service_level_pooled", "SL pooled", "pct"), ("gain", "gain", "pp"),
              ("gain_lo", "CI lo", "pp"), ("gain_hi", "CI hi", "pp")]


@command("coverage")
def coverage_command(
    requirements: Path = typer.Option(..., "--requirements", "-r",
                                      help="requirements file (from 'wfm requirements')"),
    schedule: Path = typer.Option(..., "--schedule",
                                  help="folder with shifts.csv and assignments.csv "
                                       "(from 'wfm schedule')"),
    out: Path = typer.Option(..., "--out", "-o",
                             help="coverage file to write (.csv, .csv.gz or .parquet)"),
    scenario: Path = typer.Option(None, "--scenario", "-s",
                                  help="scenario TOML (default: the bundled sample)"),
    simulate: bool = typer.Option(False, "--simulate",
                                  help="also simulate the schedule with multi-skill routing"),
    replications: int = typer.Option(10, "--replications", min=2, max=1000,
                                     help="simulation replications"),
    seed: int = typer.Option(0, "--seed", help="simulation random seed"),
    handle_time: str = typer.Option("exponential", "--handle-time",
                                    help="exponential or lognormal"),
    pooling: bool = typer.Option(False, "--pooling",
                                 help="with --simulate: also simulate dedicated agents and "
                                      "print the multi-skill pooling gain"),
) -> None:
    """Required vs scheduled agents per channel and interval, gaps and service level.

    Writes the coverage frame to OUT and its KPIs next to it (OUT_kpis); prints
    the KPIs. With --simulate, also writes the simulation per interval
    (OUT_simulation) and per channel (OUT_simulation_channels) and prints the
    simulated service level next to the per-channel Erlang one.
    """
    from wfm import io as wio
    from wfm.config import load_scenario
    from wfm.coverage import compare_with_erlang, coverage, kpis, pooling_gain
    from wfm.coverage import simulate as run_simulation
    from wfm.errors import WfmError

    if scenario is None:
        from wfm.sampledata import sample_scenario_path
        scenario = sample_scenario_path()
    sc = load_scenario(scenario)
    asg_path = schedule / "assignments.csv"
    if not asg_path.is_file():
        raise WfmError(f"{schedule}: no assignments.csv; expected the folder written by "
                       "'wfm schedule'")
    progress(f"reading {requirements} and {asg_path}")
    req = wio.read_frame(requirements, "requirements", sc)
    asg = wio.read_frame(asg_path, "assignments", sc)
    shifts_path = schedule / "shifts.csv"
    shifts = wio.read_frame(shifts_path, "shifts", sc) if shifts_path.is_file() else None

    progress("coverage")
    cov = coverage(req, asg, sc)
    k = kpis(cov, req, sc)
    wio.write_frame(cov, out, "coverage")
    wio.write_frame(k, _sibling(out, "kpis"))
    missing = int(cov["requirement_missing"].sum())
    typer.echo(f"coverage: {len(cov)} rows -> {out}")
    if missing:
        typer.echo(f"note: {missing} scheduled interval(s) have no requirement row "
                   "(flagged requirement_missing)")
    typer.echo(_table(k, KPI_TABLE))

    if simulate:
        roster = None
        roster_path = sc.resolve(sc.agents.file)
        if roster_path is not None and roster_path.is_file():
            roster = wio.read_roster(roster_path, sc)
        progress(f"simulating {replications} replications")
        res = run_simulation(req, shifts, asg, roster, sc, replications=replications,
                             seed=seed, handle_time=handle_time)
        progress(f"simulated in {res.elapsed_seconds:.1f} s")
        wio.write_frame(res.per_interval, _sibling(out, "simulation"))
        wio.write_frame(res.per_channel, _sibling(out, "simulation_channels"))
        for note in res.notes:
            typer.echo(f"note: {note}")
        typer.echo("")
        typer.echo(f"simulated vs Erlang service level ({replications} replications, "
                   f"{res.ci_level:.0%} CI, routing {res.routing}):")
        typer.echo(_table(compare_with_erlang(res, k), SIM_TABLE))
        if pooling:
            progress("simulating dedicated agents for the pooling gain")
            g = pooling_gain(req, asg, roster, sc, replications=replications, seed=seed,
                             handle_time=handle_time)
            typer.echo("")
            typer.echo("pooling gain (multi-skill routing minus dedicated agents, same "
                       "schedule and customers):")
            typer.echo(_table(g, POOL_TABLE))
