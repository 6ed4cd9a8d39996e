"""Many sites and queues: forecast every series and plan every site as independent tasks.

A contact-center group plans dozens of sites and hundreds of queues. The
work splits naturally:

* **forecast** (with its backtest) per site x channel series: one task per
  series, or per source channel with the channels derived from it
  (a chatbot hand-off is forecast from its chatbot series);
* **requirements, schedule and coverage** per site: one task per site
  (agents never work across sites).

:func:`run_group_plan` runs these tasks with a :class:`wfm.parallel.Executor`
(serial, a local process pool, or Dask) and gives the same frames whatever
the executor. Each task reads only its own series: from a Parquet dataset
partitioned by ``site``/``channel`` the task reads its partition itself
(nothing passes through the driver); from a single file the driver reads it
once and ships each task its slice. A failing series or site is reported
(``failures``) and the others complete.

Examples
--------
>>> from wfm.config import load_group
>>> from wfm.group import run_group_plan
>>> from wfm.parallel import Executor
>>> group = load_group("group/scenario.toml")  # doctest: +SKIP
>>> ex = Executor("dask", workers=2)
>>> res = run_group_plan(group, "group_plan", executor=ex)  # doctest: +SKIP
>>> res.kpis.groupby("site")["service_level"].mean()  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wfm.config import GroupScenario, Scenario
from wfm.errors import ConfigError, WfmError
from wfm.parallel import Executor, Runner, TaskFailure

Progress = Callable[[str], None]

FAILURE_COLUMNS = ["stage", "site", "channels", "error_type", "message"]


# -- series and their tasks ---------------------------------------------------
def channel_components(scenario: Scenario) -> list[list[str]]:
    """Channels grouped so that a derived channel sits with its source (scenario order).

    Examples
    --------
    >>> s = Scenario.model_validate({"channels": [
    ...     {"name": "voice"}, {"name": "bot", "staffed": False},
    ...     {"name": "handoff", "derived_from": "bot", "derived_rate": 0.1}]})
    >>> channel_components(s)
    [['voice'], ['bot', 'handoff']]
    """
    names = scenario.channel_names
    parent = {n: n for n in names}

    def root(n: str) -> str:
        while parent[n] != n:
            n = parent[n]
        return n

    for c in scenario.channels:
        if c.derived_from is not None:
            parent[root(c.name)] = root(c.derived_from)
    comps: dict[str, list[str]] = {}
    for n in names:
        comps.setdefault(root(n), []).append(n)
    return list(comps.values())


@dataclasses.dataclass
class HistorySlice:
    """Where a task finds its history: a frame shipped with it, or a Parquet path to filter."""

    site: str | None
    channels: list[str]
    frame: pd.DataFrame | None = None
    path: Path | None = None
    by_site: bool = True

    @property
    def source(self) -> str:
        where = str(self.path) if self.path is not None else "<history>"
        part = f"site={self.site} " if self.site is not None else ""
        return f"{where} [{part}channel={','.join(self.channels)}]"

    def read(self) -> pd.DataFrame:
        """The raw rows of this slice (``timestamp, channel, volume[, aht_seconds]``)."""
        if self.frame is not None:
            return self.frame
        assert self.path is not None
        filters: list[tuple] = [("channel", "in", list(self.channels))]
        if self.site is not None and self.by_site:
            filters.append(("site", "==", self.site))
        df = pd.read_parquet(self.path, filters=filters)
        for col in ("site", "channel"):
            if col in df and isinstance(df[col].dtype, pd.CategoricalDtype):
                df[col] = df[col].astype(str)
        return df.drop(columns=["site"], errors="ignore").reset_index(drop=True)


@dataclasses.dataclass
class ForecastTask:
    """One series (a channel, or a source channel with its derived channels) of one site."""

    scenario: Scenario
    history: HistorySlice
    horizon_days: int
    backtest: bool = True

    @property
    def label(self) -> str:
        site = f"{self.history.site}/" if self.history.site is not None else ""
        return site + "+".join(self.history.channels)


def _subset(scenario: Scenario, channels: list[str]) -> Scenario:
    """The scenario restricted to ``channels`` (for forecasting only)."""
    keep = set(channels)
    days = [d.model_copy(update={"channels": [c for c in d.channels if c in keep] or None})
            for d in scenario.special_days if d.channels is None or keep & set(d.channels)]
    # model_copy keeps the private base_dir and source
    return scenario.model_copy(update={
        "channels": [c for c in scenario.channels if c.name in keep],
        "shift_templates": [], "special_days": days})


def forecast_series(task: ForecastTask):
    """Read, validate and forecast one task's series; the task function of the forecast stage.

    Returns
    -------
    (ForecastResult, str)
        The forecast of the task's channels and the validation warnings (text, may be empty).

    Raises
    ------
    DataValidationError
        When the slice has errors (file, site, channel, row, field, expected).
    """
    from wfm import io as wio
    from wfm.forecast import run_forecast

    sub = _subset(task.scenario, task.history.channels)
    raw = task.history.read()
    source = task.history.source
    frame, report = wio.check_frame(raw, "history", sub, source=source)
    report.raise_if_errors()
    res = run_forecast(frame, sub, horizon_days=task.horizon_days,
                       model=sub.forecast.model, backtest=task.backtest)
    return res, (report.to_text() if report.warnings else "")


def _merge_forecasts(results: list, order: list[str]):
    """One ForecastResult from per-series results, rows in scenario channel order."""
    from wfm.forecast.core import ForecastResult

    def cat(attr: str) -> pd.DataFrame:
        frames = [getattr(r, attr) for r in results]
        frames = [f for f in frames if f is not None and not f.empty]
        if not frames:
            return getattr(results[0], attr).iloc[:0] if results else pd.DataFrame()
        out = pd.concat(frames, ignore_index=True)
        if "channel" in out:
            rank = {c: i for i, c in enumerate(order)}
            key = out["channel"].map(rank).fillna(len(rank))
            out = out.assign(_k=key).sort_values("_k", kind="stable").drop(columns="_k") \
                .reset_index(drop=True)
        return out

    return ForecastResult(cat("forecast"), cat("backtest"), cat("selection"))


def forecast_channels(history: pd.DataFrame, scenario: Scenario, *, horizon_days: int,
                      backtest: bool = True, executor: Executor | None = None,
                      runner: Runner | None = None, progress: Progress | None = None):
    """:func:`wfm.forecast.run_forecast` of one site, one task per series on ``executor``.

    The horizon starts the day after the site's last history day (or at
    ``horizon.start``) for every series, as in the single run.

    Raises
    ------
    WfmError
        When a series fails (the message lists every failed series).
    """
    start = _horizon_start(scenario, pd.DatetimeIndex(history["timestamp"]).max())
    scen = _with_start(scenario, start)
    comps = channel_components(scen)
    chan = history["channel"].astype(str)
    tasks = [ForecastTask(scen, HistorySlice(None, comp, frame=history.loc[chan.isin(comp)]
                                             .reset_index(drop=True)),
                          horizon_days, backtest) for comp in comps]
    results = _map(executor, runner, forecast_series, tasks, [t.label for t in tasks],
                   progress, "forecast")
    failed = [r for r in results if isinstance(r, TaskFailure)]
    if failed:
        raise WfmError("forecast failed for " + "; ".join(f.describe() for f in failed))
    return _merge_forecasts([r[0] for r in results], scen.channel_names)


def _map(executor, runner, func, tasks, labels, progress, name) -> list:
    if runner is not None:
        return runner.map(func, tasks, labels, progress=progress, name=name)
    with Runner(executor or Executor()) as run:
        return run.map(func, tasks, labels, progress=progress, name=name)


def _horizon_start(scenario: Scenario, last: pd.Timestamp | None) -> dt.date:
    if scenario.horizon.start is not None:
        return scenario.horizon.start
    if last is None or pd.isna(last):
        raise ConfigError(f"{scenario.source}: horizon.start is not set and there is no "
                          "history to start after; set [horizon] start = YYYY-MM-DD")
    local = last.tz_localize(None) if last.tzinfo is not None else last
    return (local.normalize() + pd.Timedelta(days=1)).date()


def _with_start(scenario: Scenario, start: dt.date) -> Scenario:
    if scenario.horizon.start == start:
        return scenario
    horizon = scenario.horizon.model_copy(update={"start": start})
    return scenario.model_copy(update={"horizon": horizon})


# -- the group's history ---------------------------------------------------------
def _is_dataset(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() == ".parquet"


def _has_site_column(path: Path) -> bool:
    import pyarrow.dataset as ds

    return "site" in ds.dataset(path, format="parquet", partitioning="hive").schema.names


def _site_last_timestamps(path: Path, group: GroupScenario,
                          only: str | None = None) -> dict[str, pd.Timestamp]:
    """Last history timestamp per site, reading only the ``timestamp`` and ``site`` columns.

    ``only``: the one site of a file without a ``site`` column. Naive
    timestamps are the site's local time.
    """
    import pyarrow.dataset as ds

    # aggregated in Arrow: 20 M site labels as Python strings would cost gigabytes
    dataset = ds.dataset(path, format="parquet", partitioning="hive")
    if only is not None:
        table = dataset.to_table(columns=["timestamp"])
        last = {only: table.column("timestamp").to_pandas().max() if table.num_rows else None}
    else:
        table = dataset.to_table(columns=["site", "timestamp"])
        table = table.group_by("site").aggregate([("timestamp", "max")])
        last = dict(zip(table.column("site").to_pylist(),
                        table.column("timestamp_max").to_pylist(), strict=True))
    out = {}
    for name, sc in group.sites.items():
        if last.get(name) is not None and not pd.isna(last[name]):
            ts = pd.Timestamp(last[name])
            out[name] = ts.tz_convert(sc.site.timezone) if ts.tzinfo is not None else ts
    return out


def _last_local(ts: pd.Series, tz: str) -> pd.Timestamp | None:
    """Latest of raw timestamps (text or datetimes) as the site's local time."""
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        parsed = ts.dt.tz_convert(tz)
    else:
        try:
            parsed = pd.to_datetime(ts, errors="coerce", format="ISO8601")
        except (ValueError, TypeError):  # mixed UTC offsets
            parsed = pd.to_datetime(ts, errors="coerce", format="ISO8601", utc=True)
        parsed = parsed.dt.tz_convert(tz) if parsed.dt.tz is not None else \
            parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    last = parsed.max()
    return None if pd.isna(last) else last


