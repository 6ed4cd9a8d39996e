"""End-to-end planning: history -> forecast -> requirements -> schedule -> coverage.

:func:`run_plan` is the orchestrator (like pvlib's ``ModelChain.run_model``):
it calls each stage function in turn, times it, and writes every frame plus
``summary.md`` and PNG charts into one output folder. The folder is built in a
temporary sibling and swapped in only when every stage succeeded, so a failed
run leaves the previous results intact.

:func:`apply_what_if` turns planner what-ifs (volume x, AHT x, shrinkage,
service target, a share of one channel's volume moved to another) into a
changed forecast and scenario; the CLI, the dashboard and the notebooks all
use it.

Examples
--------
>>> from wfm.plan import run_plan
>>> from wfm.sampledata import sample_scenario_path
>>> from wfm.config import load_scenario
>>> result = run_plan(load_scenario(sample_scenario_path()), "plan_out")  # doctest: +SKIP
>>> result.kpis  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wfm.config import Scenario, apply_overrides
from wfm.errors import ConfigError, WfmError

Progress = Callable[[str], None]

#: File names inside a plan folder.
PLAN_FILES = {
    "history_report": "validation.txt",
    "forecast": "forecast.csv",
    "backtest": "backtest.csv",
    "selection": "forecast_selection.csv",
    "requirements": "requirements.csv",
    "shifts": "shifts.csv",
    "assignments": "assignments.csv",
    "agent_hours": "agent_hours.csv",
    "coverage": "coverage.csv",
    "kpis": "kpis.csv",
    "worst_gaps": "worst_gaps.csv",
    "simulation": "simulation.csv",
    "summary": "summary.md",
    "stages": "stages.csv",
    "chart_coverage": "coverage_by_channel.png",
    "chart_heatmap": "gap_heatmap.png",
}


@dataclasses.dataclass(frozen=True)
class ChannelShift:
    """Move ``share`` of ``source``'s volume to ``target`` (e.g. voice to chat)."""

    source: str
    target: str
    share: float

    @classmethod
    def parse(cls, text: str) -> ChannelShift:
        """Parse ``'voice:chat:0.1'`` (source, target, share 0-1)."""
        parts = text.split(":")
        if len(parts) != 3:
            raise ConfigError(
                f"channel shift {text!r}: expected SOURCE:TARGET:SHARE, e.g. 'voice:chat:0.1'"
            )
        try:
            share = float(parts[2])
        except ValueError:
            raise ConfigError(
                f"channel shift {text!r}: share {parts[2]!r} is not a number; expected 0-1"
            ) from None
        return cls(parts[0], parts[1], share)


@dataclasses.dataclass(frozen=True)
class WhatIf:
    """Planner what-ifs applied on top of a scenario and its forecast.

    Parameters
    ----------
    volume_factor : float
        Multiplies every channel's volume (and prediction interval).
    aht_factor : float
        Multiplies every channel's handle time.
    shrinkage : float, optional
        Replaces the scenario's shrinkage (0-1) on every channel.
    service_level_target : float, optional
        Replaces the service-level target (0-1) of realtime and concurrent channels.
    shift : ChannelShift, optional
        Moves a share of one channel's volume to another.
    """

    volume_factor: float = 1.0
    aht_factor: float = 1.0
    shrinkage: float | None = None
    service_level_target: float | None = None
    shift: ChannelShift | None = None

    @property
    def is_identity(self) -> bool:
        return (self.volume_factor == 1.0 and self.aht_factor == 1.0
                and self.shrinkage is None and self.service_level_target is None
                and (self.shift is None or self.shift.share == 0.0))

    def describe(self) -> str:
        parts = []
        if self.volume_factor != 1.0:
            parts.append(f"volume x{self.volume_factor:g}")
        if self.aht_factor != 1.0:
            parts.append(f"AHT x{self.aht_factor:g}")
        if self.shrinkage is not None:
            parts.append(f"shrinkage {self.shrinkage:.0%}")
        if self.service_level_target is not None:
            parts.append(f"service target {self.service_level_target:.0%}")
        if self.shift is not None and self.shift.share:
            parts.append(f"{self.shift.share:.0%} of {self.shift.source} moved to "
                         f"{self.shift.target}")
        return ", ".join(parts) or "baseline"


