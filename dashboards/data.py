"""Data access for the dashboard: the only module that loads data or runs wfm.

Pages never read files or call the pipeline themselves; they call the
functions here, which call :mod:`wfm` and keep the results:

* in memory, with ``st.cache_data`` / ``st.cache_resource`` (shared by every
  browser session of one server);
* on disk, in a cache folder (``$WFM_DASHBOARD_CACHE`` or
  ``~/.cache/wfm/dashboard``), one sub-folder per scenario fingerprint, so the
  expensive first plan (forecast with backtest + a scheduler run) is done once
  per scenario, not once per server start.

The first plan and every scheduler re-run execute in a background thread
(:class:`Job`); pages poll it, so the page never freezes while the MILP
solver works.

The what-if and staffing edits are recomputed live: requirements from the
plan's forecast (via :func:`wfm.plan.apply_what_if` and
:func:`wfm.staffing.requirements`) and coverage of the *current* schedule's
assignments (:func:`wfm.coverage.coverage`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

import wfm
from wfm.config import Scenario, apply_overrides, load_scenario
from wfm.errors import WfmError

ENV_SCENARIO = "WFM_DASHBOARD_SCENARIO"
ENV_CACHE_DIR = "WFM_DASHBOARD_CACHE"
ENV_TIME_LIMIT = "WFM_DASHBOARD_TIME_LIMIT"


#: Bumped when the layout of the disk cache changes.
CACHE_VERSION = "1"

# --------------------------------------------------------------------------
# Where the data comes from
# --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Source:
    """The scenario the dashboard shows, plus uploaded replacements.

    Parameters
    ----------
    scenario_path : str
        Scenario TOML file.
    history_path, roster_path : str, optional
        Files that replace the scenario's ``data.history`` / ``agents.file``.
    label : str
        Shown in the sidebar.
    fingerprint : str
        Hash of the files' contents/stats; keys every cache.
    """

    scenario_path: str
    history_path: str | None = None
    roster_path: str | None = None
    label: str = ""
    fingerprint: str = ""

    @classmethod
    def make(cls, scenario_path: str | Path, history_path: str | Path | None = None,
             roster_path: str | Path | None = None, label: str = "") -> Source:
        """A source with its fingerprint computed from the files it points to."""
        sp = str(Path(scenario_path).resolve())
        hp = str(Path(history_path).resolve()) if history_path else None
        rp = str(Path(roster_path).resolve()) if roster_path else None
        return cls(sp, hp, rp, label or Path(sp).parent.name, _fingerprint(sp, hp, rp))


def _file_stamp(path: Path | None) -> str:
    if path is None or not path.is_file():
        return f"{path}:missing"
    s = path.stat()
    return f"{path}:{s.st_size}:{s.st_mtime_ns}"


def _fingerprint(scenario_path: str, history_path: str | None,
                 roster_path: str | None) -> str:
    """Hash of the scenario text and the stats of every file it uses."""
    h = hashlib.sha256()
    h.update(f"wfm {wfm.__version__} cache {CACHE_VERSION}\n".encode())
    sp = Path(scenario_path)
    h.update(sp.read_bytes() if sp.is_file() else b"missing")
    try:
        scen = load_scenario(sp)
        hist = Path(history_path) if history_path else scen.resolve(scen.data.history)
        roster = Path(roster_path) if roster_path else scen.resolve(scen.agents.file)
    except WfmError:
        hist = Path(history_path) if history_path else None
        roster = Path(roster_path) if roster_path else None
    for p in (hist, roster):
        h.update(_file_stamp(p).encode())
    return h.hexdigest()[:16]


def default_source() -> Source:
    """``$WFM_DASHBOARD_SCENARIO`` (set by ``wfm dashboard --scenario``) or the sample."""
    env = os.environ.get(ENV_SCENARIO)
    if env:
        return Source.make(env, label=Path(env).name)
    from wfm.sampledata import sample_scenario_path

    return Source.make(sample_scenario_path(), label="bundled sample center")


def current_source() -> Source:
    """The source chosen in this browser session (uploads), else the default."""
    src = st.session_state.get("wfm_source")
    if src is None:
        src = default_source()
        st.session_state["wfm_source"] = src
    return src


def set_source(src: Source | None) -> None:
    """Switch this browser session to ``src`` (``None``: back to the default)."""
    st.session_state["wfm_source"] = src if src is not None else default_source()
    for key in ("staffing_overrides",):
        st.session_state.pop(key, None)


def cache_root() -> Path:
    """Disk cache folder (``$WFM_DASHBOARD_CACHE`` or ``~/.cache/wfm/dashboard``)."""
    env = os.environ.get(ENV_CACHE_DIR)
    root = Path(env) if env else Path.home() / ".cache" / "wfm" / "dashboard"
    root.mkdir(parents=True, exist_ok=True)
    return root


def cache_dir(src: Source) -> Path:
    return cache_root() / src.fingerprint


def first_time_limit(scen: Scenario | None = None) -> float | None:
    """Scheduler time limit of the first, automatic plan [s].

    ``$WFM_DASHBOARD_TIME_LIMIT`` if set, else the scenario's own
    ``solver.time_limit_seconds`` (None here means: let ``run_plan`` use it).
    Shorter limits are risky: on a busy machine the sample's first MILP step
    may find no schedule at all within 45 s.
    """
    env = os.environ.get(ENV_TIME_LIMIT)
    if env:
        return float(env)
    return scen.solver.time_limit_seconds if scen is not None else None


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------


def load_source_scenario(src: Source) -> Scenario:
    """Load the scenario of ``src`` with uploaded history/roster paths patched in."""
    scen = load_scenario(src.scenario_path)
    overrides: dict[str, Any] = {}
    if src.history_path:
        overrides["data.history"] = src.history_path
    if src.roster_path:
        overrides["agents.file"] = src.roster_path
    return apply_overrides(scen, overrides) if overrides else scen


@st.cache_resource(show_spinner=False, max_entries=8)
def scenario(src: Source) -> Scenario:
    """The scenario of ``src`` (cached; do not modify)."""
    return load_source_scenario(src)


@st.cache_resource(show_spinner=False, max_entries=4)
def history(src: Source) -> pd.DataFrame:
    """The validated history of ``src`` (read-only: do not modify in place)."""
    from wfm import io as wio

    scen = scenario(src)
    path = scen.resolve(scen.data.history)
    if path is None:
        raise WfmError(f"{scen.source}: no [data] history file")
    return wio.read_history(path, scen)


@st.cache_resource(show_spinner=False, max_entries=4)
def roster(src: Source) -> pd.DataFrame | None:
    """The roster of ``src``, or ``None`` when the scenario names none."""
    from wfm import io as wio

    scen = scenario(src)
    path = scen.resolve(scen.agents.file)
    return None if path is None else wio.read_roster(path, scen)


@st.cache_data(show_spinner=False, max_entries=8)
def history_daily(src: Source) -> pd.DataFrame:
    """History summed per local day and channel.

    Columns ``day, channel, volume, aht_seconds`` (volume-weighted over the
    intervals that report an AHT) and the sums behind it, ``work`` [s] and
    ``volume_with_aht``, so that coarser periods can be weighted too.
    """
    h = history(src)
    day = pd.DatetimeIndex(h["timestamp"]).tz_localize(None).normalize()
    vol = h["volume"].to_numpy(dtype=float)
    out = pd.DataFrame({"day": day, "channel": h["channel"].to_numpy(), "volume": vol})
    if "aht_seconds" in h.columns:
        aht = h["aht_seconds"].to_numpy(dtype=float)
        has = ~np.isnan(aht) & (vol > 0)
        out["work"] = np.where(has, vol * np.nan_to_num(aht), 0.0)
        out["volume_with_aht"] = np.where(has, vol, 0.0)
    res = out.groupby(["day", "channel"], sort=True).sum().reset_index()
    return _with_aht(res)


def _with_aht(frame: pd.DataFrame) -> pd.DataFrame:
    if "work" in frame.columns:
        w = frame["volume_with_aht"]
        frame["aht_seconds"] = (frame["work"] / w.where(w > 0)).astype(float)
    return frame


@st.cache_data(show_spinner=False, max_entries=16)
def history_grain(src: Source, grain: str, d0: Any, d1: Any) -> pd.DataFrame:
    """Daily or weekly (weeks starting Monday) history between two local dates."""
    d = history_daily(src)
    d = d[(d["day"] >= pd.Timestamp(d0)) & (d["day"] <= pd.Timestamp(d1))]
    if grain == "week":
        week = d["day"] - pd.to_timedelta(d["day"].dt.day_of_week, unit="D")
        cols = [c for c in ("volume", "work", "volume_with_aht") if c in d.columns]
        d = (d.assign(day=week).groupby(["day", "channel"], sort=True)[cols].sum()
             .reset_index())
        d = _with_aht(d)
    return d.reset_index(drop=True)


@st.cache_data(show_spinner=False, max_entries=16)
def history_window(src: Source, start: Any, days: int) -> pd.DataFrame:
    """Interval-level history of ``days`` local days from ``start``."""
    h = history(src)
    local = pd.DatetimeIndex(h["timestamp"]).tz_localize(None)
    lo = pd.Timestamp(start)
    keep = (local >= lo) & (local < lo + pd.Timedelta(days=days))
    return h.loc[keep].reset_index(drop=True)


def validate_upload(path: Path, kind: str, scen: Scenario | None) -> Any:
    """:func:`wfm.io.validate_file` on an uploaded file (a ValidationReport)."""
    from wfm import io as wio

    return wio.validate_file(path, kind, scen)


def save_upload(uploaded: Any) -> Path:
    """Write a Streamlit ``UploadedFile`` into this session's upload folder."""
    name = Path(uploaded.name).name or "upload"
    path = upload_dir() / name
    path.write_bytes(uploaded.getvalue())
    return path


