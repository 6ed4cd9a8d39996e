"""`wfm plan` (every stage end to end) and `wfm compare` (two plan folders)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from wfm.cli._app import command, progress


@command("plan")
def plan_cmd(
    scenario: Optional[Path] = typer.Option(
        None, "--scenario", "-s",
        help="Scenario TOML. Default: the bundled sample contact center."),
    out: Path = typer.Option(Path("plan_out"), "--out", "-o",
                             help="Output folder (replaced atomically on success)."),
    forecast: Optional[Path] = typer.Option(
        None, "--forecast", help="Use this forecast file and skip forecasting."),
    requirements: Optional[Path] = typer.Option(
        None, "--requirements",
        help="Use this requirements file and skip forecasting and staffing."),
    time_limit: Optional[float] = typer.Option(
        None, "--time-limit", help="Scheduler time limit [s] (default: scenario)."),
    volume_factor: float = typer.Option(1.0, "--volume-factor",
                                        help="What-if: multiply all volumes, e.g. 1.1."),
    aht_factor: float = typer.Option(1.0, "--aht-factor",
                                     help="What-if: multiply all handle times."),
    shrinkage: Optional[float] = typer.Option(None, "--shrinkage",
                                              help="What-if: shrinkage 0-1 on every channel."),
    service_target: Optional[float] = typer.Option(
        None, "--service-target", help="What-if: service-level target 0-1 (realtime, chat)."),
    shift_volume: Optional[str] = typer.Option(
        None, "--shift-volume",
        help="What-if: move a share of one channel's volume to another, SOURCE:TARGET:SHARE, "
             "e.g. voice:chat:0.1."),
    simulate: bool = typer.Option(False, "--simulate",
                                  help="Also simulate the schedule (multi-skill routing)."),
    no_backtest: bool = typer.Option(
        False, "--no-backtest", help="Skip the forecast model comparison (faster)."),
    executor: str = typer.Option(
        "local", "--executor", "-e",
        help="Where the forecast series and the sites run: local (this machine: one "
             "process, or a pool with --workers N) or dask (a Dask cluster)."),
    workers: Optional[int] = typer.Option(
        None, "--workers", min=1,
        help="local: processes (default 1, i.e. in this process); dask: workers of the "
             "LocalCluster (default: CPU cores)."),
    scheduler_address: Optional[str] = typer.Option(
        None, "--scheduler-address",
        help="Dask scheduler tcp://HOST:PORT of a running cluster; without it "
             "--executor dask starts a LocalCluster."),
) -> None:
    """Run the whole chain: validate history, forecast, requirements, schedule, coverage.

    Writes every frame, summary.md and PNG charts into OUT. With no options it
    plans the bundled sample contact center. A multi-site scenario ([[sites]])
    is planned site by site: OUT then holds the group frames with a site
    column, failures.csv, summary.md and one plan folder per site in
    OUT/sites/.
    """
    from wfm import io as wio
    from wfm.config import load_group
    from wfm.parallel import Executor
    from wfm.plan import ChannelShift, WhatIf, run_plan

    if scenario is None:
        from wfm.sampledata import sample_scenario_path
        scenario = sample_scenario_path()
        progress(f"using the bundled sample scenario {scenario}")
    ex = Executor(executor, workers=workers, address=scheduler_address)
    what_if = WhatIf(
        volume_factor=volume_factor, aht_factor=aht_factor, shrinkage=shrinkage,
        service_level_target=service_target,
        shift=ChannelShift.parse(shift_volume) if shift_volume else None,
    )
    group = load_group(scenario)
    if group.multi_site:
        _plan_group(group, out, ex, forecast=forecast, requirements=requirements,
                    time_limit=time_limit, simulate=simulate, backtest=not no_backtest,
                    what_if=what_if)
        return
    scen = group.defaults
    fc = wio.read_frame(forecast, "forecast", scen) if forecast else None
    req = wio.read_frame(requirements, "requirements", scen) if requirements else None
    result = run_plan(scen, out, forecast=fc, requirements=req, what_if=what_if,
                      time_limit=time_limit, simulate=simulate, backtest=not no_backtest,
                      executor=ex, progress=progress)
    typer.echo(_console_summary(result))


def _plan_group(group, out: Path, ex, *, forecast, requirements, time_limit, simulate,
                backtest, what_if) -> None:
    from wfm.cli._app import fail
    from wfm.group import run_group_plan

    if forecast is not None or requirements is not None:
        fail("--forecast and --requirements are for single-site scenarios; a multi-site "
             "plan forecasts every site's series itself")
    if not what_if.is_identity:
        fail("the what-if options are for single-site scenarios; run them on a site's "
             "scenario")
    res = run_group_plan(group, out, executor=ex, time_limit=time_limit, simulate=simulate,
                         backtest=backtest, progress=progress)
    typer.echo(f"plan of {len(res.sites)}/{len(group.sites)} sites written to {out} "
               f"({res.executor})")
    if not res.failures.empty:
        typer.echo(f"{len(res.failures)} failure(s) (see failures.csv):")
        for r in res.failures.itertuples():
            what = f"{r.site}/{r.channels}" if r.channels else r.site
            typer.echo(f"  {r.stage} {what}: {r.error_type}: {r.message}")
    typer.echo("time per stage: " + ", ".join(
        f"{r.stage} {r.seconds:.1f}s" for r in res.stages.itertuples()))
    if not res.failures.empty:
        raise typer.Exit(4)


def _console_summary(result) -> str:
    k = result.kpis
    lines = [f"plan written to {result.out_dir}",
             f"schedule: {result.schedule_status}"
             + (f", gap {result.schedule_gap:.2%}" if result.schedule_gap is not None else ""),
             ""]
    cols = [c for c in ("channel", "service_level", "service_level_target",
                        "intervals_under_target", "under_hours", "over_hours") if c in k.columns]
    lines.append(k[cols].to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    lines.append("")
    lines.append("time per stage: " + ", ".join(
        f"{r.stage} {r.seconds:.1f}s" for r in result.stages.itertuples()))
    return "\n".join(lines)


@command("compare")
def compare_cmd(
    dir_a: Path = typer.Argument(..., help="Plan folder A (the baseline)."),
    dir_b: Path = typer.Argument(..., help="Plan folder B (the alternative)."),
) -> None:
    """Print the KPI differences between two plan folders (B minus A)."""
    from wfm.plan import compare_plans

    diff = compare_plans(dir_a, dir_b)
    typer.echo(diff.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