def apply_what_if(forecast: pd.DataFrame, scenario: Scenario,
                  what_if: WhatIf) -> tuple[pd.DataFrame, Scenario]:
    """Apply ``what_if`` to a forecast frame and a scenario.

    The channel shift moves volume, not work: moved contacts take the target
    channel's handle time (its forecast AHT in each interval, or its default).

    Returns
    -------
    (forecast, scenario)
        New objects; the inputs are not changed.
    """
    if what_if.volume_factor < 0 or what_if.aht_factor <= 0:
        raise ConfigError("what-if: expected volume factor >= 0 and AHT factor > 0")
    fc = forecast.copy()
    vol_cols = [c for c in ("volume", "volume_lo", "volume_hi") if c in fc.columns]
    fc[vol_cols] = fc[vol_cols].astype(float) * what_if.volume_factor
    if "aht_seconds" in fc.columns:
        fc["aht_seconds"] = fc["aht_seconds"].astype(float) * what_if.aht_factor

    sh = what_if.shift
    if sh is not None and sh.share:
        if not 0.0 <= sh.share <= 1.0:
            raise ConfigError(f"what-if: shift share must be 0-1, got {sh.share}")
        channels = set(fc["channel"].unique())
        for name in (sh.source, sh.target):
            if name not in channels:
                raise ConfigError(f"what-if: channel {name!r} not in the forecast; "
                                  f"expected one of {sorted(channels)}")
        src = fc["channel"] == sh.source
        dst = fc["channel"] == sh.target
        moved = (fc.loc[src].set_index("timestamp")[vol_cols] * sh.share)
        fc.loc[src, vol_cols] = fc.loc[src, vol_cols].to_numpy() * (1.0 - sh.share)
        target = fc.loc[dst].set_index("timestamp")
        add = moved.reindex(target.index).fillna(0.0)
        fc.loc[dst, vol_cols] = (target[vol_cols] + add).to_numpy()
        # Contacts arriving on the target where it had no forecast AHT take its default.
        if "aht_seconds" in fc.columns:
            default = scenario.channel(sh.target).aht_seconds * what_if.aht_factor \
                if sh.target in scenario.channel_names else np.nan
            fc.loc[dst, "aht_seconds"] = fc.loc[dst, "aht_seconds"].fillna(default)

    overrides: dict[str, Any] = {}
    if what_if.shrinkage is not None:
        overrides["staffing.shrinkage"] = what_if.shrinkage
        for c in scenario.channels:
            if c.shrinkage is not None:
                overrides[f"channels.{c.name}.shrinkage"] = what_if.shrinkage
    if what_if.service_level_target is not None:
        for c in scenario.channels:
            if c.kind in ("realtime", "concurrent"):
                overrides[f"channels.{c.name}.service_level_target"] = \
                    what_if.service_level_target
    new_scenario = apply_overrides(scenario, overrides) if overrides else scenario
    return fc, new_scenario


@dataclasses.dataclass
class PlanResult:
    """Everything one plan run produced (also written to ``out_dir``)."""

    out_dir: Path | None
    forecast: pd.DataFrame
    requirements: pd.DataFrame
    shifts: pd.DataFrame
    assignments: pd.DataFrame
    coverage: pd.DataFrame
    kpis: pd.DataFrame
    worst_gaps: pd.DataFrame
    stages: pd.DataFrame
    schedule_status: str
    schedule_gap: float | None
    summary: str
    backtest: pd.DataFrame | None = None
    selection: pd.DataFrame | None = None
    simulation: pd.DataFrame | None = None
    schedule: Any = None
    validation: str = ""


def horizon_dates(scenario: Scenario, history: pd.DataFrame | None) -> tuple[dt.date, int]:
    """First planned day and number of days.

    Default start: the day after the last local date in the history.
    """
    start = scenario.horizon.start
    if start is None:
        if history is None or history.empty:
            raise ConfigError(
                f"{scenario.source}: horizon.start is not set and there is no history "
                "to start after; set [horizon] start = YYYY-MM-DD"
            )
        last = pd.DatetimeIndex(history["timestamp"]).max()
        start = (last.tz_localize(None).normalize() + pd.Timedelta(days=1)).date()
    return start, scenario.horizon.days


