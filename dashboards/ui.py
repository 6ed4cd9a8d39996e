"""Widgets shared by the dashboard pages (sidebar, waiting for a job, KPI cards)."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import data


def fmt_pct(x: Any) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1%}"


def fmt_num(x: Any, spec: str = ",.1f") -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def sidebar(src: data.Source) -> None:
    """Which scenario is shown and the state of its plan."""
    with st.sidebar:
        st.caption("Scenario")
        st.markdown(f"**{src.label}**  \n`{src.fingerprint}`")
        p = data.plan(src)
        if p is not None:
            m = p.schedule_meta
            gap = m.get("gap")
            st.caption(f"Schedule: {m.get('status')} · gap {fmt_pct(gap)} · "
                       f"computed {m.get('computed_at', '')}")
        else:
            job = data.get_job(f"plan:{src.fingerprint}")
            if job is not None and not job.done:
                st.caption(f"Computing the first plan ({job.elapsed:.0f} s) ...")


def show_job(job: data.Job, title: str, expected_seconds: float | None = None) -> None:
    """Show a running job's progress and rerun the app when it is done.

    A fragment polls the job every second, so only this box refreshes while
    the solver works and the rest of the page stays usable.
    """

    @st.fragment(run_every=1.0)
    def _poll() -> None:
        if job.done:
            if job.error:
                st.error(f"{title} failed:\n\n{job.error.splitlines()[0]}")
                with st.expander("details"):
                    st.code(job.error)
                return
            st.rerun(scope="app")
        label = f"{title} ... {job.elapsed:.0f} s"
        if expected_seconds:
            label += f" (time limit {expected_seconds:.0f} s)"
        with st.status(label, expanded=True, state="running"):
            for line in job.lines[-8:]:
                st.text(line)
        stage = _stage_fraction(job.lines)
        if stage is not None:
            st.progress(stage[0], text=stage[1])
        if expected_seconds:
            st.progress(min(job.elapsed / expected_seconds, 1.0),
                        text=f"{job.elapsed:.0f} s of the {expected_seconds:.0f} s time limit "
                             "(the solver keeps the best schedule found by then)")

    _poll()


def _stage_fraction(lines: list[str]) -> tuple[float, str] | None:
    """Progress from ``[k/n] stage ...`` lines (:func:`wfm.plan.run_plan`), else from
    the scheduler's ``step k/n: ...`` lines."""
    for pattern in (r"\[(\d+)/(\d+)\]\s+(.*)", r"step (\d+)/(\d+):?\s+(.*)"):
        for line in reversed(lines):
            m = re.match(pattern, line.strip())
            if m:
                k, n, what = int(m.group(1)), int(m.group(2)), m.group(3)
                done = k if "done" in what or "skipped" in what else k - 1
                return min(done / n, 1.0), f"step {k} of {n}: {what[:80]}"
    return None


def require_plan(src: data.Source) -> data.Plan:
    """The plan of ``src``; while it is computed, show progress and stop the page."""
    try:
        p, job = data.ensure_plan(src)
    except Exception as err:  # e.g. the scenario's files are missing
        st.error(f"Cannot plan this scenario: {err}")
        st.stop()
    if p is not None:
        return p
    st.info(
        "First visit for this scenario: wfm is forecasting the horizon, computing the "
        "required agents per channel and interval, and scheduling the roster. The "
        "result is kept on disk, so this happens once per scenario."
    )
    show_job(job, "Computing the plan")
    limit = data.first_time_limit(data.scenario(src))
    st.caption(f"On the bundled sample this takes a few minutes: the forecast backtests "
               f"five models on seven channels, then the scheduler runs for at most "
               f"{limit:.0f} s. You can look at the Data page meanwhile.")
    if job.done and job.error:
        c1, c2 = st.columns([1, 3])
        default = data.first_time_limit(data.scenario(src)) or 120.0
        limit = c1.number_input("Scheduler time limit [s]", min_value=10.0, max_value=3600.0,
                                value=float(min(default * 2, 3600.0)), step=30.0,
                                key="retry_limit",
                                help="A busy machine may need more time for a first schedule.")
        if c1.button("Retry", key="retry_plan", type="primary"):
            data.forget_job(f"plan:{src.fingerprint}")
            data.plan_job(src, time_limit=limit)
            st.rerun()
    st.stop()


def _overall(kpis: pd.DataFrame) -> pd.Series:
    """The ``channel == "all"`` row of :func:`wfm.coverage.kpis` (all channels shown)."""
    row = kpis[kpis["channel"] == "all"]
    return row.iloc[0] if len(row) else kpis.iloc[-1]


def kpi_cards(kpis: pd.DataFrame, coverage: pd.DataFrame,
              baseline: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> None:
    """Service level, under-staffed hours, intervals under target, worst gap.

    With ``baseline = (kpis, coverage)`` each card shows the change against it.
    """
    now = _overall(kpis)
    worst = float(coverage["gap"].min()) if len(coverage) else float("nan")
    before = _overall(baseline[0]) if baseline is not None else None
    worst_before = (float(baseline[1]["gap"].min())
                    if baseline is not None and len(baseline[1]) else float("nan"))

    def change(key: str, scale: float = 1.0, spec: str = "+,.1f", unit: str = "") -> str | None:
        if before is None:
            return None
        d = (float(now[key]) - float(before[key])) * scale
        return None if math.isnan(d) else f"{format(d, spec)}{unit}"

    cols = st.columns(4)
    cols[0].metric("Service level achieved", fmt_pct(now["service_level"]),
                   delta=change("service_level", 100, "+.1f", " pp"), border=True,
                   help="Share of contacts answered within each channel's target, with "
                        "the scheduled agents after shrinkage; weighted by volume over "
                        "the channels shown.")
    cols[1].metric("Under-staffed agent-hours", fmt_num(now["under_staffed_hours"], ",.0f"),
                   delta=change("under_staffed_hours", 1, "+,.0f"), delta_color="inverse",
                   border=True,
                   help="Sum over intervals and channels of the agents missing "
                        "(required - scheduled, where positive) times the interval length.")
    cols[2].metric("Intervals below service target",
                   fmt_pct(now["share_intervals_under_target"]),
                   delta=change("share_intervals_under_target", 100, "+.1f", " pp"),
                   delta_color="inverse", border=True,
                   help="Share of intervals with volume whose achieved service level is "
                        "below the channel's target.")
    d_worst = None if before is None or math.isnan(worst_before) else f"{worst - worst_before:+.1f}"
    cols[3].metric("Worst gap in one interval", f"{fmt_num(worst, '+.1f')} agents",
                   delta=d_worst, border=True,
                   help="Most negative scheduled - required on one channel in one interval.")


def report_box(report: Any, what: str) -> bool:
    """Show a :class:`wfm.io.ValidationReport`; True when the file is usable."""
    if report.ok:
        msg = f"{what}: valid"
        if report.warnings:
            msg += f" with {len(report.warnings)} warning(s)"
            st.warning(msg)
            st.dataframe(report.to_frame(), hide_index=True)
        else:
            st.success(msg)
        return True
    st.error(f"{what}: {len(report.errors)} problem(s); the file was not loaded. "
             "Each row names the file, row, field, what was found and what was expected.")
    st.dataframe(report.to_frame(), hide_index=True)
    return False