@dataclasses.dataclass
class UploadCheck:
    """The validation of a set of uploaded files."""

    source: Source | None
    scenario_error: str | None
    reports: dict[str, Any]
    paths: dict[str, Path]

    @property
    def ok(self) -> bool:
        return (self.source is not None and self.scenario_error is None
                and all(r.ok for r in self.reports.values()))


def check_uploads(current: Source, scenario_path: Path | None, history_path: Path | None,
                  roster_path: Path | None) -> UploadCheck:
    """Validate uploads with :mod:`wfm.io` against the scenario they will be used with.

    An uploaded scenario replaces the current one; an uploaded history or
    roster replaces the file the scenario names.
    """
    paths: dict[str, Path] = {}
    reports: dict[str, Any] = {}
    base = str(scenario_path) if scenario_path else current.scenario_path
    hist = str(history_path) if history_path else (None if scenario_path
                                                     else current.history_path)
    ros = str(roster_path) if roster_path else (None if scenario_path
                                                 else current.roster_path)
    try:
        cand = Source.make(base, hist, ros, label=(Path(base).name if scenario_path
                                                   else f"{current.label} + uploads"))
        scen = load_source_scenario(cand)
    except WfmError as err:
        return UploadCheck(None, str(err), reports, paths)
    checks = {"history": scen.resolve(scen.data.history), "roster": scen.resolve(scen.agents.file)}
    for kind, path in checks.items():
        if path is None:
            continue
        if not Path(path).is_file():
            return UploadCheck(None, f"{scen.source}: the {kind} file {path} does not exist; "
                               f"upload it too", reports, paths)
        paths[kind] = Path(path)
        reports[kind] = validate_upload(Path(path), kind, scen)
    return UploadCheck(cand, None, reports, paths)