def _in_horizon(frame: pd.DataFrame, start: dt.date, days: int) -> pd.DataFrame:
    ts = pd.DatetimeIndex(frame["timestamp"])
    local = ts.tz_localize(None) if ts.tz is not None else ts
    lo = pd.Timestamp(start)
    hi = lo + pd.Timedelta(days=days)
    return frame.loc[(local >= lo) & (local < hi)].reset_index(drop=True)


class _Stages:
    """Runs named stages with timing and progress lines."""

    def __init__(self, progress: Progress | None):
        self.progress = progress or (lambda msg: None)
        self.rows: list[dict[str, Any]] = []

    def run(self, name: str, func: Callable[[], Any], skipped: bool = False) -> Any:
        n = len(self.rows) + 1
        if skipped:
            self.progress(f"[{n}/6] {name}: given as input, skipped")
            self.rows.append({"stage": name, "seconds": 0.0, "status": "skipped"})
            return func()
        self.progress(f"[{n}/6] {name} ...")
        t0 = time.perf_counter()
        out = func()
        sec = time.perf_counter() - t0
        self.rows.append({"stage": name, "seconds": round(sec, 3), "status": "done"})
        self.progress(f"[{n}/6] {name} done in {sec:.1f} s")
        return out

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["stage", "seconds", "status"])


def run_plan(
    scenario: Scenario,
    out_dir: Path | str,
    *,
    history: pd.DataFrame | None = None,
    forecast: pd.DataFrame | None = None,
    requirements: pd.DataFrame | None = None,
    what_if: WhatIf | None = None,
    time_limit: float | None = None,
    simulate: bool = False,
    replications: int = 10,
    backtest: bool = True,
    executor: Any = None,
    progress: Progress | None = None,
) -> PlanResult:
    """Run every stage and write the results into ``out_dir``.

    :func:`compute_plan` does the work; this writes its result. Parameters
    as :func:`compute_plan`, plus ``out_dir``: the output folder, replaced
    atomically when the run succeeds.
    """
    result = compute_plan(
        scenario, history=history, forecast=forecast, requirements=requirements,
        what_if=what_if, time_limit=time_limit, simulate=simulate,
        replications=replications, backtest=backtest, executor=executor, progress=progress)
    result.out_dir = Path(out_dir)
    _write_plan(result)
    return result


