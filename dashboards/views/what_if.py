"""What-if: change volume, handle time, shrinkage, service target or move volume
between channels, and see requirements and gaps for the CURRENT schedule next
to the baseline. Recomputed live (requirements + coverage), no re-scheduling.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, data, ui

src = data.current_source()
scen = data.scenario(src)
plan = ui.require_plan(src)
interval = scen.site.interval_minutes

st.title("What-if")
st.caption("Move the sliders: wfm recomputes the required agents per channel and interval "
           "and the gaps of the schedule you have now. The schedule itself does not change "
           "(re-run the optimiser on the Schedule page for that).")

channels = [c.name for c in scen.staffed_channels
            if c.name in set(plan.requirements["channel"])]
base_shrink = scen.staffing.shrinkage
realtime = [c for c in scen.staffed_channels if c.kind in ("realtime", "concurrent")]
base_target = realtime[0].service_level_target if realtime else 0.8

with st.container(border=True):
    c1, c2, c3 = st.columns(3)
    volume = c1.slider("Volume ×", 0.5, 2.0, 1.0, 0.05, key="wi_volume",
                       help="Multiplies every channel's forecast volume.")
    aht = c1.slider("AHT ×", 0.5, 2.0, 1.0, 0.05, key="wi_aht",
                    help="Multiplies every channel's handle time.")
    shrink = c2.slider("Shrinkage", 0.0, 0.6, float(round(base_shrink, 2)), 0.01,
                       key="wi_shrinkage", format="%.2f",
                       help=f"Share of paid time not available (scenario: {base_shrink:.0%}).")
    target = c2.slider("Service-level target", 0.5, 0.99, float(round(base_target, 2)), 0.01,
                       key="wi_target", format="%.2f",
                       help="Target for realtime and concurrent channels "
                            f"(scenario: {base_target:.0%}).")
    src_ch = c3.selectbox("Move volume from", channels, index=0, key="wi_from")
    others = [c for c in channels if c != src_ch] or channels
    prefer = "chat" if "chat" in others else others[0]
    dst_ch = c3.selectbox("to", others, index=others.index(prefer), key="wi_to")
    share = c3.slider("Share moved", 0.0, 0.5, 0.0, 0.01, key="wi_share", format="%.2f",
                      help="E.g. 0.10 moves 10% of the first channel's contacts to the "
                           "second, which then handles them with its own AHT.")

shift = (src_ch, dst_ch, float(share)) if share > 0 and src_ch != dst_ch else None
outcome = data.what_if(
    src, volume_factor=volume, aht_factor=aht,
    shrinkage=None if abs(shrink - base_shrink) < 1e-9 else float(shrink),
    service_level_target=None if abs(target - base_target) < 1e-9 else float(target),
    shift=shift,
)
st.markdown(f"**Scenario:** {outcome.description} · recomputed in {outcome.seconds:.2f} s")

ui.kpi_cards(outcome.kpis, outcome.coverage, baseline=(plan.kpis, plan.coverage))

st.subheader("Per channel: baseline vs what-if")
st.dataframe(data.compare_kpis(plan.kpis, outcome.kpis), hide_index=True, key="wi_table")

ch = st.selectbox("Channel", channels, key="wi_channel")
left, right = st.columns(2)
# the channel's own symmetric scale, the same on both sides so colours compare
both = pd.concat([plan.coverage.loc[plan.coverage["channel"] == ch, "gap"],
                  outcome.coverage.loc[outcome.coverage["channel"] == ch, "gap"]])
limit = max(float(both.abs().max()) if len(both) else 1.0, 1.0)
with left:
    st.markdown("**Baseline**")
    st.altair_chart(charts.gap_heatmap(plan.coverage, ch, limit, interval),
                    width="stretch", key="wi_heat_base")
with right:
    st.markdown(f"**What-if** ({outcome.description})")
    st.altair_chart(charts.gap_heatmap(outcome.coverage, ch, limit, interval),
                    width="stretch", key="wi_heat_new")
st.altair_chart(charts.required_vs_scheduled(outcome.coverage, ch, baseline=plan.coverage),
                width="stretch", key="wi_lines")