def upload_dir() -> Path:
    """A per-session folder for uploaded files."""
    d = st.session_state.get("wfm_upload_dir")
    if d is None or not Path(d).is_dir():
        d = tempfile.mkdtemp(prefix="wfm-upload-")
        st.session_state["wfm_upload_dir"] = d
    return Path(d)


# --------------------------------------------------------------------------
# Background jobs (the first plan and scheduler re-runs)
# --------------------------------------------------------------------------


class Job:
    """A function running in a background thread, with progress lines.

    The worker never touches Streamlit; pages read :attr:`lines`,
    :attr:`done`, :attr:`error` and :attr:`result` while it runs.
    """

    def __init__(self, name: str, func: Callable[[Callable[[str], None]], Any]):
        self.name = name
        self.lines: list[str] = []
        self.started = time.monotonic()
        self.finished: float | None = None
        self.result: Any = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, args=(func,), daemon=True,
                                        name=f"wfm-dashboard-{name}")
        self._thread.start()

    def _run(self, func: Callable[[Callable[[str], None]], Any]) -> None:
        try:
            self.result = func(self.progress)
        except WfmError as err:
            self.error = str(err)
        except Exception as err:  # shown in the page instead of killing the server
            self.error = f"{type(err).__name__}: {err}\n\n{traceback.format_exc()}"
        finally:
            self.finished = time.monotonic()

    def progress(self, message: str) -> None:
        self.lines.append(message.rstrip())

    @property
    def done(self) -> bool:
        return self.finished is not None

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return self.done


@st.cache_resource(show_spinner=False)
def _jobs() -> dict[str, Job]:
    return {}


_JOBS_LOCK = threading.Lock()


def start_job(key: str, name: str, func: Callable[[Callable[[str], None]], Any],
              restart: bool = False) -> Job:
    """Start ``func(progress)`` under ``key`` unless it is already running."""
    jobs = _jobs()
    with _JOBS_LOCK:
        job = jobs.get(key)
        if job is None or (restart and job.done):
            job = Job(name, func)
            jobs[key] = job
        return job


def get_job(key: str) -> Job | None:
    return _jobs().get(key)


def forget_job(key: str) -> None:
    with _JOBS_LOCK:
        _jobs().pop(key, None)