def compute_plan(
    scenario: Scenario,
    *,
    history: pd.DataFrame | None = None,
    forecast: pd.DataFrame | None = None,
    requirements: pd.DataFrame | None = None,
    what_if: WhatIf | None = None,
    time_limit: float | None = None,
    simulate: bool = False,
    replications: int = 10,
    backtest: bool = True,
    executor: Any = None,
    progress: Progress | None = None,
) -> PlanResult:
    """Run every stage of one site's plan and return the frames (nothing is written).

    Parameters
    ----------
    scenario : Scenario
        The scenario; its ``data.history`` and ``agents.file`` are read.
    history, forecast, requirements : DataFrame, optional
        Skip the stages up to the one given (e.g. a forecast from elsewhere).
    what_if : WhatIf, optional
        Planner what-ifs applied to the forecast and scenario.
    time_limit : float, optional
        Scheduler time limit [s]; default from the scenario.
    simulate : bool
        Also run the multi-skill simulation of the schedule.
    replications : int
        Simulation replications.
    backtest : bool
        Compare the forecast models in a backtest and pick per channel (slower);
        False uses the default model (see :func:`wfm.forecast.run_forecast`).
    executor : wfm.parallel.Executor, optional
        Runs the forecast of each channel as its own task (serially, on a
        local process pool or on Dask); default: serially in this process.
    progress : callable, optional
        Receives one line per stage event.
    """
    from wfm import coverage as cov
    from wfm import io as wio
    from wfm import scheduling, staffing

    what_if = what_if or WhatIf()
    stages = _Stages(progress)
    run_backtest = backtest
    backtest = selection = None
    report_text = ""

    def _history() -> pd.DataFrame | None:
        nonlocal report_text
        if history is not None:
            return history
        path = scenario.resolve(scenario.data.history)
        if path is None:
            return None
        report = wio.validate_file(path, "history", scenario)
        report_text = report.to_text()
        return wio.read_history(path, scenario)

    need_history = forecast is None and requirements is None
    hist = stages.run("validate history", _history if need_history else lambda: history,
                      skipped=not need_history)
    if need_history and hist is None:
        raise ConfigError(f"{scenario.source}: no [data] history file; give one or a forecast")

    if requirements is None:
        if forecast is None:
            start, days = horizon_dates(scenario, hist)
            last_hist = pd.DatetimeIndex(hist["timestamp"]).max().tz_localize(None).date()
            horizon_days = (start - last_hist).days - 1 + days

            def _forecast() -> pd.DataFrame:
                nonlocal backtest, selection
                if executor is not None and not executor.in_process:
                    from wfm.group import forecast_channels
                    res = forecast_channels(hist, scenario, horizon_days=horizon_days,
                                            backtest=run_backtest, executor=executor,
                                            progress=progress)
                else:
                    from wfm.forecast import run_forecast
                    res = run_forecast(hist, scenario, horizon_days=horizon_days,
                                       model=scenario.forecast.model, backtest=run_backtest,
                                       progress=progress)
                backtest, selection = res.backtest, res.selection
                return res.forecast

            fc = stages.run("forecast", _forecast)
        else:
            fc = stages.run("forecast", lambda: forecast, skipped=True)
            start = scenario.horizon.start or \
                pd.DatetimeIndex(fc["timestamp"]).min().tz_localize(None).date()
            days = scenario.horizon.days
        fc = _in_horizon(fc, start, days)
        if fc.empty:
            raise WfmError(f"the forecast has no intervals in the planning horizon "
                           f"{start} + {days} days")
        fc, scen = apply_what_if(fc, scenario, what_if)
        req = stages.run("requirements", lambda: staffing.requirements(fc, scen))
    else:
        fc = forecast if forecast is not None else pd.DataFrame()
        scen = scenario
        if not what_if.is_identity:
            raise ConfigError("what-if options need a forecast, not given requirements")
        stages.run("forecast", lambda: None, skipped=True)
        req = stages.run("requirements", lambda: requirements, skipped=True)

    roster_path = scen.resolve(scen.agents.file)
    if roster_path is None:
        raise ConfigError(f"{scen.source}: no [agents] file; the scheduler needs a roster")
    roster = wio.read_roster(roster_path, scen)
    sched = stages.run("schedule", lambda: scheduling.schedule(
        req, scen, roster, time_limit=time_limit, progress=progress))

    def _coverage() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        c = cov.coverage(req, sched.assignments, scen)
        return c, cov.kpis(c, req, scen), cov.worst_gaps(c, n=10)

    coverage_df, kpis_df, worst = stages.run("coverage", _coverage)

    sim_df = None
    if simulate:
        def _simulate() -> pd.DataFrame:
            res = cov.simulate(req, sched.shifts, sched.assignments, roster, scen,
                               replications=replications)
            return res.per_channel if hasattr(res, "per_channel") else res
        sim_df = stages.run("simulate", _simulate)

    stage_df = stages.frame()
    summary = render_summary(
        scen, what_if=what_if, kpis=kpis_df, worst=worst, schedule=sched,
        selection=selection, backtest=backtest, stages=stage_df, validation=report_text,
    )
    return PlanResult(
        out_dir=None, forecast=fc, requirements=req, shifts=sched.shifts,
        assignments=sched.assignments, coverage=coverage_df, kpis=kpis_df,
        worst_gaps=worst, stages=stage_df, schedule_status=sched.status,
        schedule_gap=sched.gap, summary=summary, backtest=backtest,
        selection=selection, simulation=sim_df, schedule=sched, validation=report_text,
    )


def _fmt_pct(x: Any) -> str:
    return "n/a" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.1%}"