@dataclasses.dataclass
class _GroupHistory:
    """How the forecast tasks of each site get their rows."""

    slices: dict[str, list[HistorySlice]]
    last: dict[str, pd.Timestamp]


def _group_history(group: GroupScenario, history: pd.DataFrame | None) -> _GroupHistory:
    slices: dict[str, list[HistorySlice]] = {}
    last: dict[str, pd.Timestamp] = {}
    if history is not None:
        _split_frame(history, group, list(group.sites), slices, last, "<history>")
        return _GroupHistory(slices, last)
    by_path: dict[Path, list[str]] = {}
    for name, sc in group.sites.items():
        path = sc.resolve(sc.data.history)
        if path is None:
            raise ConfigError(f"{sc.source}: no [data] history for site {name!r}")
        if not path.exists():
            raise ConfigError(f"{sc.source}: history {path} not found (site {name!r})")
        by_path.setdefault(path, []).append(name)
    for path, names in by_path.items():
        if _is_dataset(path):
            by_site = _has_site_column(path)
            if not by_site and len(names) > 1:
                raise ConfigError(f"{path}: history of {len(names)} sites ({', '.join(names)}) "
                                  "needs a 'site' column (or a dataset partitioned by "
                                  "site=...)")
            if any(group.sites[n].horizon.start is None for n in names):
                last.update(_site_last_timestamps(path, group,
                                                  only=None if by_site else names[0]))
            for name in names:
                sc = group.sites[name]
                slices[name] = [HistorySlice(name, comp, path=path, by_site=by_site)
                                for comp in channel_components(sc)]
            continue
        from wfm import io as wio
        frame = wio._read_raw(path, wio.ValidationReport(source=str(path), kind="history"))
        if frame is None:
            raise ConfigError(f"{path}: cannot read the history file")
        _split_frame(frame, group, names, slices, last, str(path))
    return _GroupHistory(slices, last)


