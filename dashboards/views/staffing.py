"""Staffing: required agents per channel and interval, with editable service
targets, shrinkage and occupancy cap; and an Erlang calculator.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboards import charts, data, ui

src = data.current_source()
scen = data.scenario(src)
plan = ui.require_plan(src)

st.title("Staffing")
tab_req, tab_calc = st.tabs(["Requirements", "Erlang calculator"])

with tab_req:
    st.caption("Agents needed per channel and interval for the plan's forecast. Edit the "
               "targets below: the requirements are recomputed at once. Use them for the "
               "next schedule on the Schedule page.")
    staffed = [c for c in scen.staffed_channels if c.name in set(plan.requirements["channel"])]
    table = pd.DataFrame({
        "channel": [c.name for c in staffed],
        "kind": [c.kind for c in staffed],
        "service_level_target": [c.service_level_target for c in staffed],
        "answer_seconds": [c.answer_seconds for c in staffed],
        "response_time_hours": [c.response_time_hours for c in staffed],
        "shrinkage": [scen.shrinkage_of(c.name) for c in staffed],
        "max_occupancy": [scen.max_occupancy_of(c.name) for c in staffed],
    })
    edited = st.data_editor(
        table, hide_index=True, key="staff_editor", disabled=["channel", "kind"],
        column_config={
            "service_level_target": st.column_config.NumberColumn(
                "SL target", min_value=0.0, max_value=1.0, step=0.01, format="%.2f",
                help="Share answered within answer_seconds (realtime, concurrent)."),
            "answer_seconds": st.column_config.NumberColumn(
                "answer within [s]", min_value=0.0, step=5.0),
            "response_time_hours": st.column_config.NumberColumn(
                "response time [h]", min_value=0.25, step=0.5,
                help="Deferred channels: every item answered within this."),
            "shrinkage": st.column_config.NumberColumn(
                "shrinkage", min_value=0.0, max_value=0.95, step=0.01, format="%.2f"),
            "max_occupancy": st.column_config.NumberColumn(
                "occupancy cap", min_value=0.1, max_value=1.0, step=0.01, format="%.2f"),
        })
    overrides = data.staffing_overrides(scen, table, edited)
    try:
        req, _ = data.requirements_with(src, overrides)
    except Exception as err:  # a value pydantic rejects, e.g. a deferred target < 0
        st.error(f"These settings are not valid: {err}")
        st.stop()
    if overrides:
        st.session_state["staffing_overrides"] = overrides
        st.info(f"{len(overrides)} change(s) against the scenario; the Schedule page "
                "can schedule against these requirements.")
    else:
        st.session_state.pop("staffing_overrides", None)

    summary = data.requirements_summary(plan.requirements, req, scen.site.interval_minutes)
    st.dataframe(summary, hide_index=True, key="staff_summary")

    ch = st.selectbox("Channel", [c.name for c in staffed], key="staff_channel")
    st.altair_chart(charts.requirements_lines(req, plan.requirements, ch), width="stretch",
                    key="staff_chart")
    with st.expander("Requirements table"):
        one = req[req["channel"] == ch].copy()
        one["timestamp"] = pd.DatetimeIndex(one["timestamp"]).strftime("%Y-%m-%d %H:%M")
        st.dataframe(one.round(3), hide_index=True, key="staff_table")

with tab_calc:
    st.caption("Erlang C (Erlang A with patience): agents needed for one interval, and "
               "how service level changes with each agent more or less.")
    e1, e2, e3 = st.columns(3)
    volume = e1.number_input("Contacts per interval", min_value=0.0, value=120.0, step=5.0,
                             key="erl_volume")
    interval_min = e1.selectbox("Interval [min]", [15, 30, 60], index=[15, 30, 60].index(
        scen.site.interval_minutes), key="erl_interval")
    aht = e2.number_input("AHT [s]", min_value=1.0, value=300.0, step=10.0, key="erl_aht")
    patience = e2.number_input("Mean patience [s] (0: none, Erlang C)", min_value=0.0,
                               value=0.0, step=10.0, key="erl_patience")
    target = e3.slider("Service-level target", 0.5, 0.99, 0.8, 0.01, key="erl_target")
    answer = e3.number_input("answered within [s]", min_value=0.0, value=20.0, step=5.0,
                             key="erl_answer")
    max_occ = e3.slider("Occupancy cap", 0.5, 1.0, float(scen.staffing.max_occupancy), 0.01,
                        key="erl_occ")
    calc = data.erlang(volume, aht, interval_min, target, answer,
                       patience if patience > 0 else None, max_occ)
    m = st.columns(5)
    m[0].metric("Agents", f"{calc['agents']:,d}", border=True)
    m[1].metric("Service level", ui.fmt_pct(calc["service_level"]), border=True)
    m[2].metric("ASA", f"{ui.fmt_num(calc['asa_seconds'], ',.1f')} s", border=True)
    m[3].metric("Occupancy", ui.fmt_pct(calc["occupancy"]), border=True)
    m[4].metric("Traffic [Erlang]", ui.fmt_num(calc["erlangs"], ",.2f"), border=True)
    if calc.get("abandonment") is not None and not math.isnan(calc["abandonment"]):
        st.caption(f"Abandonment with {calc['agents']} agents: {calc['abandonment']:.1%}")
    curve = data.erlang_curve(volume, aht, interval_min, answer,
                              patience if patience > 0 else None, calc["agents"])
    st.altair_chart(charts.sl_curve(curve, target, calc["agents"]), width="stretch",
                    key="erl_curve")
    st.dataframe(curve.round(4), hide_index=True, key="erl_table",
                 column_config={"service_level": st.column_config.NumberColumn(format="%.3f"),
                                "occupancy": st.column_config.NumberColumn(format="%.3f")})