# --------------------------------------------------------------------------
# The plan: forecast + requirements + schedule + coverage
# --------------------------------------------------------------------------


@dataclasses.dataclass
class Plan:
    """The baseline plan of a source and its current schedule.

    ``forecast`` and ``requirements`` are the planning horizon's; ``shifts``,
    ``assignments``, ``agent_hours`` and ``schedule_meta`` describe the
    current schedule (the first automatic one or the latest re-run), and
    ``coverage`` / ``kpis`` are that schedule against ``requirements``.
    """

    forecast: pd.DataFrame
    requirements: pd.DataFrame
    shifts: pd.DataFrame
    assignments: pd.DataFrame
    coverage: pd.DataFrame
    kpis: pd.DataFrame
    agent_hours: pd.DataFrame | None
    backtest: pd.DataFrame | None
    selection: pd.DataFrame | None
    schedule_meta: dict[str, Any]


_PLAN_FRAMES = {  # file -> wfm.io kind (None: plain table)
    "forecast": "forecast", "requirements": "requirements", "shifts": "shifts",
    "assignments": "assignments", "coverage": "coverage", "kpis": None,
    "agent_hours": None, "backtest": None, "selection": None,
}


def _write_plan_dir(plan: Plan, out: Path) -> None:
    """Write ``plan`` as Parquet files into ``out``, replacing it atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name in _PLAN_FRAMES:
            df = getattr(plan, name)
            if df is not None:
                df.to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / "schedule.json").write_text(json.dumps(plan.schedule_meta, default=str),
                                           encoding="utf-8")
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _read_plan_dir(d: Path) -> Plan | None:
    meta = d / "schedule.json"
    if not meta.is_file():
        return None
    frames: dict[str, Any] = {}
    for name in _PLAN_FRAMES:
        p = d / f"{name}.parquet"
        frames[name] = pd.read_parquet(p) if p.is_file() else None
    for name in ("forecast", "requirements", "shifts", "assignments", "coverage", "kpis"):
        if frames[name] is None:
            return None
    return Plan(schedule_meta=json.loads(meta.read_text(encoding="utf-8")), **frames)


def _schedule_meta(result: Any, time_limit: float | None, seconds: float,
                   against: str = "baseline") -> dict[str, Any]:
    return {
        "status": result.status, "objective": result.objective,
        "best_bound": result.best_bound, "gap": result.gap,
        "solve_seconds": result.solve_seconds, "message": result.message or "",
        "time_limit": time_limit, "wall_seconds": round(seconds, 2),
        "computed_at": time.strftime("%Y-%m-%d %H:%M:%S"), "against": against,
    }


def compute_plan(src: Source, time_limit: float | None = None,
                 progress: Callable[[str], None] | None = None) -> Plan:
    """Run :func:`wfm.plan.run_plan` for ``src`` and keep it in the disk cache.

    Called in a background thread by :func:`plan_job`, or directly (tests,
    pre-warming). The plan folder written by ``run_plan`` (CSV, summary,
    charts) is kept too, under ``<cache>/<fingerprint>/plan``.
    """
    from wfm.plan import run_plan

    scen = load_source_scenario(src)
    t0 = time.perf_counter()
    d = cache_dir(src)
    res = run_plan(scen, d / "plan", time_limit=time_limit, progress=progress)
    plan = Plan(
        forecast=res.forecast, requirements=res.requirements, shifts=res.shifts,
        assignments=res.assignments, coverage=res.coverage, kpis=res.kpis,
        agent_hours=getattr(res.schedule, "agent_hours", None),
        backtest=res.backtest, selection=res.selection,
        schedule_meta=_schedule_meta(res.schedule, time_limit, time.perf_counter() - t0),
    )
    _write_plan_dir(plan, d / "current")
    return plan


def _plan_key(src: Source) -> str:
    return f"plan:{src.fingerprint}"


@st.cache_resource(show_spinner=False, max_entries=4)
def _plan_from_disk(src: Source, version: int) -> Plan | None:
    return _read_plan_dir(cache_dir(src) / "current")


def _plan_version(src: Source) -> int:
    """Changes whenever the cached plan folder is replaced (mtime of its meta)."""
    meta = cache_dir(src) / "current" / "schedule.json"
    return meta.stat().st_mtime_ns if meta.is_file() else 0


def plan(src: Source) -> Plan | None:
    """The plan of ``src`` if it is ready (memory or disk), else ``None``."""
    v = _plan_version(src)
    return _plan_from_disk(src, v) if v else None


def plan_job(src: Source, time_limit: float | None = None) -> Job:
    """Start (once) the background computation of the plan of ``src``."""
    limit = time_limit if time_limit is not None else first_time_limit()
    return start_job(_plan_key(src), "first plan",
                     lambda progress: compute_plan(src, limit, progress), restart=True)


def ensure_plan(src: Source) -> tuple[Plan | None, Job | None]:
    """The plan if ready; otherwise the job computing it (started if needed)."""
    p = plan(src)
    if p is not None:
        return p, None
    job = get_job(_plan_key(src))
    if job is not None and job.done and job.error is None:
        p = plan(src)
        if p is not None:
            return p, None
    if job is None or (job.done and job.error is None):
        job = plan_job(src)
    return None, job


# -- scheduler re-runs ------------------------------------------------------


def _reschedule(src: Source, requirements: pd.DataFrame, scen: Scenario,
                time_limit: float, against: str,
                progress: Callable[[str], None]) -> Plan:
    from wfm import coverage as cov
    from wfm import scheduling

    base = plan(src)
    if base is None:
        raise WfmError("the first plan is not ready yet")
    t0 = time.perf_counter()
    result = scheduling.schedule(requirements, scen, roster(src), time_limit=time_limit,
                                 progress=progress)
    progress(f"solver finished: {result.status}; computing coverage")
    # Coverage is always against the baseline requirements, so schedules compare.
    c = cov.coverage(base.requirements, result.assignments, scenario(src))
    k = cov.kpis(c, base.requirements, scenario(src))
    new = dataclasses.replace(
        base, shifts=result.shifts, assignments=result.assignments, coverage=c, kpis=k,
        agent_hours=getattr(result, "agent_hours", None),
        schedule_meta=_schedule_meta(result, time_limit, time.perf_counter() - t0, against),
    )
    _write_plan_dir(new, cache_dir(src) / "current")
    return new


def schedule_job_key(src: Source) -> str:
    return f"schedule:{src.fingerprint}"


def start_schedule_job(src: Source, requirements: pd.DataFrame, scen: Scenario,
                       time_limit: float, against: str = "baseline") -> Job:
    """Re-run the scheduler in the background; the result becomes the current schedule."""
    return start_job(schedule_job_key(src), "scheduler",
                     lambda progress: _reschedule(src, requirements, scen, time_limit,
                                                  against, progress),
                     restart=True)


# --------------------------------------------------------------------------
# Forecast, requirements, coverage on demand
# --------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=6)
def forecast_result(src: Source, horizon_days: int, model: str) -> Any:
    """:func:`wfm.forecast.run_forecast` with backtest (a ForecastResult)."""
    from wfm.forecast import run_forecast

    return run_forecast(history(src), scenario(src), horizon_days=horizon_days,
                        model=model, backtest=True)


def overrides_key(overrides: dict[str, Any] | None) -> tuple:
    return tuple(sorted((overrides or {}).items()))


@st.cache_resource(show_spinner=False, max_entries=16)
def _requirements(src: Source, version: int, overrides: tuple) -> tuple[pd.DataFrame,
                                                                        Scenario]:
    from wfm import staffing

    p = plan(src)
    scen = apply_overrides(scenario(src), dict(overrides)) if overrides else scenario(src)
    return staffing.requirements(p.forecast, scen), scen


def requirements_with(src: Source, overrides: dict[str, Any] | None) -> tuple[pd.DataFrame,
                                                                              Scenario]:
    """Requirements of the plan's forecast with scenario ``overrides`` (dotted keys)."""
    if not overrides:
        return plan(src).requirements, scenario(src)
    return _requirements(src, _plan_version(src), overrides_key(overrides))