def _md_table(df: pd.DataFrame, floatfmt: str = "{:.3g}") -> str:
    if df is None or df.empty:
        return "_none_\n"
    cols = list(df.columns)
    lines = ["| " + " | ".join(str(c) for c in cols) + " |",
             "|" + "|".join("---" for _ in cols) + "|"]
    for _, row in df.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, float | np.floating):
                cells.append("" if np.isnan(v) else floatfmt.format(v))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_summary(scenario: Scenario, *, what_if: WhatIf, kpis: pd.DataFrame,
                   worst: pd.DataFrame, schedule: Any, selection: pd.DataFrame | None,
                   backtest: pd.DataFrame | None, stages: pd.DataFrame,
                   validation: str = "") -> str:
    """The human summary of a plan run (Markdown)."""
    lines = [f"# Plan: {scenario.site.name}", ""]
    lines.append(f"- Scenario: `{Path(scenario.source).name}`; what-if: {what_if.describe()}")
    lines.append(f"- Solver: status **{schedule.status}**, objective "
                 f"{_num(schedule.objective)}, best bound {_num(schedule.best_bound)}, "
                 f"gap {_fmt_pct(schedule.gap)}, {schedule.solve_seconds:.1f} s")
    if getattr(schedule, "message", ""):
        lines.append(f"- Solver note: {schedule.message}")
    lines += ["", "## Service and staffing per channel", "", _md_table(kpis)]
    if selection is not None and not selection.empty:
        lines += ["## Forecast models chosen", "", _md_table(selection)]
    if backtest is not None and not backtest.empty:
        lines += ["## Forecast accuracy (rolling-origin backtest)", "", _md_table(backtest)]
    lines += ["## Worst gaps (agents short)", "", _md_table(worst)]
    lines += ["## Time per stage", "", _md_table(stages)]
    if validation:
        lines += ["## History validation", "", "```", validation.strip(), "```", ""]
    return "\n".join(lines)


def _num(x: Any) -> str:
    return "n/a" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:,.1f}"


def _write_plan(result: PlanResult) -> None:
    out = result.out_dir
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        write_plan_files(result, tmp)
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_plan_files(result: PlanResult, folder: Path, charts: bool = True) -> None:
    """Write every frame, ``summary.md`` and the charts of ``result`` into ``folder``.

    Not atomic by itself: callers write into a temporary folder and swap it in.
    """
    from wfm import io as wio

    validation = result.validation
    agent_hours = getattr(result.schedule, "agent_hours", None)
    tmp = Path(folder)
    tmp.mkdir(parents=True, exist_ok=True)
    frames = {
        "forecast": (result.forecast, "forecast"),
        "requirements": (result.requirements, "requirements"),
        "shifts": (result.shifts, "shifts"),
        "assignments": (result.assignments, "assignments"),
        "coverage": (result.coverage, "coverage"),
    }
    for key, (df, kind) in frames.items():
        if df is not None and not df.empty:
            wio.write_frame(df, tmp / PLAN_FILES[key], kind)
    extras = {"kpis": result.kpis, "worst_gaps": result.worst_gaps,
              "stages": result.stages, "backtest": result.backtest,
              "selection": result.selection, "simulation": result.simulation,
              "agent_hours": agent_hours}
    for key, df in extras.items():
        if df is not None and not df.empty:
            df.to_csv(tmp / PLAN_FILES[key], index=False)
    (tmp / PLAN_FILES["summary"]).write_text(result.summary, encoding="utf-8")
    if validation:
        (tmp / PLAN_FILES["history_report"]).write_text(validation, encoding="utf-8")
    if charts:
        from wfm.charts import coverage_lines_png, gap_heatmap_png
        coverage_lines_png(result.coverage, tmp / PLAN_FILES["chart_coverage"])
        gap_heatmap_png(result.coverage, tmp / PLAN_FILES["chart_heatmap"])


def _swap_in(tmp: Path, out: Path) -> None:
    """Replace ``out`` by ``tmp`` so that readers never see a half-written folder."""
    os.chmod(tmp, 0o755)
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def compare_plans(dir_a: Path | str, dir_b: Path | str) -> pd.DataFrame:
    """KPI differences between two plan folders (B minus A), per channel.

    Raises
    ------
    WfmError
        When a folder has no ``kpis.csv`` (not a plan folder).
    """
    frames = []
    for d in (dir_a, dir_b):
        p = Path(d) / PLAN_FILES["kpis"]
        if not p.is_file():
            raise WfmError(f"{d}: not a plan folder (no {PLAN_FILES['kpis']}); "
                           "expected the output of 'wfm plan'")
        frames.append(pd.read_csv(p).set_index("channel"))
    a, b = frames
    numeric = [c for c in a.columns if c in b.columns
               and pd.api.types.is_numeric_dtype(a[c]) and pd.api.types.is_numeric_dtype(b[c])]
    rows = []
    for ch in a.index.union(b.index, sort=False):
        for col in numeric:
            va = a[col].get(ch, np.nan)
            vb = b[col].get(ch, np.nan)
            rows.append({"channel": ch, "kpi": col, "a": va, "b": vb, "change": vb - va})
    return pd.DataFrame(rows, columns=["channel", "kpi", "a", "b", "change"])