def _split_frame(frame: pd.DataFrame, group: GroupScenario, names: list[str],
                 slices: dict, last: dict, source: str) -> None:
    if "site" not in frame:
        if len(names) > 1:
            raise ConfigError(f"{source}: history of {len(names)} sites needs a 'site' "
                              f"column; expected the values {names}")
        site_col = pd.Series(names[0], index=frame.index)
    else:
        site_col = frame["site"].astype(str)
    unknown = sorted(set(site_col.unique()) - set(group.sites))
    if unknown:
        rows = np.flatnonzero(site_col.isin(unknown).to_numpy())[:5] + 1
        raise ConfigError(f"{source}: rows {', '.join(map(str, rows))}...: field 'site' has "
                          f"unknown sites {unknown}; expected one of {group.site_names}")
    chan = frame["channel"].astype(str)
    for name in names:
        sc = group.sites[name]
        in_site = (site_col == name).to_numpy()
        slices[name] = [HistorySlice(name, comp, frame=frame.loc[in_site & chan.isin(comp)
                                                                 .to_numpy()]
                                     .drop(columns=["site"], errors="ignore")
                                     .reset_index(drop=True))
                        for comp in channel_components(sc)]
        ts = frame.loc[in_site, "timestamp"]
        if len(ts):
            found = _last_local(ts, sc.site.timezone)
            if found is not None:
                last[name] = found


