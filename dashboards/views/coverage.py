"""Coverage gaps (the main page): where the current schedule falls short.

Heatmap day x interval of scheduled - required agents per channel, KPI cards,
required vs scheduled lines, the worst intervals, and who works when in a
chosen interval.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboards import charts, data, ui

src = data.current_source()
scen = data.scenario(src)
plan = ui.require_plan(src)
interval = scen.site.interval_minutes

st.title("Coverage gaps")
meta = plan.schedule_meta
st.caption(
    f"{scen.site.name} · current schedule: solver status **{meta.get('status')}**, "
    f"gap {ui.fmt_pct(meta.get('gap'))}, {ui.fmt_num(meta.get('solve_seconds'), '.0f')} s "
    f"(limit {ui.fmt_num(meta.get('time_limit'), '.0f')} s). Red: fewer agents scheduled "
    "than required; blue: more. Re-run the optimiser on the Schedule page."
)

cov_all = plan.coverage
order = [c.name for c in scen.staffed_channels if c.name in set(cov_all["channel"])]
order += sorted(set(cov_all["channel"]) - set(order))
parts = charts.local_parts(cov_all["timestamp"])
days = sorted(parts["date"].dt.date.unique())

f1, f2 = st.columns([3, 2])
chosen = f1.multiselect("Channels", order, default=order, key="cov_channels")
rng = f2.date_input("Dates", value=(days[0], days[-1]), min_value=days[0],
                    max_value=days[-1], key="cov_dates", format="YYYY-MM-DD")
if isinstance(rng, tuple | list):
    d0, d1 = (rng[0], rng[-1]) if rng else (days[0], days[-1])
else:
    d0 = d1 = rng
if not chosen:
    st.warning("Choose at least one channel.")
    st.stop()

view = data.coverage_view(src, tuple(chosen), d0, d1)
cov, kpis = view.coverage, view.kpis
ui.kpi_cards(kpis, cov)

st.subheader("Gap per interval")
clicked: tuple[str, str] | None = None
for ch in chosen:
    # each channel on its own symmetric scale: a 2-agent hole on voice must not
    # look pale next to a 20-agent e-mail backlog (the legend gives the scale)
    one = cov.loc[cov["channel"] == ch, "gap"].abs()
    limit = max(float(one.max()) if len(one) else 1.0, 1.0)
    state = st.altair_chart(charts.gap_heatmap(cov, ch, limit, interval, select=True),
                            width="stretch", on_select="rerun", selection_mode="cell",
                            key=f"heatmap_{ch}")
    cells = (state or {}).get("selection", {}).get("cell") or []
    if cells:
        clicked = (cells[0].get("day"), cells[0].get("time"))

st.subheader("Required vs scheduled")
# one channel at a time: six hidden tab charts would cost the page a second
line_ch = st.segmented_control("Channel", chosen, default=chosen[0], key="cov_line_channel")
st.altair_chart(charts.required_vs_scheduled(cov, line_ch or chosen[0]), width="stretch",
                key="cov_lines")

left, right = st.columns([1, 1])
with left:
    st.subheader("Worst intervals")
    worst = data.worst_gaps(cov, n=10)
    shown = worst.assign(
        timestamp=pd.DatetimeIndex(worst["timestamp"]).strftime("%a %d.%m. %H:%M")).round(2)
    st.dataframe(shown, hide_index=True, key="worst_table")
    st.caption("Per channel and interval, most agents short first.")
with right:
    st.subheader("Who is on")
    stamps = pd.DatetimeIndex(cov["timestamp"].unique()).sort_values()
    labels = [t.strftime("%a %d.%m. %H:%M") for t in stamps]
    state = st.session_state
    if clicked is not None and clicked != state.get("cov_clicked"):
        # a new click on a heatmap cell selects that interval
        state["cov_clicked"] = clicked
        hits = [i for i, t in enumerate(stamps)
                if t.strftime("%a %d.%m.") == clicked[0] and t.strftime("%H:%M") == clicked[1]]
        if hits:
            state["cov_interval"] = hits[0]
    if not 0 <= state.get("cov_interval", -1) < len(stamps):
        # first visit or a narrower filter: start on the worst interval
        first = 0
        if len(worst):
            w0 = pd.Timestamp(worst["timestamp"].iloc[0])
            first = int(stamps.get_indexer([w0])[0]) if w0 in stamps else 0
        state["cov_interval"] = first
    pick = st.selectbox("Interval (click a heatmap cell or choose here)", range(len(stamps)),
                        format_func=lambda i: labels[i], key="cov_interval")
    ts = stamps[pick]
    on = data.agents_on(src, ts)
    here = cov[cov["timestamp"] == ts][["channel", "required", "scheduled", "gap"]]
    st.dataframe(here.round(2), hide_index=True, key="interval_channels")
    if on.empty:
        st.info("Nobody is scheduled in this interval.")
    else:
        st.caption(f"{on['agent_id'].nunique()} agents working at "
                   f"{ts.strftime('%a %d.%m. %H:%M')} (share of the interval per channel)")
        st.dataframe(on, hide_index=True, key="agents_on")

st.caption(f"Dates {d0:%d.%m.%Y}-{d1:%d.%m.%Y} · {len(chosen)} channel(s) · "
           f"generated {dt.datetime.now():%H:%M:%S}")
