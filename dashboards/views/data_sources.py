"""Data: which scenario is planned, uploads (validated), and the history at a glance."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import streamlit as st

from dashboards import charts, data, ui

st.title("Data")
src = data.current_source()
default = data.default_source()

st.markdown(f"Planning **{src.label}** (`{Path(src.scenario_path).name}`"
            + (f", history `{Path(src.history_path).name}`" if src.history_path else "")
            + (f", roster `{Path(src.roster_path).name}`" if src.roster_path else "") + ").")
if src.fingerprint != default.fingerprint:
    if st.button(f"Back to {default.label}", key="reset_source"):
        data.set_source(None)
        st.rerun()

with st.expander("Upload your own files", expanded=False):
    st.caption(
        "A scenario (TOML), a history (CSV/Parquet: timestamp, channel, volume, "
        "aht_seconds) and a roster (CSV: agent_id, skills, min_hours_week, ...). Give a "
        "scenario plus the files it names, or only a history and/or roster to use with "
        "the current scenario. Every file is validated first; problems are listed with "
        "file, row and field."
    )
    up_scen = st.file_uploader("Scenario (.toml)", type=["toml"], key="up_scenario")
    up_hist = st.file_uploader("History (.csv, .csv.gz, .parquet)",
                               type=["csv", "gz", "parquet"], key="up_history")
    up_roster = st.file_uploader("Roster (.csv, .parquet)", type=["csv", "parquet"],
                                 key="up_roster")
    saved = {name: data.save_upload(f) if f is not None else None
             for name, f in (("scenario", up_scen), ("history", up_hist),
                             ("roster", up_roster))}
    if any(saved.values()):
        check = data.check_uploads(src, saved["scenario"], saved["history"], saved["roster"])
        if check.scenario_error:
            st.error("Scenario: not usable; nothing was loaded.")
            st.code(check.scenario_error, language=None)
        for what, report in check.reports.items():
            ui.report_box(report, f"{what} ({Path(check.paths[what]).name})")
        if check.ok:
            st.success("All files are valid.")
            if st.button("Plan with these files", type="primary", key="use_uploads"):
                data.set_source(check.source)
                st.rerun()

try:
    daily = data.history_daily(src)
except Exception as err:  # a broken history of an uploaded scenario
    st.error(f"Cannot read the history: {err}")
    st.stop()

scen = data.scenario(src)
channels = [c for c in scen.channel_names if c in set(daily["channel"])]
first, last = daily["day"].min().date(), daily["day"].max().date()
st.subheader("History")
m = st.columns(4)
m[0].metric("From", f"{first:%d.%m.%Y}")
m[1].metric("To", f"{last:%d.%m.%Y}")
m[2].metric("Channels", len(channels))
m[3].metric("Contacts", f"{daily['volume'].sum():,.0f}")

c1, c2, c3 = st.columns([2, 2, 3])
grain = c1.segmented_control("Resolution", ["interval", "day", "week"], default="day",
                             key="hist_grain")
shown = c2.multiselect("Channels", channels, default=channels, key="hist_channels")
if grain == "interval":
    week_start = c3.date_input("Week from", value=last - dt.timedelta(days=6),
                               min_value=first, max_value=last, key="hist_week")
    frame = data.history_window(src, week_start, 7)
    value_x = "timestamp"
else:
    span = c3.slider("Period", min_value=first, max_value=last,
                     value=(max(first, last - dt.timedelta(days=182)), last),
                     format="DD.MM.YYYY", key="hist_period")
    frame = data.history_grain(src, grain or "day", span[0], span[1])
    value_x = "day"
frame = frame[frame["channel"].isin(shown)]
if frame.empty:
    st.info("No history for this choice.")
else:
    st.altair_chart(charts.history_overview(frame, "volume", "contacts", channels, x=value_x),
                    width="stretch", key="hist_volume")
    if "aht_seconds" in frame.columns and frame["aht_seconds"].notna().any():
        st.altair_chart(charts.history_overview(frame, "aht_seconds",
                                                "average handle time [s]", channels,
                                                x=value_x),
                        width="stretch", key="hist_aht")
    st.caption("Drag to pan, scroll to zoom along time. Daily and weekly AHT are "
               "volume-weighted.")

r = data.roster(src)
if r is not None:
    st.subheader(f"Roster: {len(r)} agents")
    st.dataframe(r, hide_index=True, key="roster_table", height=260)