# -- the forecast stage -------------------------------------------------------------
@dataclasses.dataclass
class GroupForecast:
    """Per-site forecasts of a group, what failed, and the validation warnings."""

    sites: dict[str, Any]
    failures: pd.DataFrame
    warnings: dict[str, list[str]]
    tasks: int
    scenarios: dict[str, Scenario]
    """Every site's scenario with its horizon start set, as forecast."""

    @property
    def forecast(self) -> pd.DataFrame:
        """Every site's forecast, one frame with a ``site`` column (local ISO timestamps)."""
        return _stack({n: r.forecast for n, r in self.sites.items()})

    @property
    def backtest(self) -> pd.DataFrame:
        """Every site's backtest, one frame with a ``site`` column."""
        return _stack({n: r.backtest for n, r in self.sites.items()})

    @property
    def selection(self) -> pd.DataFrame:
        """The model chosen per site and series, and why."""
        return _stack({n: r.selection for n, r in self.sites.items()})


def forecast_group(group: GroupScenario, *, executor: Executor | None = None,
                   runner: Runner | None = None, history: Any = None,
                   backtest: bool = True, horizon_days: int | None = None,
                   progress: Progress | None = None) -> GroupForecast:
    """Forecast every site x series of a group, one task per series.

    Parameters
    ----------
    group : GroupScenario
    executor, runner
        Where the tasks run (a started :class:`Runner` is reused); default serial.
    history : DataFrame, optional
        History with a ``site`` column instead of the scenario's ``[data] history``.
    backtest : bool
        Compare the models per series in a rolling-origin backtest.
    horizon_days : int, optional
        Days to forecast from each site's horizon start (default: its ``horizon.days``).
    progress : callable, optional

    Returns
    -------
    GroupForecast
        A series that fails is listed in ``failures`` (stage, site, channels,
        error); the other series complete.
    """
    say = progress or (lambda _msg: None)
    gh = history if isinstance(history, _GroupHistory) else _group_history(group, history)
    tasks: list[ForecastTask] = []
    scenarios = {name: _with_start(sc, _horizon_start(sc, gh.last.get(name)))
                 for name, sc in group.sites.items()}
    for name, scen in scenarios.items():
        for sl in gh.slices.get(name, []):
            tasks.append(ForecastTask(scen, sl, horizon_days or scen.horizon.days, backtest))
    ex = runner.executor if runner is not None else (executor or Executor())
    say(f"[2/3] forecast: {len(tasks)} series on {ex.describe()}")
    results = _map(executor, runner, forecast_series, tasks, [t.label for t in tasks],
                   say, "forecast")
    per_site: dict[str, list] = {n: [] for n in group.sites}
    warnings: dict[str, list[str]] = {n: [] for n in group.sites}
    fail_rows = []
    for task, res in zip(tasks, results, strict=True):
        site = task.history.site
        if isinstance(res, TaskFailure):
            fail_rows.append(_failure("forecast", site, task.history.channels, res))
            continue
        per_site[site].append(res[0])
        if res[1]:
            warnings[site].append(res[1])
    sites = {n: _merge_forecasts(per_site[n], group.sites[n].channel_names)
             for n in group.sites if per_site[n]}
    return GroupForecast(sites, pd.DataFrame(fail_rows, columns=FAILURE_COLUMNS), warnings,
                         len(tasks), scenarios)