@dataclasses.dataclass
class WhatIfOutcome:
    requirements: pd.DataFrame
    coverage: pd.DataFrame
    kpis: pd.DataFrame
    description: str
    seconds: float


@st.cache_resource(show_spinner=False, max_entries=32)
def _what_if(src: Source, version: int, volume_factor: float, aht_factor: float,
             shrinkage: float | None, service_level_target: float | None,
             shift: tuple[str, str, float] | None) -> WhatIfOutcome:
    from wfm import coverage as cov
    from wfm import staffing
    from wfm.plan import ChannelShift, WhatIf, apply_what_if

    t0 = time.perf_counter()
    p = plan(src)
    wi = WhatIf(volume_factor=volume_factor, aht_factor=aht_factor, shrinkage=shrinkage,
                service_level_target=service_level_target,
                shift=ChannelShift(*shift) if shift else None)
    fc, scen = apply_what_if(p.forecast, scenario(src), wi)
    req = staffing.requirements(fc, scen)
    c = cov.coverage(req, p.assignments, scen)
    k = cov.kpis(c, req, scen)
    return WhatIfOutcome(req, c, k, wi.describe(), time.perf_counter() - t0)


def what_if(src: Source, *, volume_factor: float = 1.0, aht_factor: float = 1.0,
            shrinkage: float | None = None, service_level_target: float | None = None,
            shift: tuple[str, str, float] | None = None) -> WhatIfOutcome:
    """Requirements, coverage and KPIs of the current schedule under a what-if."""
    return _what_if(src, _plan_version(src), float(volume_factor), float(aht_factor),
                    shrinkage, service_level_target, shift)


