"""CLI: ``wfm schedule``."""

from __future__ import annotations

from pathlib import Path

import typer

from wfm.cli._app import command, fail, progress


@command("schedule")
def schedule_cmd(
    requirements: Path = typer.Option(..., "--requirements", "-r",
                                      help="requirements CSV/Parquet (wfm requirements)"),
    scenario: Path = typer.Option(..., "--scenario", "-s", help="scenario TOML"),
    out: Path = typer.Option(..., "--out", "-o", help="folder for shifts.csv, "
                                                     "assignments.csv, agent_hours.csv"),
    roster: Path = typer.Option(None, "--roster", help="roster file (default: the "
                                                       "scenario's [agents] file)"),
    time_limit: float = typer.Option(None, "--time-limit", min=0.1,
                                     help="wall-clock limit for all steps [s] (default: "
                                          "the scenario's solver.time_limit_seconds)"),
    gap: float = typer.Option(None, "--gap", min=0.0, max=0.99,
                              help="relative gap to the best bound at which the run "
                                   "stops early (default: solver.gap)"),
    solver: str = typer.Option(None, "--solver", help="highs or cbc for the MILPs "
                                                      "(default: solver.backend; the LP "
                                                      "relaxation always uses HiGHS)"),
    check: bool = typer.Option(True, "--check/--no-check",
                               help="verify every rule on the written files"),
) -> None:
    """Schedule agents onto shifts, breaks and channels; write the frames and a summary.

    Progress goes to stderr; the summary (hours scheduled, under/over-coverage per
    channel, solver status and gap, preferences met) to stdout. Exit code 0 also when
    demand cannot be met (it is reported); 2 on bad input; 3 when the written
    schedule fails the independent check.
    """
    from wfm import io as wio
    from wfm.config import load_scenario
    from wfm.scheduling import schedule
    from wfm.scheduling.checker import check_schedule

    scen = load_scenario(scenario)
    req = wio.read_frame(requirements, "requirements", scen)
    ros_path = roster or scen.resolve(scen.agents.file)
    if ros_path is None:
        fail(f"{scenario}: no [agents] file in the scenario; pass --roster")
    ros = wio.read_roster(ros_path, scen)
    progress(f"scheduling {len(ros)} agents against {requirements} ...")
    res = schedule(req, scen, ros, time_limit=time_limit, gap=gap, solver=solver,
                   progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        # contract columns only (template and paid hours are in agent_hours/result)
        "shifts": wio.write_frame(res.shifts[["agent_id", "date", "start", "end", "breaks"]],
                                  out / "shifts.csv", "shifts"),
        "assignments": wio.write_frame(res.assignments, out / "assignments.csv",
                                       "assignments"),
        "agent_hours": wio.write_frame(res.agent_hours, out / "agent_hours.csv"),
    }
    if len(res.unmet):
        paths["unmet"] = wio.write_frame(res.unmet, out / "unmet.csv")
    s = res.summary
    typer.echo(f"status      {res.status}")
    typer.echo(f"objective   {res.objective:,.1f}   best bound "
               f"{'n/a' if res.best_bound is None else f'{res.best_bound:,.1f}'}   gap "
               f"{'n/a' if res.gap is None else f'{100 * res.gap:.2f} %'}   "
               f"LP bound {'n/a' if res.lp_bound is None else f'{res.lp_bound:,.1f}'}")
    typer.echo(f"time        {res.solve_seconds:.1f} s ({res.solver})")
    typer.echo(f"agents      {int((res.agent_hours['days'] > 0).sum())} of "
               f"{len(res.agent_hours)} scheduled, {res.agent_hours['paid_hours'].sum():,.1f} "
               f"paid hours in {len(res.shifts)} shifts")
    if res.preferences_met is not None:
        typer.echo(f"preferences {100 * res.preferences_met:.1f} % met")
    typer.echo("channel            required  scheduled  under  over   [agent-hours]")
    for r in s.itertuples(index=False):
        typer.echo(f"{r.channel:<17} {r.required_agent_hours:9.1f} {r.scheduled_agent_hours:10.1f}"
                   f" {r.under_agent_hours:6.1f} {r.over_agent_hours:6.1f}")
    typer.echo(f"note        {res.message}")
    for p in paths.values():
        typer.echo(f"wrote       {p}")
    if check:
        written_shifts = wio.read_frame(paths["shifts"], "shifts", scen)
        written_asg = wio.read_frame(paths["assignments"], "assignments", scen)
        days = sorted({t.date() for t in req["timestamp"]})
        rep = check_schedule(written_shifts, written_asg, ros, scen, horizon_start=days[0],
                             horizon_days=len(days))
        typer.echo(rep.to_text(limit=10))
        if not rep.ok:
            raise typer.Exit(3)