def _stack(frames: dict[str, pd.DataFrame | None]) -> pd.DataFrame:
    """Per-site frames as one, with a ``site`` column first; tz-aware columns become
    local ISO text (sites have different time zones)."""
    from wfm import io as wio

    out = []
    for n, df in frames.items():
        if df is None or df.empty:
            continue
        df = df.assign(site=n)[["site", *df.columns]]
        for col in df.columns:
            if isinstance(df[col].dtype, pd.DatetimeTZDtype):
                df[col] = wio._iso(df[col])
        out.append(df)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def with_history(group: GroupScenario, path: Path | str) -> GroupScenario:
    """``group`` with every site reading its history from ``path`` (a file or a dataset)."""
    path = Path(path).resolve()
    sites = {n: sc.model_copy(update={"data": sc.data.model_copy(update={"history": path})})
             for n, sc in group.sites.items()}
    return GroupScenario(group.name, sites, group.multi_site, group.defaults, group.source)


def validate_group_history(group: GroupScenario, path: Path | str | None = None, *,
                           gaps: str = "error") -> list:
    """Validate a group's history site by site; one :class:`wfm.io.ValidationReport` per site.

    ``path`` (a file with a ``site`` column or a dataset partitioned by
    ``site=``/``channel=``) defaults to the scenario's ``[data] history``.
    Rows of sites the scenario does not list are an error.
    """
    from wfm import io as wio

    if path is not None:
        group = with_history(group, path)
    gh = _group_history(group, None)
    reports = []
    for name, sc in group.sites.items():
        slices = gh.slices.get(name, [])
        frames = [sl.read() for sl in slices]
        frames = [f for f in frames if len(f)]
        where = slices[0].path if slices and slices[0].path is not None else "<history>"
        source = f"{where} [site={name}]"
        if not frames:
            rep = wio.ValidationReport(source=source, kind="history")
            rep.error("missing_site", f"no history rows for site {name!r}", column="site",
                      expected=f"rows with site = {name}")
            reports.append(rep)
            continue
        raw = pd.concat(frames, ignore_index=True)
        reports.append(wio.check_frame(raw, "history", sc, source=source, gaps=gaps)[1])
    return reports


# -- the site stage ---------------------------------------------------------------
@dataclasses.dataclass
class SiteTask:
    """Requirements, schedule and coverage of one site from its forecast."""

    scenario: Scenario
    forecast: pd.DataFrame
    time_limit: float | None = None
    simulate: bool = False
    replications: int = 10


def plan_site(task: SiteTask):
    """The task function of the site stage: :func:`wfm.plan.compute_plan` from a forecast."""
    from wfm.plan import compute_plan

    return compute_plan(task.scenario, forecast=task.forecast, time_limit=task.time_limit,
                        simulate=task.simulate, replications=task.replications)


