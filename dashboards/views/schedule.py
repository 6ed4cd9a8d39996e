"""Schedule: run the optimiser (in the background, with a time limit), see its
status and gap, the shifts of a day as a Gantt chart coloured by channel,
hours per agent against their contract, and download shifts and assignments.
"""

from __future__ import annotations

import streamlit as st

from dashboards import charts, data, ui

src = data.current_source()
scen = data.scenario(src)
plan = ui.require_plan(src)
interval = scen.site.interval_minutes

st.title("Schedule")
meta = plan.schedule_meta
m = st.columns(5)
m[0].metric("Solver status", str(meta.get("status")), border=True,
            help="optimal: proven best; feasible / time_limit: the best found when the "
                 "solver stopped; see the gap.")
m[1].metric("MIP gap", ui.fmt_pct(meta.get("gap")), border=True,
            help="How far the schedule's cost may be from the best possible "
                 "(relative difference between objective and bound).")
m[2].metric("Objective", ui.fmt_num(meta.get("objective"), ",.0f"), border=True)
m[3].metric("Solve time", f"{ui.fmt_num(meta.get('solve_seconds'), ',.0f')} s", border=True)
m[4].metric("Agents scheduled", f"{plan.shifts['agent_id'].nunique():,}", border=True)
if meta.get("message"):
    st.caption(f"Solver: {meta['message']}")
st.caption(f"Scheduled against the {meta.get('against', 'baseline')} requirements at "
           f"{meta.get('computed_at', '')}, time limit "
           f"{ui.fmt_num(meta.get('time_limit'), '.0f')} s.")

with st.form("run_schedule", border=True):
    f1, f2 = st.columns([2, 2])
    limit = f1.slider("Time limit [s]", 5, 600,
                      int(min(max(scen.solver.time_limit_seconds, 5), 600)), 5,
                      key="sched_limit",
                      help="The solver stops here and keeps the best schedule found.")
    edits = st.session_state.get("staffing_overrides") or {}
    options = ["scenario settings"] + (["Staffing-page edits"] if edits else [])
    against = f2.radio("Requirements", options, key="sched_against", horizontal=True,
                       help="Edit service targets, shrinkage or occupancy on the Staffing "
                            "page to schedule against those.")
    submitted = st.form_submit_button("Run optimiser", type="primary")

job = data.get_job(data.schedule_job_key(src))
if submitted and (job is None or job.done):
    req, sc = data.requirements_with(src, edits if against != "scenario settings" else None)
    job = data.start_schedule_job(src, req, sc, float(limit),
                                  against="edited" if against != "scenario settings"
                                  else "baseline")
if job is not None and not job.done:
    ui.show_job(job, "Optimising the schedule", expected_seconds=float(limit))
elif job is not None and job.error:
    st.error(f"The last optimiser run failed: {job.error.splitlines()[0]}")
elif job is not None:
    st.success(f"New schedule in use (finished {job.elapsed:.0f} s after start). The "
               "coverage and what-if pages show it.")

st.subheader("Shifts of one day")
days = data.schedule_days(plan)
if not days:
    st.info("The schedule has no shifts.")
else:
    day = st.selectbox("Day", days, format_func=lambda d: f"{d:%a %d.%m.%Y}",
                       key="sched_day")
    seg = data.day_segments(src, day)
    channels = [c.name for c in scen.staffed_channels]
    st.caption(f"{seg['agent_id'].nunique()} agents on {day:%A %d.%m.}; each bar is "
               "coloured by the channel the agent works most of that interval, grey "
               "are breaks.")
    st.altair_chart(charts.gantt(seg, channels), width="stretch", key="sched_gantt")

st.subheader("Hours per agent vs contract")
hours = data.hours_vs_contract(src)
if hours is None or hours.empty:
    st.info("No per-agent hours for this schedule.")
else:
    outside = hours[(hours["hours"] < hours["min_hours"] - 1e-6)
                    | (hours["hours"] > hours["max_hours"] + 1e-6)]
    st.caption(f"Bars: scheduled paid hours in the horizon; red tick: contract minimum, "
               f"black tick: maximum. {len(outside)} agent(s) outside their contract range.")
    st.altair_chart(charts.hours_vs_contract(hours), width="stretch", key="sched_hours")
    with st.expander("Table"):
        st.dataframe(hours.round(2), hide_index=True, key="sched_hours_table")

st.subheader("Downloads")
d1, d2 = st.columns(2)
d1.download_button("Shifts (CSV)", data=data.csv_bytes(src, "shifts"),
                   file_name="shifts.csv", mime="text/csv", key="dl_shifts")
d2.download_button("Assignments (CSV)", data=data.csv_bytes(src, "assignments"),
                   file_name="assignments.csv", mime="text/csv", key="dl_assignments")