def worst_gaps(coverage: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    from wfm import coverage as cov

    return cov.worst_gaps(coverage, n=n)


@dataclasses.dataclass
class CoverageView:
    coverage: pd.DataFrame
    requirements: pd.DataFrame
    kpis: pd.DataFrame


def _between(frame: pd.DataFrame, channels: tuple[str, ...], d0: Any, d1: Any) -> pd.DataFrame:
    local = pd.DatetimeIndex(frame["timestamp"]).tz_localize(None).normalize()
    keep = (frame["channel"].isin(channels).to_numpy()
            & (local >= pd.Timestamp(d0)) & (local <= pd.Timestamp(d1)))
    return frame.loc[keep].reset_index(drop=True)


@st.cache_resource(show_spinner=False, max_entries=32)
def _coverage_view(src: Source, version: int, channels: tuple[str, ...], d0: Any,
                   d1: Any) -> CoverageView:
    from wfm import coverage as cov

    p = plan(src)
    c = _between(p.coverage, channels, d0, d1)
    r = _between(p.requirements, channels, d0, d1)
    return CoverageView(c, r, cov.kpis(c, r, scenario(src)))


def coverage_view(src: Source, channels: tuple[str, ...], d0: Any, d1: Any) -> CoverageView:
    """Coverage, requirements and KPIs of the current schedule for a filter."""
    return _coverage_view(src, _plan_version(src), tuple(channels), d0, d1)


@st.cache_data(show_spinner=False, max_entries=64)
def _agents_on(src: Source, version: int, ts: pd.Timestamp) -> pd.DataFrame:
    p = plan(src)
    a = p.assignments[p.assignments["timestamp"] == ts]
    if a.empty:
        return pd.DataFrame(columns=["agent_id", "shift", "breaks"])
    wide = a.pivot_table(index="agent_id", columns="channel", values="fraction",
                         aggfunc="sum").round(2)
    wide.columns = [str(c) for c in wide.columns]
    s = p.shifts
    starts = pd.to_datetime(s["start"].astype(str).str.slice(0, 19))
    ends = pd.to_datetime(s["end"].astype(str).str.slice(0, 19))
    naive = ts.tz_localize(None)
    cur = s.loc[(starts <= naive) & (ends > naive)]
    info = pd.DataFrame({
        "agent_id": cur["agent_id"].to_numpy(),
        "shift": [f"{a:%H:%M}-{b:%H:%M}" for a, b in zip(starts[cur.index], ends[cur.index])],
        "breaks": cur["breaks"].fillna("").astype(str).to_numpy(),
    }).drop_duplicates("agent_id")
    out = wide.reset_index().merge(info, on="agent_id", how="left")
    return out.sort_values("agent_id").reset_index(drop=True)


def agents_on(src: Source, ts: pd.Timestamp) -> pd.DataFrame:
    """Agents working in interval ``ts``: share of it per channel, their shift and breaks."""
    return _agents_on(src, _plan_version(src), pd.Timestamp(ts))


def compare_kpis(baseline: pd.DataFrame, what_if: pd.DataFrame) -> pd.DataFrame:
    """Per channel, the main KPIs of the baseline and the what-if side by side."""
    cols = ["service_level", "required_hours", "scheduled_hours", "under_staffed_hours",
            "share_intervals_under_target"]
    cols = [c for c in cols if c in baseline.columns and c in what_if.columns]
    b = baseline.set_index("channel")[cols]
    w = what_if.set_index("channel")[cols].reindex(b.index)
    out = pd.DataFrame(index=b.index)
    for c in cols:
        out[f"{c} (baseline)"] = b[c]
        out[f"{c} (what-if)"] = w[c]
    return out.round(3).reset_index()


def forecast_models(p: Plan | None = None) -> list[str]:
    """Model names to offer: ``auto``, the library's models and any in the backtest."""
    names: list[str] = ["auto"]
    try:
        import wfm.forecast as wf

        for attr in ("MODELS", "MODEL_NAMES"):
            known = getattr(wf, attr, None)
            if known:
                names += [str(m) for m in known]
                break
    except ImportError:
        pass
    if p is not None and p.backtest is not None and "model" in p.backtest.columns:
        names += [str(m) for m in p.backtest["model"].unique()]
    return list(dict.fromkeys(names))


def start_forecast_job(src: Source, horizon_days: int, model: str) -> Job:
    """Forecast ``src`` with ``model`` over ``horizon_days`` in the background."""
    from wfm.forecast import run_forecast

    def work(progress: Callable[[str], None]) -> Any:
        return run_forecast(history(src), scenario(src), horizon_days=horizon_days,
                            model=model, backtest=True, progress=progress)

    return start_job(f"forecast:{src.fingerprint}:{model}:{horizon_days}", "forecast", work,
                     restart=True)


@st.cache_data(show_spinner=False, max_entries=8)
def recent_history(src: Source, days: int) -> pd.DataFrame:
    """The last ``days`` local days of the history (the actuals under a forecast)."""
    h = history(src)
    ts = pd.DatetimeIndex(h["timestamp"])
    return h.loc[ts >= ts.max() - pd.Timedelta(days=days)].reset_index(drop=True)


def chosen_model(selection: pd.DataFrame | None, channel: str,
                 forecast: pd.DataFrame) -> str | None:
    """The model used for ``channel`` (from the selection, else the forecast's column)."""
    if selection is not None and not selection.empty and "channel" in selection.columns:
        row = selection[selection["channel"] == channel]
        for col in ("model", "chosen", "selected_model"):
            if col in row.columns and len(row):
                return str(row[col].iloc[0])
    f = forecast[forecast["channel"] == channel]
    if "model" in f.columns and len(f):
        return str(f["model"].iloc[0])
    return None


_EDITABLE = {  # data-editor column -> (scenario field per channel, global field)
    "service_level_target": ("service_level_target", None),
    "answer_seconds": ("answer_seconds", None),
    "response_time_hours": ("response_time_hours", None),
    "shrinkage": ("shrinkage", "staffing.shrinkage"),
    "max_occupancy": ("max_occupancy", "staffing.max_occupancy"),
}


def staffing_overrides(scen: Scenario, table: pd.DataFrame,
                       edited: pd.DataFrame) -> dict[str, Any]:
    """Dotted-key overrides (for :func:`wfm.config.apply_overrides`) of the edited cells."""
    out: dict[str, Any] = {}
    for (_, old), (_, new) in zip(table.iterrows(), edited.iterrows()):
        name = old["channel"]
        for col, (field, _) in _EDITABLE.items():
            a, b = old[col], new[col]
            if pd.isna(a) and pd.isna(b):
                continue
            if pd.isna(b):
                continue  # a cleared cell keeps the scenario's value
            if pd.isna(a) or abs(float(a) - float(b)) > 1e-12:
                out[f"channels.{name}.{field}"] = float(b)
    return out


def requirements_summary(baseline: pd.DataFrame, edited: pd.DataFrame,
                         interval_minutes: int) -> pd.DataFrame:
    """Per channel: required agent-hours and peak agents, scenario vs edited settings."""
    h = interval_minutes / 60.0

    def agg(r: pd.DataFrame) -> pd.DataFrame:
        g = r.groupby("channel", sort=False)
        return pd.DataFrame({"agent_hours": g["agents_required"].sum() * h,
                             "peak_agents": g["agents_required"].max(),
                             "volume": g["volume"].sum()})

    a, b = agg(baseline), agg(edited).reindex(agg(baseline).index)
    out = pd.DataFrame({
        "volume": a["volume"],
        "required agent-hours (scenario)": a["agent_hours"],
        "required agent-hours (edited)": b["agent_hours"],
        "peak agents (scenario)": a["peak_agents"],
        "peak agents (edited)": b["peak_agents"],
    })
    return out.round(1).reset_index()


def schedule_days(p: Plan) -> list[Any]:
    """Local dates that have shifts, in order."""
    if p.shifts.empty:
        return []
    starts = pd.to_datetime(p.shifts["start"].astype(str).str.slice(0, 10))
    return sorted({d.date() for d in starts})


@st.cache_data(show_spinner=False, max_entries=32)
def _day_segments(src: Source, version: int, day: Any) -> pd.DataFrame:
    from dashboards.charts import shift_segments

    p = plan(src)
    return shift_segments(p.shifts, p.assignments, pd.Timestamp(day),
                          scenario(src).site.interval_minutes)


def day_segments(src: Source, day: Any) -> pd.DataFrame:
    """Gantt segments (work per channel, breaks) of the current schedule on ``day``."""
    return _day_segments(src, _plan_version(src), day)


@st.cache_data(show_spinner=False, max_entries=8)
def _csv_bytes(src: Source, version: int, name: str) -> bytes:
    from wfm import io as wio

    # Written by wfm.io, so the download is exactly what `wfm schedule` writes.
    with tempfile.TemporaryDirectory(prefix="wfm-download-") as d:
        path = Path(d) / f"{name}.csv"
        wio.write_frame(getattr(plan(src), name), path, kind=name)
        return path.read_bytes()


def csv_bytes(src: Source, name: str) -> bytes:
    """A frame of the current schedule (``shifts`` / ``assignments``) as CSV bytes."""
    return _csv_bytes(src, _plan_version(src), name)


def hours_vs_contract(src: Source) -> pd.DataFrame | None:
    """Per agent: paid hours scheduled in the horizon and the contract range.

    Columns ``agent_id, hours, min_hours, max_hours``, taken from the
    scheduler's ``agent_hours`` frame (which states the contract range it
    enforced over the horizon).
    """
    p = plan(src)
    ah = p.agent_hours
    if ah is None or ah.empty:
        return None
    pick = {
        "hours": ("paid_hours", "hours", "scheduled_hours", "worked_hours"),
        "min_hours": ("min_hours", "min_hours_horizon", "min_hours_week"),
        "max_hours": ("max_hours", "max_hours_horizon", "max_hours_week"),
    }
    out = pd.DataFrame({"agent_id": ah["agent_id"].astype(str)})
    for col, names in pick.items():
        found = next((n for n in names if n in ah.columns), None)
        out[col] = ah[found].to_numpy(dtype=float) if found else float("nan")
    return out


def erlang(volume: float, aht_seconds: float, interval_minutes: int, target: float,
           answer_seconds: float, patience_seconds: float | None,
           max_occupancy: float) -> dict[str, Any]:
    """The Erlang calculator: agents for one interval and what they achieve.

    Erlang C (:mod:`wfm.staffing.erlang`), or Erlang A
    (:mod:`wfm.staffing.erlang_a`) when a mean patience is given.
    """
    from wfm.staffing import erlang as ec

    a = float(ec.traffic_erlangs(volume, aht_seconds, interval_minutes))
    out: dict[str, Any] = {"erlangs": a, "abandonment": float("nan")}
    if a <= 0:
        out.update(agents=0, service_level=float("nan"), asa_seconds=0.0, occupancy=0.0)
        return out
    if patience_seconds:
        from wfm.staffing import erlang_a as ea

        n = int(ea.required_agents(a, aht_seconds, patience_seconds, answer_seconds, target,
                                   max_occupancy=max_occupancy).whole)
        out.update(
            agents=n,
            service_level=float(ea.service_level(a, n, aht_seconds, patience_seconds,
                                                 answer_seconds)),
            asa_seconds=float(ea.asa(a, n, aht_seconds, patience_seconds)),
            occupancy=float(ea.occupancy(a, n, aht_seconds, patience_seconds)),
            abandonment=float(ea.abandonment(a, n, aht_seconds, patience_seconds)))
    else:
        n = int(ec.required_agents(a, aht_seconds, answer_seconds, target,
                                   max_occupancy=max_occupancy).whole)
        out.update(agents=n,
                   service_level=float(ec.service_level(a, n, aht_seconds, answer_seconds)),
                   asa_seconds=float(ec.asa(a, n, aht_seconds)),
                   occupancy=float(ec.occupancy(a, n)))
    return out


def erlang_curve(volume: float, aht_seconds: float, interval_minutes: int,
                 answer_seconds: float, patience_seconds: float | None,
                 agents: int, span: int = 8) -> pd.DataFrame:
    """Service level, ASA and occupancy for ``agents - span`` .. ``agents + span``."""
    from wfm.staffing import erlang as ec

    a = float(ec.traffic_erlangs(volume, aht_seconds, interval_minutes))
    n = np.arange(max(agents - span, 1), max(agents + span, 2) + 1, dtype=float)
    if patience_seconds:
        from wfm.staffing import erlang_a as ea

        sl = ea.service_level(a, n, aht_seconds, patience_seconds, answer_seconds)
        wait = ea.asa(a, n, aht_seconds, patience_seconds)
        occ = ea.occupancy(a, n, aht_seconds, patience_seconds)
    else:
        sl = ec.service_level(a, n, aht_seconds, answer_seconds)
        wait = ec.asa(a, n, aht_seconds)
        occ = ec.occupancy(a, n)
    return pd.DataFrame({"agents": n.astype(int), "service_level": np.asarray(sl, float),
                         "asa_seconds": np.asarray(wait, float),
                         "occupancy": np.asarray(occ, float)})