# -- the group plan ---------------------------------------------------------------
@dataclasses.dataclass
class GroupPlanResult:
    """Every site's plan, the group frames (with a ``site`` column) and what failed."""

    out_dir: Path | None
    sites: dict[str, Any]
    forecast: pd.DataFrame
    backtest: pd.DataFrame
    selection: pd.DataFrame
    requirements: pd.DataFrame
    shifts: pd.DataFrame
    assignments: pd.DataFrame
    coverage: pd.DataFrame
    kpis: pd.DataFrame
    failures: pd.DataFrame
    stages: pd.DataFrame
    summary: str
    executor: str = "serial"


def run_group_plan(group: GroupScenario, out_dir: Path | str | None = None, *,
                   history: pd.DataFrame | None = None,
                   executor: Executor | None = None, time_limit: float | None = None,
                   backtest: bool = True, simulate: bool = False, replications: int = 10,
                   site_folders: bool = True, progress: Progress | None = None
                   ) -> GroupPlanResult:
    """Plan every site of a group: forecast per series, then requirements, schedule and
    coverage per site, each as an independent task on ``executor``.

    Parameters
    ----------
    group : GroupScenario
        From :func:`wfm.config.load_group`.
    out_dir : path, optional
        Output folder, replaced atomically: the group frames (with a ``site``
        column), ``failures.csv``, ``summary.md`` and, with ``site_folders``,
        one complete plan folder per site under ``sites/<site>/``.
    history : DataFrame, optional
        The history with a ``site`` column, instead of the scenario's
        ``[data] history`` (a file, or a Parquet dataset partitioned by
        ``site=``/``channel=`` from which each task reads its own series).
    executor : Executor, optional
        Default serial.
    time_limit : float, optional
        Scheduler time limit per site [s]; default from each site's scenario.
    backtest, simulate, replications
        As :func:`wfm.plan.compute_plan`.
    progress : callable, optional
        Receives one line per stage and per finished task.

    Returns
    -------
    GroupPlanResult
        A failing series leaves its channels unplanned at its site; a failing
        site has no schedule; both are listed in ``failures`` and the
        summary, and the other sites are complete.
    """
    executor = executor or Executor()
    say = progress or (lambda _msg: None)
    stage_rows: list[dict] = []
    fail_rows: list[dict] = []
    sites = group.sites

    t0 = time.perf_counter()
    say(f"[1/3] reading the history of {len(sites)} sites")
    gh = _group_history(group, history)
    stage_rows.append({"stage": "history", "seconds": round(time.perf_counter() - t0, 3),
                       "tasks": len(sites)})

    with Runner(executor) as runner:
        t0 = time.perf_counter()
        gf = forecast_group(group, runner=runner, history=gh, backtest=backtest,
                            progress=say)
        fail_rows.extend(gf.failures.to_dict("records"))
        site_fc, warnings = gf.sites, gf.warnings
        stage_rows.append({"stage": "forecast", "seconds": round(time.perf_counter() - t0, 3),
                           "tasks": gf.tasks})

        # requirements, schedule, coverage: one task per site
        t0 = time.perf_counter()
        for n in sites:
            if n not in site_fc:
                fail_rows.append({"stage": "site", "site": n, "channels": "",
                                  "error_type": "NoForecast",
                                  "message": "every series of the site failed to forecast"})
        site_tasks = [SiteTask(gf.scenarios[n], site_fc[n].forecast, time_limit, simulate,
                               replications) for n in site_fc]
        names = list(site_fc)
        say(f"[3/3] requirements, schedule, coverage: {len(site_tasks)} sites")
        plans = runner.map(plan_site, site_tasks, names, progress=say, name="site")
        stage_rows.append({"stage": "sites", "seconds": round(time.perf_counter() - t0, 3),
                           "tasks": len(site_tasks)})

    site_results: dict[str, Any] = {}
    for n, plan in zip(names, plans, strict=True):
        if isinstance(plan, TaskFailure):
            fail_rows.append(_failure("site", n, [], plan))
            continue
        plan.backtest = site_fc[n].backtest
        plan.selection = site_fc[n].selection
        plan.validation = "\n".join(warnings[n])
        site_results[n] = plan
    failures = pd.DataFrame(fail_rows, columns=FAILURE_COLUMNS)
    stages = pd.DataFrame(stage_rows, columns=["stage", "seconds", "tasks"])

    def stack(attr: str, source: dict) -> pd.DataFrame:
        return _stack({n: getattr(obj, attr) for n, obj in source.items()})

    result = GroupPlanResult(
        out_dir=Path(out_dir) if out_dir is not None else None, sites=site_results,
        forecast=stack("forecast", site_fc), backtest=stack("backtest", site_fc),
        selection=stack("selection", site_fc),
        requirements=stack("requirements", site_results), shifts=stack("shifts", site_results),
        assignments=stack("assignments", site_results),
        coverage=stack("coverage", site_results), kpis=stack("kpis", site_results),
        failures=failures, stages=stages, summary="", executor=executor.describe())
    result.summary = render_group_summary(group, result)
    if result.out_dir is not None:
        write_group_plan(result, site_folders=site_folders)
    say(f"done: {len(site_results)}/{len(sites)} sites planned, {len(failures)} failure(s)")
    return result


