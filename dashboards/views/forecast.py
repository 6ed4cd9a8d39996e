"""Forecast: per channel, the forecast with its prediction band over recent
actuals, and the backtest (WAPE / MASE / interval coverage per model, the
chosen model highlighted). Another model or horizon runs in the background.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, data, ui

src = data.current_source()
scen = data.scenario(src)
plan = ui.require_plan(src)

st.title("Forecast")
level = scen.forecast.interval_level

models = data.forecast_models(plan)
c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
channels = [c for c in scen.channel_names if c in set(plan.forecast["channel"])]
channel = c1.selectbox("Channel", channels, key="fc_channel")
model = c2.selectbox("Model", models, index=models.index(scen.forecast.model)
                     if scen.forecast.model in models else 0, key="fc_model",
                     help="'auto' picks, per channel, the model with the lowest backtest "
                          "error.")
horizon = int(c3.number_input("Horizon [days]", min_value=1, max_value=366,
                              value=int(scen.forecast.horizon_days), step=1, key="fc_horizon"))
c4.write("")
run = c4.button("Run", key="fc_run", type="primary",
                help="Forecast again with this model and horizon (backtest included).")

job_key = f"forecast:{src.fingerprint}:{model}:{horizon}"
if run:
    data.start_forecast_job(src, horizon, model)
job = data.get_job(job_key)
result = None
if job is not None:
    if not job.done or job.error:
        ui.show_job(job, f"Forecasting with model {model!r} over {horizon} days")
    else:
        result = job.result

if result is not None:
    fc, backtest, selection = result.forecast, result.backtest, result.selection
    st.caption(f"Forecast with model **{model}**, {horizon} days, computed in "
               f"{job.elapsed:.0f} s.")
else:
    fc, backtest, selection = plan.forecast, plan.backtest, plan.selection
    st.caption("The plan's forecast (planning horizon, scenario settings). Choose a model "
               "or horizon and press Run to compare.")

recent = data.recent_history(src, days=21)
st.altair_chart(charts.forecast_band(recent, fc, channel, level), width="stretch",
                key="fc_chart")

chosen = data.chosen_model(selection, channel, fc)
st.subheader("Backtest")
st.caption("Rolling-origin backtest on the history: WAPE (weighted absolute percentage "
           "error), MASE (error relative to a seasonal-naive forecast), and the share of "
           f"actuals inside the {level:.0%} prediction interval. "
           + (f"Chosen for {channel}: **{chosen}**." if chosen else ""))
if backtest is None or backtest.empty:
    st.info("No backtest for this forecast.")
else:
    bt = backtest[backtest["channel"] == channel] if "channel" in backtest.columns else backtest
    styled = bt.reset_index(drop=True).style.apply(
        lambda row: ["background-color: rgba(84, 162, 75, 0.25)"] * len(row)
        if chosen is not None and row.get("model") == chosen else [""] * len(row), axis=1
    ).format(precision=3)
    st.dataframe(styled, hide_index=True, key="fc_backtest")
if selection is not None and not selection.empty:
    with st.expander("Models chosen per channel"):
        st.dataframe(selection, hide_index=True, key="fc_selection")

with st.expander("Forecast table"):
    one = fc[fc["channel"] == channel].copy()
    one["timestamp"] = pd.DatetimeIndex(one["timestamp"]).strftime("%Y-%m-%d %H:%M %z")
    st.dataframe(one, hide_index=True, key="fc_table")