def _failure(stage: str, site: str | None, channels: list[str], f: TaskFailure) -> dict:
    return {"stage": stage, "site": site, "channels": ";".join(channels),
            "error_type": f.error_type, "message": f.message}


def render_group_summary(group: GroupScenario, res: GroupPlanResult) -> str:
    """``summary.md`` of a group plan: per-site KPIs, solver status, failures, timings."""
    from wfm.plan import _md_table

    lines = [f"# Plan: {group.name}", "",
             f"{len(res.sites)} of {len(group.sites)} sites planned on {res.executor}.", ""]
    rows = []
    for n in group.sites:
        plan = res.sites.get(n)
        if plan is None:
            rows.append({"site": n, "status": "failed"})
            continue
        k = plan.kpis
        overall = k[k["channel"] == "all"] if "channel" in k else k.iloc[:0]
        row = {"site": n, "status": plan.schedule_status,
               "gap": plan.schedule_gap if plan.schedule_gap is not None else np.nan,
               "agents": plan.shifts["agent_id"].nunique() if not plan.shifts.empty else 0}
        for col in ("service_level", "under_staffed_hours", "over_staffed_hours"):
            if col in overall and len(overall):
                row[col] = overall[col].iloc[0]
        rows.append(row)
    lines += ["## Sites", "", _md_table(pd.DataFrame(rows)), ""]
    lines += ["## Failures", ""]
    if res.failures.empty:
        lines += ["None: every series and site completed.", ""]
    else:
        lines += [_md_table(res.failures), ""]
    lines += ["## Stages", "", _md_table(res.stages), ""]
    return "\n".join(lines)


def write_group_plan(res: GroupPlanResult, site_folders: bool = True) -> None:
    """Write a group plan into ``res.out_dir`` atomically (temporary sibling, then swap)."""
    from wfm import io as wio
    from wfm.plan import PLAN_FILES, _swap_in, write_plan_files

    out = res.out_dir
    assert out is not None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for key in ("forecast", "requirements", "shifts", "assignments", "coverage"):
            df = getattr(res, key)
            if not df.empty:
                wio.write_frame(df, tmp / PLAN_FILES[key])
        for key in ("kpis", "backtest", "selection", "stages"):
            df = getattr(res, key)
            if not df.empty:
                df.to_csv(tmp / PLAN_FILES[key], index=False)
        res.failures.to_csv(tmp / "failures.csv", index=False)
        (tmp / PLAN_FILES["summary"]).write_text(res.summary, encoding="utf-8")
        if site_folders:
            for n, plan in res.sites.items():
                write_plan_files(plan, tmp / "sites" / n)
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
